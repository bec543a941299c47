package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/providers"
)

// providerFlags are the flags registered providers contribute to a command
// (from their RegInfo, never by name here), plus "--<Provider> INSTANCE" to
// pick an instance. keys maps each flag name to its broker-argument key.
func providerFlags(command string) (flags []cli.Flag, keys map[string]string) {
	keys = map[string]string{}
	seen := map[string]bool{}
	for _, ri := range providers.Default.Infos() {
		for _, f := range ri.Flags {
			if !contains(f.Commands, command) || seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			keys[f.Name] = f.Key
			usage := fmt.Sprintf("%s [%s]", f.Usage, ri.Name)
			if f.Bool {
				flags = append(flags, &cli.BoolFlag{Name: f.Name, Usage: usage, Category: ri.Name})
			} else {
				flags = append(flags, &cli.StringFlag{Name: f.Name, Usage: usage, Category: ri.Name})
			}
		}
		if command != "checkin" && command != "inventory" {
			keys[ri.Name] = ri.Name
			flags = append(flags, &cli.StringFlag{Name: ri.Name, Usage: fmt.Sprintf("use this %s instance (default: the one marked default: true)", ri.Name), Category: ri.Name})
		}
	}
	return flags, keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// argsFrom collects the provider flags that were set into broker
// arguments; extra (pass-through) arguments win, as upstream.
func argsFrom(p *parsed, keys map[string]string) broker.Args {
	args := broker.Args{}
	for name, key := range keys {
		if !p.isSet(name) {
			continue
		}
		if f := p.fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(boolFlag); ok && bf.IsBoolFlag() {
				args[key] = p.boolean(name)
				continue
			}
		}
		args[key] = p.str(name)
	}
	for k, v := range p.extra {
		args[k] = v
	}
	return args
}
