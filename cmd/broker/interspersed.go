package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderFlags lets flags follow positional arguments ("broker checkin 0 1
// --sequential", "broker config init logging --from f.yaml"), as upstream's
// click allows: urfave/cli v2 stops parsing flags at the first positional
// argument, so the flags of the chosen command are moved in front of its
// positional arguments. Commands that parse their own tokens
// (SkipFlagParsing) and everything after "--" are left alone.
func reorderFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := skipFlags(app.Flags, args, 1)
	var cmd *cli.Command
	cmds := app.Commands
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		cmd, i = c, i+1
		if len(c.Subcommands) == 0 {
			break
		}
		cmds = c.Subcommands
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	var flags, pos []string
	for j := i; j < len(args); j++ {
		t := args[j]
		if t == "--" {
			pos = append(pos, args[j:]...)
			break
		}
		if len(t) > 1 && strings.HasPrefix(t, "-") {
			flags = append(flags, t)
			name, _, hasValue := strings.Cut(strings.TrimLeft(t, "-"), "=")
			if !hasValue && takesValue(cmd.Flags, name) && j+1 < len(args) {
				flags = append(flags, args[j+1])
				j++
			}
			continue
		}
		pos = append(pos, t)
	}
	out := append(append([]string(nil), args[:i]...), flags...)
	return append(out, pos...)
}

// skipFlags returns the index of the first token at or after i that is not
// one of flags (or a flag's value).
func skipFlags(flags []cli.Flag, args []string, i int) int {
	for i < len(args) && len(args[i]) > 1 && strings.HasPrefix(args[i], "-") {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		i++
		if !hasValue && takesValue(flags, name) {
			i++
		}
	}
	return i
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name || contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

func takesValue(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		if !contains(f.Names(), name) {
			continue
		}
		_, isBool := f.(*cli.BoolFlag)
		return !isBool
	}
	return false
}
