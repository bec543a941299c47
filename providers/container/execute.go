package container

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/broker-go/broker/providers"
)

// outputTail bounds the wait for the rest of a stopped container's output.
const outputTail = 30 * time.Second

// Execute runs a throwaway container from args["container_app"] with
// args["command"], streams its output to opts.Stdout and opts.Stderr as it
// arrives (when they are not nil), waits for it to stop and removes it
// (also when ctx is cancelled). Output is its standard output as text and
// ExitCode its exit status. The container carries checkout's labels plus
// broker.ephemeral=true, so one left behind by a killed broker shows up in
// inventory --sync.
func (p *Provider) Execute(ctx context.Context, args providers.Args, opts providers.ExecOptions) (providers.ExecResult, error) {
	res := providers.ExecResult{ExitCode: -1}
	image := argString(args, "container_app")
	if image == "" {
		return res, providers.UserErrorf("execute needs an image: give --container-app IMAGE (see broker providers Container --container-apps)")
	}
	if cmd, err := parseCommand(args["command"]); err != nil {
		return res, err
	} else if len(cmd) == 0 {
		return res, providers.UserErrorf("execute needs a command: give --command CMD (e.g. --command \"sh -c 'echo hi'\")")
	}
	cs, err := p.spec(args, image, true)
	if err != nil {
		return res, err
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return res, err
	}
	id, err := p.launch(ctx, eng, cs)
	if err != nil {
		return res, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		if err := eng.Remove(rctx, id); err != nil {
			p.log.Debug("could not remove an execute container", "name", cs.Name, "id", shortID(id), "error", err)
		}
	}()

	var stdout bytes.Buffer
	outW := io.Writer(&stdout)
	if opts.Stdout != nil {
		outW = io.MultiWriter(&stdout, opts.Stdout)
	}
	// One goroutine demultiplexes both streams, so writes never overlap.
	var errW io.Writer
	if opts.Stderr != nil {
		errW = opts.Stderr
	}
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	logsDone := make(chan error, 1)
	go func() { logsDone <- eng.Logs(lctx, id, outW, errW) }()

	code, err := eng.Wait(ctx, id)
	if err != nil {
		stopLogs()
		<-logsDone
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		return res, fmt.Errorf("execute %s in container %s (removed): %w", image, cs.Name, err)
	}
	// The output stream ends when the container has stopped; wait for its
	// tail, within reason.
	tail := time.NewTimer(outputTail)
	defer tail.Stop()
	select {
	case err = <-logsDone:
	case <-tail.C:
		stopLogs()
		<-logsDone
		err = fmt.Errorf("the output did not end %v after the container stopped", outputTail)
	}
	if err != nil {
		return res, fmt.Errorf("execute %s in container %s (exit status %d): read its output: %w", image, cs.Name, code, err)
	}
	p.log.Debug("execute done", "name", cs.Name, "exit", code)
	return providers.ExecResult{Output: stdout.String(), ExitCode: code}, nil
}
