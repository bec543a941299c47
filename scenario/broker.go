package scenario

import (
	"context"
	"errors"
	"fmt"
)

// Broker is what scenario steps need from broker. The root package
// implements it over its providers, inventory and settings (with the
// scenario's config.settings already merged in).
type Broker interface {
	// Checkout checks hosts out with Broker args (count already renamed
	// _count, _broker_origin set) and records them in the main inventory.
	Checkout(ctx context.Context, args map[string]any) ([]Host, error)
	// Checkin checks the hosts in and removes them from the main inventory.
	Checkin(ctx context.Context, hosts []Host) error
	// Execute runs a provider action with Broker args and returns its result.
	Execute(ctx context.Context, args map[string]any) (any, error)
	// ProviderInfo runs a provider's info query; args holds "query" (a
	// string flag or a map) and any extra arguments.
	ProviderInfo(ctx context.Context, provider string, args map[string]any) (any, error)
	// Inventory returns the main inventory's records matching filter (all
	// when filter is ""), after syncing sync ("Prov[:arg][::inst]") if set.
	Inventory(ctx context.Context, filter, sync string) ([]map[string]any, error)
	// InventoryHosts rebuilds the main inventory's records matching filter
	// (an @inv filter, or "" for all) into Hosts.
	InventoryHosts(ctx context.Context, filter string) ([]Host, error)
}

// Host is one checked-out host as scenario steps use it.
type Host interface {
	// Record is the host's inventory record (hostname, name, _broker_provider...).
	// Templates see hosts as these records.
	Record() map[string]any
	// Run runs a shell command on the host.
	Run(ctx context.Context, cmd string) (Result, error)
	// Put uploads a local file to remote (remote parent dirs created).
	Put(ctx context.Context, local, remote string) error
	// Get downloads a remote file to local (local parent dirs created).
	Get(ctx context.Context, remote, local string) error
}

// Result is a command's outcome.
type Result struct {
	Status int
	Stdout string
	Stderr string
}

// Map is the form templates and captures see: status, stdout, stderr.
func (r Result) Map() map[string]any {
	return map[string]any{"status": r.Status, "stdout": r.Stdout, "stderr": r.Stderr}
}

func (r Result) String() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s\nstatus: %d", r.Stdout, r.Stderr, r.Status)
}

// ErrNotImplemented is wrapped by actions this package does not implement
// yet (cmd maps it to exit code 9, as upstream).
var ErrNotImplemented = errors.New("not implemented")

// ErrNoBroker: a step needs the Broker and the Runner has none.
var ErrNoBroker = errors.New("scenario runner has no broker")

func hostRecord(h Host) map[string]any {
	r := h.Record()
	if r == nil {
		return map[string]any{}
	}
	return r
}

func hostName(h Host) string {
	r := hostRecord(h)
	if s, ok := r["hostname"].(string); ok && s != "" {
		return s
	}
	if s, ok := r["name"].(string); ok && s != "" {
		return s
	}
	return fmt.Sprint(r)
}
