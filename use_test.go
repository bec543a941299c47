package broker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/inventory"
)

func engineBroker(t *testing.T, e testenv.Engine) *broker.Broker {
	t.Helper()
	b, err := broker.New(broker.Options{
		Dir:       t.TempDir(),
		Overrides: map[string]any{"Container.runtime": e.Runtime, "Container.host": e.Host},
		User:      "libtest",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Go test suite checks hosts out, uses them, and UseT checks them in when
// the test ends, without touching the CLI.
func TestUseT(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		b := engineBroker(t, e)
		var names []string
		t.Run("use", func(t *testing.T) {
			hs := b.UseT(t, broker.UseOptions{CheckoutOptions: broker.CheckoutOptions{
				ArgsRequest: broker.ArgsRequest{Args: broker.Args{"container_host": testenv.DebianImage}}, Count: 2}})
			if len(hs) != 2 {
				t.Fatalf("UseT gave %d hosts, want 2", len(hs))
			}
			for _, h := range hs {
				names = append(names, h.Name())
				res, err := h.Run(t.Context(), "cat /etc/debian_version >/dev/null && echo debian")
				if err != nil || res.Stdout != "debian\n" || res.Status != 0 {
					t.Fatalf("Run on %s = %+v, %v", h.Label(), res, err)
				}
				local := filepath.Join(t.TempDir(), "f.txt")
				os.WriteFile(local, []byte("payload\n"), 0o640)
				if err := h.Put(t.Context(), local, "/tmp/x/"); err != nil {
					t.Fatal(err)
				}
				back := filepath.Join(t.TempDir(), "back.txt")
				if err := h.Get(t.Context(), "/tmp/x/f.txt", back); err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(back); string(got) != "payload\n" {
					t.Fatalf("round trip gave %q", got)
				}
			}
		})
		// the subtest's cleanup has checked them in
		recs, err := b.Inventory(context.Background(), "")
		if err != nil || len(recs) != 0 {
			t.Fatalf("after the test: %d records (%v), want 0", len(recs), err)
		}
		for _, n := range names {
			h := b.Host(inventoryRecord(n))
			if _, err := h.Run(context.Background(), "true"); !errors.Is(err, hosts.ErrGone) {
				t.Errorf("%s still answers after UseT's cleanup: %v", n, err)
			}
		}
	})
}

// A failing Setup tears down what was set up and checks everything in.
func TestUseSetupFailure(t *testing.T) {
	e := testenv.Need(t, "docker")
	b := engineBroker(t, e)
	_, err := b.Use(t.Context(), broker.UseOptions{
		CheckoutOptions: broker.CheckoutOptions{ArgsRequest: broker.ArgsRequest{Args: broker.Args{"container_host": testenv.BusyboxImage}}},
		Custom:          func(h *broker.Host) broker.Custom { return failingSetup{} },
	})
	if err == nil || !errors.Is(err, errSetup) {
		t.Fatalf("want the setup error, got %v", err)
	}
	if recs, _ := b.Inventory(t.Context(), ""); len(recs) != 0 {
		t.Fatalf("%d records left after a failed setup, want 0", len(recs))
	}
}

var errSetup = errors.New("setup refused")

type failingSetup struct{}

func (failingSetup) Setup(context.Context) error    { return errSetup }
func (failingSetup) Teardown(context.Context) error { return nil }

func inventoryRecord(name string) inventory.Record {
	return inventory.Record{Host: inventory.Host{"name": name, "_broker_provider": "Container"}}
}
