package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/filter"
	"github.com/broker-go/broker/scenario"
	"github.com/broker-go/broker/settings"
)

// scenarioError: a scenario failed (exit 16, as upstream's ScenarioError).
type scenarioError struct{ err error }

func (e *scenarioError) Error() string { return "scenario failed: " + e.err.Error() }
func (e *scenarioError) Unwrap() error { return e.err }

func scenariosCommand(e *env) *cli.Command {
	execute := &cli.Command{
		Name:            "execute",
		Usage:           "run a scenario; --VAR value sets a variable, --config.settings.X.Y value a setting",
		ArgsUsage:       "NAME|PATH [--VAR value ...]",
		SkipFlagParsing: true,
		Args:            true,
		Flags:           []cli.Flag{backgroundFlag()},
	}
	execute.Action = passThroughAction(e, execute, func(c *cli.Context, p *parsed) error {
		if len(p.positional) != 1 {
			return &usageError{msg: "scenarios execute needs one scenario NAME or PATH (see broker scenarios list)"}
		}
		set, err := e.settings()
		if err != nil {
			return err
		}
		path, err := scenario.Find(p.positional[0], scenario.DirIn(set.Dir))
		if err != nil {
			return &scenarioError{err: err}
		}
		over := map[string]string{}
		for k, v := range p.extra {
			over[k] = fmt.Sprint(v)
		}
		sc, err := scenario.Load(path)
		if err != nil {
			return &scenarioError{err: err}
		}
		if lp := scenarioLogPath(sc, over, set.Dir); lp != "" {
			if err := e.useLogPath(lp); err != nil {
				return err
			}
		}
		b, err := e.broker()
		if err != nil {
			return err
		}
		run, err := b.RunScenario(c.Context, broker.ScenarioOptions{Path: path, Scenario: sc, Overrides: over, Stdout: e.stdout, Stderr: e.stderr})
		if run != nil {
			e.emit("scenario", path, "steps", run.Steps, "scenario_inventory", run.InventoryPath)
			if len(run.Left) > 0 {
				var hosts []map[string]any
				fmt.Fprintf(e.stderr, "Scenario Inventory (hosts still checked out): %d\n", len(run.Left))
				for _, r := range run.Left {
					hosts = append(hosts, map[string]any(r.Host))
					if n := r.Host.Name(); n != "" && n != r.Host.Hostname() {
						fmt.Fprintf(e.stderr, "  %s (%s)\n", r.Host.Label(), n)
					} else {
						fmt.Fprintf(e.stderr, "  %s\n", r.Host.Label())
					}
				}
				fmt.Fprintf(e.stderr, "Inventory file: %s\nCheck them in with: broker --inventory-file %s checkin --all\n", run.InventoryPath, run.InventoryPath)
				e.emit("hosts_left", hosts)
			}
		}
		var xe *scenario.ExitError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &xe):
			if xe.Message != "" {
				fmt.Fprintln(e.stderr, xe.Message)
			}
			return &statusError{code: xe.Code}
		case errors.Is(err, scenario.ErrNotImplemented):
			return err
		}
		return &scenarioError{err: err}
	})
	return &cli.Command{
		Name:     "scenarios",
		Usage:    "list, inspect, validate and run scenario files (steps of checkouts, commands and checkins)",
		Category: "Extras",
		Subcommands: []*cli.Command{
			{
				Name: "list", Usage: "the scenarios in <broker dir>/scenarios (Name, Path)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "filter", Usage: "keep scenarios whose top-level keys match `FILTER` (e.g. '\"smoke\" in @res.tags')"},
					&cli.StringFlag{Name: "tag", Usage: "keep scenarios whose tags include `TAG`"},
				},
				Action: func(c *cli.Context) error { return listScenarios(e, c) },
			},
			{
				Name: "info", Usage: "a scenario's name, path, config, variables and steps (YAML)", ArgsUsage: "NAME|PATH",
				Action: func(c *cli.Context) error {
					sc, err := loadScenario(e, c)
					if err != nil {
						return err
					}
					var steps []map[string]any
					for _, s := range sc.Steps {
						steps = append(steps, map[string]any{"name": s.Name, "action": s.Action})
					}
					cfg := map[string]any{}
					if sc.Config.InventoryPath != "" {
						cfg["inventory_path"] = sc.Config.InventoryPath
					}
					if sc.Config.LogPath != "" {
						cfg["log_path"] = sc.Config.LogPath
					}
					if len(sc.Config.Settings) > 0 {
						cfg["settings"] = settings.Redact(sc.Config.Settings)
					}
					if sc.Config.MainInventory {
						cfg["main_inventory"] = true
					}
					info := map[string]any{
						"name": strings.TrimSuffix(filepath.Base(sc.Path), filepath.Ext(sc.Path)), "path": sc.Path,
						"description": sc.Description, "config": cfg, "variables": sc.Variables, "steps": steps,
					}
					e.emit("info", info)
					return yaml.NewEncoder(e.stdout).Encode(info)
				},
			},
			{
				Name: "validate", Usage: "check a scenario against the schema (errors give the step and line; exit 16 when invalid)", ArgsUsage: "NAME|PATH",
				Action: func(c *cli.Context) error {
					if _, err := loadScenario(e, c); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Scenario '%s' is valid!\n", c.Args().First())
					return nil
				},
			},
			{
				Name: "schema", Usage: "print the scenario JSON schema (for editors and CI linters)",
				Action: func(c *cli.Context) error {
					_, err := e.stdout.Write(scenario.Schema())
					return err
				},
			},
			execute,
			notImplemented("migrate", "upstream's scenario format migrations (files of every format version 1-3 already load as they are)"),
			notImplemented("import", "upstream's scenario import from git hosts (copy scenario files into <broker dir>/scenarios instead)"),
		},
	}
}

