package container

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// uniqueUser is a user name no other test shares, so that List sees only
// this test's containers.
func uniqueUser(t testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "bt" + hex.EncodeToString(b[:])
}

// testProvider is a provider on engine e (runtime and host set), instance
// "test", for a user of its own. cfg adds settings.
func testProvider(t testing.TB, e testenv.Engine, cfg map[string]any) *Provider {
	t.Helper()
	c := map[string]any{"runtime": e.Runtime, "host": e.Host}
	for k, v := range cfg {
		c[k] = v
	}
	return newTestProvider(t, providers.Spec{Instance: "test", Config: c, User: uniqueUser(t)})
}

func newTestProvider(t testing.TB, spec providers.Spec) *Provider {
	t.Helper()
	if spec.Logger == nil {
		spec.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := newProvider(spec)
	if err != nil {
		t.Fatalf("newProvider: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mustEngine is p's connected engine.
func mustEngine(t testing.TB, p *Provider) engine {
	t.Helper()
	eng, err := p.engine(t.Context())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return eng
}

// removeLater removes a container (by ID or name) when the test ends.
func removeLater(t testing.TB, p *Provider, ref string) {
	t.Cleanup(func() {
		eng, err := p.engine(context.Background())
		if err != nil {
			t.Logf("cleanup %s: %v", ref, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := eng.Remove(ctx, ref); err != nil && !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("cleanup %s: %v", ref, err)
		}
	})
}

// checkout checks a host out and registers its removal at once.
func checkout(t testing.TB, p *Provider, args providers.Args) inventory.Host {
	t.Helper()
	h, err := p.Checkout(t.Context(), args)
	if h != nil {
		if id, _ := h["container_id"].(string); id != "" {
			removeLater(t, p, id)
		}
	}
	if err != nil {
		t.Fatalf("Checkout(%v): %v", args, err)
	}
	return h
}

// execIn runs cmd in the container and returns its stdout, stderr and exit
// status.
func execIn(t testing.TB, p *Provider, id string, cmd ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code, err := mustEngine(t, p).Exec(t.Context(), id, cmd, nil, &out, &errb)
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, shortID(id), err)
	}
	return out.String(), errb.String(), code
}

// engineCLI runs the engine's own command-line client (docker -H or
// podman --url) for checks independent of this package's code.
func engineCLI(t testing.TB, e testenv.Engine, args ...string) string {
	t.Helper()
	var full []string
	switch e.Runtime {
	case "docker":
		full = append([]string{"-H", e.Host}, args...)
	case "podman":
		full = append([]string{"--url", e.Host}, args...)
	}
	out, err := exec.CommandContext(t.Context(), e.Runtime, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", e.Runtime, strings.Join(full, " "), err, out)
	}
	return string(out)
}

// wantUserError checks that err is a *providers.UserError whose message
// holds every one of parts.
func wantUserError(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a UserError, got nil")
	}
	var ue *providers.UserError
	if !errors.As(err, &ue) {
		t.Fatalf("want a *providers.UserError, got %T: %v", err, err)
	}
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// gone checks that no container named ref exists on p's engine.
func gone(t testing.TB, p *Provider, ref string) {
	t.Helper()
	_, err := mustEngine(t, p).Inspect(t.Context(), ref)
	if !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("container %s: want it gone (ErrNotFound), got %v", ref, err)
	}
}
