package container

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// TestSession runs exec sessions into a busybox and a debian container on
// every runtime.
func TestSession(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		for _, image := range []string{testenv.BusyboxImage, testenv.DebianImage} {
			t.Run(path.Base(strings.TrimSuffix(image, ":latest")), func(t *testing.T) {
				t.Parallel()
				p := testProvider(t, e, nil)
				h := checkout(t, p, providers.Args{"container_host": image})
				s := openSession(t, p, h)
				t.Run("RunStatusStreams", func(t *testing.T) { t.Parallel(); testRunStatusStreams(t, s) })
				t.Run("RunStreamsAsItGoes", func(t *testing.T) { t.Parallel(); testRunStreamsAsItGoes(t, s) })
				t.Run("RunStdin", func(t *testing.T) { t.Parallel(); testRunStdin(t, s) })
				t.Run("RunConcurrent", func(t *testing.T) { t.Parallel(); testRunConcurrent(t, s) })
				t.Run("RunNotFound", func(t *testing.T) { t.Parallel(); testRunNotFound(t, s) })
				t.Run("RunCancel", func(t *testing.T) { t.Parallel(); testRunCancel(t, s) })
				t.Run("PutGetFile", func(t *testing.T) { t.Parallel(); testPutGetFile(t, s) })
				t.Run("PutGetTree", func(t *testing.T) { t.Parallel(); testPutGetTree(t, s) })
				t.Run("Missing", func(t *testing.T) { t.Parallel(); testMissing(t, s) })
			})
		}
		t.Run("Gone", func(t *testing.T) { t.Parallel(); testSessionGone(t, e) })
	})
}

func openSession(t testing.TB, p *Provider, h inventory.Host) hosts.Session {
	t.Helper()
	s, err := p.Session(t.Context(), h)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// run runs command and fails the test on an error.
func run(t *testing.T, s hosts.Session, command string) hosts.Result {
	t.Helper()
	r, err := s.Run(t.Context(), command, hosts.RunOptions{})
	if err != nil {
		t.Fatalf("Run(%q): %v", command, err)
	}
	return r
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testRunStatusStreams(t *testing.T, s hosts.Session) {
	var out, errOut syncBuffer
	r, err := s.Run(t.Context(), "echo out; echo err >&2; exit 3", hosts.RunOptions{Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	want := hosts.Result{Status: 3, Stdout: "out\n", Stderr: "err\n"}
	if r != want {
		t.Errorf("Run = %+v, want %+v", r, want)
	}
	if out.String() != "out\n" || errOut.String() != "err\n" {
		t.Errorf("streamed stdout %q stderr %q, want %q and %q", out.String(), errOut.String(), "out\n", "err\n")
	}
	// Quotes, pipes and redirections go to the shell as they are.
	r = run(t, s, `printf '%s|%s\n' "a b" 'c"d' | tr a-z A-Z > /tmp/q && cat /tmp/q`)
	if r.Status != 0 || r.Stdout != "A B|C\"D\n" {
		t.Errorf("quoted pipeline = %+v", r)
	}
}

// firstWrite records when it was first written to.
type firstWrite struct {
	once sync.Once
	at   chan time.Time
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { w.at <- time.Now() })
	return len(p), nil
}

func testRunStreamsAsItGoes(t *testing.T, s hosts.Session) {
	w := &firstWrite{at: make(chan time.Time, 1)}
	r, err := s.Run(t.Context(), "echo first; sleep 2; echo second", hosts.RunOptions{Stdout: w})
	done := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if r.Stdout != "first\nsecond\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	select {
	case first := <-w.at:
		if d := done.Sub(first); d < time.Second {
			t.Errorf("the first line was written %v before Run returned, want it streamed ~2s earlier", d)
		}
	default:
		t.Error("the stdout writer was never written to")
	}
}

func testRunStdin(t *testing.T, s hosts.Session) {
	r, err := s.Run(t.Context(), "cat", hosts.RunOptions{Stdin: strings.NewReader("hello\nworld\n")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 0 || r.Stdout != "hello\nworld\n" {
		t.Errorf("cat with stdin = %+v", r)
	}
	// An empty input ends at once; a large one arrives whole.
	if r, err := s.Run(t.Context(), "wc -c", hosts.RunOptions{Stdin: strings.NewReader("")}); err != nil || strings.TrimSpace(r.Stdout) != "0" {
		t.Errorf("wc -c of no input = %+v, %v", r, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	r, err = s.Run(t.Context(), "md5sum", hosts.RunOptions{Stdin: bytes.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", md5.Sum(big)); !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("md5sum of 1 MiB of input = %q, want %s", r.Stdout, want)
	}
	// A command that does not read its input returns anyway.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	r, err = s.Run(ctx, "exit 4", hosts.RunOptions{Stdin: bytes.NewReader(bytes.Repeat(big, 8))})
	if err != nil || r.Status != 4 {
		t.Errorf("exit 4 with unread input = %+v, %v", r, err)
	}
}

func testRunConcurrent(t *testing.T, s hosts.Session) {
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var out syncBuffer
			r, err := s.Run(t.Context(), fmt.Sprintf("echo %d; echo e%d >&2; exit %d", i, i, i), hosts.RunOptions{Stdout: &out})
			if err != nil {
				t.Errorf("Run %d: %v", i, err)
				return
			}
			want := hosts.Result{Status: i, Stdout: fmt.Sprintf("%d\n", i), Stderr: fmt.Sprintf("e%d\n", i)}
			if r != want || out.String() != want.Stdout {
				t.Errorf("Run %d = %+v (streamed %q), want %+v", i, r, out.String(), want)
			}
		})
	}
	wg.Wait()
}

func testRunNotFound(t *testing.T, s hosts.Session) {
	r := run(t, s, "nosuchcmd")
	if r.Status != 127 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("nosuchcmd = %+v, want status 127 and a message", r)
	}
}

func testRunCancel(t *testing.T, s hosts.Session) {
	for _, stdin := range []io.Reader{nil, strings.NewReader("x")} {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(500*time.Millisecond, cancel)
		start := time.Now()
		_, err := s.Run(ctx, "sleep 30", hosts.RunOptions{Stdin: stdin})
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Run (stdin %v) = %v, want Canceled", stdin != nil, err)
		}
		if took > 2500*time.Millisecond {
			t.Errorf("cancelled Run (stdin %v) returned after %v", stdin != nil, took)
		}
	}
	// A timeout too.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Run(ctx, "sleep 30", hosts.RunOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timed-out Run = %v, want DeadlineExceeded", err)
	}
	// A failing output writer ends the run with its error.
	werr := errors.New("disk full")
	_, err := s.Run(t.Context(), "echo x; sleep 30", hosts.RunOptions{Stdout: writerFunc(func([]byte) (int, error) { return 0, werr })})
	if !errors.Is(err, werr) || errors.Is(err, hosts.ErrGone) {
		t.Errorf("Run with a failing writer = %v", err)
	}
	// The session still works.
	if r := run(t, s, "echo ok"); r.Stdout != "ok\n" {
		t.Errorf("Run after a cancel = %+v", r)
	}
}

func testPutGetFile(t *testing.T, s hosts.Session) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hello.sh")
	writeFile(t, script, "#!/bin/sh\necho hello from \"$0\"\n", 0o755)
	old := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(script, old, old); err != nil {
		t.Fatal(err)
	}

	// A new remote name, under parents that do not exist yet.
	remote := fmt.Sprintf("/tmp/put-%d/a/b/run.sh", time.Now().UnixNano())
	if err := s.Put(t.Context(), script, remote); err != nil {
		t.Fatal(err)
	}
	if r := run(t, s, remote); r.Status != 0 || r.Stdout != "hello from "+remote+"\n" {
		t.Errorf("running the copied script = %+v", r)
	}
	if r := run(t, s, "stat -c '%a %Y %u' "+remote); r.Stdout != fmt.Sprintf("755 %d 0\n", old.Unix()) {
		t.Errorf("remote mode, mtime, owner = %q, want 755 %d 0", r.Stdout, old.Unix())
	}
	// Into a directory, under its own name; overwriting.
	if err := s.Put(t.Context(), script, path.Dir(remote)+"/"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, script, "#!/bin/sh\necho v2\n", 0o700)
	if err := s.Put(t.Context(), script, path.Dir(remote)+"/"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, s, "cd "+path.Dir(remote)+" && ./hello.sh && stat -c %a hello.sh"); r.Stdout != "v2\n700\n" {
		t.Errorf("copied into a directory = %+v", r)
	}

	// Back: to a new local name under missing parents, and into a directory.
	back := filepath.Join(dir, "x", "y", "got.sh")
	if err := s.Get(t.Context(), remote, back); err != nil {
		t.Fatal(err)
	}
	sameFile(t, back, "#!/bin/sh\necho hello from \"$0\"\n", 0o755)
	if fi, err := os.Stat(back); err == nil && !fi.ModTime().Equal(old) {
		t.Errorf("local mtime %v, want %v", fi.ModTime(), old)
	}
	into := filepath.Join(dir, "into")
	if err := os.Mkdir(into, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, local := range []string{into, filepath.Join(dir, "new") + "/"} {
		if err := s.Get(t.Context(), path.Dir(remote)+"/hello.sh", local); err != nil {
			t.Fatal(err)
		}
		sameFile(t, filepath.Join(local, "hello.sh"), "#!/bin/sh\necho v2\n", 0o700)
	}
	// A remote symbolic link is followed; relative remote paths start at
	// the working directory.
	run(t, s, fmt.Sprintf("ln -sf run.sh %s/link && cd / && ln -sf %s rel-%s", path.Dir(remote), path.Dir(remote), path.Base(dir)))
	if err := s.Get(t.Context(), "rel-"+path.Base(dir)+"/link", filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(dir, "linked"), "#!/bin/sh\necho hello from \"$0\"\n", 0o755)
	if err := s.Put(t.Context(), script, "rel-put.sh"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, s, "cat /rel-put.sh"); r.Stdout != "#!/bin/sh\necho v2\n" {
		t.Errorf("relative Put landed elsewhere: %+v", r)
	}
}

func writeFile(t *testing.T, name, body string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, name, body string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(name)
	if err != nil {
		t.Error(err)
		return
	}
	if string(got) != body {
		t.Errorf("%s holds %q, want %q", name, got, body)
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != mode {
		t.Errorf("%s mode %v (%v), want %v", name, fi.Mode().Perm(), err, mode)
	}
}

// tree is a directory's content: relative path → description.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			desc += " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			desc += fmt.Sprintf(" %q %d", b, fi.ModTime().Unix())
		}
		m[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %q", k, v)
		}
	}
}

