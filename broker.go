// Package broker is the Go library behind the broker command: it checks hosts
// out from providers (containers on Docker or Podman, VMs through Ansible
// Tower/AWX), records them in a local inventory, and checks them back in.
//
// The command line (cmd/broker) is a thin layer over this package; Go test
// suites call it directly:
//
//	b, err := broker.New(broker.Options{})
//	res, err := b.Checkout(ctx, broker.CheckoutOptions{ArgsRequest: broker.ArgsRequest{Nick: "rhel9"}})
//	defer b.Checkin(ctx, broker.CheckinOptions{Hosts: res.Hosts})
//
// Broker is the one place that pairs an inventory change with a provider
// call: it never holds the inventory lock across a provider call, and it
// changes the inventory only for what really happened on the provider.
package broker

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	_ "github.com/broker-go/broker/providers/all" // every provider registers itself
	"github.com/broker-go/broker/settings"
)

//go:embed broker_settings.yaml.example
var exampleSettings []byte

// ExampleSettings is the example settings file that a first run writes.
func ExampleSettings() []byte { return append([]byte(nil), exampleSettings...) }

// InventoryFile is the inventory's file name inside the broker directory.
const InventoryFile = "inventory.db"

// Options configure a Broker. The zero value works: the broker directory
// from BROKER_DIRECTORY or ~/.broker, settings loaded from there, no logging.
type Options struct {
	Dir         string             // broker directory ("" = settings.Dir)
	Settings    *settings.Settings // already loaded settings (nil = load from Dir)
	Environ     []string           // environment for settings ("" = os.Environ())
	Overrides   map[string]any     // settings overrides (dotted keys), the top layer
	Logger      *slog.Logger       // nil = discard
	Registry    *providers.Registry
	User        string        // local user name ("" = the current user)
	Origin      string        // recorded as _broker_origin ("" = "go:<program>:<user>")
	LockTimeout time.Duration // inventory lock wait (0 = 10 s)
	// InventoryPath is the inventory file ("" = <broker dir>/inventory.db).
	InventoryPath string
}

// Broker checks hosts out and in and keeps the inventory.
type Broker struct {
	set    *settings.Settings
	inv    *inventory.Store
	reg    *providers.Registry
	log    *slog.Logger
	user   string
	origin string
	opts   Options
}

// LoadSettings loads the settings as New would (for callers, such as the
// config commands, that need settings without a Broker).
func LoadSettings(opts Options) (*settings.Settings, error) {
	if opts.Settings != nil {
		return opts.Settings, nil
	}
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = settings.Dir(os.Getenv); err != nil {
			return nil, err
		}
	}
	env := opts.Environ
	if env == nil {
		env = os.Environ()
	}
	return settings.Load(settings.LoadOptions{
		Dir:       dir,
		Example:   exampleSettings,
		Environ:   env,
		Overrides: opts.Overrides,
		NoFile:    lookupEnv(env, "BROKER_NO_GLOBAL_CONFIG") != "",
	})
}

// New returns a Broker. It loads settings (unless given) but opens nothing
// else: the inventory is opened per operation, providers per action.
func New(opts Options) (*Broker, error) {
	set, err := LoadSettings(opts)
	if err != nil {
		return nil, err
	}
	b := &Broker{set: set, reg: opts.Registry, log: opts.Logger, user: opts.User, origin: opts.Origin, opts: opts}
	if b.reg == nil {
		b.reg = providers.Default
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.user == "" {
		b.user = CurrentUser()
	}
	if b.origin == "" {
		b.origin = fmt.Sprintf("go:%s:%s", filepath.Base(os.Args[0]), b.user)
	}
	invPath := opts.InventoryPath
	if invPath == "" {
		invPath = filepath.Join(set.Dir, InventoryFile)
	}
	b.inv = inventory.New(invPath, inventory.Options{Timeout: opts.LockTimeout})
	return b, nil
}

// derive returns a Broker like b with other settings and inventory file.
func (b *Broker) derive(set *settings.Settings, invPath string) *Broker {
	d := *b
	d.set = set
	d.opts.Settings = set
	d.opts.InventoryPath = invPath
	d.inv = inventory.New(invPath, inventory.Options{Timeout: b.opts.LockTimeout})
	return &d
}

// Settings returns the loaded settings.
func (b *Broker) Settings() *settings.Settings { return b.set }

// Inventory returns the inventory store.
func (b *Broker) InventoryStore() *inventory.Store { return b.inv }

// Registry returns the provider registry in use.
func (b *Broker) Registry() *providers.Registry { return b.reg }

// CurrentUser is the local user name ($USER, else the account name, else "broker").
func CurrentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "broker"
}

func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if len(env[i]) > len(key) && env[i][len(key)] == '=' && env[i][:len(key)] == key {
			return env[i][len(key)+1:]
		}
	}
	return ""
}

// provider builds the provider registered as name for an instance ("" = the
// default instance).
func (b *Broker) provider(ctx context.Context, name, instance string) (providers.Provider, *providers.RegInfo, error) {
	ri, ok := b.reg.Lookup(name)
	if !ok {
		return nil, nil, providers.UserErrorf("unknown provider %q: known providers are %v", name, b.reg.Names())
	}
	cfg, chosen, err := b.set.Provider(name, instance)
	if err != nil {
		return nil, ri, err
	}
	log := b.log.With("provider", name)
	if chosen != "" {
		log = log.With("instance", chosen)
	}
	p, err := ri.New(ctx, providers.Spec{Instance: chosen, Config: cfg, Logger: log, User: b.user})
	if err != nil {
		return nil, ri, err
	}
	return p, ri, nil
}

// limit is the number of actions to run at once: thread_limit (if set), the
// provider's own limit (if it has one), and never more than n.
func (b *Broker) limit(p providers.Provider, n int, sequential bool) int {
	if sequential {
		return 1
	}
	l := n
	if t := b.set.ThreadLimit(); t > 0 && t < l {
		l = t
	}
	if lp, ok := p.(providers.Limiter); ok {
		if c := lp.Connections(); c > 0 && c < l {
			l = c
		}
	}
	if l < 1 {
		l = 1
	}
	return l
}

// provAttrs are the log attributes naming a provider (and its instance,
// when it has one).
func provAttrs(p providers.Provider) []any {
	if p.Instance() == "" {
		return []any{"provider", p.Name()}
	}
	return []any{"provider", p.Name(), "instance", p.Instance()}
}
