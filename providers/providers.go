// Package providers defines what a provider of hosts is (a small interface
// plus optional capabilities), the registry providers add themselves to, and
// the errors that callers branch on.
//
// A provider package registers itself from init():
//
//	func init() { providers.Register(&providers.RegInfo{Name: "Container", ...}) }
//
// and only the root package blank-imports providers/all, so that importing
// broker wires every provider.
package providers

import (
	"context"
	"io"
	"log/slog"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
)

// Args is the flat map of broker arguments that drives a provider action
// (from the command line, a nick, an args file). Values are strings unless a
// file or a structured source gave a map or list.
type Args = map[string]any

// Spec is what a provider's constructor receives. Config is the provider's
// settings section with the chosen instance overlaid (and without the
// "instances" key); a provider never reads global settings.
type Spec struct {
	Instance string         // resolved instance name; "" when the section has no instances
	Config   map[string]any // the provider's own keys
	Logger   *slog.Logger   // never nil (a discarding logger when the caller gave none)
	User     string         // local user name (for defaults such as a name prefix)
}

// Provider is the core every provider implements.
type Provider interface {
	// Name is the registered provider name ("Container", "AnsibleTower").
	Name() string
	// Instance is the instance this provider value talks to ("" if none).
	Instance() string
	// Checkout makes one host and returns its inventory record. The record
	// carries at least hostname and name; the caller adds _broker_provider,
	// _broker_provider_instance and _broker_args.
	Checkout(ctx context.Context, args Args) (inventory.Host, error)
	// Checkin releases the host described by the record. A host that is
	// already gone returns an error that matches ErrNotFound.
	Checkin(ctx context.Context, host inventory.Host) error
	// List returns the hosts the provider holds for the user (for
	// inventory --sync). arg is the part after "Provider:" ("" if none).
	List(ctx context.Context, arg string) ([]inventory.Host, error)
	// Close releases connections.
	Close() error
}

// Executor is implemented by providers that can run a one-off action
// (broker execute).
type Executor interface {
	Execute(ctx context.Context, args Args, opts ExecOptions) (ExecResult, error)
}

// ExecOptions tells Execute where to stream output as it arrives. Nil
// writers mean "collect only".
type ExecOptions struct {
	Stdout io.Writer
	Stderr io.Writer
}

// ExecResult is what an Execute returns: the output (text for a container,
// a job object or artifacts for AnsibleTower) and the action's own status.
type ExecResult struct {
	Output   any
	ExitCode int
}

// Extender is implemented by providers whose hosts have leases.
type Extender interface {
	Extend(ctx context.Context, host inventory.Host, args Args) error
}

// Informer answers "broker providers <Name> --query" listings.
type Informer interface {
	Info(ctx context.Context, query InfoQuery) (InfoResult, error)
}

// InfoQuery is one provider listing request: Name is the query key
// ("container_hosts", "container_host"), Value its value ("" for a plain
// list), Args any other arguments given.
type InfoQuery struct {
	Name  string
	Value string
	Args  Args
}

// InfoResult is a listing. Items are strings (names) or maps (details); the
// caller applies --results-filter and --results-limit to Items.
type InfoResult struct {
	Title string
	Items []any
}

// Limiter is implemented by providers that know how many actions they can
// run at once; the caller uses min(thread_limit, Connections()).
type Limiter interface {
	Connections() int
}

// Sessioner is implemented by providers that reach their hosts without SSH
// (containers, through the engine's exec and copy APIs). The session must
// fail with an error matching hosts.ErrGone when the host no longer exists.
type Sessioner interface {
	Session(ctx context.Context, host inventory.Host) (hosts.Session, error)
}
