package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/settings"
)

// testProvider is an in-memory provider for the library's own bookkeeping
// (all-or-nothing checkouts, partial checkins, record stamping); the
// Container provider is tested on real engines in providers/container and
// through the binary.
type testProvider struct {
	mu          sync.Mutex
	calls       int
	live        map[string]bool
	failOn      int // the checkout call (1-based) that fails; 0 = none
	failCheckin map[string]bool
	block       chan struct{} // when set, checkouts after the first wait on ctx
}

func (p *testProvider) Name() string     { return "Test" }
func (p *testProvider) Instance() string { return "" }
func (p *testProvider) Close() error     { return nil }

func (p *testProvider) Checkout(ctx context.Context, args providers.Args) (inventory.Host, error) {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	if n == p.failOn {
		return nil, providers.UserErrorf("checkout %d refused", n)
	}
	if p.block != nil && n > 1 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	name := fmt.Sprintf("h%d", n)
	p.mu.Lock()
	p.live[name] = true
	p.mu.Unlock()
	if p.block != nil {
		close(p.block)
	}
	h := inventory.Host{"hostname": name + ".example.com", "name": name}
	if _, ok := args["provider_args"]; ok {
		h["_broker_args"] = map[string]any{"from": "provider", "token": "t"}
	}
	return h, nil
}

func (p *testProvider) Checkin(ctx context.Context, h inventory.Host) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failCheckin[h.Name()] {
		return errors.New("release refused")
	}
	if !p.live[h.Name()] {
		return fmt.Errorf("%s: %w", h.Name(), providers.ErrNotFound)
	}
	delete(p.live, h.Name())
	return nil
}

func (p *testProvider) List(context.Context, string) ([]inventory.Host, error) { return nil, nil }

func (p *testProvider) liveCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.live)
}

func newTestProvider() (*testProvider, *providers.Registry) {
	tp := &testProvider{live: map[string]bool{}, failCheckin: map[string]bool{}}
	reg := providers.NewRegistry()
	reg.Register(&providers.RegInfo{Name: "Test", CheckoutKeys: []string{"test_action"},
		New: func(context.Context, providers.Spec) (providers.Provider, error) { return tp, nil }})
	return tp, reg
}

func newTestBroker(t *testing.T, dir string, reg *providers.Registry) *Broker {
	t.Helper()
	b, err := New(Options{Dir: dir, Registry: reg, Environ: []string{}, User: "tester", Origin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testBroker(t *testing.T) (*Broker, *testProvider) {
	dir := t.TempDir()
	writeFile(t, dir, "broker_settings.yaml", "thread_limit: 1\nTest: {}\nContainer: {}\n")
	tp, reg := newTestProvider()
	return newTestBroker(t, dir, reg), tp
}

func records(t *testing.T, b *Broker) []inventory.Record {
	t.Helper()
	recs, err := b.Inventory(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestCheckoutRecordsHosts(t *testing.T) {
	b, tp := testBroker(t)
	res, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x", "_count": "3", "password": "hunter2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 3 || tp.liveCount() != 3 {
		t.Fatalf("made %d records, %d live hosts; want 3 and 3", len(res.Records), tp.liveCount())
	}
	recs := records(t, b)
	if len(recs) != 3 {
		t.Fatalf("inventory holds %d records, want 3", len(recs))
	}
	h := recs[0].Host
	if h.Provider() != "Test" || h.Args()["test_action"] != "x" || h.Args()["_broker_origin"] != "test" {
		t.Fatalf("record not stamped: %v", h)
	}
	if got := h.Args()["password"]; got != settings.Redacted {
		t.Fatalf("a password reached the inventory: _broker_args.password = %v", got)
	}
	if _, ok := h.Args()["_count"]; ok {
		t.Fatalf("_count must not be recorded in _broker_args: %v", h.Args())
	}
}

func TestCheckoutAllOrNothing(t *testing.T) {
	b, tp := testBroker(t)
	tp.failOn = 3
	_, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}, Count: 5})
	var ue *providers.UserError
	if !errors.As(err, &ue) {
		t.Fatalf("want the provider's UserError, got %v", err)
	}
	if n := tp.liveCount(); n != 0 {
		t.Fatalf("%d hosts left on the provider after a failed checkout, want 0", n)
	}
	if recs := records(t, b); len(recs) != 0 {
		t.Fatalf("%d records left after a failed checkout, want 0", len(recs))
	}
}

func TestCheckoutCancelRollsBack(t *testing.T) {
	b, tp := testBroker(t)
	b.set = mustSettings(t, b, "thread_limit: 4\nTest: {}\n")
	tp.block = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-tp.block; cancel() }()
	_, err := b.Checkout(ctx, CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}, Count: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if n := tp.liveCount(); n != 0 {
		t.Fatalf("%d hosts left after an interrupted checkout, want 0", n)
	}
	if recs := records(t, b); len(recs) != 0 {
		t.Fatalf("%d records left after an interrupted checkout, want 0", len(recs))
	}
}

func TestCheckinPartialFailure(t *testing.T) {
	b, tp := testBroker(t)
	if _, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}, Count: 3}); err != nil {
		t.Fatal(err)
	}
	tp.failCheckin["h2"] = true
	res, err := b.Checkin(context.Background(), CheckinOptions{Selection: Selection{All: true}})
	var be *BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0].Host.Name() != "h2" {
		t.Fatalf("want a BatchError naming h2, got %v", err)
	}
	if len(res.Outcomes) != 3 {
		t.Fatalf("%d outcomes, want 3", len(res.Outcomes))
	}
	recs := records(t, b)
	if len(recs) != 1 || recs[0].Host.Name() != "h2" {
		t.Fatalf("inventory after a partial checkin = %v, want only h2", recs)
	}
}

