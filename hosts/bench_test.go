package hosts_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/broker-go/broker/hosts"
)

// BenchmarkRun: one `true` per op on a reused session (loopback sshd).
func BenchmarkRun(b *testing.B) {
	d := startSSHD(b)
	s := dial(b, d.config())
	for b.Loop() {
		if res, err := s.Run(b.Context(), "true", hosts.RunOptions{}); err != nil || res.Status != 0 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkRunParallel: the same, from several goroutines on one session.
func BenchmarkRunParallel(b *testing.B) {
	d := startSSHD(b)
	s := dial(b, d.config())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res, err := s.Run(b.Context(), "true", hosts.RunOptions{}); err != nil || res.Status != 0 {
				b.Error(res, err)
				return
			}
		}
	})
}

// BenchmarkDial: connect, authenticate and close.
func BenchmarkDial(b *testing.B) {
	d := startSSHD(b)
	for b.Loop() {
		s, err := hosts.DialSSH(b.Context(), d.config())
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkPut8MiB: one 8 MiB file per op over the session's SFTP client.
func BenchmarkPut8MiB(b *testing.B) {
	d := startSSHD(b)
	s := dial(b, d.config())
	src := filepath.Join(b.TempDir(), "src")
	if err := os.WriteFile(src, make([]byte, 8<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	dest := filepath.Join(b.TempDir(), "dest")
	b.SetBytes(8 << 20)
	for b.Loop() {
		if err := s.Put(b.Context(), src, dest); err != nil {
			b.Fatal(err)
		}
	}
}
