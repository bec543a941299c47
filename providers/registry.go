package providers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Flag is a provider-contributed command-line option, such as Container's
// --container-host. Name is the dashed flag name; Key the broker-argument key
// it fills (underscores, as upstream); Commands the commands that get it
// ("checkout", "execute", "extend", "providers").
type Flag struct {
	Name     string
	Key      string
	Usage    string
	Bool     bool
	Commands []string
}

// Option describes one settings key of the provider (for validation,
// documentation and redaction).
type Option struct {
	Name      string
	Help      string
	Default   any
	Sensitive bool // tokens, passwords: never shown or logged
}

// RegInfo describes a provider to the registry.
type RegInfo struct {
	Name        string // case-sensitive, as in settings ("Container")
	Description string
	// CheckoutKeys and ExecuteKeys are the broker-argument keys that select
	// this provider for checkout and for execute ("container_host",
	// "container_app"); the first is the one $action shows.
	CheckoutKeys []string
	ExecuteKeys  []string
	// InfoKeys are the listing queries "broker providers <Name>" accepts.
	InfoKeys []string
	Flags    []Flag
	Options  []Option
	// New builds a provider for one instance. It must not do slow work
	// (dialling) that a caller may not need; connect lazily or cheaply.
	New func(ctx context.Context, spec Spec) (Provider, error)
}

// ActionKeys are all the keys that select this provider.
func (ri *RegInfo) ActionKeys() []string {
	return append(append([]string(nil), ri.CheckoutKeys...), ri.ExecuteKeys...)
}

// Registry holds registered providers by name.
type Registry struct {
	mu    sync.RWMutex
	infos map[string]*RegInfo
}

// NewRegistry returns an empty registry (tests build private ones).
func NewRegistry() *Registry { return &Registry{infos: map[string]*RegInfo{}} }

// Default is the registry providers add themselves to from init().
var Default = NewRegistry()

// Register adds a provider to Default.
func Register(ri *RegInfo) { Default.Register(ri) }

// Register adds a provider; it panics on a nil info, an empty name, a nil
// constructor or a duplicate name (programming errors, as database/sql).
func (r *Registry) Register(ri *RegInfo) {
	if ri == nil || ri.Name == "" || ri.New == nil {
		panic("providers: Register needs a name and a constructor")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.infos[ri.Name]; dup {
		panic("providers: Register called twice for " + ri.Name)
	}
	r.infos[ri.Name] = ri
}

// Lookup returns the provider registered under name (case-sensitive).
func (r *Registry) Lookup(name string) (*RegInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ri, ok := r.infos[name]
	return ri, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.infos))
	for n := range r.infos {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Infos returns every registration, sorted by name.
func (r *Registry) Infos() []*RegInfo {
	var out []*RegInfo
	for _, n := range r.Names() {
		ri, _ := r.Lookup(n)
		out = append(out, ri)
	}
	return out
}

// ForAction returns the provider whose checkout (execute when execute is
// true) keys appear in args, and the key found. Several providers matching
// is an error naming them (upstream silently picked the last one).
func (r *Registry) ForAction(args Args, execute bool) (*RegInfo, string, error) {
	var found []*RegInfo
	var key string
	for _, ri := range r.Infos() {
		keys := ri.CheckoutKeys
		if execute {
			keys = ri.ExecuteKeys
		}
		for _, k := range keys {
			if _, ok := args[k]; ok {
				found = append(found, ri)
				key = k
				break
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], key, nil
	case 0:
		var all []string
		for _, ri := range r.Infos() {
			keys := ri.CheckoutKeys
			if execute {
				keys = ri.ExecuteKeys
			}
			for _, k := range keys {
				all = append(all, fmt.Sprintf("%s (%s)", FlagName(k), ri.Name))
			}
		}
		return nil, "", UserErrorf("could not determine a provider from the arguments: give one of %v", all)
	default:
		names := make([]string, len(found))
		for i, ri := range found {
			names[i] = ri.Name
		}
		return nil, "", UserErrorf("the arguments select several providers (%v); give the action key of one only", names)
	}
}

// FlagName is the command-line flag of a broker-argument key:
// "container_host" → "--container-host".
func FlagName(key string) string { return "--" + strings.ReplaceAll(key, "_", "-") }