func loadScenario(e *env, c *cli.Context) (*scenario.Scenario, error) {
	if c.NArg() != 1 {
		return nil, &usageError{msg: fmt.Sprintf("scenarios %s needs one scenario NAME or PATH", c.Command.Name)}
	}
	set, err := e.settings()
	if err != nil {
		return nil, err
	}
	path, err := scenario.Find(c.Args().First(), scenario.DirIn(set.Dir))
	if err != nil {
		return nil, &scenarioError{err: err}
	}
	sc, err := scenario.Load(path)
	if err != nil {
		return nil, &scenarioError{err: err}
	}
	return sc, nil
}

// scenarioLogPath is where a scenario's run logs (config.log_path, or a
// --config.log_path override), as upstream: a bare or relative name goes to
// <broker dir>/logs/<name>; an absolute path with a suffix is used as is;
// an absolute path without one is a directory, holding <stem>.log. "" when
// the scenario sets none.
func scenarioLogPath(sc *scenario.Scenario, over map[string]string, dir string) string {
	path := sc.Path
	lp := over["config.log_path"]
	if lp == "" {
		lp = sc.Config.LogPath
	}
	switch {
	case lp == "":
		return ""
	case !filepath.IsAbs(lp):
		return filepath.Join(dir, "logs", lp)
	case filepath.Ext(lp) != "":
		return lp
	}
	stem := filepath.Base(path)
	return filepath.Join(lp, stem[:len(stem)-len(filepath.Ext(stem))]+".log")
}

// listScenarios prints the scenarios under <broker dir>/scenarios as upstream
// does (Name, Path relative to the broker directory), narrowed by --filter
// over @res (the file's top-level keys but config, variables, steps and
// _-prefixed ones) and --tag.
func listScenarios(e *env, c *cli.Context) error {
	set, err := e.settings()
	if err != nil {
		return err
	}
	dir := scenario.DirIn(set.Dir)
	var flt *filter.Filter
	expr := c.String("filter")
	if t := c.String("tag"); t != "" {
		q, _ := json.Marshal(t)
		tagExpr := string(q) + " in @res.tags"
		if expr != "" {
			expr = "(" + expr + ") and " + tagExpr
		} else {
			expr = tagExpr
		}
	}
	if expr != "" {
		if flt, err = filter.Compile(expr, "res"); err != nil {
			return &usageError{msg: fmt.Sprintf("--filter: %v", err)}
		}
	}
	paths, err := scenario.List(dir)
	if err != nil {
		return err
	}
	var items []map[string]any
	for _, p := range paths {
		res := map[string]any{}
		if data, err := os.ReadFile(p); err == nil {
			var top map[string]any
			if yaml.Unmarshal(data, &top) == nil {
				for k, v := range top {
					if k != "config" && k != "variables" && k != "steps" && !strings.HasPrefix(k, "_") {
						res[k] = v
					}
				}
			}
		}
		if _, ok := res["tags"]; !ok && flt != nil {
			res["tags"] = []any{}
		}
		res["\x00path"] = p
		items = append(items, res)
	}
	kept, err := filter.Select(flt, items)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--filter: %v", err)}
	}
	var rows [][]string
	var out []map[string]any
	for _, r := range kept {
		p := r["\x00path"].(string)
		rel, _ := filepath.Rel(set.Dir, filepath.Dir(p))
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		rows = append(rows, []string{name, rel})
		out = append(out, map[string]any{"name": name, "path": p})
	}
	e.emit("scenarios", out)
	switch {
	case len(rows) > 0:
		writeColumns(e, []string{"Name", "Path"}, rows)
	case expr != "" && len(paths) > 0:
		fmt.Fprintf(e.stderr, "No scenarios match the filter: %s\n", expr)
	default:
		fmt.Fprintf(e.stderr, "No scenarios found in %s\n", dir)
	}
	return nil
}

// notImplemented is an upstream scenarios subcommand broker does not have:
// it says so and exits 9, instead of being an unknown command.
func notImplemented(name, what string) *cli.Command {
	return &cli.Command{
		Name: name, Usage: "not implemented: " + what, SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			return fmt.Errorf("broker scenarios %s is not implemented: %s: %w", name, what, scenario.ErrNotImplemented)
		},
	}
}
