package settings_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/broker-go/broker/settings"
)

// newDir returns a fresh broker directory holding content as the settings
// file (no file when content is "").
func newDir(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if content != "" {
		if err := os.WriteFile(filepath.Join(dir, settings.FileName), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load loads settings from a directory holding content.
func load(t *testing.T, content string, environ ...string) *settings.Settings {
	t.Helper()
	s, err := settings.Load(settings.LoadOptions{Dir: newDir(t, content), Environ: environ})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// loadErr loads settings that must fail and returns the error.
func loadErr(t *testing.T, opts settings.LoadOptions) error {
	t.Helper()
	s, err := settings.Load(opts)
	if err == nil {
		t.Fatalf("Load succeeded (%v), want an error", s.All())
	}
	return err
}

func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return newDir(t, string(data))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func asValidation(t *testing.T, err error) *settings.ValidationError {
	t.Helper()
	var ve *settings.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve
}

func asNotFound(t *testing.T, err error) *settings.NotFoundError {
	t.Helper()
	var nf *settings.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v (%T) is not a *NotFoundError", err, err)
	}
	return nf
}
