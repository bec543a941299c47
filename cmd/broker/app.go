package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/settings"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = ""

func brokerVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:                 "broker",
		Usage:                "check hosts out from providers, use them, check them back in",
		HideVersion:          true,
		EnableBashCompletion: true,
		Reader:               e.stdin,
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are mapped in main only
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return &usageError{msg: fmt.Sprintf("%v (see broker %s --help)", err, c.Command.FullName())}
		},
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "version", Usage: "print the version, the settings file and the inventory paths"},
			&cli.StringFlag{Name: "log-level", Usage: "console log level: " + levelNames, Destination: &e.logLevel},
			&cli.StringFlag{Name: "output-file", Usage: "write the command's result as JSON to `FILE` (replaced)", Destination: &e.outputFile},
			&cli.BoolFlag{Name: "no-color", Usage: "no colour on the console (also NO_COLOR)", Destination: &e.noColor},
			&cli.StringFlag{Name: "inventory-file", Usage: "use the inventory in `FILE` instead of <broker dir>/inventory.db (also BROKER_INVENTORY_FILE), e.g. a scenario's own inventory", Destination: &e.inventoryFile},
		},
		Before: func(c *cli.Context) error {
			if l := e.logLevel; l != "" && l != "silent" {
				if _, ok := levels[strings.ToLower(l)]; !ok {
					return &usageError{msg: fmt.Sprintf("--log-level %q: want one of %s", l, levelNames)}
				}
			}
			return nil
		},
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				return printVersion(e)
			}
			if c.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("unknown command %q (see broker --help)", c.Args().First())}
			}
			return cli.ShowAppHelp(c)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(e.stderr, "broker: unknown command %q (see broker --help)\n", name)
			e.exitCode = exitUsage
		},
		Commands: []*cli.Command{
			checkoutCommand(e),
			checkinCommand(e),
			inventoryCommand(e),
			execCommand(e),
			copyCommand(e),
			duplicateCommand(e),
			extendCommand(e),
			executeCommand(e),
			providersCommand(e),
			configCommand(e),
			scenariosCommand(e),
			completionCommand(e),
		},
	}
	return app
}

func printVersion(e *env) error {
	dir, err := settings.Dir(e.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "broker %s (%s %s/%s)\n", brokerVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(e.stdout, "Broker directory:  %s\n", dir)
	fmt.Fprintf(e.stdout, "Settings file:     %s\n", filepath.Join(dir, settings.FileName))
	inv := e.inventoryPath()
	if inv == "" {
		inv = filepath.Join(dir, broker.InventoryFile)
	}
	fmt.Fprintf(e.stdout, "Inventory file:    %s\n", inv)
	return nil
}
