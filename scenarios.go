package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/scenario"
)

// ScenariosDir is where scenario names are looked up: <broker dir>/scenarios.
func (b *Broker) ScenariosDir() string { return scenario.DirIn(b.set.Dir) }

// ScenarioOptions describe a scenario run.
type ScenarioOptions struct {
	Path      string             // a scenario file (see FindScenario)
	Scenario  *scenario.Scenario // already loaded from Path (nil = load it)
	Overrides map[string]string  // --VAR value and --config.x.y value, as given
	Stdout    io.Writer          // where the output action writes (nil = discard)
	Stderr    io.Writer
}

// FindScenario resolves a scenario name in the scenarios directory, or a path.
func (b *Broker) FindScenario(name string) (string, error) {
	p, err := scenario.Find(name, b.ScenariosDir())
	if err != nil {
		return "", &providers.UserError{Err: err}
	}
	return p, nil
}

// ScenarioInventoryPath is the inventory a scenario's checkouts are
// recorded in: <broker dir>/scenario_<stem>_inventory.db, beside the YAML
// scenario inventory file upstream writes.
func (b *Broker) ScenarioInventoryPath(scenarioPath string) string {
	return filepath.Join(b.set.Dir, "scenario_"+scenarioStem(scenarioPath)+"_inventory.db")
}

func scenarioStem(p string) string {
	stem := filepath.Base(p)
	return stem[:len(stem)-len(filepath.Ext(stem))]
}

// ScenarioRun is a finished (or failed) scenario run.
type ScenarioRun struct {
	*scenario.Outcome
	// InventoryPath is the inventory that holds the scenario's checkouts.
	InventoryPath string
	// Left are the hosts the run checked out and did not check in.
	Left []inventory.Record
}

