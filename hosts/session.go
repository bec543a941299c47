// Package hosts runs commands on checked-out hosts and copies files to and
// from them: the Session interface, command results, and the SSH/SFTP
// implementation. Container hosts get a Session from their provider (the
// engine's exec and copy APIs); everything else, and containers that ask for
// it, use SSH.
package hosts

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Result is the outcome of one command.
type Result struct {
	Status int    `json:"status"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// String is upstream's text form of a result.
func (r Result) String() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s\nstatus: %d", r.Stdout, r.Stderr, r.Status)
}

// RunOptions tell Run where to stream output as it arrives (nil = collect
// only) and what to feed the command's standard input (nil = nothing).
type RunOptions struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
}

// Session is a connection to one host, reused across calls until Close.
// It is safe for concurrent use: Run, Put and Get may overlap.
type Session interface {
	// Run runs command through the host's shell (sh -c) and returns its
	// status and whole output (also streamed to opts' writers). A command
	// that runs and exits non-zero is not an error: err is for failures to
	// run it at all (connection lost, ctx cancelled).
	Run(ctx context.Context, command string, opts RunOptions) (Result, error)
	// Put copies a local file or directory (recursively) to remotePath on
	// the host. A remotePath ending in "/" names a directory to copy into;
	// missing parent directories are created.
	Put(ctx context.Context, localPath, remotePath string) error
	// Get copies a remote file or directory to localPath (same rules).
	Get(ctx context.Context, remotePath, localPath string) error
	// Close ends the session.
	Close() error
}

// Errors callers branch on (errors.Is); the *Error wrapping them names the
// host and the operation.
var (
	ErrAuth     = errors.New("authentication failed")     // wrong key or password
	ErrHostKey  = errors.New("host key mismatch")         // known_hosts disagrees
	ErrConnect  = errors.New("cannot connect")            // refused, unreachable, timed out
	ErrNotFound = errors.New("no such file or directory") // remote or local path missing
	ErrGone     = errors.New("host is gone")              // container removed from its engine
)

// Error is a failure on one host.
type Error struct {
	Host string // hostname or name, as the user knows it
	Op   string // "connect", "run", "put", "get"
	Err  error
	Hint string // what to do (optional)
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s: %v", e.Host, e.Op, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }
