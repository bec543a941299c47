package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/settings"
)

type inventoryOptions struct {
	details, list bool
	filter        string
	sync          string
	importFile    string
	ansible       bool
}

func inventoryCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:     "inventory",
		Usage:    "list the hosts in the local inventory",
		Category: "Core actions",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "details", Usage: "show every field of each host (YAML)"},
			&cli.BoolFlag{Name: "list", Usage: "compact view: id and inventory_list_vars"},
			&cli.StringFlag{Name: "filter", Usage: "only hosts matching `FILTER` (e.g. '@inv.hostname == \"x\"' or legacy 'name<rhel')"},
			&cli.StringFlag{Name: "sync", Usage: "first sync the inventory with `PROVIDER[:arg][::instance]`"},
			&cli.StringFlag{Name: "import", Usage: "take over an upstream broker inventory.yaml `FILE` (adds its hosts)"},
			&cli.BoolFlag{Name: "ansible", Usage: "print an Ansible dynamic inventory (JSON, with _meta.hostvars) for ansible-playbook -i"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("inventory takes no arguments, got %q (see broker inventory --help)", c.Args().First())}
			}
			return runInventory(c.Context, e, inventoryOptions{
				details: c.Bool("details"), list: c.Bool("list"), filter: c.String("filter"),
				sync: c.String("sync"), importFile: c.String("import"), ansible: c.Bool("ansible"),
			})
		},
	}
}

func runInventory(ctx context.Context, e *env, opts inventoryOptions) error {
	b, err := e.broker()
	if err != nil {
		return err
	}
	if opts.importFile != "" {
		if err := runImport(ctx, e, b, opts.importFile); err != nil {
			return err
		}
	}
	if opts.sync != "" {
		res, err := b.Sync(ctx, opts.sync)
		if err != nil {
			return err
		}
		printSync(e, res)
		e.emit("sync", map[string]any{"provider": res.Provider, "instance": res.Instance,
			"added": res.Added, "updated": res.Updated, "removed": res.Removed})
	}
	if opts.ansible {
		inv, err := b.AnsibleInventory(ctx, opts.filter)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	}
	recs, err := b.Inventory(ctx, opts.filter)
	if err != nil {
		return err
	}
	hosts := make([]inventory.Host, len(recs))
	for i, r := range recs {
		hosts[i] = r.Host
	}
	e.emit("inventory", hosts)
	switch {
	case opts.details:
		return printDetails(e, recs)
	case len(recs) == 0:
		fmt.Fprintln(e.stderr, "No hosts found in inventory.")
	case opts.list:
		spec := b.Settings().InventoryListVars()
		ak := actionKeys(b)
		cells := make([][]string, len(recs))
		for i, r := range recs {
			cells[i] = []string{idString(i), inventory.Render(spec, r.Host, ak)}
		}
		writeColumns(e, nil, cells)
	default:
		rows := make([]row, len(recs))
		for i, r := range recs {
			rows[i] = row{id: i, host: r.Host}
		}
		printTable(e, b, rows)
	}
	return nil
}

func printDetails(e *env, recs []inventory.Record) error {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for i, r := range recs {
		var v yaml.Node
		if err := v.Encode(settings.Redact(map[string]any(inventory.HumanizeTimes(r.Host)))); err != nil {
			return err
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(i)}, &v)
	}
	enc := yaml.NewEncoder(e.stdout)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(doc)
}

func printSync(e *env, res *broker.SyncResult) {
	where := res.Provider
	if res.Instance != "" {
		where += "/" + res.Instance
	}
	for _, h := range res.Added {
		fmt.Fprintf(e.stderr, "+ %s (added from %s)\n", h.Label(), where)
	}
	for _, h := range res.Updated {
		fmt.Fprintf(e.stderr, "~ %s (updated)\n", h.Label())
	}
	for _, h := range res.Removed {
		fmt.Fprintf(e.stderr, "- %s (gone from %s, removed)\n", h.Label(), where)
	}
	fmt.Fprintf(e.stderr, "sync %s: %d added, %d updated, %d removed\n", where, len(res.Added), len(res.Updated), len(res.Removed))
}

func runImport(ctx context.Context, e *env, b *broker.Broker, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--import: %v (give the path of an upstream broker inventory.yaml)", err)}
	}
	defer f.Close()
	hosts, err := inventory.ReadYAML(f)
	if err != nil {
		return fmt.Errorf("--import %s: %w", path, err)
	}
	added, skipped, err := b.InventoryStore().Import(ctx, hosts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imported %d host(s) from %s (%d already present)\n", added, path, skipped)
	e.emit("imported", added, "skipped", skipped)
	return nil
}
