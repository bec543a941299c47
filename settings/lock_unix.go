//go:build unix

package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockTimeout is how long a writer waits for another broker's lock.
const lockTimeout = 10 * time.Second

// lockPoll is how often a waiting writer retries.
const lockPoll = 25 * time.Millisecond

// lock takes an exclusive flock on path (created if missing), waiting at
// most timeout. flock locks belong to an open file description, so two
// goroutines of one process exclude each other as two processes do. The lock
// file is left in place (removing it would let a third process lock a
// different inode); the kernel drops the lock if the process dies.
func lock(path string, timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: gave up after %s waiting for %s (another broker is changing the settings; if none is running, retry)", ErrLocked, timeout, path)
		}
		time.Sleep(lockPoll)
	}
}
