package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

var _ providers.Sessioner = (*Provider)(nil)

// goneHint is what to do about a container that no longer exists.
const goneHint = "run `broker inventory --sync Container` to update the inventory, or check the host in"

// stateTimeout bounds the look at the container that decides whether a
// failed call means it is gone.
const stateTimeout = 30 * time.Second

// maxLinkHops is how many symbolic links Get follows from the remote path.
const maxLinkHops = 8

// Session returns an exec-based session into the container of host: found
// by its container_id or, for a record without one, by its name (a record
// whose container_id is gone is not looked up by name: another container
// may have that name by now). A container that no longer exists, or no
// longer runs, gives a *hosts.Error matching hosts.ErrGone.
//
// Run execs /bin/sh -c COMMAND (no timeout; cancelling ctx returns at once,
// but the engines' exec APIs cannot signal the command, which keeps running
// in the container). opts.Stdin is copied to the command's standard input,
// which is closed at its end; Run returns once that copy has stopped too
// (except for an *os.File, as with os/exec). On Podman, input holding the
// service's detach keys (ctrl-p ctrl-q by default) detaches the command.
// Put and Get go through the engines' tar copy APIs:
// files keep their permission bits and modification times, are owned by
// root in the container (the engine's default) and by the local user
// locally; directories are copied recursively, with symbolic links kept as
// links. Relative remote paths are relative to the container's working
// directory. The session shares the provider's engine connection: Close
// only marks it closed.
func (p *Provider) Session(ctx context.Context, host inventory.Host) (hosts.Session, error) {
	label := host.Label()
	ref, _ := host["container_id"].(string)
	if ref == "" {
		ref = host.Name()
	}
	if ref == "" {
		return nil, &hosts.Error{Host: label, Op: "connect", Err: errors.New("the record has neither container_id nor name"),
			Hint: "run `broker inventory --sync Container` to rebuild it"}
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return nil, engineError(label, "connect", err)
	}
	s := &session{eng: eng, id: ref, name: host.Name(), label: label, log: p.log}
	ci, err := eng.Inspect(ctx, ref)
	if err != nil {
		if errors.Is(err, providers.ErrNotFound) {
			return nil, s.goneError("connect", nil)
		}
		return nil, engineError(label, "connect", err)
	}
	s.id, s.name, s.workDir = ci.ID, ci.Name, ci.WorkDir
	if !ci.Running {
		return nil, s.goneError("connect", ci)
	}
	if s.workDir == "" {
		s.workDir = "/"
	}
	p.log.Debug("session opened", "host", label, "container", s.name, "id", shortID(s.id))
	return s, nil
}

// session is an exec-based hosts.Session into one container. Its fields do
// not change after Session returns, and the engine is safe for concurrent
// use, so the session is too.
type session struct {
	eng     engine
	id      string // full container ID (the record's reference until inspected)
	name    string
	label   string // the host as the user knows it
	workDir string // the container's working directory (absolute)
	log     *slog.Logger
	closed  atomic.Bool
}

var _ hosts.Session = (*session)(nil)

var errClosed = errors.New("the session is closed")

// Close marks the session closed; the engine connection is the provider's.
func (s *session) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *session) check(op string) error {
	if s.closed.Load() {
		return &hosts.Error{Host: s.label, Op: op, Err: errClosed}
	}
	return nil
}

// Run runs command with /bin/sh -c in the container (see hosts.Session).
// opts' writers are written from one goroutine, never at once.
func (s *session) Run(ctx context.Context, command string, opts hosts.RunOptions) (hosts.Result, error) {
	res := hosts.Result{Status: -1}
	if err := s.check("run"); err != nil {
		return res, err
	}
	var out, errOut bytes.Buffer
	code, err := s.eng.Exec(ctx, s.id, []string{"/bin/sh", "-c", command}, opts.Stdin,
		tee(&out, opts.Stdout), tee(&errOut, opts.Stderr))
	res.Stdout, res.Stderr = out.String(), errOut.String()
	if err != nil {
		return res, s.fail(ctx, "run", err)
	}
	// A command killed by a signal may have been killed by its container
	// stopping; 126 is also what an exec into a dying container gets.
	if code == 126 || code >= 128 {
		if gerr := s.gone(ctx, "run", true); gerr != nil {
			return res, gerr
		}
	}
	res.Status = code
	return res, nil
}

