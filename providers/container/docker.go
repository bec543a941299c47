package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"github.com/broker-go/broker/providers"
)

// dockerEngine talks to the Docker Engine API (Docker, or Podman's
// Docker-compatible API) through the docker v24 client.
type dockerEngine struct {
	cli      *client.Client
	endpoint string // redacted URL
	address  string
	timeout  time.Duration
}

var _ engine = (*dockerEngine)(nil)

// newDockerEngine makes a client for u. apiVersion is the server's API
// version when a ping already learned it ("" = ask now). Over ssh:// the
// connection runs "ssh HOST docker system dial-stdio" (Docker CLI's
// connection helper), so the remote host needs the docker CLI and the local
// one an ssh client with a key or agent (no password prompts).
func newDockerEngine(ctx context.Context, u *url.URL, apiVersion string, timeout time.Duration) (*dockerEngine, error) {
	d := &dockerEngine{endpoint: u.Redacted(), timeout: timeout}
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	switch u.Scheme {
	case "ssh":
		d.address = u.Hostname()
		if _, ok := u.User.Password(); ok {
			return nil, providers.UserErrorf("docker host %s: Docker over ssh logs in with a key or an agent only: unset Container.host_password (or use runtime podman)", d.endpoint)
		}
		helper, err := connhelper.GetConnectionHelperWithSSHOpts(u.String(),
			[]string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=" + strconv.Itoa(int(min(timeout, 30*time.Second)/time.Second))})
		if err != nil {
			return nil, providers.UserErrorf("docker host %s: %w", d.endpoint, err)
		}
		opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	case "tcp":
		d.address = u.Hostname()
		opts = append(opts, client.WithHost(u.String()))
	default:
		opts = append(opts, client.WithHost(u.String()))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, providers.UserErrorf("docker host %s: %w", d.endpoint, err)
	}
	d.cli = cli
	// Negotiate the API version now, once, so that concurrent first calls
	// do not race to do it (and a failed ping does not pin version 1.24).
	if apiVersion == "" {
		pctx, cancel := context.WithTimeout(ctx, min(timeout, 30*time.Second))
		defer cancel()
		ping, err := cli.Ping(pctx)
		if err != nil {
			cli.Close()
			return nil, d.wrap("ping", err)
		}
		apiVersion = ping.APIVersion
	}
	cli.NegotiateAPIVersionPing(types.Ping{APIVersion: apiVersion})
	return d, nil
}

func (d *dockerEngine) Runtime() string  { return "docker" }
func (d *dockerEngine) Endpoint() string { return d.endpoint }
func (d *dockerEngine) Address() string  { return d.address }
func (d *dockerEngine) Close() error     { return d.cli.Close() }

func (d *dockerEngine) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.timeout)
}

// wrap says what failed on which engine; an unanswered socket becomes a
// UserError with the fix.
func (d *dockerEngine) wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) || isConnError(err) {
		return &providers.UserError{Err: fmt.Errorf("%s: %w", action, &unreachableError{Runtime: "docker", Endpoint: d.endpoint, Err: err})}
	}
	return fmt.Errorf("%s on docker %s: %w", action, d.endpoint, err)
}

func (d *dockerEngine) Images(ctx context.Context) ([]imageSummary, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	list, err := d.cli.ImageList(ctx, types.ImageListOptions{})
	if err != nil {
		return nil, d.wrap("list images", err)
	}
	out := make([]imageSummary, len(list))
	for i, im := range list {
		out[i] = imageSummary{ID: im.ID, Tags: tagged(im.RepoTags), Labels: im.Labels, Size: im.Size}
	}
	return out, nil
}

