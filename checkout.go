package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/settings"
)

// CheckoutOptions describe a checkout.
type CheckoutOptions struct {
	ArgsRequest
	// Count is how many hosts to check out at once (0 = the _count argument,
	// else 1). They are made concurrently, bounded by thread_limit.
	Count int
	// Labels are provider labels (-l k=v,...), added to the settings' ones.
	Labels map[string]string
}

// CheckoutResult is what a checkout made.
type CheckoutResult struct {
	Provider string
	Instance string
	Action   string // the action key that chose the provider ("container_host")
	Args     Args   // the arguments the provider received
	Records  []inventory.Record
}

// Hosts are the records of the hosts made, in completion order.
func (r *CheckoutResult) Hosts() []inventory.Host {
	out := make([]inventory.Host, len(r.Records))
	for i, rec := range r.Records {
		out[i] = rec.Host
	}
	return out
}

// rollbackTimeout bounds the clean-up of a failed or cancelled checkout.
const rollbackTimeout = 2 * time.Minute

// Checkout checks hosts out and records each in the inventory as soon as the
// provider has made it. If any host fails, or ctx is cancelled (Ctrl-C), the
// hosts this call already made are checked back in and their records
// removed, and the error is returned: a checkout makes all its hosts or none.
func (b *Broker) Checkout(ctx context.Context, opts CheckoutOptions) (*CheckoutResult, error) {
	args, err := b.ResolveArgs(opts.ArgsRequest)
	if err != nil {
		return nil, err
	}
	count := opts.Count
	if count < 0 {
		return nil, providers.UserErrorf("count must be at least 1, got %d", count)
	}
	if c, ok := args["_count"]; ok && count == 0 {
		n, err := strconv.Atoi(fmt.Sprint(c))
		if err != nil {
			return nil, providers.UserErrorf("_count must be a whole number, got %q", fmt.Sprint(c))
		}
		count = n
	}
	delete(args, "_count")
	if count == 0 {
		count = 1
	}
	if count < 1 {
		return nil, providers.UserErrorf("count must be at least 1, got %d", count)
	}
	ri, key, err := b.reg.ForAction(args, false)
	if err != nil {
		return nil, err
	}
	instance, err := takeInstance(args, ri.Name)
	if err != nil {
		return nil, err
	}
	return b.checkout(ctx, ri.Name, instance, key, args, opts.Labels, count)
}

// takeInstance removes the "--<Provider> NAME" argument and returns NAME.
func takeInstance(args Args, provider string) (string, error) {
	v, ok := args[provider]
	if !ok {
		return "", nil
	}
	delete(args, provider)
	s, ok := v.(string)
	if !ok || s == "" {
		return "", providers.UserErrorf("--%s wants an instance name", provider)
	}
	return s, nil
}

