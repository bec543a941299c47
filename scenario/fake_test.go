package scenario

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// fakeBroker is an in-memory Broker: the package's own boundary, faked here;
// real-engine tests run through the root package.
type fakeBroker struct {
	mu           sync.Mutex
	next         int
	inventory    []*fakeHost
	calls        []string
	failCheckout bool
}

type fakeHost struct {
	rec   map[string]any
	mu    sync.Mutex
	files map[string]string
	cmds  []string
}

func (h *fakeHost) Record() map[string]any { return h.rec }

func (h *fakeHost) Run(ctx context.Context, cmd string) (Result, error) {
	h.mu.Lock()
	h.cmds = append(h.cmds, cmd)
	h.mu.Unlock()
	switch {
	case strings.HasPrefix(cmd, "echo "):
		return Result{Stdout: strings.TrimPrefix(cmd, "echo ") + "\n"}, nil
	case cmd == "hostname":
		return Result{Stdout: h.rec["hostname"].(string) + "\n"}, nil
	case cmd == "false":
		return Result{Status: 1}, nil
	case cmd == "boom":
		return Result{}, fmt.Errorf("connection lost")
	}
	return Result{Status: 127, Stderr: "command not found: " + cmd}, nil
}

func (h *fakeHost) Put(ctx context.Context, local, remote string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.files == nil {
		h.files = map[string]string{}
	}
	h.files[remote] = "from:" + local
	return nil
}

func (h *fakeHost) Get(ctx context.Context, remote, local string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.files[remote]; !ok {
		return fmt.Errorf("%s: no such file", remote)
	}
	return nil
}

func (b *fakeBroker) log(format string, a ...any) {
	b.calls = append(b.calls, fmt.Sprintf(format, a...))
}

func (b *fakeBroker) Checkout(ctx context.Context, args map[string]any) ([]Host, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failCheckout {
		return nil, fmt.Errorf("no capacity")
	}
	n := 1
	if c, ok := args["_count"]; ok {
		n = toInt(c)
	}
	b.log("checkout %v origin=%v n=%d", args["container_host"], args["_broker_origin"], n)
	var out []Host
	for range n {
		b.next++
		h := &fakeHost{rec: map[string]any{
			"hostname": fmt.Sprintf("host%d.example.com", b.next), "name": fmt.Sprintf("c%d", b.next),
			"image": args["container_host"], "_broker_provider": "Container",
		}}
		b.inventory = append(b.inventory, h)
		out = append(out, h)
	}
	return out, nil
}

func (b *fakeBroker) Checkin(ctx context.Context, hosts []Host) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for _, h := range hosts {
		names = append(names, hostName(h))
		for i, x := range b.inventory {
			if Host(x) == h {
				b.inventory = append(b.inventory[:i], b.inventory[i+1:]...)
				break
			}
		}
	}
	b.log("checkin %s", strings.Join(names, ","))
	return nil
}

func (b *fakeBroker) Execute(ctx context.Context, args map[string]any) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log("execute %v", args["workflow"])
	return map[string]any{"status": "successful", "workflow": args["workflow"]}, nil
}

func (b *fakeBroker) ProviderInfo(ctx context.Context, provider string, args map[string]any) (any, error) {
	if provider != "Container" {
		return nil, fmt.Errorf("unknown provider %q (available: Container)", provider)
	}
	return []any{"ubi8:latest", "debian:12"}, nil
}

func (b *fakeBroker) Inventory(ctx context.Context, filter, sync string) ([]map[string]any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, h := range b.inventory {
		out = append(out, h.rec)
	}
	return out, nil
}

func (b *fakeBroker) InventoryHosts(ctx context.Context, filter string) ([]Host, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Host
	for _, h := range b.inventory {
		out = append(out, h)
	}
	return out, nil
}