func testPutGetTree(t *testing.T, s hosts.Session) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "bin", "tool.sh"), "#!/bin/sh\necho tool\n", 0o755)
	writeFile(t, filepath.Join(src, "etc", "secret"), "s3cret\n", 0o600)
	writeFile(t, filepath.Join(src, "etc", "conf.d", "a.conf"), "a=1\n", 0o644)
	writeFile(t, filepath.Join(src, "empty.txt"), "", 0o640)
	for _, d := range []string{"var/empty", "etc"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o750); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(src, d), 0o750)
	}
	if err := os.Symlink("bin/tool.sh", filepath.Join(src, "tool")); err != nil {
		t.Fatal(err)
	}
	want := tree(t, src)

	base := fmt.Sprintf("/tmp/tree-%d", time.Now().UnixNano())
	// To a new name (parents created), and into an existing directory.
	if err := s.Put(t.Context(), src, base+"/deep/named"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), src, base+"/"); err != nil {
		t.Fatal(err)
	}
	r := run(t, s, fmt.Sprintf("cd %s && stat -c '%%n %%a' deep/named/bin/tool.sh deep/named/etc/secret deep/named/etc src/var/empty && readlink src/tool && src/tool", base))
	if want := "deep/named/bin/tool.sh 755\ndeep/named/etc/secret 600\ndeep/named/etc 750\nsrc/var/empty 750\nbin/tool.sh\ntool\n"; r.Stdout != want {
		t.Errorf("remote tree:\n%s\nwant:\n%s", r.Stdout, want)
	}

	// Back to a new local name, and into an existing directory.
	if err := s.Get(t.Context(), base+"/deep/named", filepath.Join(dir, "back", "named")); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, tree(t, filepath.Join(dir, "back", "named")))
	if err := s.Get(t.Context(), base+"/src/", filepath.Join(dir, "back")); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, tree(t, filepath.Join(dir, "back", "src")))
	// Again over the existing copy.
	if err := s.Get(t.Context(), base+"/src", filepath.Join(dir, "back")); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, tree(t, filepath.Join(dir, "back", "src")))
}

func testMissing(t *testing.T, s hosts.Session) {
	err := s.Get(t.Context(), "/no/such/file", filepath.Join(t.TempDir(), "x"))
	if !errors.Is(err, hosts.ErrNotFound) || !strings.Contains(err.Error(), "/no/such/file") {
		t.Errorf("Get of a missing file = %v, want ErrNotFound naming it", err)
	}
	var he *hosts.Error
	if !errors.As(err, &he) || he.Op != "get" {
		t.Errorf("Get error %T %v, want a *hosts.Error for get", err, err)
	}
	err = s.Put(t.Context(), filepath.Join(t.TempDir(), "nothing"), "/tmp/")
	if !errors.Is(err, hosts.ErrNotFound) || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("Put of a missing local file = %v, want ErrNotFound naming it", err)
	}
	// A remote parent that cannot be made.
	local := filepath.Join(t.TempDir(), "f")
	writeFile(t, local, "x", 0o644)
	err = s.Put(t.Context(), local, "/etc/hostname/sub/f")
	if err == nil || errors.Is(err, hosts.ErrGone) || !strings.Contains(err.Error(), "cannot create directory /etc/hostname/sub") {
		t.Errorf("Put under a file = %v, want a mkdir failure", err)
	}
}

