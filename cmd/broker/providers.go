package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/settings"
)

func providersCommand(e *env) *cli.Command {
	cmd := &cli.Command{
		Name:     "providers",
		Usage:    "list providers and their instances, or query one (broker providers NAME --help)",
		Category: "Extras",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("unknown provider %q: known providers are %s", c.Args().First(), strings.Join(providers.Default.Names(), ", "))}
			}
			b, err := e.broker()
			if err != nil {
				return err
			}
			list := b.Providers()
			e.emit("providers", list)
			cells := make([][]string, 0, len(list))
			for _, p := range list {
				inst := "-"
				if len(p.Instances) > 0 {
					var names []string
					for _, n := range p.Instances {
						if n == p.Default {
							n += " (default)"
						}
						names = append(names, n)
					}
					inst = strings.Join(names, ", ")
				}
				conf := "no"
				if p.Configured {
					conf = "yes"
				}
				cells = append(cells, []string{p.Name, conf, inst, p.Description})
			}
			writeColumns(e, []string{"Provider", "Configured", "Instances", "Description"}, cells)
			return nil
		},
	}
	for _, ri := range providers.Default.Infos() {
		cmd.Subcommands = append(cmd.Subcommands, providerInfoCommand(e, ri))
	}
	return cmd
}

func providerInfoCommand(e *env, ri *providers.RegInfo) *cli.Command {
	pflags, keys := providerFlags("providers")
	var mine []cli.Flag
	for _, f := range pflags {
		name := f.Names()[0]
		if contains(ri.InfoKeys, keys[name]) || name == ri.Name {
			mine = append(mine, f)
		}
	}
	return &cli.Command{
		Name:  ri.Name,
		Usage: fmt.Sprintf("query %s: %s", ri.Name, strings.Join(flagNames(ri.InfoKeys), ", ")),
		Flags: append(mine,
			&cli.StringFlag{Name: "results-filter", Usage: "keep results matching `FILTER` (e.g. '\"rhel\" in @res')"},
			&cli.IntFlag{Name: "results-limit", Usage: "show at most `N` results (default: the instance's results_limit)"},
		),
		Action: func(c *cli.Context) error {
			opts := broker.InfoOptions{ResultsFilter: c.String("results-filter"), ResultsLimit: c.Int("results-limit"), Instance: c.String(ri.Name)}
			for _, k := range ri.InfoKeys {
				name := strings.ReplaceAll(k, "_", "-")
				if !c.IsSet(name) {
					continue
				}
				if opts.Query != "" {
					return &usageError{msg: fmt.Sprintf("ask for one listing at a time (got --%s and --%s)", strings.ReplaceAll(opts.Query, "_", "-"), name)}
				}
				opts.Query = k
				if v := c.String(name); v != "true" && v != "false" {
					opts.Value = v
				}
			}
			if opts.Query == "" {
				return &usageError{msg: fmt.Sprintf("say what to list: one of %s (see broker providers %s --help)", strings.Join(flagNames(ri.InfoKeys), ", "), ri.Name)}
			}
			b, err := e.broker()
			if err != nil {
				return err
			}
			res, err := b.ProviderInfo(c.Context, ri.Name, opts)
			if err != nil {
				return err
			}
			e.emit("provider", ri.Name, "action", "provider_help", "arguments", map[string]any{opts.Query: firstNonEmpty(opts.Value, "true")}, "results", res.Items)
			if len(res.Items) == 0 {
				e.log.Warn("no results", "query", opts.Query)
				return nil
			}
			if res.Title != "" {
				fmt.Fprintf(e.stderr, "%s:\n", res.Title)
			}
			for _, it := range res.Items {
				if s, ok := it.(string); ok {
					fmt.Fprintln(e.stdout, s)
					continue
				}
				if err := yaml.NewEncoder(e.stdout).Encode(settings.Redact(it)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func flagNames(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = providers.FlagName(k)
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
