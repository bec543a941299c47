//go:build !unix

package settings

import "time"

const lockTimeout = 10 * time.Second

// lock is a no-op where flock is unavailable: writes are still atomic
// (temporary file + rename), but two brokers may race on a read-modify-write.
func lock(path string, timeout time.Duration) (unlock func(), err error) {
	return func() {}, nil
}
