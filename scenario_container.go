package broker

import (
	"context"
	"fmt"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/providers/container"
	"github.com/broker-go/broker/scenario"
)

var (
	_ scenario.ContainerRunner = (*scenarioBroker)(nil)
	_ scenario.Snapshotter     = (*scenarioBroker)(nil)
)

// RunContainer runs a scenario's container step through the Container
// provider: on the engine of spec.Host's instance, or of the default
// Container instance when spec.Host is nil. A non-zero exit status is not
// an error here (Result.Status); the scenario action decides.
func (s *scenarioBroker) RunContainer(ctx context.Context, spec scenario.ContainerSpec) (scenario.Result, error) {
	res := scenario.Result{Status: -1}
	instance := ""
	if spec.Host != nil {
		rec, err := s.containerRecord(spec.Host, "the container action")
		if err != nil {
			return res, err
		}
		instance = rec.Instance()
	}
	p, err := s.containerProvider(ctx, instance)
	if err != nil {
		return res, err
	}
	defer p.Close()
	oo := container.OneOff{
		Image:   spec.Image,
		Command: spec.Command,
		Env:     spec.Env,
		WorkDir: spec.Workdir,
		Stdin:   spec.Stdin,
		Origin:  s.origin,
		Timeout: spec.Timeout,
	}
	if spec.Name != "" {
		oo.Origin += ":" + spec.Name
	}
	if spec.Shell != "" {
		oo.Command = []string{"sh", "-c", spec.Shell}
	}
	for _, v := range spec.Volumes {
		oo.Volumes = append(oo.Volumes, container.Mount{Source: v.Source, Target: v.Target, RW: v.RW})
	}
	switch spec.Output {
	case "", "stdout", "stderr":
	default:
		oo.OutputFile = spec.Output
	}
	r, err := p.RunOnce(ctx, oo)
	res = scenario.Result{Status: r.Status, Stdout: r.Stdout, Stderr: r.Stderr}
	switch spec.Output {
	case "", "stdout":
	case "stderr":
		res.Stdout = r.Stderr
	default:
		res.Stdout = r.File
	}
	return res, err
}

// Snapshot commits the container of h (a Container host) to image ref.
func (s *scenarioBroker) Snapshot(ctx context.Context, h scenario.Host, ref string) (string, error) {
	rec, err := s.containerRecord(h, "snapshot")
	if err != nil {
		return "", err
	}
	p, err := s.containerProvider(ctx, rec.Instance())
	if err != nil {
		return "", err
	}
	defer p.Close()
	return p.Commit(ctx, rec, ref)
}

// containerRecord is h's record when h is a Container host of this broker.
func (s *scenarioBroker) containerRecord(h scenario.Host, what string) (inventory.Host, error) {
	sh, ok := h.(*scenarioHost)
	if !ok {
		return nil, fmt.Errorf("%v is not a host of this broker", h.Record()["hostname"])
	}
	rec := sh.h.Record.Host
	if prov := rec.Provider(); prov != container.Name {
		return nil, providers.UserErrorf("host %s is not a container host (provider %s): %s needs container hosts", sh.h.Label(), prov, what)
	}
	return rec, nil
}

// containerProvider builds a Container provider instance ("" = the
// default one); the caller closes it.
func (s *scenarioBroker) containerProvider(ctx context.Context, instance string) (*container.Provider, error) {
	p, _, err := s.b.provider(ctx, container.Name, instance)
	if err != nil {
		return nil, err
	}
	cp, ok := p.(*container.Provider)
	if !ok {
		p.Close()
		return nil, fmt.Errorf("the %s provider registered here (%T) cannot run one-off containers or commit them", container.Name, p)
	}
	return cp, nil
}
