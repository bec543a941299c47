package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// Host is a checked-out host to run commands on and copy files to and from.
// Its session (the engine's exec API for containers, SSH otherwise) is
// opened on first use, reused by every call, and closed by Close.
type Host struct {
	Record inventory.Record

	b    *Broker
	mu   sync.Mutex
	sess hosts.Session
	prov providers.Provider
}

// Connection values: how a host is reached. A host record (or its checkout
// arguments) may ask for one with "connection"; the default is the
// provider's own session when it has one (containers), else SSH.
const (
	ConnectionAuto = ""
	ConnectionSSH  = "ssh"
	ConnectionExec = "exec"
)

// Host wraps an inventory record.
func (b *Broker) Host(rec inventory.Record) *Host { return &Host{Record: rec, b: b} }

// Hosts returns the selected records as Hosts (and the identifiers that
// matched nothing).
func (b *Broker) Hosts(ctx context.Context, sel Selection) ([]*Host, []string, error) {
	recs, notFound, err := b.Select(ctx, sel)
	if err != nil {
		return nil, notFound, err
	}
	out := make([]*Host, len(recs))
	for i, r := range recs {
		out[i] = b.Host(r)
	}
	return out, notFound, nil
}

// Hostname and Name are the record's.
func (h *Host) Hostname() string { return h.Record.Host.Hostname() }
func (h *Host) Name() string     { return h.Record.Host.Name() }

// Label names the host to a person: its name, else its hostname.
func (h *Host) Label() string {
	if n := h.Name(); n != "" {
		return n
	}
	return h.Record.Host.Label()
}

// Connection is how the host is reached: the record's "connection" field, or
// its checkout arguments' one, else ConnectionAuto.
func (h *Host) Connection() string {
	if c, ok := h.Record.Host["connection"].(string); ok {
		return c
	}
	if c, ok := h.Record.Host.Args()["connection"].(string); ok {
		return c
	}
	return ConnectionAuto
}

func (h *Host) session(ctx context.Context) (hosts.Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sess != nil {
		return h.sess, nil
	}
	conn := h.Connection()
	switch conn {
	case ConnectionAuto, ConnectionSSH, ConnectionExec:
	default:
		return nil, &hosts.Error{Host: h.Label(), Op: "connect", Err: fmt.Errorf("unknown connection %q", conn), Hint: "use ssh or exec"}
	}
	// Hosts of providers this broker does not know (a VM imported from
	// upstream) are reached over SSH.
	if _, known := h.b.reg.Lookup(h.Record.Host.Provider()); conn != ConnectionSSH && known {
		p, _, err := h.b.provider(ctx, h.Record.Host.Provider(), h.Record.Host.Instance())
		if err != nil {
			return nil, &hosts.Error{Host: h.Label(), Op: "connect", Err: err}
		}
		if sp, ok := p.(providers.Sessioner); ok {
			s, err := sp.Session(ctx, h.Record.Host)
			if err != nil {
				p.Close()
				return nil, err
			}
			h.sess, h.prov = s, p
			return s, nil
		}
		p.Close()
		if conn == ConnectionExec {
			return nil, &hosts.Error{Host: h.Label(), Op: "connect", Err: fmt.Errorf("%s hosts have no exec session", h.Record.Host.Provider()), Hint: "use connection ssh"}
		}
	}
	cfg := hosts.SSHConfigFrom(h.b.set.SSH(), h.Record.Host)
	cfg.Label = h.Label()
	cfg.Logger = h.b.log
	s, err := hosts.DialSSH(ctx, cfg)
	if err != nil {
		return nil, err
	}
	h.sess = s
	return s, nil
}

// Run runs a shell command on the host and returns its status and output.
// A command that exits non-zero is not an error (see Result.Status).
func (h *Host) Run(ctx context.Context, command string) (hosts.Result, error) {
	return h.RunWith(ctx, command, hosts.RunOptions{})
}

// RunWith is Run with streaming writers and standard input.
func (h *Host) RunWith(ctx context.Context, command string, opts hosts.RunOptions) (hosts.Result, error) {
	s, err := h.session(ctx)
	if err != nil {
		return hosts.Result{Status: -1}, err
	}
	return s.Run(ctx, command, opts)
}