func (b *Broker) checkout(ctx context.Context, provider, instance, key string, args Args, labels map[string]string, count int) (*CheckoutResult, error) {
	p, _, err := b.provider(ctx, provider, instance)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if _, ok := args["_broker_origin"]; !ok {
		args["_broker_origin"] = b.origin
	}
	if l := b.labels(labels); len(l) > 0 {
		args["provider_labels"] = l
	}
	log := b.log.With(provAttrs(p)...)
	log.Info("checking out", "action", key, "value", args[key], "count", count)

	res := &CheckoutResult{Provider: provider, Instance: p.Instance(), Action: key, Args: args}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.limit(p, count, false))
	for i := 0; i < count; i++ {
		g.Go(func() error {
			start := time.Now()
			h, err := p.Checkout(gctx, copyArgs(args))
			if err != nil {
				return &providers.Error{Provider: provider, Instance: p.Instance(), Action: "checkout", Err: err}
			}
			h[inventory.FieldProvider] = provider
			h[inventory.FieldInstance] = p.Instance()
			if pa, ok := h[inventory.FieldArgs].(map[string]any); ok {
				// the provider's own account of the arguments (AnsibleTower:
				// the workflow's _broker_args artifact) wins, as upstream
				h[inventory.FieldArgs] = recordArgs(pa)
			} else {
				h[inventory.FieldArgs] = recordArgs(args)
			}
			// Record at once (even if ctx was just cancelled), so that the
			// rollback below and a later run both know about the host.
			recs, err := b.inv.Add(context.WithoutCancel(ctx), h)
			if err != nil {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
				defer cancel()
				if cerr := p.Checkin(cctx, h); cerr != nil && !errors.Is(cerr, providers.ErrNotFound) {
					return fmt.Errorf("record %s in the inventory: %w; checking it back in failed too (%v): run broker inventory --sync %s to recover it", h.Label(), err, cerr, provider)
				}
				return fmt.Errorf("record %s in the inventory: %w (the host was checked back in)", h.Label(), err)
			}
			log.Info("checked out", "host", h.Label(), "name", h.Name(), "seconds", time.Since(start).Seconds())
			mu.Lock()
			res.Records = append(res.Records, recs...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.rollback(ctx, p, res.Records)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("checkout interrupted; the %d host(s) it had made were checked back in: %w", len(res.Records), context.Cause(ctx))
		}
		if len(res.Records) > 0 {
			return nil, fmt.Errorf("%w (the %d host(s) this checkout had made were checked back in)", err, len(res.Records))
		}
		return nil, err
	}
	return res, nil
}

// rollback checks in hosts made by a checkout that is failing, and removes
// their records once they are gone. What cannot be checked in stays in the
// inventory (and is logged), so nothing is lost.
func (b *Broker) rollback(ctx context.Context, p providers.Provider, recs []inventory.Record) {
	if len(recs) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Checkin(cctx, r.Host)
			if err != nil && !errors.Is(err, providers.ErrNotFound) {
				b.log.Error("could not check in a host of a failed checkout; it stays in the inventory", "host", r.Host.Label(), "error", err)
				return
			}
			if _, err := b.inv.Remove(cctx, r.Key); err != nil {
				b.log.Error("host checked in but its record could not be removed", "host", r.Host.Label(), "error", err)
			}
		}()
	}
	wg.Wait()
}

// labels merges the settings' provider_labels with the caller's.
func (b *Broker) labels(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range b.set.ProviderLabels() {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func copyArgs(a Args) Args {
	out := make(Args, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}

// recordArgs is the copy of the arguments kept in the record's
// _broker_args: without _count, and with secrets (tokens, passwords)
// redacted, since the inventory is a plain file.
func recordArgs(a Args) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		if k == "_count" {
			continue
		}
		out[k] = v
	}
	red, _ := settings.Redact(out).(map[string]any)
	return red
}

// DuplicateOptions describe a duplicate: new checkouts with the same
// arguments as the selected hosts.
type DuplicateOptions struct {
	Selection
	Count int // copies of each selected host (0 = 1)
}

// Duplicate checks out, for each selected record, Count new hosts with the
// record's _broker_args on the record's provider instance.
func (b *Broker) Duplicate(ctx context.Context, opts DuplicateOptions) ([]*CheckoutResult, []string, error) {
	count := opts.Count
	if count == 0 {
		count = 1
	}
	if count < 1 {
		return nil, nil, providers.UserErrorf("count must be at least 1, got %d", count)
	}
	recs, notFound, err := b.Select(ctx, opts.Selection)
	if err != nil {
		return nil, notFound, err
	}
	if len(recs) == 0 {
		return nil, notFound, fmt.Errorf("%w: nothing to duplicate", ErrNothingSelected)
	}
	var out []*CheckoutResult
	for _, r := range recs {
		args := copyArgs(r.Host.Args())
		if len(args) == 0 {
			return out, notFound, providers.UserErrorf("%s has no _broker_args to duplicate it from", r.Host.Label())
		}
		delete(args, "_broker_origin")
		ri, ok := b.reg.Lookup(r.Host.Provider())
		if !ok {
			return out, notFound, providers.UserErrorf("%s comes from provider %q, which this broker does not know", r.Host.Label(), r.Host.Provider())
		}
		key := ""
		for _, k := range ri.CheckoutKeys {
			if _, ok := args[k]; ok {
				key = k
				break
			}
		}
		res, err := b.checkout(ctx, ri.Name, r.Host.Instance(), key, args, nil, count)
		if err != nil {
			return out, notFound, err
		}
		out = append(out, res)
	}
	return out, notFound, nil
}
