package broker

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/scenario"
)

// ScenariosDir is where scenario names are looked up: <broker dir>/scenarios.
func (b *Broker) ScenariosDir() string { return filepath.Join(b.set.Dir, "scenarios") }

// ScenarioOptions describe a scenario run.
type ScenarioOptions struct {
	Path      string            // a scenario file (see FindScenario)
	Overrides map[string]string // --VAR value and --config.x.y value, as given
	Stdout    io.Writer         // where the output action writes (nil = discard)
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

// RunScenario loads and runs a scenario with this broker's providers and
// inventory. Its hosts are recorded in the main inventory (the scenario
// keeps its own list too).
func (b *Broker) RunScenario(ctx context.Context, opts ScenarioOptions) (*scenario.Outcome, error) {
	sc, err := scenario.Load(opts.Path)
	if err != nil {
		return nil, err
	}
	vars, warnings := scenario.ApplyOverrides(sc, opts.Overrides)
	for _, w := range warnings {
		b.log.Warn(w)
	}
	r := &scenario.Runner{
		Broker:    &scenarioBroker{b: b, origin: "scenario:" + filepath.Base(opts.Path)},
		Logger:    b.log.With("scenario", filepath.Base(opts.Path)),
		Stdout:    orDiscard(opts.Stdout),
		Stderr:    orDiscard(opts.Stderr),
		Variables: vars,
	}
	if sc.Config.InventoryPath != "" {
		r.InventoryPath = sc.Config.InventoryPath
	} else {
		stem := filepath.Base(opts.Path)
		stem = stem[:len(stem)-len(filepath.Ext(stem))]
		r.InventoryPath = filepath.Join(b.set.Dir, "scenario_"+stem+"_inventory.yaml")
	}
	return r.Run(ctx, sc)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// scenarioBroker is what scenario steps call.
type scenarioBroker struct {
	b      *Broker
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
	var recs []inventory.Record
	for _, h := range hs {
		sh, ok := h.(*scenarioHost)
		if !ok {
			return fmt.Errorf("checkin: %v is not a host of this broker", h.Record()["hostname"])
		}
		sh.h.Close()
		recs = append(recs, sh.h.Record)
	}
	if len(recs) == 0 {
		return nil
	}
	_, err := s.b.Checkin(ctx, CheckinOptions{Records: recs})
	return err
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
		if _, err := s.b.Sync(ctx, sync); err != nil {
			return nil, err
		}
	}
	recs, err := s.b.Inventory(ctx, filter)
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
	recs, err := s.b.Inventory(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]scenario.Host, len(recs))
	for i, r := range recs {
		out[i] = &scenarioHost{h: s.b.Host(r)}
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