func testSessionGone(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	eng := mustEngine(t, p)
	wantGone := func(err error, what string, parts ...string) {
		t.Helper()
		var he *hosts.Error
		if !errors.Is(err, hosts.ErrGone) || !errors.As(err, &he) {
			t.Errorf("%s = %v, want a *hosts.Error matching ErrGone", what, err)
			return
		}
		for _, s := range parts {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", what, err, s)
			}
		}
	}

	// Removed while a command runs, then on the next Run.
	h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	s := openSession(t, p, h)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Run(t.Context(), "sleep 30", hosts.RunOptions{})
		errc <- err
	}()
	time.Sleep(500 * time.Millisecond)
	if err := eng.Remove(t.Context(), h["container_id"].(string)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		// Removed, or seen stopped on its way out.
		wantGone(err, "Run during removal", h.Label(), h.Name())
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not end after its container was removed")
	}
	_, err := s.Run(t.Context(), "true", hosts.RunOptions{})
	wantGone(err, "Run after removal", h.Label(), "no longer exists", "inventory --sync Container", "check the host in")
	err = s.Put(t.Context(), t.TempDir(), "/tmp/")
	wantGone(err, "Put after removal")
	err = s.Get(t.Context(), "/etc/hostname", filepath.Join(t.TempDir(), "h"))
	wantGone(err, "Get after removal")
	_, err = p.Session(t.Context(), h)
	wantGone(err, "Session after removal", h.Label(), "no longer exists", "broker inventory --sync Container")
	_, err = p.Session(t.Context(), inventory.Host{"name": h.Name()})
	wantGone(err, "Session by name after removal", h.Name())

	// Stopped behind our back.
	h2 := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	s2 := openSession(t, p, h2)
	engineCLI(t, e, "stop", "-t", "1", h2.Name())
	_, err = s2.Run(t.Context(), "true", hosts.RunOptions{})
	wantGone(err, "Run in a stopped container", "not running", "start")
	_, err = p.Session(t.Context(), h2)
	wantGone(err, "Session of a stopped container", "not running", e.Runtime+" start "+h2.Name())

	// A closed session refuses work.
	h3 := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	s3 := openSession(t, p, h3)
	s3.Close()
	if _, err := s3.Run(t.Context(), "true", hosts.RunOptions{}); err == nil || errors.Is(err, hosts.ErrGone) {
		t.Errorf("Run on a closed session = %v", err)
	}
	if err := s3.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestSessionUnreachable: an engine that does not answer is ErrConnect.
func TestSessionUnreachable(t *testing.T) {
	p := newTestProvider(t, providers.Spec{Config: map[string]any{"runtime": "docker", "host": "unix:///nonexistent.sock"}, User: "u"})
	_, err := p.Session(t.Context(), inventory.Host{"name": "x", "container_id": "abc"})
	if !errors.Is(err, hosts.ErrConnect) || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("Session on a dead engine = %v, want ErrConnect", err)
	}
	_, err = p.Session(t.Context(), inventory.Host{"hostname": "h"})
	if err == nil || !strings.Contains(err.Error(), "neither container_id nor name") {
		t.Errorf("Session of an empty record = %v", err)
	}
}

// craftedTar is an archive of the given entries (name → symlink target
// when it starts with "->", else file content; a trailing "/" is a
// directory).
func craftedTar(t *testing.T, entries ...string) *tar.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		name, body, _ := strings.Cut(e, "=")
		h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		switch {
		case strings.HasSuffix(name, "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case strings.HasPrefix(body, "->"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, body[2:], 0
		case strings.HasPrefix(body, "=>"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, body[2:], 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, body)
		}
	}
	tw.Close()
	return tar.NewReader(&buf)
}

