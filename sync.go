package broker

import (
	"context"
	"strings"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// ParseSyncSpec splits "Provider[:arg][::instance]" (as upstream: "::" first,
// then ":").
func ParseSyncSpec(spec string) (provider, arg, instance string, err error) {
	rest := spec
	if i := strings.Index(rest, "::"); i >= 0 {
		rest, instance = rest[:i], rest[i+2:]
		if instance == "" || strings.Contains(instance, ":") {
			return "", "", "", providers.UserErrorf("sync %q: want Provider[:arg][::instance]", spec)
		}
	}
	provider, arg, _ = strings.Cut(rest, ":")
	if provider == "" {
		return "", "", "", providers.UserErrorf("sync %q: want Provider[:arg][::instance], e.g. Container or Container::docker", spec)
	}
	return provider, arg, instance, nil
}

// SyncResult is what a sync changed in the inventory.
type SyncResult struct {
	Provider, Instance string
	inventory.SyncResult
}

// Sync brings the inventory in line with what a provider holds for the user:
// it adds the hosts missing locally, drops the records whose host is gone, and
// merges fresh data over the rest (keeping local-only fields).
func (b *Broker) Sync(ctx context.Context, spec string) (*SyncResult, error) {
	name, arg, instance, err := ParseSyncSpec(spec)
	if err != nil {
		return nil, err
	}
	p, _, err := b.provider(ctx, name, instance)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	hosts, err := p.List(ctx, arg)
	if err != nil {
		return nil, &providers.Error{Provider: name, Instance: p.Instance(), Action: "sync", Err: err}
	}
	for _, h := range hosts {
		h[inventory.FieldProvider] = name
		if p.Instance() != "" {
			h[inventory.FieldInstance] = p.Instance()
		}
	}
	res, err := b.inv.Sync(ctx, name, p.Instance(), hosts)
	if err != nil {
		return nil, err
	}
	b.log.Info("synced", append(provAttrs(p), "added", len(res.Added), "updated", len(res.Updated), "removed", len(res.Removed))...)
	return &SyncResult{Provider: name, Instance: p.Instance(), SyncResult: res}, nil
}
