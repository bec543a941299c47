// Command broker checks hosts out from providers (containers on Docker or
// Podman, VMs through Ansible Tower/AWX), keeps them in a local inventory,
// and checks them back in. It is a thin layer over the broker library:
// flag parsing and printing only.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// run is main without the process exit, for tests (testscript calls it
// in a subprocess).
func run(args []string, stdin *os.File, stdout, stderr *os.File, environ []string) int {
	// The Podman bindings log through logrus; broker reports what matters
	// through its own errors and logs.
	logrus.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handlers: a second
		// Ctrl-C ends the process at once.
		<-ctx.Done()
		stop()
	}()
	e := newEnv(stdin, stdout, stderr, environ)
	defer e.close()
	app := newApp(e)
	err := app.RunContext(ctx, reorderFlags(app, args))
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return e.finish(ctx, err)
}
