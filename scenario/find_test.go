package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindAndList(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.yaml", "cat/b.yml", "cat/dup.yaml", "other/dup.yaml", ".hidden/c.yaml", "cat/.d.yaml", "notes.txt"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("steps: []\n"), 0o644)
	}
	list, err := List(dir)
	if err != nil || len(list) != 4 {
		t.Fatalf("List = %v, %v", list, err)
	}
	for arg, want := range map[string]string{"a": "a.yaml", "cat/b": "cat/b.yml", "b": "cat/b.yml", "other/dup": "other/dup.yaml"} {
		got, err := Find(arg, dir)
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("Find(%q) = %q, %v; want %s", arg, got, err, want)
		}
	}
	if _, err := Find("dup", dir); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("dup: %v", err)
	}
	if _, err := Find("zzz", dir); !errors.Is(err, ErrNotFound) {
		t.Errorf("zzz: %v", err)
	}
	if l, err := List(filepath.Join(dir, "missing")); err != nil || len(l) != 0 {
		t.Errorf("missing dir: %v %v", l, err)
	}
}
