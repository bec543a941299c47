package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/settings"
)

func executeCommand(e *env) *cli.Command {
	pflags, keys := providerFlags("execute")
	cmd := &cli.Command{
		Name:      "execute",
		Usage:     "run a one-off provider action (a throwaway container, a job template) and print its result",
		UsageText: "broker execute [--container-app IMAGE --command CMD | --workflow NAME] [-o log|raw|yaml|json] [--KEY VALUE ...]",
		Description: "Any --KEY VALUE not listed below is passed to the provider. broker exits with the action's own\n" +
			"status when it reports one (a container's exit code).",
		Category:        "Extras",
		SkipFlagParsing: true,
		Flags: append(append([]cli.Flag{
			backgroundFlag(),
			&cli.StringFlag{Name: "output-format", Aliases: []string{"o"}, Value: "log", Usage: "log (stream as it runs), raw (print when done), yaml or json"},
			&cli.StringFlag{Name: "artifacts", Usage: "merge or last: return job artifacts instead of the job [AnsibleTower]"},
		}, argsFlags()...), pflags...),
	}
	cmd.Action = passThroughAction(e, cmd, func(c *cli.Context, p *parsed) error {
		format := p.str("output-format")
		switch format {
		case "log", "raw", "yaml", "json":
		default:
			return &usageError{msg: fmt.Sprintf("-o %q: want log, raw, yaml or json", format)}
		}
		opts := broker.ExecuteOptions{}
		opts.ArgsRequest, opts.Labels = argsRequest(p, keys)
		if a := p.str("artifacts"); a != "" {
			if a != "merge" && a != "last" {
				return &usageError{msg: fmt.Sprintf("--artifacts %q: want merge or last", a)}
			}
			opts.Args["artifacts"] = a
		}
		return runExecute(c.Context, e, opts, format)
	})
	return cmd
}

func runExecute(ctx context.Context, e *env, opts broker.ExecuteOptions, format string) error {
	b, err := e.broker()
	if err != nil {
		return err
	}
	if format == "log" {
		opts.Stdout, opts.Stderr = e.stdout, e.stderr
	}
	res, err := b.Execute(ctx, opts)
	if err != nil {
		return err
	}
	e.emit("provider", res.Provider, "action", res.Action, "arguments", res.Args, "output", res.Output, "status", res.ExitCode)
	switch format {
	case "raw":
		printRaw(e.stdout, res.Output)
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(settings.Redact(map[string]any{"output": res.Output, "status": res.ExitCode})); err != nil {
			return err
		}
	case "yaml":
		if err := yaml.NewEncoder(e.stdout).Encode(settings.Redact(map[string]any{"output": res.Output, "status": res.ExitCode})); err != nil {
			return err
		}
	case "log":
		if _, isText := res.Output.(string); !isText {
			printRaw(e.stdout, res.Output)
		}
	}
	if res.ExitCode != 0 {
		return &statusError{code: res.ExitCode}
	}
	return nil
}

func printRaw(w io.Writer, v any) {
	switch t := v.(type) {
	case string:
		io.WriteString(w, t)
	case nil:
	default:
		yaml.NewEncoder(w).Encode(settings.Redact(t))
	}
}
