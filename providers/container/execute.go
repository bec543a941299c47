package container

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/broker-go/broker/providers"
)

// outputTail bounds the wait for the end of a stopped container's followed
// output before it is read again without following.
const outputTail = 2 * time.Second

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

	// The output is streamed (and counted) while the container runs.
	out := &countingWriter{w: opts.Stdout}
	errOut := &countingWriter{w: opts.Stderr}
	var stdout bytes.Buffer
	outW := io.MultiWriter(&stdout, out)
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	logsDone := make(chan error, 1)
	// One goroutine demultiplexes both streams, so writes never overlap.
	go func() { logsDone <- eng.Logs(lctx, id, true, outW, errOut) }()

	code, err := eng.Wait(ctx, id)
	if err != nil {
		stopLogs()
		<-logsDone
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		return res, fmt.Errorf("execute %s in container %s (removed): %w", image, cs.Name, err)
	}
	// The followed stream normally ends as the container stops. Podman 4.3
	// sometimes keeps a follow open after a quick exit: then the output is
	// read again, whole, from the stopped container, and what was not yet
	// streamed is written out.
	tail := time.NewTimer(outputTail)
	defer tail.Stop()
	select {
	case err = <-logsDone:
	case <-tail.C:
		stopLogs()
		<-logsDone
		err = p.rereadOutput(ctx, eng, id, &stdout, out, errOut)
	}
	if err != nil {
		return res, fmt.Errorf("execute %s in container %s (exit status %d): read its output: %w", image, cs.Name, code, err)
	}
	p.log.Debug("execute done", "name", cs.Name, "exit", code)
	return providers.ExecResult{Output: stdout.String(), ExitCode: code}, nil
}

// rereadOutput reads a stopped container's whole output without following,
// makes it the collected stdout, and streams what out and errOut have not
// yet written.
func (p *Provider) rereadOutput(ctx context.Context, eng engine, id string, stdout *bytes.Buffer, out, errOut *countingWriter) error {
	rctx, cancel := context.WithTimeout(ctx, removeTimeout)
	defer cancel()
	var o, e bytes.Buffer
	if err := eng.Logs(rctx, id, false, &o, &e); err != nil {
		return err
	}
	p.log.Debug("output read again after a followed stream did not end", "id", shortID(id))
	stdout.Reset()
	stdout.Write(o.Bytes())
	out.writeFrom(o.Bytes())
	errOut.writeFrom(e.Bytes())
	return nil
}

// countingWriter writes to w (if any) and counts what it wrote.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.n += len(b)
	if c.w == nil {
		return len(b), nil
	}
	return c.w.Write(b)
}

// writeFrom writes the part of all beyond what was already written.
func (c *countingWriter) writeFrom(all []byte) {
	if c.n < len(all) {
		c.Write(all[c.n:])
	}
}
