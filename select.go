package broker

import (
	"context"
	"strconv"

	"github.com/broker-go/broker/filter"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// Selection picks inventory records for an action: a mix of local ids,
// hostnames and names, or All, narrowed first by Filter (ids are positions in
// the filtered list, as upstream).
type Selection struct {
	Hosts  []string
	All    bool
	Filter string
}

// Inventory returns the records, narrowed by filter ("" = all), in insertion
// order; a record's local id is its position in the returned list.
func (b *Broker) Inventory(ctx context.Context, filterText string) ([]inventory.Record, error) {
	var f *filter.Filter
	if filterText != "" {
		var err error
		if f, err = filter.Compile(filterText, "inv"); err != nil {
			return nil, &providers.UserError{Err: err}
		}
	}
	recs, err := b.inv.List(ctx)
	if err != nil {
		return nil, err
	}
	return applyFilter(f, recs)
}

func applyFilter(f *filter.Filter, recs []inventory.Record) ([]inventory.Record, error) {
	if f == nil {
		return recs, nil
	}
	items := make([]any, len(recs))
	for i, r := range recs {
		items[i] = map[string]any(r.Host)
	}
	idx, err := f.Apply(items)
	if err != nil {
		return nil, &providers.UserError{Err: err}
	}
	out := make([]inventory.Record, len(idx))
	for i, j := range idx {
		out[i] = recs[j]
	}
	return out, nil
}

// Select resolves a selection. notFound lists the identifiers that matched
// no record. A selection that names nothing (no hosts, no All) is an error,
// and so is a filter without All or hosts (upstream silently selected
// nothing).
func (b *Broker) Select(ctx context.Context, sel Selection) (recs []inventory.Record, notFound []string, err error) {
	if !sel.All && len(sel.Hosts) == 0 {
		if sel.Filter != "" {
			return nil, nil, providers.UserErrorf("--filter narrows a selection: add --all to act on every host it matches, or name hosts")
		}
		return nil, nil, providers.UserErrorf("name hosts by local id, hostname or name (see broker inventory), or give --all")
	}
	// Compile the filter before reading anything: a bad filter changes nothing.
	var f *filter.Filter
	if sel.Filter != "" {
		if f, err = filter.Compile(sel.Filter, "inv"); err != nil {
			return nil, nil, &providers.UserError{Err: err}
		}
	}
	all, err := b.inv.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	filtered, err := applyFilter(f, all)
	if err != nil {
		return nil, nil, err
	}
	if sel.All {
		return filtered, nil, nil
	}
	used := make([]bool, len(sel.Hosts))
	for i, r := range filtered {
		for j, id := range sel.Hosts {
			if used[j] {
				continue
			}
			if n, err := strconv.Atoi(id); err == nil && n == i ||
				id != "" && (id == r.Host.Hostname() || id == r.Host.Name()) {
				used[j] = true
				recs = append(recs, r)
				break
			}
		}
	}
	for j, id := range sel.Hosts {
		if !used[j] {
			notFound = append(notFound, id)
		}
	}
	return recs, notFound, nil
}
