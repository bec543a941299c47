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
		Flags: append([]cli.Flag{
			backgroundFlag(),
			&cli.StringFlag{Name: "nick", Aliases: []string{"n"}, Usage: "use the arguments of this nick"},
			&cli.StringFlag{Name: "args-file", Usage: "read arguments from a JSON or YAML `FILE`"},
			&cli.StringFlag{Name: "output-format", Aliases: []string{"o"}, Value: "log", Usage: "log (stream as it runs), raw (print when done), yaml or json"},
			&cli.StringFlag{Name: "artifacts", Usage: "merge or last: return job artifacts instead of the job [AnsibleTower]"},
			&cli.StringFlag{Name: "provider-labels", Aliases: []string{"l"}, Usage: "labels k1=v1,k2=v2 for the provider"},
		}, pflags...),
	}
	cmd.Action = func(c *cli.Context) error {
		p, err := parseMixed(cmd, c.Args().Slice())
		if err != nil {
			return err
		}
		if p.help {
			return cli.ShowCommandHelp(c, cmd.Name)
		}
		if p.boolean("background") && !e.background {
			return e.goBackground(c)
		}
		format := p.str("output-format")
		switch format {
		case "log", "raw", "yaml", "json":
		default:
			return &usageError{msg: fmt.Sprintf("-o %q: want log, raw, yaml or json", format)}
		}
		opts := broker.ExecuteOptions{}
		opts.Args = argsFrom(p, keys)
		if a := p.str("artifacts"); a != "" {
			if a != "merge" && a != "last" {
				return &usageError{msg: fmt.Sprintf("--artifacts %q: want merge or last", a)}
			}
			opts.Args["artifacts"] = a
		}
		opts.Nick = p.str("nick")
		opts.ArgsFile = p.str("args-file")
		if l := p.str("provider-labels"); l != "" {
			opts.Labels = broker.ParseLabels(l)
		}
		return runExecute(c.Context, e, opts, format)
	}
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
