package container

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/providers"
)

// TestOneOff runs RunOnce and Commit on every runtime.
func TestOneOff(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		t.Run("RunOnce", func(t *testing.T) { t.Parallel(); testRunOnce(t, e) })
		t.Run("RunOnceCancelled", func(t *testing.T) { t.Parallel(); testRunOnceCancelled(t, e) })
		t.Run("Commit", func(t *testing.T) { t.Parallel(); testCommit(t, e) })
	})
}

// oneOffsLeft lists the containers of p's user still on the engine.
func oneOffsLeft(t *testing.T, p *Provider) []containerSummary {
	t.Helper()
	l, err := mustEngine(t, p).List(t.Context(), map[string]string{labelUser: p.user})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testRunOnce(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	ro, rw := t.TempDir(), t.TempDir()
	for _, d := range []string{ro, rw} {
		os.Chmod(d, 0o777)
	}
	if err := os.WriteFile(filepath.Join(ro, "in.txt"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := func(script string) []string { return []string{"sh", "-c", script} }
	run := func(spec OneOff) OneOffResult {
		t.Helper()
		if spec.Image == "" {
			spec.Image = testenv.BusyboxImage
		}
		res, err := p.RunOnce(t.Context(), spec)
		if err != nil {
			t.Fatalf("RunOnce(%v): %v", spec.Command, err)
		}
		return res
	}

	res := run(OneOff{Command: sh("echo out; echo err >&2; exit 3")})
	if res.Status != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Errorf("status/stdout/stderr = %d %q %q, want 3 \"out\\n\" \"err\\n\"", res.Status, res.Stdout, res.Stderr)
	}

	res = run(OneOff{Command: sh(`echo "$A|$B|$BROKER_ORIGIN"; pwd`), Env: map[string]string{"A": "one", "B": "two words"},
		WorkDir: "/made/by/the/engine", Origin: "test-origin"})
	if want := "one|two words|test-origin\n/made/by/the/engine\n"; res.Stdout != want || res.Status != 0 {
		t.Errorf("env/workdir: stdout %q (status %d), want %q", res.Stdout, res.Status, want)
	}

	vols := []Mount{{Source: ro, Target: "/ro"}, {Source: rw, Target: "/rw", RW: true}}
	res = run(OneOff{Command: sh("cat /ro/in.txt; echo x > /ro/new"), Volumes: vols})
	if res.Status == 0 || res.Stdout != "from the host\n" || !strings.Contains(strings.ToLower(res.Stderr), "read-only") {
		t.Errorf("read-only volume: status %d stdout %q stderr %q, want a read-only file system error after the host's file", res.Status, res.Stdout, res.Stderr)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Errorf("a file was written to the read-only volume")
	}
	res = run(OneOff{Command: sh("echo written > /rw/out.txt"), Volumes: vols})
	if res.Status != 0 {
		t.Errorf("rw volume: status %d, stderr %q", res.Status, res.Stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out.txt")); err != nil || string(b) != "written\n" {
		t.Errorf("rw volume: host file %q (%v), want \"written\\n\"", b, err)
	}

	// stdin, including the bytes Podman would take as detach keys
	in := "line 1\nctrl-p ctrl-q: \x10\x11 end\n"
	res = run(OneOff{Command: sh("cat; echo done"), Stdin: strings.NewReader(in)})
	if res.Stdout != in+"done\n" || res.Status != 0 {
		t.Errorf("stdin: stdout %q (status %d), want %q", res.Stdout, res.Status, in+"done\n")
	}
	res = run(OneOff{Command: []string{"wc", "-c"}, Stdin: strings.NewReader("")})
	if strings.TrimSpace(res.Stdout) != "0" {
		t.Errorf("empty stdin: wc -c says %q", res.Stdout)
	}

	// the output file, read after the exit
	res = run(OneOff{Command: sh("mkdir -p /out && printf 'a\\nb' > /out/result.txt; echo logged"), OutputFile: "/out/result.txt"})
	if res.File != "a\nb" || res.Stdout != "logged\n" {
		t.Errorf("output file %q, stdout %q", res.File, res.Stdout)
	}
	_, err := p.RunOnce(t.Context(), OneOff{Image: testenv.BusyboxImage, Command: sh("true"), OutputFile: "/no/such/file"})
	if err == nil || !strings.Contains(err.Error(), "/no/such/file") {
		t.Errorf("missing output file: err = %v, want one naming it", err)
	}
	_, err = p.RunOnce(t.Context(), OneOff{Image: testenv.BusyboxImage, Command: sh("true"), OutputFile: "/etc"})
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory as output file: err = %v", err)
	}
	_, err = p.RunOnce(t.Context(), OneOff{Image: testenv.BusyboxImage, OutputFile: "rel"})
	wantUserError(t, err, "absolute path")

	// timeout: the container is killed and removed
	start := time.Now()
	_, err = p.RunOnce(t.Context(), OneOff{Image: testenv.BusyboxImage, Command: sh("sleep 60"), Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "timed out after 2s") {
		t.Errorf("timeout: err = %v", err)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("timeout took %s", d)
	}

	_, err = p.RunOnce(t.Context(), OneOff{Image: "localhost/broker-test/no-such-image:latest", Command: sh("true")})
	if err == nil || !strings.Contains(err.Error(), "no-such-image") {
		t.Errorf("missing image: err = %v", err)
	}

	if left := oneOffsLeft(t, p); len(left) > 0 {
		t.Errorf("containers left behind: %v", left)
	}
}

// A cancelled run removes its container; while it runs, it carries the
// one-off labels.
func testRunOnceCancelled(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := p.RunOnce(ctx, OneOff{Image: testenv.BusyboxImage, Command: []string{"sleep", "60"}, Origin: "o"})
		errc <- err
	}()
	var seen []containerSummary
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) == 0 && time.Now().Before(deadline) {
		seen = oneOffsLeft(t, p)
		time.Sleep(100 * time.Millisecond)
	}
	if len(seen) != 1 {
		t.Fatalf("want 1 running one-off container, got %v", seen)
	}
	l := seen[0].Labels
	if l[labelOneOff] != "true" || l[labelEphemeral] != "true" || l[labelOwner] != ownerValue || l[labelOrigin] != "o" || l[labelInstance] != "test" {
		t.Errorf("labels %v, want the one-off, ephemeral, owner, origin and instance ones", l)
	}
	cancel()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("err = %v, want interrupted", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("RunOnce did not return after cancel")
	}
	if left := oneOffsLeft(t, p); len(left) > 0 {
		t.Errorf("containers left behind after cancel: %v", left)
	}
}

func testCommit(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	ref := "broker-test-snap/" + p.user + ":v1"
	t.Cleanup(func() { rmi(t, e, ref) }) // after the containers' removal
	h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	id := h["container_id"].(string)
	if _, _, code := execIn(t, p, id, "sh", "-c", "echo before-commit > /marker"); code != 0 {
		t.Fatal("write marker failed")
	}
	imgID, err := p.Commit(t.Context(), h, ref)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if !strings.HasPrefix(imgID, "sha256:") || len(imgID) != len("sha256:")+64 {
		t.Errorf("image ID %q, want sha256:<64 hex>", imgID)
	}
	det, err := mustEngine(t, p).Image(t.Context(), ref)
	if err != nil {
		t.Fatalf("inspect the new image: %v", err)
	}
	if strings.TrimPrefix(det.ID, "sha256:") != strings.TrimPrefix(imgID, "sha256:") {
		t.Errorf("image %s has ID %s, Commit said %s", ref, det.ID, imgID)
	}
	// the container still runs
	if out, _, _ := execIn(t, p, id, "cat", "/marker"); out != "before-commit\n" {
		t.Errorf("container after commit: marker %q", out)
	}
	// a checkout of the new image sees the file
	h2 := checkout(t, p, providers.Args{"container_host": ref})
	if out, _, code := execIn(t, p, h2["container_id"].(string), "cat", "/marker"); out != "before-commit\n" || code != 0 {
		t.Errorf("checkout from the snapshot: marker %q (status %d)", out, code)
	}
	// and so does a one-off container
	res, err := p.RunOnce(t.Context(), OneOff{Image: ref, Command: []string{"cat", "/marker"}})
	if err != nil || res.Stdout != "before-commit\n" {
		t.Errorf("one-off from the snapshot: %q, %v", res.Stdout, err)
	}

	_, err = p.Commit(t.Context(), h, "Bad/Upper:x")
	wantUserError(t, err, "lowercase")
	_, err = p.Commit(t.Context(), map[string]any{"name": "no-such-container-xyz", "hostname": "ghost"}, "broker-test-snap/ghost:x")
	if !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("commit of a missing container: %v, want ErrNotFound", err)
	}
}