// RunScenario loads and runs a scenario with this broker's providers.
// config.settings is layered over the broker's settings for the whole run.
// The hosts it checks out are recorded in the scenario's own inventory
// (ScenarioInventoryPath), not the main one, unless the scenario sets
// config.main_inventory: true; `with: {hosts: inventory}` and @inv filters
// still read the main inventory.
func (b *Broker) RunScenario(ctx context.Context, opts ScenarioOptions) (*ScenarioRun, error) {
	sc := opts.Scenario
	if sc == nil {
		var err error
		if sc, err = scenario.Load(opts.Path); err != nil {
			return nil, err
		}
	}
	vars, warnings := scenario.ApplyOverrides(sc, opts.Overrides)
	for _, w := range warnings {
		b.log.Warn(w)
	}
	set, err := b.set.With(sc.Config.Settings)
	if err != nil {
		return nil, &providers.UserError{Err: fmt.Errorf("scenario %s: config.settings: %w", opts.Path, err)}
	}
	main := b.derive(set, b.inv.Path())
	own := main
	if !sc.Config.MainInventory {
		own = b.derive(set, b.ScenarioInventoryPath(opts.Path))
	}
	// What the inventory held before the run is not this run's to report.
	before := map[uint64]bool{}
	if recs, err := own.Inventory(ctx, ""); err == nil {
		for _, r := range recs {
			before[r.Key] = true
		}
		if own != main && len(recs) > 0 {
			b.log.Warn("hosts from an earlier run of this scenario are still checked out; they are kept (check them in with broker --inventory-file "+own.inv.Path()+" checkin --all)", "count", len(recs))
		}
	}
	r := &scenario.Runner{
		Broker:    &scenarioBroker{b: own, main: main, origin: "scenario:" + scenarioStem(opts.Path)},
		Logger:    b.log,
		Stdout:    orDiscard(opts.Stdout),
		Stderr:    orDiscard(opts.Stderr),
		Variables: vars,
	}
	if sc.Config.InventoryPath != "" {
		r.InventoryPath = expandHome(sc.Config.InventoryPath)
	} else {
		r.InventoryPath = filepath.Join(b.set.Dir, "scenario_"+scenarioStem(opts.Path)+"_inventory.yaml")
	}
	out, err := r.Run(ctx, sc)
	run := &ScenarioRun{Outcome: out, InventoryPath: own.inv.Path()}
	if recs, ierr := own.Inventory(context.WithoutCancel(ctx), ""); ierr == nil {
		for _, rec := range recs {
			if !before[rec.Key] {
				run.Left = append(run.Left, rec)
			}
		}
	}
	return run, err
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// scenarioBroker is what scenario steps call.
type scenarioBroker struct {
	b      *Broker // records checkouts (the scenario's inventory, or main)
	main   *Broker // the main inventory, for inventory reads and @inv
	origin string
}

func (s *scenarioBroker) Checkout(ctx context.Context, args map[string]any) ([]scenario.Host, error) {
	args = copyArgs(args)
	if _, ok := args["_broker_origin"]; !ok {
		args["_broker_origin"] = s.origin
	}
	res, err := s.b.Checkout(ctx, CheckoutOptions{ArgsRequest: ArgsRequest{Args: args}})
	if err != nil {
		return nil, err
	}
	out := make([]scenario.Host, len(res.Records))
	for i, r := range res.Records {
		out[i] = &scenarioHost{h: s.b.Host(r)}
	}
	return out, nil
}

func (s *scenarioBroker) Checkin(ctx context.Context, hs []scenario.Host) error {
	// Each host is checked in by the Broker whose inventory holds it: the
	// scenario's own, or the main one for hosts taken from `inventory`.
	var order []*Broker
	groups := map[*Broker][]inventory.Record{}
	for _, h := range hs {
		sh, ok := h.(*scenarioHost)
		if !ok {
			return fmt.Errorf("checkin: %v is not a host of this broker", h.Record()["hostname"])
		}
		sh.h.Close()
		if groups[sh.h.b] == nil {
			order = append(order, sh.h.b)
		}
		groups[sh.h.b] = append(groups[sh.h.b], sh.h.Record)
	}
	var errs []error
	for _, b := range order {
		if _, err := b.Checkin(ctx, CheckinOptions{Records: groups[b]}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *scenarioBroker) Execute(ctx context.Context, args map[string]any) (any, error) {
	res, err := s.b.Execute(ctx, ExecuteOptions{ArgsRequest: ArgsRequest{Args: copyArgs(args)}})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return res.Output, fmt.Errorf("%s exited with status %d", res.Action, res.ExitCode)
	}
	return res.Output, nil
}

func (s *scenarioBroker) ProviderInfo(ctx context.Context, provider string, args map[string]any) (any, error) {
	opts := InfoOptions{Args: copyArgs(args)}
	switch q := args["query"].(type) {
	case string:
		opts.Query = q
	case map[string]any:
		for k, v := range q {
			opts.Query = k
			if sv, ok := v.(string); ok {
				opts.Value = sv
			}
		}
	}
	delete(opts.Args, "query")
	if n, ok := toInt(args["results_limit"]); ok {
		opts.ResultsLimit = n
	}
	if f, ok := args["results_filter"].(string); ok {
		opts.ResultsFilter = f
	}
	res, err := s.b.ProviderInfo(ctx, provider, opts)
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

func (s *scenarioBroker) Inventory(ctx context.Context, filter, sync string) ([]map[string]any, error) {
	if sync != "" {
		if _, err := s.main.Sync(ctx, sync); err != nil {
			return nil, err
		}
	}
	recs, err := s.main.Inventory(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = map[string]any(r.Host)
	}
	return out, nil
}

func (s *scenarioBroker) InventoryHosts(ctx context.Context, filter string) ([]scenario.Host, error) {
	recs, err := s.main.Inventory(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]scenario.Host, len(recs))
	for i, r := range recs {
		out[i] = &scenarioHost{h: s.main.Host(r)}
	}
	return out, nil
}

// scenarioHost adapts a Host to the scenario package.
type scenarioHost struct{ h *Host }

func (s *scenarioHost) Record() map[string]any { return map[string]any(s.h.Record.Host) }

func (s *scenarioHost) Run(ctx context.Context, cmd string) (scenario.Result, error) {
	r, err := s.h.Run(ctx, cmd)
	return scenario.Result{Status: r.Status, Stdout: r.Stdout, Stderr: r.Stderr}, err
}

func (s *scenarioHost) RunInput(ctx context.Context, cmd string, stdin io.Reader) (scenario.Result, error) {
	r, err := s.h.RunWith(ctx, cmd, hosts.RunOptions{Stdin: stdin})
	return scenario.Result{Status: r.Status, Stdout: r.Stdout, Stderr: r.Stderr}, err
}

func (s *scenarioHost) Put(ctx context.Context, local, remote string) error {
	return s.h.Put(ctx, local, remote)
}

func (s *scenarioHost) Get(ctx context.Context, remote, local string) error {
	return s.h.Get(ctx, remote, local)
}