// TestExtractRefusesEscapes: archive entries (names, hard links, symbolic
// links) cannot write outside the target.
func TestExtractRefusesEscapes(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cases := map[string][]string{
		"dotdot":          {"d/", "d/../evil=x"},
		"deep dotdot":     {"d/", "d/a/../../evil=x"},
		"absolute":        {"d/", "/evil=x"},
		"other top":       {"d/", "e/evil=x"},
		"hard link out":   {"d/", "d/h==>../evil"},
		"hard link abs":   {"d/", "d/h==>/etc/passwd"},
		"through symlink": {"d/", "d/l=->../..", "d/l/evil=x"},
		"abs symlink":     {"d/", "d/l=->/tmp", "d/l/evil=x"},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "in", "target")
			_, err := extract(craftedTar(t, entries...), target, log)
			if err == nil {
				t.Errorf("extract accepted %q", entries)
			}
			// Nothing was written outside the target.
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if p != dir && p != filepath.Join(dir, "in") && p != target && !strings.HasPrefix(p, target+string(filepath.Separator)) {
					t.Errorf("extract wrote %s", p)
				}
				return nil
			})
			if _, err := os.Lstat("/tmp/evil"); err == nil {
				t.Errorf("extract wrote /tmp/evil")
			}
		})
	}
	// A well-formed archive with an internal link extracts.
	dir := t.TempDir()
	if _, err := extract(craftedTar(t, "d/", "d/s/", "d/s/f=hi", "d/l=->s/f", "d/h==>d/s/f"), filepath.Join(dir, "out"), log); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"s/f", "l", "h"} {
		if b, err := os.ReadFile(filepath.Join(dir, "out", p)); err != nil || string(b) != "hi" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
}

func TestSplitRemote(t *testing.T) {
	for _, c := range []struct{ remote, dir, name string }{
		{"/opt/x", "/opt", "x"},
		{"/opt/x/", "/opt/x", "src"},
		{"/opt/x/.", "/opt/x", "src"},
		{"/opt/x/..", "/opt", "src"},
		{"/", "/", "src"},
		{"/x", "/", "x"},
		{"/opt//x//", "/opt/x", "src"},
	} {
		if dir, name := splitRemote(c.remote, "src"); dir != c.dir || name != c.name {
			t.Errorf("splitRemote(%q) = %q, %q, want %q, %q", c.remote, dir, name, c.dir, c.name)
		}
	}
	s := &session{workDir: "/work"}
	for in, want := range map[string]string{"a": "/work/a", "a/": "/work/a/", "/abs": "/abs", "./": "/work/", "..": "/"} {
		if got := s.remotePath(in); got != want {
			t.Errorf("remotePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzEntryRel: whatever the entry name, an accepted one maps to a path
// inside the target.
func FuzzEntryRel(f *testing.F) {
	for _, s := range []string{"d", "d/", "d/a", "d/../x", "/d/a", "d//a/./b", "./d/a", "d/a/..", "..", "d/\x00", "d/..a", "d\\..\\x"} {
		f.Add("d", s)
	}
	f.Fuzz(func(t *testing.T, top, name string) {
		rel, err := entryRel(top, name)
		if err != nil {
			return
		}
		if rel != "" {
			if !filepath.IsLocal(rel) || path.IsAbs(rel) || strings.Contains(rel, "\x00") {
				t.Fatalf("entryRel(%q, %q) = %q: not local", top, name, rel)
			}
			for el := range strings.SplitSeq(rel, "/") {
				if el == ".." || el == "." || el == "" {
					t.Fatalf("entryRel(%q, %q) = %q: element %q", top, name, rel, el)
				}
			}
		}
		target := "/base/target"
		p := filepath.Join(target, filepath.FromSlash(rel))
		if p != target && !strings.HasPrefix(p, target+"/") {
			t.Fatalf("entryRel(%q, %q) = %q: %s is outside %s", top, name, rel, p, target)
		}
		if path.Join(top, rel) != path.Clean(name) {
			t.Fatalf("entryRel(%q, %q) = %q: does not name the entry", top, name, rel)
		}
	})
}

// BenchmarkSessionRun is one `true` run through a session, per runtime.
func BenchmarkSessionRun(b *testing.B) {
	for _, rt := range testenv.Runtimes {
		b.Run(rt, func(b *testing.B) {
			e := testenv.Need(b, rt)
			p := newTestProvider(b, providers.Spec{Instance: "bench",
				Config: map[string]any{"runtime": e.Runtime, "host": e.Host}, User: uniqueUser(b),
				Logger: slog.New(slog.DiscardHandler)})
			s := openSession(b, p, checkout(b, p, providers.Args{"container_host": testenv.BusyboxImage}))
			for b.Loop() {
				r, err := s.Run(b.Context(), "true", hosts.RunOptions{})
				if err != nil || r.Status != 0 {
					b.Fatal(r, err)
				}
			}
		})
	}
}
