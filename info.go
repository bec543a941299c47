package broker

import (
	"context"
	"strings"

	"github.com/broker-go/broker/filter"
	"github.com/broker-go/broker/providers"
)

// ProviderSummary describes a registered provider for broker providers.
type ProviderSummary struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Configured  bool     `json:"configured"`
	Instances   []string `json:"instances,omitempty"`
	Default     string   `json:"default_instance,omitempty"`
}

// Providers lists the registered providers with their configured instances.
func (b *Broker) Providers() []ProviderSummary {
	var out []ProviderSummary
	for _, ri := range b.reg.Infos() {
		s := ProviderSummary{Name: ri.Name, Description: ri.Description, Configured: b.set.HasProvider(ri.Name)}
		s.Instances, s.Default = b.set.Instances(ri.Name)
		out = append(out, s)
	}
	return out
}

// InfoOptions describe a provider listing (broker providers NAME --query).
type InfoOptions struct {
	Query, Value  string
	Instance      string
	Args          Args
	ResultsFilter string // over the items, as @res
	ResultsLimit  int    // 0 = the instance's results_limit setting, else all
}

// ProviderInfo runs a provider listing, then filters and limits its items.
func (b *Broker) ProviderInfo(ctx context.Context, provider string, opts InfoOptions) (*providers.InfoResult, error) {
	var f *filter.Filter
	if opts.ResultsFilter != "" {
		var err error
		if f, err = filter.Compile(opts.ResultsFilter, "res"); err != nil {
			return nil, &providers.UserError{Err: err}
		}
	}
	p, ri, err := b.provider(ctx, provider, opts.Instance)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	inf, ok := p.(providers.Informer)
	if !ok {
		return nil, &providers.UnsupportedError{Provider: provider, Action: "listings"}
	}
	if opts.Query == "" {
		var flags []string
		for _, k := range ri.InfoKeys {
			flags = append(flags, providers.FlagName(k))
		}
		return nil, providers.UserErrorf("say what to list: one of %s", strings.Join(flags, ", "))
	}
	res, err := inf.Info(ctx, providers.InfoQuery{Name: opts.Query, Value: opts.Value, Args: opts.Args})
	if err != nil {
		return nil, &providers.Error{Provider: provider, Instance: p.Instance(), Action: "providers " + opts.Query, Err: err}
	}
	if f != nil {
		idx, err := f.Apply(res.Items)
		if err != nil {
			return nil, &providers.UserError{Err: err}
		}
		items := make([]any, len(idx))
		for i, j := range idx {
			items[i] = res.Items[j]
		}
		res.Items = items
	}
	limit := opts.ResultsLimit
	if limit == 0 {
		cfg, _, _ := b.set.Provider(provider, opts.Instance)
		if n, ok := toInt(cfg["results_limit"]); ok {
			limit = n
		}
	}
	if limit > 0 && len(res.Items) > limit {
		res.Items = res.Items[:limit]
	}
	return &res, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	}
	return 0, false
}

// Validate checks a part of the settings: "base", "ssh", "all", or a
// provider ("Container", "Container:docker"), which is also built, so that
// its own checks run.
func (b *Broker) Validate(ctx context.Context, chunk string) error {
	if err := b.set.Validate(chunk); err != nil {
		return err
	}
	var targets [][2]string
	switch chunk {
	case "base", "ssh":
		return nil
	case "all":
		for _, ri := range b.reg.Infos() {
			if !b.set.HasProvider(ri.Name) {
				continue
			}
			names, _ := b.set.Instances(ri.Name)
			if len(names) == 0 {
				targets = append(targets, [2]string{ri.Name, ""})
			}
			for _, n := range names {
				targets = append(targets, [2]string{ri.Name, n})
			}
		}
	default:
		name, inst, _ := strings.Cut(chunk, ":")
		targets = append(targets, [2]string{name, inst})
	}
	for _, t := range targets {
		p, _, err := b.provider(ctx, t[0], t[1])
		if err != nil {
			return err
		}
		p.Close()
	}
	return nil
}

// upstreamActionKeys are the action keys of upstream broker's providers, so
// that records imported from upstream show their $action even when this
// broker has no such provider.
var upstreamActionKeys = map[string][]string{
	"AnsibleTower": {"workflow", "job_template"},
	"Container":    {"container_host", "container_app"},
	"Beaker":       {"job_xml", "job_id"},
	"Foreman":      {"hostgroup"},
	"OpenStack":    {"ostack_template", "ostack_image"},
}

// ActionKeys are the argument keys that select a provider's actions (what
// the inventory's $action field shows).
func (b *Broker) ActionKeys(provider string) []string {
	if ri, ok := b.reg.Lookup(provider); ok {
		return ri.ActionKeys()
	}
	return upstreamActionKeys[provider]
}
