package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SyncResult is what Sync changed. Each list is in inventory order; Added
// and Updated hold the records as stored, Removed the records as they were.
type SyncResult struct {
	Added, Updated, Removed []Host
}

// Sync makes the inventory's records of one provider (instance) agree with
// fresh, the provider's own list of its hosts, in one transaction:
//
//   - Scope: records whose _broker_provider is provider and, when instance
//     is not "", whose _broker_provider_instance is instance or unset.
//     (Upstream replaced the records of every instance; records of other
//     instances are left alone here.) Records of other providers are never
//     touched.
//   - Matching, one to one, in inventory order: a fresh host matches a
//     record in scope with the same name when both have a name; only when
//     one of them has no name does the hostname decide. Two hosts with
//     different names are different hosts even if they share a hostname
//     (a reused container port, a recycled DHCP address).
//   - A matched record is replaced by Merge(record, fresh host) in place
//     (same key, same position), so local-only fields survive; it is listed
//     in Updated only if that changed it.
//   - A record in scope that matches no fresh host no longer exists at the
//     provider: it is removed and listed in Removed.
//   - A fresh host that matches no record is appended, with
//     _broker_provider (and _broker_provider_instance, when instance is not
//     "") filled in if it has none, and listed in Added.
func (s *Store) Sync(ctx context.Context, provider, instance string, fresh []Host) (SyncResult, error) {
	if err := ctx.Err(); err != nil {
		return SyncResult{}, fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if provider == "" {
		return SyncResult{}, errors.New("inventory sync: no provider name given")
	}
	stamped := make([]Host, len(fresh))
	for i, h := range fresh {
		c := make(Host, len(h)+2)
		for k, v := range h {
			c[k] = v
		}
		if c.Provider() == "" {
			c[FieldProvider] = provider
		}
		if instance != "" && c.Instance() == "" {
			c[FieldInstance] = instance
		}
		stamped[i] = c
	}
	enc, err := encodeAll(stamped)
	if err != nil {
		return SyncResult{}, fmt.Errorf("sync %s: %w", provider, err)
	}
	var res SyncResult
	err = s.update(ctx, func(b *bolt.Bucket) error {
		res = SyncResult{}
		existing, err := readAll(b)
		if err != nil {
			return err
		}
		var scope []int // indexes into existing
		for i, r := range existing {
			if r.Host.Provider() != provider {
				continue
			}
			if in := r.Host.Instance(); instance != "" && in != "" && in != instance {
				continue
			}
			scope = append(scope, i)
		}
		match := matchHosts(existing, scope, enc) // existing index → fresh index
		for _, i := range scope {
			old := existing[i]
			f, ok := match[i]
			if !ok {
				if err := b.Delete(itob(old.Key)); err != nil {
					return err
				}
				res.Removed = append(res.Removed, old.Host)
				continue
			}
			merged := Merge(old.Host, enc[f].host)
			data, err := encodeHost(merged)
			if err != nil {
				return fmt.Errorf("record %s: %w", old.Host.Label(), err)
			}
			before, err := encodeHost(old.Host)
			if err != nil {
				return fmt.Errorf("record %s: %w", old.Host.Label(), err)
			}
			if bytes.Equal(data, before) {
				continue
			}
			if err := b.Put(itob(old.Key), data); err != nil {
				return err
			}
			res.Updated = append(res.Updated, merged)
		}
		matched := make([]bool, len(enc))
		for _, f := range match {
			matched[f] = true
		}
		for f, e := range enc {
			if matched[f] {
				continue
			}
			if _, err := put(b, e.data); err != nil {
				return err
			}
			res.Added = append(res.Added, e.host)
		}
		return nil
	})
	if err != nil {
		return SyncResult{}, err
	}
	return res, nil
}

// matchHosts pairs fresh hosts with records in scope (see Sync): by name
// first, then by hostname where one side has no name. It returns a map from
// an index into existing to an index into fresh.
func matchHosts(existing []Record, scope []int, fresh []encoded) map[int]int {
	byName := map[string][]int{}
	byHostname := map[string][]int{}
	for _, i := range scope {
		h := existing[i].Host
		if n := h.Name(); n != "" {
			byName[n] = append(byName[n], i)
		}
		if n := h.Hostname(); n != "" {
			byHostname[n] = append(byHostname[n], i)
		}
	}
	match := map[int]int{}
	done := make([]bool, len(fresh))
	for f, e := range fresh {
		n := e.host.Name()
		if n == "" {
			continue
		}
		for _, i := range byName[n] {
			if _, used := match[i]; !used {
				match[i], done[f] = f, true
				break
			}
		}
	}
	for f, e := range fresh {
		hn := e.host.Hostname()
		if done[f] || hn == "" {
			continue
		}
		for _, i := range byHostname[hn] {
			if _, used := match[i]; used {
				continue
			}
			if e.host.Name() != "" && existing[i].Host.Name() != "" {
				continue // both named, differently: not the same host
			}
			match[i], done[f] = f, true
			break
		}
	}
	return match
}

// Merge deep-merges fresh over old and returns a new Host (neither argument
// is changed): a key in fresh replaces the same key in old, except that
// when both values are maps they are merged the same way, recursively; keys
// only in old are kept; null values in fresh, at any depth, are dropped
// (they never erase or add anything). Lists are replaced, not merged.
func Merge(old, fresh Host) Host {
	return Host(mergeMaps(old, fresh))
}

func mergeMaps(old, fresh map[string]any) map[string]any {
	out := make(map[string]any, len(old)+len(fresh))
	for k, v := range old {
		out[k] = deepCopy(v)
	}
	for k, v := range fresh {
		if v == nil {
			continue
		}
		if fm, ok := asMap(v); ok {
			om, _ := asMap(out[k])
			out[k] = mergeMaps(om, fm)
			continue
		}
		out[k] = deepCopy(v)
	}
	return out
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case Host:
		return m, true
	}
	return nil, false
}

// deepCopy copies maps and lists of the JSON types; other values are
// returned as they are.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = deepCopy(e)
		}
		return c
	case Host:
		return deepCopy(map[string]any(x))
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}