func (d *dockerEngine) Image(ctx context.Context, ref string) (imageDetail, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	im, _, err := d.cli.ImageInspectWithRaw(ctx, ref)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return imageDetail{}, &notFoundError{What: fmt.Sprintf("image %q on docker %s", ref, d.endpoint)}
		}
		return imageDetail{}, d.wrap("inspect image "+ref, err)
	}
	det := imageDetail{imageSummary: imageSummary{ID: im.ID, Tags: tagged(im.RepoTags), Size: im.Size}}
	if im.Config != nil {
		det.Labels = im.Config.Labels
		for p := range im.Config.ExposedPorts {
			det.Exposed = append(det.Exposed, string(p))
		}
		det.Config = toMap(im.Config)
	}
	return det, nil
}

func (d *dockerEngine) Pull(ctx context.Context, ref string) error {
	ctx, cancel := d.op(ctx)
	defer cancel()
	rc, err := d.cli.ImagePull(ctx, ref, types.ImagePullOptions{})
	if err != nil {
		return d.wrap("pull "+ref, err)
	}
	defer rc.Close()
	// The pull reports progress, and its failure, as a stream of JSON
	// messages.
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return d.wrap("pull "+ref, err)
		}
		if msg.Error != "" {
			return d.wrap("pull "+ref, errors.New(msg.Error))
		}
	}
}

func (d *dockerEngine) NetworkExists(ctx context.Context, name string) (bool, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	_, err := d.cli.NetworkInspect(ctx, name, types.NetworkInspectOptions{})
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, d.wrap("inspect network "+name, err)
	}
	return true, nil
}

func (d *dockerEngine) Create(ctx context.Context, s *createSpec) (string, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	cfg := &container.Config{
		Image:        s.Image,
		Hostname:     s.Hostname,
		Env:          envList(s.Env),
		Labels:       s.Labels,
		ExposedPorts: nat.PortSet{},
		WorkingDir:   s.WorkDir,
	}
	if s.OpenStdin {
		cfg.OpenStdin, cfg.StdinOnce, cfg.AttachStdin = true, true, true
	}
	if len(s.Command) > 0 {
		cfg.Cmd = s.Command
	}
	hc := &container.HostConfig{PublishAllPorts: s.PublishAll, PortBindings: nat.PortMap{}}
	for _, p := range s.Ports {
		port := nat.Port(p.key())
		cfg.ExposedPorts[port] = struct{}{}
		b := nat.PortBinding{HostIP: p.HostIP}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(p.HostPort))
		}
		hc.PortBindings[port] = []nat.PortBinding{b}
	}
	for _, v := range s.Volumes {
		hc.Binds = append(hc.Binds, v.bind())
	}
	var nc *network.NetworkingConfig
	if len(s.Networks) > 0 {
		// API < 1.44 attaches one network at create; the others are
		// connected before start.
		hc.NetworkMode = container.NetworkMode(s.Networks[0])
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{s.Networks[0]: {}}}
	}
	resp, err := d.cli.ContainerCreate(ctx, cfg, hc, nc, nil, s.Name)
	if err != nil {
		switch {
		case errdefs.IsConflict(err):
			return "", nameTaken(s.Name, "docker "+d.endpoint, err)
		case errdefs.IsInvalidParameter(err):
			return "", providers.UserErrorf("create container %s on docker %s: the engine rejected the settings: %w", s.Name, d.endpoint, err)
		case errdefs.IsNotFound(err):
			return "", &notFoundError{What: fmt.Sprintf("image %q on docker %s", s.Image, d.endpoint), Err: err}
		}
		return "", d.wrap("create container "+s.Name, err)
	}
	for _, n := range s.Networks[min(1, len(s.Networks)):] {
		if err := d.cli.NetworkConnect(ctx, n, resp.ID, nil); err != nil {
			return resp.ID, d.wrap(fmt.Sprintf("connect container %s to network %s", s.Name, n), err)
		}
	}
	return resp.ID, nil
}

func (d *dockerEngine) Start(ctx context.Context, id string) error {
	ctx, cancel := d.op(ctx)
	defer cancel()
	return d.wrap("start container "+id, d.cli.ContainerStart(ctx, id, types.ContainerStartOptions{}))
}

