package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
)

func backgroundFlag() cli.Flag {
	return &cli.BoolFlag{Name: "background", Aliases: []string{"b"}, Usage: "run in a detached background process; print its pid and log file, return at once"}
}

func selectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "all", Usage: "every host in the inventory (narrowed by --filter)"},
		&cli.StringFlag{Name: "filter", Usage: "narrow the inventory with `FILTER` first; ids are positions in the filtered list"},
	}
}

func selection(c *cli.Context) broker.Selection {
	return broker.Selection{Hosts: c.Args().Slice(), All: c.Bool("all"), Filter: c.String("filter")}
}

func checkinCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "checkin",
		Usage:     "release hosts and remove them from the inventory",
		ArgsUsage: "[ID|HOSTNAME|NAME ...]",
		Category:  "Core actions",
		Flags: append([]cli.Flag{
			backgroundFlag(),
			&cli.BoolFlag{Name: "sequential", Usage: "one host at a time (default: concurrently, bounded by thread_limit)"},
		}, selectionFlags()...),
		Action: func(c *cli.Context) error {
			if c.Bool("background") && !e.background {
				return e.goBackground(c)
			}
			return runCheckin(c.Context, e, broker.CheckinOptions{Selection: selection(c), Sequential: c.Bool("sequential")})
		},
	}
}

func runCheckin(ctx context.Context, e *env, opts broker.CheckinOptions) error {
	b, err := e.broker()
	if err != nil {
		return err
	}
	res, err := b.Checkin(ctx, opts)
	reportBatch(e, res, "checked in")
	return err
}

// reportBatch prints one line per host and emits the per-host results.
func reportBatch(e *env, res *broker.BatchResult, done string) {
	if res == nil {
		return
	}
	if len(res.NotFound) > 0 {
		e.log.Warn("these hosts are not in the inventory: " + strings.Join(res.NotFound, ", "))
	}
	var out []map[string]any
	ok := 0
	for _, o := range res.Outcomes {
		r := map[string]any{"hostname": o.Record.Host.Hostname(), "name": o.Record.Host.Name(), "ok": o.Err == nil}
		switch {
		case o.Err != nil:
			r["error"] = o.Err.Error()
		case o.AlreadyGone:
			r["already_gone"] = true
			ok++
			fmt.Fprintf(e.stdout, "%s: already gone from its provider; record removed\n", o.Record.Host.Label())
		default:
			ok++
			fmt.Fprintf(e.stdout, "%s: %s\n", o.Record.Host.Label(), done)
		}
		out = append(out, r)
	}
	if len(res.Outcomes) > 0 {
		e.emit("hosts", out)
		fmt.Fprintf(e.stderr, "%s: %d of %d host(s) %s\n", res.Action, ok, len(res.Outcomes), done)
	}
	if len(res.NotFound) > 0 {
		e.emit("not_found", res.NotFound)
	}
}

func duplicateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "duplicate",
		Usage:     "check out new hosts with the same arguments as hosts in the inventory",
		ArgsUsage: "[ID|HOSTNAME|NAME ...]",
		Category:  "Extras",
		Flags: append([]cli.Flag{
			backgroundFlag(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 1, Usage: "`N` copies of each selected host"},
		}, selectionFlags()...),
		Action: func(c *cli.Context) error {
			if c.Bool("background") && !e.background {
				return e.goBackground(c)
			}
			if c.Int("count") < 1 {
				return &usageError{msg: fmt.Sprintf("--count must be at least 1, got %d", c.Int("count"))}
			}
			b, err := e.broker()
			if err != nil {
				return err
			}
			results, notFound, err := b.Duplicate(c.Context, broker.DuplicateOptions{Selection: selection(c), Count: c.Int("count")})
			if len(notFound) > 0 {
				e.log.Warn("these hosts are not in the inventory: " + strings.Join(notFound, ", "))
			}
			var hosts []any
			var recs = results
			for _, r := range recs {
				for _, h := range r.Hosts() {
					hosts = append(hosts, h)
				}
				if perr := printNewHosts(c.Context, e, b, r.Records); perr != nil && err == nil {
					err = perr
				}
			}
			e.emit("hosts", hosts)
			return err
		},
	}
}

func extendCommand(e *env) *cli.Command {
	pflags, keys := providerFlags("extend")
	return &cli.Command{
		Name:      "extend",
		Usage:     "extend the leases of hosts",
		ArgsUsage: "[ID|HOSTNAME|NAME ...]",
		Category:  "Extras",
		Flags: append(append([]cli.Flag{
			backgroundFlag(),
			&cli.BoolFlag{Name: "sequential", Usage: "one host at a time"},
		}, selectionFlags()...), pflags...),
		Action: func(c *cli.Context) error {
			if c.Bool("background") && !e.background {
				return e.goBackground(c)
			}
			args := broker.Args{}
			for name, key := range keys {
				if c.IsSet(name) {
					args[key] = c.String(name)
				}
			}
			b, err := e.broker()
			if err != nil {
				return err
			}
			res, err := b.Extend(c.Context, broker.ExtendOptions{Selection: selection(c), Args: args, Sequential: c.Bool("sequential")})
			e.emit("action", "extend", "arguments", args)
			reportBatch(e, res, "extended")
			return err
		},
	}
}
