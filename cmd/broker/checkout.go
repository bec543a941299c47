package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

type checkoutOptions struct {
	broker.CheckoutOptions
	countSet bool
}

func checkoutCommand(e *env) *cli.Command {
	pflags, keys := providerFlags("checkout")
	cmd := &cli.Command{
		Name:      "checkout",
		Usage:     "check hosts out from a provider and record them in the inventory",
		UsageText: "broker checkout [--nick NICK | --container-host IMAGE | --workflow NAME] [--count N] [--args-file FILE] [--KEY VALUE ...]",
		Description: "Any --KEY VALUE (or KEY=VALUE) not listed below is passed to the provider as an argument.\n" +
			"A VALUE naming a readable .json/.yaml file is replaced by the file's content.\n" +
			"Precedence: command line > --args-file > --nick.",
		Category:        "Core actions",
		SkipFlagParsing: true,
		Flags: append(append([]cli.Flag{
			backgroundFlag(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "check out `N` hosts at once (concurrently, bounded by thread_limit)"},
		}, argsFlags()...), pflags...),
	}
	cmd.Action = passThroughAction(e, cmd, func(c *cli.Context, p *parsed) error {
		opts := checkoutOptions{countSet: p.isSet("count")}
		opts.ArgsRequest, opts.Labels = argsRequest(p, keys)
		opts.Count = p.integer("count")
		return runCheckout(c.Context, e, opts)
	})
	return cmd
}

func runCheckout(ctx context.Context, e *env, opts checkoutOptions) error {
	if opts.countSet && opts.Count < 1 {
		return providers.UserErrorf("--count must be at least 1, got %d", opts.Count)
	}
	b, err := e.broker()
	if err != nil {
		return err
	}
	res, err := b.Checkout(ctx, opts.CheckoutOptions)
	if err != nil {
		return err
	}
	e.emit("provider", res.Provider, "action", res.Action, "arguments", res.Args, "hosts", res.Hosts())
	return printNewHosts(ctx, e, b, res.Records)
}

// printNewHosts shows new hosts with their local ids, as broker inventory
// would.
func printNewHosts(ctx context.Context, e *env, b *broker.Broker, recs []inventory.Record) error {
	all, err := b.Inventory(ctx, "")
	if err != nil {
		return err
	}
	ids := map[uint64]int{}
	for i, r := range all {
		ids[r.Key] = i
	}
	rows := make([]row, 0, len(recs))
	for _, r := range recs {
		id, ok := ids[r.Key]
		if !ok {
			id = -1
		}
		rows = append(rows, row{id: id, host: r.Host})
	}
	printTable(e, b, rows)
	fmt.Fprintln(e.stderr, pluralHosts(len(recs), "checked out"))
	return nil
}

func pluralHosts(n int, what string) string {
	if n == 1 {
		return "1 host " + what
	}
	return fmt.Sprintf("%d hosts %s", n, what)
}
