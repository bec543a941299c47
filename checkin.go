package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// CheckinOptions describe a checkin: the hosts of Selection, or Records when
// given (as returned by Checkout).
type CheckinOptions struct {
	Selection
	Records    []inventory.Record
	Sequential bool
}

// Outcome is what happened to one host of a batch.
type Outcome struct {
	Record      inventory.Record
	Err         error
	AlreadyGone bool // checkin: the provider no longer had the host
}

// BatchResult is the outcome of a batch action (checkin, extend).
type BatchResult struct {
	Action   string
	Outcomes []Outcome
	NotFound []string // identifiers that matched no record
}

// Err is a *BatchError naming every host that failed, or nil.
func (r *BatchResult) Err() error {
	be := &BatchError{Action: r.Action, Total: len(r.Outcomes)}
	for _, o := range r.Outcomes {
		if o.Err != nil {
			be.Failed = append(be.Failed, &HostError{Host: o.Record.Host, Err: o.Err})
		}
	}
	if len(be.Failed) == 0 {
		return nil
	}
	return be
}

// Checkin releases the selected hosts, concurrently unless Sequential. A
// record leaves the inventory only once its host is gone (or was already
// gone). When some hosts fail the others are still checked in; the returned
// error is then a *BatchError naming each failure.
func (b *Broker) Checkin(ctx context.Context, opts CheckinOptions) (*BatchResult, error) {
	res := &BatchResult{Action: "checkin"}
	recs := opts.Records
	if recs == nil {
		var err error
		if recs, res.NotFound, err = b.Select(ctx, opts.Selection); err != nil {
			return res, err
		}
	}
	if len(recs) == 0 {
		if len(res.NotFound) > 0 {
			return res, providers.UserErrorf("no host in the inventory matches %v; see broker inventory", res.NotFound)
		}
		return res, nil
	}
	b.batch(ctx, res, recs, opts.Sequential, nil, func(ctx context.Context, p providers.Provider, o *Outcome) {
		h := o.Record.Host
		b.log.Info("checking in", append([]any{"host", h.Label()}, provAttrs(p)...)...)
		err := p.Checkin(ctx, h)
		if errors.Is(err, providers.ErrNotFound) {
			b.log.Warn("host was already gone from its provider; dropping its record", "host", h.Label())
			o.AlreadyGone, err = true, nil
		}
		if err != nil {
			o.Err = err
			return
		}
		if _, err := b.inv.Remove(context.WithoutCancel(ctx), o.Record.Key); err != nil {
			o.Err = fmt.Errorf("checked in, but its record could not be removed from %s: %w", b.inv.Path(), err)
		}
	})
	return res, res.Err()
}

// ExtendOptions describe an extend of the selected hosts' leases.
type ExtendOptions struct {
	Selection
	Args       Args // provider extend options (new_expire_time, ...)
	Sequential bool
}

// Extend extends the leases of the selected hosts. A provider whose hosts
// have no lease (Container) makes it fail before anything is done, with an
// error matching providers.ErrUnsupported.
func (b *Broker) Extend(ctx context.Context, opts ExtendOptions) (*BatchResult, error) {
	res := &BatchResult{Action: "extend"}
	recs, notFound, err := b.Select(ctx, opts.Selection)
	res.NotFound = notFound
	if err != nil {
		return res, err
	}
	if len(recs) == 0 {
		if len(notFound) > 0 {
			return res, providers.UserErrorf("no host in the inventory matches %v; see broker inventory", notFound)
		}
		return res, nil
	}
	check := func(p providers.Provider) error {
		if _, ok := p.(providers.Extender); !ok {
			return &providers.UnsupportedError{Provider: p.Name(), Action: "extend",
				Hint: "its hosts have no lease to extend; they stay until you check them in"}
		}
		return nil
	}
	if err := b.batch(ctx, res, recs, opts.Sequential, check, func(ctx context.Context, p providers.Provider, o *Outcome) {
		b.log.Info("extending", "host", o.Record.Host.Label())
		o.Err = p.(providers.Extender).Extend(ctx, o.Record.Host, copyArgs(opts.Args))
	}); err != nil {
		res.Outcomes = nil // nothing ran
		return res, err
	}
	return res, res.Err()
}

type group struct {
	provider, instance string
	idx                []int
}

// batch runs do for each record, grouped by provider instance, concurrently
// (bounded) unless sequential. check, when given, vets every group's provider
// before anything runs; its error aborts the batch.
func (b *Broker) batch(ctx context.Context, res *BatchResult, recs []inventory.Record, sequential bool,
	check func(providers.Provider) error, do func(context.Context, providers.Provider, *Outcome)) error {
	res.Outcomes = make([]Outcome, len(recs))
	var groups []*group
	byKey := map[string]*group{}
	// Reverse order: the last host made is the first released, as upstream.
	for i := len(recs) - 1; i >= 0; i-- {
		res.Outcomes[i].Record = recs[i]
		h := recs[i].Host
		k := h.Provider() + "\x00" + h.Instance()
		g := byKey[k]
		if g == nil {
			g = &group{provider: h.Provider(), instance: h.Instance()}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	provs := make([]providers.Provider, len(groups))
	defer func() {
		for _, p := range provs {
			if p != nil {
				p.Close()
			}
		}
	}()
	for gi, g := range groups {
		if g.provider == "" {
			for _, i := range g.idx {
				res.Outcomes[i].Err = providers.UserErrorf("the record has no _broker_provider; remove it or fix it with broker inventory --sync")
			}
			continue
		}
		p, _, err := b.provider(ctx, g.provider, g.instance)
		if err != nil {
			for _, i := range g.idx {
				res.Outcomes[i].Err = err
			}
			continue
		}
		provs[gi] = p
		if check != nil {
			if err := check(p); err != nil {
				return err
			}
		}
	}
	for gi, g := range groups {
		p := provs[gi]
		if p == nil {
			continue
		}
		sem := make(chan struct{}, b.limit(p, len(g.idx), sequential))
		var wg sync.WaitGroup
		for _, i := range g.idx {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				do(ctx, p, &res.Outcomes[i])
			}()
		}
		wg.Wait()
	}
	return nil
}