// tee is buf, also writing to w when w is not nil. A failure of w ends
// the run as a local error.
func tee(buf *bytes.Buffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, callerWriter{w})
}

type callerWriter struct{ w io.Writer }

func (c callerWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if err != nil {
		err = &localError{fmt.Errorf("write the output: %w", err)}
	}
	return n, err
}

// Put copies a local file or directory to remote (see hosts.Session): a
// remote path ending in "/" (or "/." or "/..") is a directory to copy into
// under the source's name; any other remote path is the copy's own path.
// Missing remote parent directories are created (mkdir -p).
func (s *session) Put(ctx context.Context, local, remote string) error {
	if err := s.check("put"); err != nil {
		return err
	}
	if local == "" || remote == "" {
		return &hosts.Error{Host: s.label, Op: "put", Err: errors.New("put needs a local and a remote path")}
	}
	src, err := filepath.Abs(local)
	if err != nil {
		return &hosts.Error{Host: s.label, Op: "put", Err: err}
	}
	if _, err := os.Stat(src); err != nil {
		return &hosts.Error{Host: s.label, Op: "put", Err: &localError{err}}
	}
	dir, name := splitRemote(s.remotePath(remote), filepath.Base(src))
	build := func(w io.Writer) error { return writeTree(w, src, name) }
	err = s.copyTo(ctx, dir, build)
	var le *localError
	if err != nil && !errors.As(err, &le) && ctx.Err() == nil {
		// Most likely the directory is missing (engines differ in how
		// they say so). mkdir -p makes it, or says what is in the way,
		// or fails because the container is gone.
		if err = s.mkdir(ctx, dir); err == nil {
			err = s.copyTo(ctx, dir, build)
		}
	}
	if err != nil {
		return s.fail(ctx, "put", err)
	}
	return nil
}

// remotePath makes p absolute (relative to the container's working
// directory), keeping a trailing "/".
func (s *session) remotePath(p string) string {
	if path.IsAbs(p) {
		return p
	}
	abs := path.Join(s.workDir, p)
	if strings.HasSuffix(p, "/") && abs != "/" {
		abs += "/"
	}
	return abs
}

// splitRemote is the directory a copy to remote is unpacked into and the
// name it gets there: remote's parent and base name, or, when remote names
// a directory to copy into (a trailing "/", "." or ".."), remote itself and
// the source's name.
func splitRemote(remote, srcName string) (dir, name string) {
	if strings.HasSuffix(remote, "/") || path.Base(remote) == "." || path.Base(remote) == ".." {
		return path.Clean(remote), srcName
	}
	clean := path.Clean(remote)
	return path.Dir(clean), path.Base(clean)
}

// copyTo streams the tar that build writes into dir in the container. A
// failure to read the local files wins over the engine's error it causes.
func (s *session) copyTo(ctx context.Context, dir string, build func(io.Writer) error) error {
	pr, pw := io.Pipe()
	built := make(chan error, 1)
	go func() {
		err := build(pw)
		pw.CloseWithError(err)
		built <- err
	}()
	err := s.eng.CopyTo(ctx, s.id, dir, pr)
	pr.CloseWithError(errCopyOver)
	if berr := <-built; berr != nil && !errors.Is(berr, errCopyOver) {
		return &localError{berr}
	}
	return err
}

// errCopyOver stops the other side of a copy's pipe.
var errCopyOver = errors.New("the copy is over")

// localError is a failure on the local side of a copy (reported as is,
// matching hosts.ErrNotFound when a file is missing).
type localError struct{ err error }

func (e *localError) Error() string { return "local: " + e.err.Error() }
func (e *localError) Unwrap() []error {
	if errors.Is(e.err, fs.ErrNotExist) {
		return []error{e.err, hosts.ErrNotFound}
	}
	return []error{e.err}
}

