package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
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

// InputRunner is a Host that can feed stdin to a command (for a step's
// `input:`). Hosts without it get an error when a step pipes input to them.
type InputRunner interface {
	RunInput(ctx context.Context, cmd string, stdin io.Reader) (Result, error)
}

// ContainerSpec is one run of the container action: a fresh container on
// the engine of Host (or the default container engine when Host is nil),
// removed when it exits.
type ContainerSpec struct {
	Host    Host              // whose engine to use; nil = default Container instance
	Image   string            // required
	Command []string          // argv; empty = the image's default command
	Shell   string            // alternative to Command: run through sh -c
	Env     map[string]string // merged: scenario vars < step vars < environment
	Workdir string
	Volumes []Volume
	Stdin   io.Reader // nil = no stdin
	// Output is the channel read back as the step's stdout: "stdout"
	// (default), "stderr", or an absolute path inside the container read
	// after it exits.
	Output  string
	Name    string // for logs and labels: the step's name
	Timeout time.Duration
}

// Volume is a bind mount; read-only unless RW.
type Volume struct {
	Source string // host path (made absolute by the action)
	Target string // path inside the container
	RW     bool
}

// ContainerRunner is a Broker that can run the container action.
type ContainerRunner interface {
	RunContainer(ctx context.Context, spec ContainerSpec) (Result, error)
}

// Snapshotter is a Broker that can commit a container host to a local image.
type Snapshotter interface {
	// Snapshot commits h's container to image ref (repo:tag) and returns
	// the image ID.
	Snapshot(ctx context.Context, h Host, ref string) (string, error)
}

// PlaybookSpec is one run of the ansible action.
type PlaybookSpec struct {
	Playbook  string         // path to the playbook file
	ExtraVars map[string]any // passed with -e as JSON
	Options   []string       // extra ansible-playbook arguments (--tags x, -v...)
	Timeout   time.Duration
}

// PlaybookResult is an ansible-playbook run: its exit status, per-host
// stats (ok, changed, failures, unreachable, skipped...), per-host task
// status (task name → ok|changed|failed|skipped|unreachable) and output.
type PlaybookResult struct {
	Status int                       `json:"status"`
	Stats  map[string]map[string]int `json:"stats"`
	Tasks  map[string][]TaskStatus   `json:"tasks"`
	Stdout string                    `json:"stdout"`
	Stderr string                    `json:"stderr"`
}

// TaskStatus is one task's result on one host.
type TaskStatus struct {
	Task   string `json:"task"`
	Status string `json:"status"`
	Msg    string `json:"msg,omitempty"`
}

// AnsibleRunner is a Broker that can run ansible-playbook on hosts.
type AnsibleRunner interface {
	RunPlaybook(ctx context.Context, hosts []Host, spec PlaybookSpec) (PlaybookResult, error)
}
