package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/scenario"
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
		b, err := e.broker()
		if err != nil {
			return err
		}
		path, err := b.FindScenario(p.positional[0])
		if err != nil {
			return err
		}
		over := map[string]string{}
		for k, v := range p.extra {
			over[k] = fmt.Sprint(v)
		}
		out, err := b.RunScenario(c.Context, broker.ScenarioOptions{Path: path, Overrides: over, Stdout: e.stdout, Stderr: e.stderr})
		if out != nil {
			e.emit("scenario", path, "steps", out.Steps)
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
				Name: "list", Usage: "the scenarios in <broker dir>/scenarios",
				Action: func(c *cli.Context) error {
					b, err := e.broker()
					if err != nil {
						return err
					}
					names, err := scenario.List(b.ScenariosDir())
					if err != nil {
						return err
					}
					e.emit("scenarios", names)
					for _, n := range names {
						fmt.Fprintln(e.stdout, n)
					}
					if len(names) == 0 {
						fmt.Fprintf(e.stderr, "no scenarios in %s\n", b.ScenariosDir())
					}
					return nil
				},
			},
			{
				Name: "info", Usage: "a scenario's description, variables and steps", ArgsUsage: "NAME|PATH",
				Action: func(c *cli.Context) error {
					sc, err := loadScenario(e, c)
					if err != nil {
						return err
					}
					var steps []string
					for _, s := range sc.Steps {
						steps = append(steps, fmt.Sprintf("%s (%s)", s.Name, s.Action))
					}
					info := map[string]any{"description": sc.Description, "variables": sc.Variables, "steps": steps}
					e.emit("info", info)
					return yaml.NewEncoder(e.stdout).Encode(info)
				},
			},
			{
				Name: "validate", Usage: "check a scenario against the schema (errors give the step and line)", ArgsUsage: "NAME|PATH",
				Action: func(c *cli.Context) error {
					if _, err := loadScenario(e, c); err != nil {
						return err
					}
					fmt.Fprintln(e.stdout, "Scenario is valid!")
					return nil
				},
			},
			execute,
		},
	}
}

func loadScenario(e *env, c *cli.Context) (*scenario.Scenario, error) {
	if c.NArg() != 1 {
		return nil, &usageError{msg: fmt.Sprintf("scenarios %s needs one scenario NAME or PATH", c.Command.Name)}
	}
	b, err := e.broker()
	if err != nil {
		return nil, err
	}
	path, err := b.FindScenario(c.Args().First())
	if err != nil {
		return nil, err
	}
	sc, err := scenario.Load(path)
	if err != nil {
		return nil, &scenarioError{err: err}
	}
	return sc, nil
}