// rmi removes an image with the engine's CLI (at cleanup, when t.Context
// is over).
func rmi(t *testing.T, e testenv.Engine, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flag := "-H"
	if e.Runtime == "podman" {
		flag = "--url"
	}
	if out, err := osexec.CommandContext(ctx, e.Runtime, flag, e.Host, "rmi", "-f", ref).CombinedOutput(); err != nil {
		t.Errorf("rmi %s: %v\n%s", ref, err, out)
	}
}

func TestSplitRef(t *testing.T) {
	for _, c := range []struct{ in, repo, tag, err string }{
		{"a/b:c", "a/b", "c", ""},
		{"a/b", "a/b", "latest", ""},
		{"localhost:5000/a", "localhost:5000/a", "latest", ""},
		{"localhost:5000/a:t1", "localhost:5000/a", "t1", ""},
		{"a@sha256:00", "", "", "digest"},
		{"", "", "", "empty"},
		{"a:", "", "", "want repository"},
		{"A/b:c", "", "", "lowercase"},
	} {
		repo, tag, err := SplitRef(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("SplitRef(%q): err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || repo != c.repo || tag != c.tag {
			t.Errorf("SplitRef(%q) = %q, %q, %v; want %q, %q", c.in, repo, tag, err, c.repo, c.tag)
		}
	}
}

// FuzzSplitRef: an accepted reference splits into a non-empty lowercase
// repository and a tag, and joining them splits the same way again.
func FuzzSplitRef(f *testing.F) {
	for _, s := range []string{"a", "a:b", "localhost:5000/x", "localhost:5000/x:y", "x@sha256:00", "A:b", ":t", "r:", " r:t "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		repo, tag, err := SplitRef(ref)
		if err != nil {
			return
		}
		if repo == "" || tag == "" || repo != strings.ToLower(repo) {
			t.Fatalf("SplitRef(%q) = %q, %q", ref, repo, tag)
		}
		r2, t2, err := SplitRef(repo + ":" + tag)
		if err != nil || r2 != repo || t2 != tag {
			t.Fatalf("SplitRef(%q) = %q, %q; again: %q, %q, %v", ref, repo, tag, r2, t2, err)
		}
	})
}
