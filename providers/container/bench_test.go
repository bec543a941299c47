package container

import (
	"log/slog"
	"testing"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/providers"
)

// BenchmarkCheckoutCheckin is one busybox host checked out (image lookup,
// create, start, inspect) and checked back in (forced removal), per
// runtime.
func BenchmarkCheckoutCheckin(b *testing.B) {
	for _, rt := range testenv.Runtimes {
		b.Run(rt, func(b *testing.B) {
			e := testenv.Need(b, rt)
			p := newTestProvider(b, providers.Spec{Instance: "bench",
				Config: map[string]any{"runtime": e.Runtime, "host": e.Host}, User: uniqueUser(b),
				Logger: slog.New(slog.DiscardHandler)})
			args := providers.Args{"container_host": testenv.BusyboxImage}
			for b.Loop() {
				h := checkout(b, p, args)
				if err := p.Checkin(b.Context(), h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
