package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
)

// urfave/cli rejects flags it does not know, but checkout and execute take
// arbitrary "--key value" provider arguments (as upstream). Those commands
// set SkipFlagParsing and call parseMixed, which splits the raw tokens: the
// command's declared flags are parsed by a flag.FlagSet built from the same
// cli.Flag values (so help and completion still describe them), everything
// else becomes broker arguments through broker.ParseArgs.

// parsed is the result of parseMixed.
type parsed struct {
	fs         *flag.FlagSet
	flags      []cli.Flag
	extra      broker.Args
	positional []string // bare words (not KEY=VALUE), for commands that take them
	help       bool
}

// lookup returns the flag.Flag that holds the value of the cli.Flag named
// name: urfave registers each alias (-c, --count) as its own flag.Flag, so
// the one that was set wins, else the primary name.
func (p *parsed) lookup(name string) (f *flag.Flag, set bool) {
	names := []string{name}
	for _, cf := range p.flags {
		if contains(cf.Names(), name) {
			names = cf.Names()
			break
		}
	}
	p.fs.Visit(func(v *flag.Flag) {
		if !set && contains(names, v.Name) {
			f, set = v, true
		}
	})
	if f == nil {
		f = p.fs.Lookup(name)
	}
	return f, set
}

func (p *parsed) isSet(name string) bool {
	_, set := p.lookup(name)
	return set
}

func (p *parsed) str(name string) string {
	if f, _ := p.lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func (p *parsed) boolean(name string) bool { return p.str(name) == "true" }

func (p *parsed) integer(name string) int {
	if f, _ := p.lookup(name); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if n, ok := g.Get().(int); ok {
				return n
			}
		}
	}
	return 0
}

type boolFlag interface{ IsBoolFlag() bool }

func parseMixed(cmd *cli.Command, tokens []string) (*parsed, error) {
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range cmd.Flags {
		if err := f.Apply(fs); err != nil {
			return nil, err
		}
	}
	var known, rest []string
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		if tok == "--" {
			rest = append(rest, tokens[i+1:]...)
			break
		}
		if tok == "-h" || tok == "--help" {
			return &parsed{help: true}, nil
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
		if !strings.HasPrefix(tok, "-") || name == "" {
			rest = append(rest, tok)
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			// a provider argument: it and its value pass through
			rest = append(rest, tok)
			if !hasValue && strings.HasPrefix(tok, "--") && i+1 < len(tokens) {
				rest = append(rest, tokens[i+1])
				i++
			}
			continue
		}
		known = append(known, tok)
		if bf, ok := f.Value.(boolFlag); ok && bf.IsBoolFlag() || hasValue {
			continue
		}
		if i+1 >= len(tokens) {
			return nil, &usageError{msg: fmt.Sprintf("flag %s needs a value (see broker %s --help)", tok, cmd.Name)}
		}
		known = append(known, tokens[i+1])
		i++
	}
	if err := fs.Parse(known); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("%v (see broker %s --help)", err, cmd.Name)}
	}
	if fs.NArg() > 0 {
		rest = append(fs.Args(), rest...)
	}
	var positional, pass []string
	for i := 0; i < len(rest); i++ {
		t := rest[i]
		switch {
		case strings.HasPrefix(t, "--") && !strings.Contains(t, "="):
			pass = append(pass, t)
			if i+1 < len(rest) {
				pass = append(pass, rest[i+1])
				i++
			}
		case strings.HasPrefix(t, "-") || strings.Contains(t, "="):
			pass = append(pass, t)
		default:
			positional = append(positional, t)
		}
	}
	if len(positional) > 0 && !cmd.Args {
		// a command without positional arguments: let ParseArgs name the word
		pass = rest
		positional = nil
	}
	extra, err := broker.ParseArgs(pass)
	if err != nil {
		return nil, err
	}
	return &parsed{fs: fs, flags: cmd.Flags, extra: extra, positional: positional}, nil
}

// passThroughAction is the Action of a command that takes pass-through
// provider arguments: it splits the tokens, answers --help and -b, then
// calls run.
func passThroughAction(e *env, cmd *cli.Command, run func(*cli.Context, *parsed) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		p, err := parseMixed(cmd, c.Args().Slice())
		if err != nil {
			return err
		}
		if p.help {
			return showHelp(c, cmd)
		}
		if p.boolean("background") && !e.background {
			return e.goBackground(c)
		}
		return run(c, p)
	}
}

// argsFlags are the flags that build broker arguments besides the
// provider's own: a nick, an args file and provider labels.
func argsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nick", Aliases: []string{"n"}, Usage: "use the arguments of this nick from the settings"},
		&cli.StringFlag{Name: "args-file", Usage: "read arguments from a JSON or YAML `FILE`"},
		&cli.StringFlag{Name: "provider-labels", Aliases: []string{"l"}, Usage: "labels k1=v1,k2=v2 for the provider"},
	}
}

// argsRequest collects what argsFlags and the provider flags gave.
func argsRequest(p *parsed, keys map[string]string) (broker.ArgsRequest, map[string]string) {
	req := broker.ArgsRequest{Args: argsFrom(p, keys), Nick: p.str("nick"), ArgsFile: p.str("args-file")}
	var labels map[string]string
	if l := p.str("provider-labels"); l != "" {
		labels = broker.ParseLabels(l)
	}
	return req, labels
}

// showHelp prints a command's help from inside its own Action (urfave looks
// the command up among the parent's commands).
func showHelp(c *cli.Context, cmd *cli.Command) error {
	if lin := c.Lineage(); len(lin) > 1 && lin[1] != nil {
		return cli.ShowCommandHelp(lin[1], cmd.Name)
	}
	return cli.ShowCommandHelp(c, cmd.Name)
}
