package hosts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// keptMode is what Put and Get carry over of a file's mode.
const keptMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// sftpClient returns the session's SFTP client, starting it on first use.
// It holds one channel slot for the session's life.
func (s *SSHSession) sftpClient(ctx context.Context) (*sftp.Client, error) {
	s.sftpMu.Lock()
	defer s.sftpMu.Unlock()
	if s.sftpc != nil {
		return s.sftpc, nil
	}
	sess, err := s.openSession(ctx)
	if err != nil {
		return nil, err
	}
	c, err := startSFTP(sess)
	if err != nil {
		sess.Close()
		s.release()
		return nil, s.connErr(fmt.Errorf("start SFTP: %w", err))
	}
	s.sftpc, s.sftpSess = c, sess
	s.pinned.Add(1)
	return c, nil
}

// startSFTP runs the sftp subsystem on sess (what sftp.NewClient does on
// a channel of its own).
func startSFTP(sess *ssh.Session) (*sftp.Client, error) {
	w, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return nil, err
	}
	return sftp.NewClientPipe(r, w, sftp.UseConcurrentWrites(true))
}

// copier copies files and trees over one SFTP client.
type copier struct {
	ctx context.Context
	c   *sftp.Client
	log *slog.Logger
}

// Put copies a local file or directory tree to remotePath, keeping modes.
// A remotePath ending in "/" is a directory to copy into (the copy takes
// the source's base name); without it, remotePath names the copy (a
// directory's contents are merged into an existing directory). An empty
// remotePath is the local path. Missing remote parents are created.
// Symbolic links inside a tree are recreated as links; other special
// files are skipped.
func (s *SSHSession) Put(ctx context.Context, localPath, remotePath string) error {
	fail := func(err error) error { return &Error{Host: s.label, Op: "put", Err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	st, err := os.Stat(localPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(fmt.Errorf("local %s: %w", localPath, ErrNotFound))
	}
	if err != nil {
		return fail(err)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return fail(fmt.Errorf("local %s is not a regular file or directory (%s)", localPath, st.Mode().Type()))
	}
	dest := remotePath
	switch {
	case dest == "":
		dest = filepath.ToSlash(localPath)
	case strings.HasSuffix(dest, "/"):
		dest += localBase(localPath)
	}
	c, err := s.sftpClient(ctx)
	if err != nil {
		return fail(err)
	}
	p := copier{ctx: ctx, c: c, log: s.log}
	if st.IsDir() {
		err = p.putDir(localPath, dest, st.Mode())
	} else if err = p.mkdirRemote(path.Dir(dest)); err == nil {
		err = p.putFile(localPath, dest, st.Mode())
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// localBase is the name of a local path, also for "." and "dir/".
func localBase(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return filepath.Base(p)
}

func (p *copier) mkdirRemote(dir string) error {
	if err := p.c.MkdirAll(dir); err != nil {
		return fmt.Errorf("create remote directory %s: %w", dir, err)
	}
	return nil
}

func (p *copier) putFile(local, remote string, mode fs.FileMode) error {
	lf, err := os.Open(local)
	if err != nil {
		return err
	}
	defer lf.Close()
	rf, err := p.c.OpenFile(remote, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		if st, serr := p.c.Stat(remote); serr == nil && st.IsDir() {
			return fmt.Errorf("remote %s is a directory: end the destination with / to copy into it", remote)
		}
		return fmt.Errorf("create remote %s: %w", remote, err)
	}
	stop := context.AfterFunc(p.ctx, func() { lf.Close(); rf.Close() })
	defer stop()
	_, err = rf.ReadFrom(lf)
	if err == nil {
		err = rf.Chmod(mode & keptMode)
	}
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write remote %s: %w", remote, err)
	}
	return nil
}

func (p *copier) putDir(local, remote string, mode fs.FileMode) error {
	if err := p.mkdirRemote(remote); err != nil {
		return err
	}
	entries, err := os.ReadDir(local)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		lp, rp := filepath.Join(local, e.Name()), path.Join(remote, e.Name())
		switch t := e.Type(); {
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(lp)
			if err != nil {
				return err
			}
			_ = p.c.Remove(rp) // a link cannot replace a file
			if err := p.c.Symlink(target, rp); err != nil {
				return fmt.Errorf("create remote link %s: %w", rp, err)
			}
		case t.IsDir(), t.IsRegular():
			info, err := e.Info()
			if err != nil {
				return err
			}
			if t.IsDir() {
				err = p.putDir(lp, rp, info.Mode())
			} else {
				err = p.putFile(lp, rp, info.Mode())
			}
			if err != nil {
				return err
			}
		default:
			p.log.Debug("put: skipping a special file", "path", lp, "type", t.String())
		}
	}
	// Last, so a read-only directory is filled first.
	if err := p.c.Chmod(remote, mode&keptMode); err != nil {
		return fmt.Errorf("chmod remote %s: %w", remote, err)
	}
	return nil
}

// Get copies a remote file or directory tree to localPath, keeping modes;
// the same rules as Put, the other way (an empty localPath is the remote
// path; missing local parents are created).
func (s *SSHSession) Get(ctx context.Context, remotePath, localPath string) error {
	fail := func(err error) error { return &Error{Host: s.label, Op: "get", Err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	c, err := s.sftpClient(ctx)
	if err != nil {
		return fail(err)
	}
	st, err := c.Stat(remotePath)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(fmt.Errorf("remote %s: %w", remotePath, ErrNotFound))
	}
	if err != nil {
		return fail(fmt.Errorf("remote %s: %w", remotePath, s.connErr(err)))
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return fail(fmt.Errorf("remote %s is not a regular file or directory (%s)", remotePath, st.Mode().Type()))
	}
	dest := localPath
	switch {
	case dest == "":
		dest = filepath.FromSlash(remotePath)
	case strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, string(filepath.Separator)):
		dest = filepath.Join(dest, remoteBase(c, remotePath))
	}
	p := copier{ctx: ctx, c: c, log: s.log}
	if st.IsDir() {
		err = p.getDir(remotePath, dest, st.Mode())
	} else if err = os.MkdirAll(filepath.Dir(dest), 0o755); err == nil {
		err = p.getFile(remotePath, dest, st.Mode())
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// remoteBase is the name of a remote path, also for "." and "dir/".
func remoteBase(c *sftp.Client, p string) string {
	b := path.Base(p)
	if b == "." || b == ".." || b == "/" {
		if real, err := c.RealPath(p); err == nil {
			b = path.Base(real)
		}
	}
	return b
}

func (p *copier) getFile(remote, local string, mode fs.FileMode) error {
	rf, err := p.c.Open(remote)
	if err != nil {
		return fmt.Errorf("open remote %s: %w", remote, err)
	}
	defer rf.Close()
	lf, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		if st, serr := os.Stat(local); serr == nil && st.IsDir() {
			return fmt.Errorf("local %s is a directory: end the destination with / to copy into it", local)
		}
		return err
	}
	stop := context.AfterFunc(p.ctx, func() { rf.Close(); lf.Close() })
	defer stop()
	_, err = rf.WriteTo(lf)
	if err != nil {
		err = fmt.Errorf("read remote %s: %w", remote, err)
	}
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(local, mode&keptMode)
	}
	return err
}

func (p *copier) getDir(remote, local string, mode fs.FileMode) error {
	if err := os.MkdirAll(local, 0o700); err != nil {
		return err
	}
	entries, err := p.c.ReadDir(remote)
	if err != nil {
		return fmt.Errorf("list remote %s: %w", remote, err)
	}
	for _, e := range entries {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		rp, lp := path.Join(remote, e.Name()), filepath.Join(local, e.Name())
		switch m := e.Mode(); {
		case m&fs.ModeSymlink != 0:
			target, err := p.c.ReadLink(rp)
			if err != nil {
				return fmt.Errorf("read remote link %s: %w", rp, err)
			}
			_ = os.Remove(lp) // a link cannot replace a file
			if err := os.Symlink(target, lp); err != nil {
				return err
			}
		case m.IsDir():
			if err := p.getDir(rp, lp, m); err != nil {
				return err
			}
		case m.IsRegular():
			if err := p.getFile(rp, lp, m); err != nil {
				return err
			}
		default:
			p.log.Debug("get: skipping a special file", "path", rp, "type", m.Type().String())
		}
	}
	return os.Chmod(local, mode&keptMode)
}