func (d *dockerEngine) Inspect(ctx context.Context, id string) (*containerInfo, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	c, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, &notFoundError{What: fmt.Sprintf("container %s on docker %s", id, d.endpoint)}
		}
		return nil, d.wrap("inspect container "+id, err)
	}
	ci := &containerInfo{ID: c.ID, Name: trimSlash(c.Name), Ports: map[string][]hostPort{}, Networks: map[string]string{}}
	ci.Created, _ = time.Parse(time.RFC3339Nano, c.Created)
	if c.State != nil {
		ci.Status, ci.Running, ci.ExitCode = c.State.Status, c.State.Running, c.State.ExitCode
	}
	if c.Config != nil {
		ci.Image, ci.Hostname, ci.Labels, ci.WorkDir = c.Config.Image, c.Config.Hostname, c.Config.Labels, c.Config.WorkingDir
	}
	if ns := c.NetworkSettings; ns != nil {
		for port, bs := range ns.Ports {
			for _, b := range bs {
				ci.Ports[string(port)] = append(ci.Ports[string(port)], hostPort{IP: b.HostIP, Port: b.HostPort})
			}
		}
		for name, ep := range ns.Networks {
			ip := ""
			if ep != nil {
				ip = ep.IPAddress
			}
			ci.Networks[name] = ip
		}
	}
	return ci, nil
}

func (d *dockerEngine) Remove(ctx context.Context, id string) error {
	ctx, cancel := d.op(ctx)
	defer cancel()
	err := d.cli.ContainerRemove(ctx, id, types.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if errdefs.IsNotFound(err) {
		return &notFoundError{What: fmt.Sprintf("container %s on docker %s", id, d.endpoint)}
	}
	return d.wrap("remove container "+id, err)
}

func (d *dockerEngine) List(ctx context.Context, labels map[string]string) ([]containerSummary, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	f := filters.NewArgs()
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	list, err := d.cli.ContainerList(ctx, types.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, d.wrap("list containers", err)
	}
	out := make([]containerSummary, len(list))
	for i, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = trimSlash(c.Names[0])
		}
		out[i] = containerSummary{ID: c.ID, Name: name, Labels: c.Labels}
	}
	return out, nil
}

func (d *dockerEngine) Wait(ctx context.Context, id string) (int, error) {
	okc, errc := d.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case r := <-okc:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), d.wrap("wait for container "+id, errors.New(r.Error.Message))
		}
		return int(r.StatusCode), nil
	case err := <-errc:
		return -1, d.wrap("wait for container "+id, err)
	}
}

