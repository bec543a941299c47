package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broker-go/broker/settings"
)

func TestWithLayersOverlayOnTop(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broker_settings.yaml"), []byte("thread_limit: 3\nContainer:\n  runtime: podman\n  host_username: root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(settings.LoadOptions{Dir: dir, Environ: []string{"BROKER_CONTAINER__HOST_USERNAME=fromenv"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.With(map[string]any{"container": map[string]any{"runtime": "docker"}, "thread_limit": 7})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "overlay runtime (key case folded)", w.String("Container.runtime"), "docker")
	equal(t, "overlay thread_limit", w.ThreadLimit(), 7)
	equal(t, "environment kept under the overlay", w.String("Container.host_username"), "fromenv")
	equal(t, "original untouched", s.String("Container.runtime"), "podman")
	equal(t, "original thread_limit", s.ThreadLimit(), 3)
	if same, err := s.With(nil); err != nil || same != s {
		t.Errorf("With(nil) = %p, %v; want the same settings", same, err)
	}
	if _, err := s.With(map[string]any{"thread_limit": "many"}); err == nil || !strings.Contains(err.Error(), "thread_limit") {
		t.Errorf("an invalid overlay value must be refused naming the key, got %v", err)
	}
}