// Put copies a local file or directory to the host.
func (h *Host) Put(ctx context.Context, local, remote string) error {
	s, err := h.session(ctx)
	if err != nil {
		return err
	}
	return s.Put(ctx, local, remote)
}

// Get copies a file or directory from the host.
func (h *Host) Get(ctx context.Context, remote, local string) error {
	s, err := h.session(ctx)
	if err != nil {
		return err
	}
	return s.Get(ctx, remote, local)
}

// Close ends the host's session (a later call opens a new one).
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.sess != nil {
		errs = append(errs, h.sess.Close())
		h.sess = nil
	}
	if h.prov != nil {
		errs = append(errs, h.prov.Close())
		h.prov = nil
	}
	return errors.Join(errs...)
}

// Custom is a host's own behaviour (upstream's custom host classes):
// Setup runs after checkout, Teardown before checkin.
type Custom interface {
	Setup(ctx context.Context) error
	Teardown(ctx context.Context) error
}

// UseOptions describe hosts to check out for a while (a test, a job).
type UseOptions struct {
	CheckoutOptions
	// Custom, when set, gives each host its custom behaviour.
	Custom func(*Host) Custom
}

// Lease is hosts checked out by Use, to be given back with Release.
type Lease struct {
	Hosts  []*Host
	b      *Broker
	custom []Custom
}

// Use checks hosts out and runs each one's Setup. If a checkout or a Setup
// fails, the hosts already set up are torn down, every host made is checked
// back in, and the error is returned.
func (b *Broker) Use(ctx context.Context, opts UseOptions) (*Lease, error) {
	res, err := b.Checkout(ctx, opts.CheckoutOptions)
	if err != nil {
		return nil, err
	}
	l := &Lease{b: b}
	for _, r := range res.Records {
		l.Hosts = append(l.Hosts, b.Host(r))
	}
	if opts.Custom != nil {
		for _, h := range l.Hosts {
			c := opts.Custom(h)
			if err := c.Setup(ctx); err != nil {
				rerr := l.Release(context.WithoutCancel(ctx))
				return nil, errors.Join(&hosts.Error{Host: h.Label(), Op: "setup", Err: err}, rerr)
			}
			l.custom = append(l.custom, c)
		}
	}
	return l, nil
}

// Release runs each Teardown, closes the sessions and checks every host in
// (even when a Teardown failed); it returns every error met.
func (l *Lease) Release(ctx context.Context) error {
	var errs []error
	for i := len(l.custom) - 1; i >= 0; i-- {
		if err := l.custom[i].Teardown(ctx); err != nil {
			errs = append(errs, &hosts.Error{Host: l.Hosts[i].Label(), Op: "teardown", Err: err})
		}
	}
	l.custom = nil
	recs := make([]inventory.Record, len(l.Hosts))
	for i, h := range l.Hosts {
		h.Close()
		recs[i] = h.Record
	}
	if len(recs) > 0 {
		if _, err := l.b.Checkin(ctx, CheckinOptions{Records: recs}); err != nil {
			errs = append(errs, err)
		}
	}
	l.Hosts = nil
	return errors.Join(errs...)
}

// TB is the part of *testing.T that UseT needs.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Context() context.Context
}

// UseT checks hosts out for a Go test and registers their release (teardown
// and checkin) with t.Cleanup; it fails the test if the checkout fails.
func (b *Broker) UseT(t TB, opts UseOptions) []*Host {
	t.Helper()
	l, err := b.Use(t.Context(), opts)
	if err != nil {
		t.Fatalf("broker: check out %s: %v", describe(opts.Args, opts.Nick), err)
	}
	t.Cleanup(func() {
		// t.Context is cancelled before Cleanup runs: release with a fresh one.
		if err := l.Release(context.WithoutCancel(t.Context())); err != nil {
			t.Fatalf("broker: release: %v", err)
		}
	})
	return l.Hosts
}

func describe(args Args, nick string) string {
	if nick != "" {
		return "nick " + nick
	}
	var parts []string
	for _, k := range sortedKeys(args) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
	}
	return strings.Join(parts, " ")
}