func (d *dockerEngine) Logs(ctx context.Context, id string, follow bool, stdout, stderr io.Writer) error {
	if stdout == nil && stderr == nil {
		return nil
	}
	rc, err := d.cli.ContainerLogs(ctx, id, types.ContainerLogsOptions{ShowStdout: stdout != nil, ShowStderr: stderr != nil, Follow: follow})
	if err != nil {
		return d.wrap("read the output of container "+id, err)
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(orDiscard(stdout), orDiscard(stderr), rc)
	return d.wrap("read the output of container "+id, err)
}

func (d *dockerEngine) Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	ex, err := d.cli.ContainerExecCreate(ctx, id, types.ExecConfig{AttachStdin: stdin != nil, AttachStdout: true, AttachStderr: true, Cmd: cmd})
	if err != nil {
		if errdefs.IsNotFound(err) {
			return -1, &notFoundError{What: fmt.Sprintf("container %s on docker %s", id, d.endpoint), Err: err}
		}
		return -1, d.wrap("exec in container "+id, err)
	}
	hj, err := d.cli.ContainerExecAttach(ctx, ex.ID, types.ExecStartCheck{})
	if err != nil {
		return -1, d.wrap("exec in container "+id, err)
	}
	stop := context.AfterFunc(ctx, hj.Close) // the hijacked stream ignores ctx
	var fed <-chan struct{}
	if stdin != nil {
		fed = feedStdin(stdin, hj.Conn, hj.CloseWrite)
	}
	_, err = stdcopy.StdCopy(orDiscard(stdout), orDiscard(stderr), hj.Reader)
	stop()
	hj.Close()
	awaitStdin(ctx, fed, stdin)
	if cerr := ctx.Err(); cerr != nil {
		return -1, d.wrap("exec in container "+id, cerr)
	}
	if err != nil {
		return -1, d.wrap("exec in container "+id, err)
	}
	// The exit code is set once the process is reaped, which may trail
	// the end of its output by a moment.
	for {
		st, err := d.cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return -1, d.wrap("exec in container "+id, err)
		}
		if !st.Running {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, d.wrap("exec in container "+id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (d *dockerEngine) CopyTo(ctx context.Context, id, dir string, tar io.Reader) error {
	err := d.cli.CopyToContainer(ctx, id, dir, tar, types.CopyToContainerOptions{})
	if errdefs.IsNotFound(err) {
		return &notFoundError{What: fmt.Sprintf("container %s or its directory %s on docker %s", id, dir, d.endpoint), Err: err}
	}
	return d.wrap(fmt.Sprintf("copy into %s:%s", id, dir), err)
}

func (d *dockerEngine) CopyFrom(ctx context.Context, id, path string, w io.Writer) error {
	rc, _, err := d.cli.CopyFromContainer(ctx, id, path)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return &notFoundError{What: fmt.Sprintf("%s in container %s on docker %s", path, id, d.endpoint), Err: err}
		}
		return d.wrap(fmt.Sprintf("copy from %s:%s", id, path), err)
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return d.wrap(fmt.Sprintf("copy from %s:%s", id, path), err)
}

func (d *dockerEngine) AttachStdin(ctx context.Context, id string, r io.Reader) (func(), error) {
	hj, err := d.cli.ContainerAttach(ctx, id, types.ContainerAttachOptions{Stream: true, Stdin: true})
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, &notFoundError{What: fmt.Sprintf("container %s on docker %s", id, d.endpoint), Err: err}
		}
		return nil, d.wrap("attach to container "+id, err)
	}
	fed := feedStdin(r, hj.Conn, hj.CloseWrite)
	go io.Copy(io.Discard, hj.Reader) // nothing is expected; ends when closed
	return func() {
		hj.Close()
		awaitStdin(ctx, fed, r)
	}, nil
}

func (d *dockerEngine) Commit(ctx context.Context, id, repo, tag string) (string, error) {
	ctx, cancel := d.op(ctx)
	defer cancel()
	ref := repo
	if tag != "" {
		ref += ":" + tag
	}
	resp, err := d.cli.ContainerCommit(ctx, id, types.ContainerCommitOptions{Reference: ref, Pause: true})
	if err != nil {
		switch {
		case errdefs.IsNotFound(err):
			return "", &notFoundError{What: fmt.Sprintf("container %s on docker %s", id, d.endpoint), Err: err}
		case errdefs.IsInvalidParameter(err):
			return "", providers.UserErrorf("commit container %s to %s on docker %s: %w", id, ref, d.endpoint, err)
		}
		return "", d.wrap(fmt.Sprintf("commit container %s to %s", id, ref), err)
	}
	return resp.ID, nil
}

func trimSlash(name string) string {
	if len(name) > 0 && name[0] == '/' {
		return name[1:]
	}
	return name
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// toMap turns an engine's struct into a plain map through JSON.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// nameTaken is the error for a container name already in use.
func nameTaken(name, engine string, err error) error {
	return providers.UserErrorf("container name %q is already in use on %s; choose another with --name (or leave --name out for a generated one): %w", name, engine, err)
}
