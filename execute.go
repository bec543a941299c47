package broker

import (
	"context"
	"io"

	"github.com/broker-go/broker/providers"
)

// ExecuteOptions describe a one-off provider action (broker execute).
type ExecuteOptions struct {
	ArgsRequest
	Labels map[string]string
	// Stdout and Stderr receive the action's output as it arrives (nil =
	// collect only).
	Stdout, Stderr io.Writer
}

// ExecuteResult is an action's result.
type ExecuteResult struct {
	Provider, Instance string
	Action             string
	Args               Args
	Output             any
	ExitCode           int
}

// Execute runs a provider's one-off action (a throwaway container, a job
// template) and returns its output and status.
func (b *Broker) Execute(ctx context.Context, opts ExecuteOptions) (*ExecuteResult, error) {
	args, err := b.ResolveArgs(opts.ArgsRequest)
	if err != nil {
		return nil, err
	}
	ri, key, err := b.reg.ForAction(args, true)
	if err != nil {
		return nil, err
	}
	instance, err := takeInstance(args, ri.Name)
	if err != nil {
		return nil, err
	}
	p, _, err := b.provider(ctx, ri.Name, instance)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	ex, ok := p.(providers.Executor)
	if !ok {
		return nil, &providers.UnsupportedError{Provider: ri.Name, Action: "execute"}
	}
	if _, ok := args["_broker_origin"]; !ok {
		args["_broker_origin"] = b.origin
	}
	if l := b.labels(opts.Labels); len(l) > 0 {
		args["provider_labels"] = l
	}
	b.log.Info("executing", append(provAttrs(p), "action", key, "value", args[key])...)
	out, err := ex.Execute(ctx, args, providers.ExecOptions{Stdout: opts.Stdout, Stderr: opts.Stderr})
	if err != nil {
		return nil, &providers.Error{Provider: ri.Name, Instance: p.Instance(), Action: "execute", Err: err}
	}
	return &ExecuteResult{Provider: ri.Name, Instance: p.Instance(), Action: key, Args: args, Output: out.Output, ExitCode: out.ExitCode}, nil
}
