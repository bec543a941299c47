package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/settings"
)

func configCommand(e *env) *cli.Command {
	one := func(c *cli.Context, what string) (string, error) {
		switch c.NArg() {
		case 0:
			return "", nil
		case 1:
			return c.Args().First(), nil
		}
		return "", &usageError{msg: fmt.Sprintf("config %s takes at most one %s", c.Command.Name, what)}
	}
	return &cli.Command{
		Name:     "config",
		Usage:    "view and change the settings file",
		Category: "Extras",
		Subcommands: []*cli.Command{
			{
				Name: "view", Usage: "print the settings file, or one dotted chunk of it (secrets hidden)", ArgsUsage: "[CHUNK]",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "effective", Usage: "the settings in effect (defaults < file < environment), not the file"}},
				Action: func(c *cli.Context) error {
					chunk, err := one(c, "chunk")
					if err != nil {
						return err
					}
					set, err := e.settings()
					if err != nil {
						return err
					}
					if c.Bool("effective") {
						return viewEffective(e, set, chunk)
					}
					out, err := settings.ViewChunk(set.File, chunk)
					if err != nil {
						return err
					}
					_, err = e.stdout.Write(out)
					return err
				},
			},
			{
				Name: "set", Usage: "set a dotted chunk to a value (a YAML scalar, or the content of a .json/.yaml file); keeps one backup", ArgsUsage: "CHUNK VALUE",
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return &usageError{msg: "config set needs CHUNK VALUE, e.g. broker config set logging.console_level debug"}
					}
					set, err := e.settings()
					if err != nil {
						return err
					}
					var value any = c.Args().Get(1)
					if s := c.Args().Get(1); strings.HasSuffix(s, ".json") || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") {
						if raw, err := os.ReadFile(s); err == nil {
							var v any
							if err := yaml.Unmarshal(raw, &v); err != nil {
								return &usageError{msg: fmt.Sprintf("config set: %s is not valid JSON/YAML: %v", s, err)}
							}
							value = v
						}
					}
					if err := settings.SetChunk(set.File, c.Args().First(), value); err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "set %s in %s (previous file kept as backup; broker config restore undoes it)\n", c.Args().First(), set.File)
					return nil
				},
			},
			{
				Name: "restore", Usage: "put back the settings file as it was before the last change",
				Action: func(c *cli.Context) error {
					set, err := e.settings()
					if err != nil {
						return err
					}
					if err := settings.Restore(set.File); err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "restored %s from its backup\n", set.File)
					return nil
				},
			},
			{
				Name: "nicks", Usage: "list the nicks",
				Action: func(c *cli.Context) error {
					set, err := e.settings()
					if err != nil {
						return err
					}
					names := set.Nicks()
					e.emit("nicks", names)
					for _, n := range names {
						fmt.Fprintln(e.stdout, n)
					}
					return nil
				},
			},
			{
				Name: "nick", Usage: "print one nick's arguments", ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return &usageError{msg: "config nick needs a NAME (broker config nicks lists them)"}
					}
					set, err := e.settings()
					if err != nil {
						return err
					}
					n, err := set.Nick(c.Args().First())
					if err != nil {
						return err
					}
					e.emit("nick", n)
					return yaml.NewEncoder(e.stdout).Encode(settings.Redact(n))
				},
			},
			{
				Name: "validate", Usage: "check the settings: base, ssh, a provider (Provider or Provider:instance), or all", ArgsUsage: "[CHUNK|all]",
				Action: func(c *cli.Context) error {
					chunk, err := one(c, "chunk")
					if err != nil {
						return err
					}
					if chunk == "" {
						chunk = "all"
					}
					b, err := e.broker()
					if err != nil {
						return err
					}
					if err := b.Validate(c.Context, chunk); err != nil {
						return err
					}
					fmt.Fprintln(e.stdout, "Validation passed!")
					return nil
				},
			},
			{
				Name: "init", Usage: "write the settings file (or one chunk of it) from the example or --from FILE; keeps one backup", ArgsUsage: "[CHUNK]",
				Flags: []cli.Flag{&cli.StringFlag{Name: "from", Usage: "take the content from `FILE` instead of the built-in example"}},
				Action: func(c *cli.Context) error {
					chunk, err := one(c, "chunk")
					if err != nil {
						return err
					}
					src := broker.ExampleSettings()
					if f := c.String("from"); f != "" {
						if src, err = os.ReadFile(f); err != nil {
							return &usageError{msg: fmt.Sprintf("config init --from: %v", err)}
						}
					}
					dir, err := settings.Dir(e.getenv)
					if err != nil {
						return err
					}
					file := dir + "/" + settings.FileName
					if err := settings.Init(file, chunk, src); err != nil {
						return err
					}
					what := "the whole file"
					if chunk != "" {
						what = chunk
					}
					fmt.Fprintf(e.stderr, "wrote %s of %s\n", what, file)
					return nil
				},
			},
		},
	}
}

// viewEffective prints the merged settings (or a chunk), redacted: a scalar
// alone on its line, anything else as YAML.
func viewEffective(e *env, set *settings.Settings, chunk string) error {
	var v any = set.All()
	if chunk != "" {
		if v = set.Get(chunk); v == nil {
			return &settings.NotFoundError{Kind: "chunk", Name: chunk, Hint: "see broker config view --effective"}
		}
		if settings.IsSensitive(chunk[strings.LastIndex(chunk, ".")+1:]) {
			v = settings.Secret(fmt.Sprint(v))
		}
	}
	v = settings.Redact(v)
	switch t := v.(type) {
	case map[string]any, []any:
		return yaml.NewEncoder(e.stdout).Encode(t)
	}
	_, err := fmt.Fprintln(e.stdout, v)
	return err
}