func TestCheckinAlreadyGoneDropsRecord(t *testing.T) {
	b, tp := testBroker(t)
	if _, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}}); err != nil {
		t.Fatal(err)
	}
	tp.mu.Lock()
	tp.live = map[string]bool{} // gone behind broker's back
	tp.mu.Unlock()
	res, err := b.Checkin(context.Background(), CheckinOptions{Selection: Selection{Hosts: []string{"h1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Outcomes[0].AlreadyGone {
		t.Fatal("outcome should say the host was already gone")
	}
	if recs := records(t, b); len(recs) != 0 {
		t.Fatalf("record of a gone host kept: %v", recs)
	}
}

func TestSelect(t *testing.T) {
	b, _ := testBroker(t)
	if _, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}, Count: 3}); err != nil {
		t.Fatal(err)
	}
	// ids are positions in the filtered list; an identifier is used once
	recs, notFound, err := b.Select(context.Background(), Selection{Hosts: []string{"0", "h3", "nope"}, Filter: `@inv.name != "h1"`})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(notFound) != 1 || notFound[0] != "nope" {
		t.Fatalf("Select = %d records, notFound %v; want 2 and [nope]", len(recs), notFound)
	}
	got := map[string]bool{recs[0].Host.Name(): true, recs[1].Host.Name(): true}
	if !got["h2"] || !got["h3"] {
		t.Fatalf("selected %v, want h2 and h3", got)
	}
	var ue *providers.UserError
	if _, _, err := b.Select(context.Background(), Selection{Filter: `@inv.name == "h1"`}); !errors.As(err, &ue) {
		t.Fatalf("filter without --all: want a UserError, got %v", err)
	}
	if _, _, err := b.Select(context.Background(), Selection{All: true, Filter: `@inv.name ==`}); !errors.As(err, &ue) {
		t.Fatalf("bad filter: want a UserError, got %v", err)
	}
}

func TestExtendUnsupported(t *testing.T) {
	b, tp := testBroker(t)
	if _, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := b.Extend(context.Background(), ExtendOptions{Selection: Selection{All: true}})
	if !errors.Is(err, providers.ErrUnsupported) {
		t.Fatalf("want ErrUnsupported, got %v", err)
	}
	if len(res.Outcomes) != 0 || tp.liveCount() != 1 {
		t.Fatalf("extend of an unsupported provider did something: %v", res.Outcomes)
	}
}

func TestParseSyncSpec(t *testing.T) {
	cases := map[string][3]string{
		"Container":            {"Container", "", ""},
		"Container:me":         {"Container", "me", ""},
		"Container::docker":    {"Container", "", "docker"},
		"AnsibleTower:@ll::p1": {"AnsibleTower", "@ll", "p1"},
	}
	for in, want := range cases {
		p, a, i, err := ParseSyncSpec(in)
		if err != nil || [3]string{p, a, i} != want {
			t.Errorf("ParseSyncSpec(%q) = %q %q %q %v, want %v", in, p, a, i, err, want)
		}
	}
	for _, bad := range []string{"", ":x", "A::", "A::b:c"} {
		if _, _, _, err := ParseSyncSpec(bad); err == nil {
			t.Errorf("ParseSyncSpec(%q): want an error", bad)
		}
	}
}

func mustSettings(t *testing.T, b *Broker, content string) *settings.Settings {
	t.Helper()
	writeFile(t, b.set.Dir, "broker_settings.yaml", content)
	s, err := LoadSettings(Options{Dir: b.set.Dir, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A provider's own _broker_args (AnsibleTower's artifacts) are what the record
// keeps, redacted like any other.
func TestCheckoutKeepsProviderArgs(t *testing.T) {
	b, _ := testBroker(t)
	if _, err := b.Checkout(context.Background(), CheckoutOptions{ArgsRequest: ArgsRequest{Args: Args{"test_action": "x", "provider_args": "1"}}}); err != nil {
		t.Fatal(err)
	}
	args := records(t, b)[0].Host.Args()
	if args["from"] != "provider" || args["test_action"] != nil || args["token"] != settings.Redacted {
		t.Fatalf("_broker_args = %v, want the provider's, redacted", args)
	}
}