func (s *session) mkdir(ctx context.Context, dir string) error {
	var out bytes.Buffer
	code, err := s.eng.Exec(ctx, s.id, []string{"mkdir", "-p", "--", dir}, nil, &out, &out)
	if err != nil {
		return err
	}
	if code != 0 {
		return &statusError{fmt.Errorf("cannot create directory %s: mkdir -p exited with status %d: %s", dir, code, strings.TrimSpace(out.String()))}
	}
	return nil
}

// statusError is a helper command in the container that ran and failed.
type statusError struct{ err error }

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// writeTree writes src (a file or a directory, recursively) to w as a tar
// whose top entry is name. src itself is followed if it is a symbolic link;
// links below it are archived as links. Sockets and devices are skipped.
// Entries are owned by root.
func writeTree(w io.Writer, src, name string) error {
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		entry := name
		if rel != "." {
			entry = path.Join(name, filepath.ToSlash(rel))
		}
		link := ""
		switch m := fi.Mode(); {
		case m&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		case !m.IsRegular() && !m.IsDir():
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = entry
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.ModTime = hdr.ModTime.Truncate(time.Second) // as stat and scp -p see it
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// Get copies a remote file or directory to local: into local (under the
// remote's name) when local ends in a separator or is an existing
// directory, else to local itself; local parent directories are created. A
// remote symbolic link is followed. Nothing is written outside the target:
// archive entries that would escape it are refused.
func (s *session) Get(ctx context.Context, remote, local string) error {
	if err := s.check("get"); err != nil {
		return err
	}
	if local == "" || remote == "" {
		return &hosts.Error{Host: s.label, Op: "get", Err: errors.New("get needs a remote and a local path")}
	}
	src := path.Clean(s.remotePath(remote))
	for range maxLinkHops {
		link, err := s.get(ctx, src, local)
		if err != nil {
			return err
		}
		if link == "" {
			return nil
		}
		if !path.IsAbs(link) {
			link = path.Join(path.Dir(src), link)
		}
		src = path.Clean(link)
	}
	return &hosts.Error{Host: s.label, Op: "get", Err: fmt.Errorf("%s: too many levels of symbolic links", remote)}
}

// get copies src once; when src is a symbolic link it copies nothing and
// returns the link's target.
func (s *session) get(ctx context.Context, src, local string) (link string, err error) {
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	go func() {
		err := s.eng.CopyFrom(ctx, s.id, src, pw)
		pw.CloseWithError(err)
		copied <- err
	}()
	link, xerr := extract(tar.NewReader(pr), local, s.log)
	if xerr == nil {
		io.Copy(io.Discard, pr) // the archive's padding
	}
	pr.CloseWithError(errCopyOver)
	cerr := <-copied
	switch {
	case errors.Is(cerr, providers.ErrNotFound):
		if gerr := s.gone(ctx, "get", false); gerr != nil {
			return "", gerr
		}
		return "", &hosts.Error{Host: s.label, Op: "get", Err: fmt.Errorf("%s in container %s: %w", src, s.name, hosts.ErrNotFound)}
	case cerr != nil && !errors.Is(cerr, errCopyOver) && !strings.Contains(cerr.Error(), errCopyOver.Error()):
		return "", s.fail(ctx, "get", cerr)
	case xerr != nil:
		return "", &hosts.Error{Host: s.label, Op: "get", Err: xerr}
	}
	return link, nil
}

// extract writes the archive of one remote file or directory to local (see
// Get). It returns the link target instead when the archive is one
// symbolic link.
func extract(tr *tar.Reader, local string, log *slog.Logger) (link string, err error) {
	h, err := tr.Next()
	if err != nil {
		if err == io.EOF {
			return "", errors.New("the engine sent an empty archive")
		}
		return "", fmt.Errorf("read the archive: %w", err)
	}
	top, err := archiveTop(h.Name)
	if err != nil {
		return "", err
	}
	target := local
	if strings.HasSuffix(local, string(filepath.Separator)) || strings.HasSuffix(local, "/") || isDir(local) {
		target = filepath.Join(local, top)
	}
	switch h.Typeflag {
	case tar.TypeSymlink:
		return h.Linkname, nil
	case tar.TypeReg:
		return "", extractFile(tr, h, target)
	case tar.TypeDir:
		return "", extractDir(tr, h, top, target, log)
	}
	return "", fmt.Errorf("%s is not a regular file or a directory (tar type %q)", h.Name, h.Typeflag)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// extractFile writes the one file of an archive to target (its name in
// the archive does not matter).
func extractFile(tr *tar.Reader, h *tar.Header, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, tr); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := f.Chmod(fileMode(h)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(target, time.Time{}, h.ModTime); err != nil {
		return err
	}
	if _, err := tr.Next(); err != io.EOF {
		return fmt.Errorf("the archive of one file holds more entries")
	}
	return nil
}

// extractDir writes the archive of a directory (first entry h, named top)
// to the directory target, through an os.Root, so that neither a crafted
// name nor a symbolic link in the archive can reach outside target.
// Directory modes and times are set last (a read-only directory is filled
// first).
func extractDir(tr *tar.Reader, h *tar.Header, top, target string, log *slog.Logger) error {
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	type dirMeta struct {
		rel  string
		mode fs.FileMode
		mod  time.Time
	}
	var dirs []dirMeta
	for {
		rel, err := entryRel(top, h.Name)
		if err != nil {
			return err
		}
		name := rel
		if name == "" {
			name = "."
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMeta{name, fileMode(h), h.ModTime})
		case tar.TypeReg:
			if err := writeEntry(root, name, h, tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := prepare(root, name); err != nil {
				return err
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := entryRel(top, h.Linkname)
			if err != nil || old == "" {
				return fmt.Errorf("hard link %s to %s: %w", h.Name, h.Linkname, cmpErr(err, errOutside))
			}
			if err := prepare(root, name); err != nil {
				return err
			}
			if err := root.Link(old, name); err != nil {
				return err
			}
		default:
			log.Debug("get: skipped a special file", "name", h.Name, "type", string(h.Typeflag))
		}
		h, err = tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the archive: %w", err)
		}
	}
	for _, d := range slices.Backward(dirs) {
		if err := root.Chmod(d.rel, d.mode); err != nil {
			return err
		}
		if err := root.Chtimes(d.rel, time.Time{}, d.mod); err != nil {
			return err
		}
	}
	return nil
}

func cmpErr(err, dflt error) error {
	if err != nil {
		return err
	}
	return dflt
}

// prepare makes name's parent directories and removes whatever non-directory
// is at name, so that a file or link is created anew rather than written
// through an existing link.
func prepare(root *os.Root, name string) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if fi, err := root.Lstat(name); err == nil && !fi.IsDir() {
		return root.Remove(name)
	}
	return nil
}

func writeEntry(root *os.Root, name string, h *tar.Header, r io.Reader) error {
	if err := prepare(root, name); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(fileMode(h)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return root.Chtimes(name, time.Time{}, h.ModTime)
}

// fileMode is the permission bits (with setuid, setgid and sticky) of h.
func fileMode(h *tar.Header) fs.FileMode {
	return h.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

var errOutside = errors.New("refused: the entry would be written outside the target")

// archiveTop is the top-level name of an archive of one file or directory,
// from its first entry's name.
func archiveTop(name string) (string, error) {
	clean, err := cleanEntry(name)
	if err != nil {
		return "", err
	}
	top, _, _ := strings.Cut(clean, "/")
	return top, nil
}

// cleanEntry is a tar entry name made relative and clean, or an error when
// it is empty, absolute, or has a ".." element (or a NUL).
func cleanEntry(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("archive entry %q: %w", name, errOutside)
	}
	for el := range strings.SplitSeq(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("archive entry %q: %w", name, errOutside)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", fmt.Errorf("archive entry %q: %w", name, errOutside)
	}
	return clean, nil
}

// entryRel is the path, relative to the copy's target, of an archive entry
// whose top-level name is top: "" for top itself, else a local
// slash-separated path. Entries that are not under top, are absolute, or
// climb with ".." are refused.
func entryRel(top, name string) (string, error) {
	clean, err := cleanEntry(name)
	if err != nil {
		return "", err
	}
	first, rest, _ := strings.Cut(clean, "/")
	if first != top {
		return "", fmt.Errorf("archive entry %q is not under %q: %w", name, top, errOutside)
	}
	if rest != "" && !filepath.IsLocal(filepath.FromSlash(rest)) {
		return "", fmt.Errorf("archive entry %q: %w", name, errOutside)
	}
	return rest, nil
}

// fail turns an engine error of op into the session's error: the caller's
// cancellation, the container gone, or the failure as it is.
func (s *session) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		msg := "interrupted: %w"
		if op == "run" {
			msg = "interrupted (the command may still run in the container): %w"
		}
		return &hosts.Error{Host: s.label, Op: op, Err: fmt.Errorf(msg, context.Cause(ctx))}
	}
	var le *localError
	var se *statusError
	if !errors.As(err, &le) && !errors.As(err, &se) {
		if gerr := s.gone(ctx, op, true); gerr != nil {
			return gerr
		}
	}
	return engineError(s.label, op, err)
}

// settleTime bounds the wait for a container that is stopping or being
// removed to get there; stopTime is how long a stopped container is
// watched, after a failure, in case it is on its way out (removal passes
// through "stopped").
const (
	settleTime = 2 * time.Second
	stopTime   = 500 * time.Millisecond
)

// gone returns the ErrGone error when the container no longer exists or no
// longer runs, else nil (also when that cannot be told). After a failure
// (probe), a container that looks like it runs but cannot exec a no-op is
// watched until it is seen going, as the engine reports that late.
func (s *session) gone(ctx context.Context, op string, probe bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
	defer cancel()
	start := time.Now()
	for probed := false; ; {
		ci, err := s.eng.Inspect(ctx, s.id)
		if err != nil {
			s.log.Debug("session: container state", "id", shortID(s.id), "error", err)
		} else {
			s.log.Debug("session: container state", "id", shortID(s.id), "status", ci.Status, "running", ci.Running)
		}
		switch {
		case errors.Is(err, providers.ErrNotFound):
			return s.goneError(op, nil)
		case err != nil:
			return nil
		case ci.Status == "stopping" || ci.Status == "removing":
			if time.Since(start) >= settleTime {
				return s.goneError(op, ci)
			}
		case !ci.Running:
			if !probe || time.Since(start) >= stopTime {
				return s.goneError(op, ci)
			}
		case !probe:
			return nil
		case !probed:
			probed = true
			code, err := s.eng.Exec(ctx, s.id, []string{"/bin/sh", "-c", "exit 0"}, nil, nil, nil)
			s.log.Debug("session: probe exec", "id", shortID(s.id), "status", code, "error", err)
			if err == nil && code == 0 {
				return nil
			}
		case time.Since(start) >= settleTime:
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// goneError says the container was removed (ci nil) or has stopped.
func (s *session) goneError(op string, ci *containerInfo) error {
	what := "container " + s.id
	if s.name != "" {
		what = fmt.Sprintf("container %s (%s)", s.name, shortID(s.id))
	}
	where := s.eng.Runtime() + " " + s.eng.Endpoint()
	if ci == nil {
		return &hosts.Error{Host: s.label, Op: op, Hint: goneHint,
			Err: fmt.Errorf("%w: %s no longer exists on %s", hosts.ErrGone, what, where)}
	}
	return &hosts.Error{Host: s.label, Op: op,
		Hint: fmt.Sprintf("start it again (%s start %s) or check the host in", s.eng.Runtime(), ci.Name),
		Err:  fmt.Errorf("%w: %s is %s, not running, on %s", hosts.ErrGone, what, ci.Status, where)}
}

// engineError is a failure to reach or use the engine; one that did not
// answer also matches hosts.ErrConnect.
func engineError(label, op string, err error) error {
	var ue *unreachableError
	if errors.As(err, &ue) {
		err = &connectError{err}
	}
	return &hosts.Error{Host: label, Op: op, Err: err}
}

type connectError struct{ err error }

func (e *connectError) Error() string   { return e.err.Error() }
func (e *connectError) Unwrap() []error { return []error{e.err, hosts.ErrConnect} }
