package hosts_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/broker-go/broker/hosts"
)

// The loopback sshd shares this machine's file system, so the "remote"
// side is checked directly, and through Run.

// makeTree writes a small tree with varied modes under dir/name.
func makeTree(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "tree")
	files := []struct {
		path string
		mode fs.FileMode
		data string
	}{
		{"a.txt", 0o664, "alpha\n"},
		{"sub/run.sh", 0o775, "#!/bin/sh\necho hi\n"},
		{"sub/deeper/secret", 0o600, strings.Repeat("s", 300000)},
		{"sub/empty", 0o640, ""},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	for dir, mode := range map[string]fs.FileMode{"sub/deeper": 0o750, "sub/void": 0o775} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, dir), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

// treeOf lists path → mode and content (links: their target).
func treeOf(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			desc += " " + string(b)
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, got, want string) {
	t.Helper()
	g, w := treeOf(t, got), treeOf(t, want)
	for _, k := range slices.Sorted(mapKeys(w)) {
		if g[k] != w[k] {
			t.Errorf("%s: got %.60q, want %.60q", filepath.Join(got, k), g[k], w[k])
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: extra", filepath.Join(got, k))
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func TestPutGet(t *testing.T) {
	old := syscall.Umask(0o022) // sftp-server applies one; make it bite
	defer syscall.Umask(old)
	d := startSSHD(t)
	s := dial(t, d.config())
	ctx := t.Context()
	local := makeTree(t, t.TempDir())
	file := filepath.Join(local, "sub", "run.sh")
	remote := t.TempDir()

	t.Run("file into a directory", func(t *testing.T) {
		if err := s.Put(ctx, file, remote+"/"); err != nil {
			t.Fatal(err)
		}
		if m := modeOf(t, filepath.Join(remote, "run.sh")); m != 0o775 {
			t.Errorf("mode = %v, want 0775", m)
		}
		res, err := s.Run(ctx, remote+"/run.sh", hosts.RunOptions{})
		if err != nil || res.Stdout != "hi\n" {
			t.Errorf("run the copy = %#v, %v", res, err)
		}
	})
	t.Run("file to a new name with missing parents", func(t *testing.T) {
		dest := remote + "/new/parents/renamed.txt"
		if err := s.Put(ctx, filepath.Join(local, "a.txt"), dest); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(dest); err != nil || string(b) != "alpha\n" {
			t.Errorf("%s = %q, %v", dest, b, err)
		}
		if m := modeOf(t, dest); m != 0o664 {
			t.Errorf("mode = %v, want 0664", m)
		}
	})
	t.Run("overwrite keeps the new mode", func(t *testing.T) {
		dest := remote + "/over"
		if err := os.WriteFile(dest, []byte(strings.Repeat("old contents ", 100)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, filepath.Join(local, "sub", "deeper", "secret"), dest); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dest); string(b) != strings.Repeat("s", 300000) {
			t.Errorf("overwritten file has %d bytes", len(b))
		}
		if m := modeOf(t, dest); m != 0o600 {
			t.Errorf("mode = %v, want 0600", m)
		}
	})
	t.Run("tree", func(t *testing.T) {
		dest := remote + "/copy"
		if err := s.Put(ctx, local, dest); err != nil {
			t.Fatal(err)
		}
		sameTree(t, dest, local)
		if err := s.Put(ctx, local, remote+"/into/"); err != nil {
			t.Fatal(err)
		}
		sameTree(t, remote+"/into/tree", local)
		// Again onto itself: links and files are replaced.
		if err := s.Put(ctx, local, dest); err != nil {
			t.Fatal(err)
		}
		sameTree(t, dest, local)

		back := t.TempDir()
		if err := s.Get(ctx, dest, back+"/got"); err != nil {
			t.Fatal(err)
		}
		sameTree(t, back+"/got", local)
		if err := s.Get(ctx, dest, back+"/x/y/"); err != nil {
			t.Fatal(err)
		}
		sameTree(t, back+"/x/y/copy", local)
	})
	t.Run("get a file", func(t *testing.T) {
		back := t.TempDir()
		if err := s.Get(ctx, remote+"/run.sh", back+"/"); err != nil {
			t.Fatal(err)
		}
		if m := modeOf(t, back+"/run.sh"); m != 0o775 {
			t.Errorf("mode = %v, want 0775", m)
		}
		dest := back + "/made/for/it.sh"
		if err := s.Get(ctx, remote+"/run.sh", dest); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dest); string(b) != "#!/bin/sh\necho hi\n" {
			t.Errorf("%s = %q", dest, b)
		}
		// Relative remote paths are from the login directory.
		res, err := s.Run(ctx, "pwd", hosts.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		home := strings.TrimSpace(res.Stdout)
		if rel, err := filepath.Rel(home, remote+"/run.sh"); err == nil && !strings.HasPrefix(rel, "..") {
			if err := s.Get(ctx, rel, back+"/rel.sh"); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		err := s.Get(ctx, remote+"/nope", t.TempDir()+"/")
		wantErr(t, err, "get", hosts.ErrNotFound, "loopback: get:", remote+"/nope")
		err = s.Put(ctx, local+"/nope", remote+"/")
		wantErr(t, err, "put", hosts.ErrNotFound, local+"/nope")
	})
	t.Run("file onto a directory", func(t *testing.T) {
		if err := os.MkdirAll(remote+"/adir", 0o755); err != nil {
			t.Fatal(err)
		}
		err := s.Put(ctx, file, remote+"/adir")
		wantErr(t, err, "put", nil, "end the destination with /")
		err = s.Get(ctx, remote+"/run.sh", remote+"/adir")
		wantErr(t, err, "get", nil, "end the destination with /")
	})
	t.Run("parent is a file", func(t *testing.T) {
		err := s.Put(ctx, file, remote+"/run.sh/under")
		wantErr(t, err, "put", nil, remote+"/run.sh")
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		wantErr(t, s.Put(cctx, file, remote+"/"), "put", context.Canceled)
		wantErr(t, s.Get(cctx, file, remote+"/"), "get", context.Canceled)
	})
}
