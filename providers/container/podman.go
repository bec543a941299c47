package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v4/libpod/define"
	"github.com/containers/podman/v4/pkg/api/handlers"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/images"
	"github.com/containers/podman/v4/pkg/bindings/network"
	"github.com/containers/podman/v4/pkg/errorhandling"
	"github.com/containers/podman/v4/pkg/specgen"
	"github.com/containers/podman/v4/version"
	dockertypes "github.com/docker/docker/api/types"
	spec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/broker-go/broker/providers"
)

// podmanEngine talks to Podman's libpod API through the Podman v4 bindings.
//
// The bindings find their connection in a context value. conn holds that
// context; each call runs in connCtx{caller's ctx, conn}, so it is
// cancelled by the caller while still finding the connection. The
// bindings' Attach and ExecStartAndAttach replace the shared http.Client's
// transport (a data race under concurrent use) and read os.Stdin, so output
// streams use plain requests (logs?follow, exec start) instead.
type podmanEngine struct {
	conn     context.Context
	endpoint string // redacted URL
	address  string
	timeout  time.Duration
}

var _ engine = (*podmanEngine)(nil)

// newPodmanEngine connects to u (the bindings ping the service at once;
// over ssh:// they dial, with $CONTAINER_SSHKEY or the agent, or a password
// in the URL).
func newPodmanEngine(ctx context.Context, u *url.URL, timeout time.Duration) (*podmanEngine, error) {
	p := &podmanEngine{endpoint: u.Redacted(), timeout: timeout}
	if u.Scheme == "ssh" || u.Scheme == "tcp" {
		p.address = u.Hostname()
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(timeout, 30*time.Second))
	defer cancel() // only the connection's values are used afterwards
	conn, err := bindings.NewConnection(cctx, u.String())
	if err != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			err = &redactedError{err: err, secret: pw}
		}
		return nil, p.wrap("connect", err)
	}
	p.conn = conn
	return p, nil
}

// connCtx is the caller's context (deadline, cancellation, values) that
// also finds the bindings' connection.
type connCtx struct {
	context.Context
	conn context.Context
}

func (c connCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.conn.Value(key)
}

func (p *podmanEngine) ctx(ctx context.Context) context.Context { return connCtx{ctx, p.conn} }

// op is ctx bounded by the call timeout, with the connection.
func (p *podmanEngine) op(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	return p.ctx(ctx), cancel
}

func (p *podmanEngine) Runtime() string  { return "podman" }
func (p *podmanEngine) Endpoint() string { return p.endpoint }
func (p *podmanEngine) Address() string  { return p.address }

func (p *podmanEngine) Close() error {
	if c, err := bindings.GetClient(p.conn); err == nil && c.Client != nil {
		c.Client.CloseIdleConnections()
	}
	return nil
}

func (p *podmanEngine) wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var ce bindings.ConnectError
	if errors.As(err, &ce) || isConnError(err) {
		return &providers.UserError{Err: fmt.Errorf("%s: %w", action, &unreachableError{Runtime: "podman", Endpoint: p.endpoint, Err: err})}
	}
	return fmt.Errorf("%s on podman %s: %w", action, p.endpoint, err)
}

// code is the HTTP status of a libpod error response (0 if err is not one).
func code(err error) int {
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) {
		return em.ResponseCode
	}
	return 0
}

// noSuchContainer reports a libpod error whose cause is a missing
// container, which a container being removed gives with status 500.
func noSuchContainer(err error) bool {
	var em *errorhandling.ErrorModel
	return errors.As(err, &em) && em.Because == define.ErrNoSuchCtr.Error()
}

func (p *podmanEngine) notFound(what string, err error) error {
	return &notFoundError{What: fmt.Sprintf("%s on podman %s", what, p.endpoint), Err: err}
}

func (p *podmanEngine) Images(ctx context.Context) ([]imageSummary, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	list, err := images.List(ctx, nil)
	if err != nil {
		return nil, p.wrap("list images", err)
	}
	out := make([]imageSummary, len(list))
	for i, im := range list {
		out[i] = imageSummary{ID: im.ID, Tags: tagged(im.RepoTags), Labels: im.Labels, Size: im.Size}
	}
	return out, nil
}

func (p *podmanEngine) Image(ctx context.Context, ref string) (imageDetail, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	im, err := images.GetImage(ctx, ref, nil)
	if err != nil {
		if code(err) == http.StatusNotFound {
			return imageDetail{}, p.notFound(fmt.Sprintf("image %q", ref), nil)
		}
		return imageDetail{}, p.wrap("inspect image "+ref, err)
	}
	det := imageDetail{imageSummary: imageSummary{ID: im.ID, Tags: tagged(im.RepoTags), Size: im.Size, Labels: im.Labels}}
	if im.Config != nil {
		for port := range im.Config.ExposedPorts {
			det.Exposed = append(det.Exposed, port)
		}
		det.Config = toMap(im.Config)
	}
	return det, nil
}

func (p *podmanEngine) Pull(ctx context.Context, ref string) error {
	ctx, cancel := p.op(ctx)
	defer cancel()
	_, err := images.Pull(ctx, ref, new(images.PullOptions).WithQuiet(true))
	return p.wrap("pull "+ref, err)
}

func (p *podmanEngine) NetworkExists(ctx context.Context, name string) (bool, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	ok, err := network.Exists(ctx, name, nil)
	if err != nil {
		return false, p.wrap("look up network "+name, err)
	}
	return ok, nil
}

func (p *podmanEngine) Create(ctx context.Context, s *createSpec) (string, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	sg := specgen.NewSpecGenerator(s.Image, false)
	sg.Name = s.Name
	sg.Hostname = s.Hostname
	sg.Command = s.Command
	sg.Env = s.Env
	sg.Labels = s.Labels
	sg.PublishExposedPorts = s.PublishAll
	sg.WorkDir = s.WorkDir
	sg.CreateWorkingDir = s.WorkDir != "" // as docker does
	if s.OpenStdin {
		sg.Stdin = true
	}
	for _, ps := range s.Ports {
		sg.PortMappings = append(sg.PortMappings, nettypes.PortMapping{
			HostIP: ps.HostIP, ContainerPort: ps.Port, HostPort: ps.HostPort, Protocol: ps.Proto,
		})
	}
	for _, v := range s.Volumes {
		var opts []string
		if v.ReadOnly {
			opts = append(opts, "ro")
		}
		if v.Relabel != "" {
			opts = append(opts, v.Relabel)
		}
		if v.Named() {
			sg.Volumes = append(sg.Volumes, &specgen.NamedVolume{Name: v.Source, Dest: v.Target, Options: opts})
			continue
		}
		sg.Mounts = append(sg.Mounts, spec.Mount{
			Type: "bind", Source: v.Source, Destination: v.Target, Options: append([]string{"rbind"}, opts...),
		})
	}
	if len(s.Networks) > 0 {
		sg.NetNS = specgen.Namespace{NSMode: specgen.Bridge}
		sg.Networks = map[string]nettypes.PerNetworkOptions{}
		for _, n := range s.Networks {
			sg.Networks[n] = nettypes.PerNetworkOptions{}
		}
	}
	resp, err := containers.CreateWithSpec(ctx, sg, nil)
	if err != nil {
		switch c := code(err); {
		case c == http.StatusConflict || strings.Contains(err.Error(), "already in use"):
			return "", nameTaken(s.Name, "podman "+p.endpoint, err)
		case c == http.StatusNotFound:
			return "", p.notFound(fmt.Sprintf("create container %s: image %q or a network", s.Name, s.Image), err)
		case c == http.StatusBadRequest:
			return "", providers.UserErrorf("create container %s on podman %s: the engine rejected the settings: %w", s.Name, p.endpoint, err)
		}
		return "", p.wrap("create container "+s.Name, err)
	}
	return resp.ID, nil
}

func (p *podmanEngine) Start(ctx context.Context, id string) error {
	ctx, cancel := p.op(ctx)
	defer cancel()
	return p.wrap("start container "+id, containers.Start(ctx, id, nil))
}

func (p *podmanEngine) Inspect(ctx context.Context, id string) (*containerInfo, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	c, err := containers.Inspect(ctx, id, nil)
	if err != nil {
		if code(err) == http.StatusNotFound || noSuchContainer(err) {
			return nil, p.notFound("container "+id, nil)
		}
		return nil, p.wrap("inspect container "+id, err)
	}
	ci := &containerInfo{ID: c.ID, Name: c.Name, Image: c.ImageName, Created: c.Created,
		Ports: map[string][]hostPort{}, Networks: map[string]string{}}
	if c.State != nil {
		ci.Status, ci.Running, ci.ExitCode = c.State.Status, c.State.Running, int(c.State.ExitCode)
	}
	if c.Config != nil {
		ci.Hostname, ci.Labels, ci.WorkDir = c.Config.Hostname, c.Config.Labels, c.Config.WorkingDir
	}
	if ns := c.NetworkSettings; ns != nil {
		for port, bs := range ns.Ports {
			for _, b := range bs {
				ci.Ports[port] = append(ci.Ports[port], hostPort{IP: b.HostIP, Port: b.HostPort})
			}
		}
		for name, n := range ns.Networks {
			ip := ""
			if n != nil {
				ip = n.IPAddress
			}
			ci.Networks[name] = ip
		}
	}
	return ci, nil
}

func (p *podmanEngine) Remove(ctx context.Context, id string) error {
	ctx, cancel := p.op(ctx)
	defer cancel()
	reports, err := containers.Remove(ctx, id, new(containers.RemoveOptions).WithForce(true).WithVolumes(true).WithTimeout(0))
	if err != nil {
		if code(err) == http.StatusNotFound {
			return p.notFound("container "+id, nil)
		}
		return p.wrap("remove container "+id, err)
	}
	for _, r := range reports {
		if r.Err != nil {
			return p.wrap("remove container "+id, r.Err)
		}
	}
	return nil
}

func (p *podmanEngine) List(ctx context.Context, labels map[string]string) ([]containerSummary, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	var lf []string
	for k, v := range labels {
		lf = append(lf, k+"="+v)
	}
	list, err := containers.List(ctx, new(containers.ListOptions).WithAll(true).WithFilters(map[string][]string{"label": lf}))
	if err != nil {
		return nil, p.wrap("list containers", err)
	}
	out := make([]containerSummary, 0, len(list))
	for _, c := range list {
		if c.IsInfra {
			continue
		}
		name := ""
		if len(c.Names) > 0 {
			name = c.Names[0]
		}
		out = append(out, containerSummary{ID: c.ID, Name: name, Labels: c.Labels})
	}
	return out, nil
}

func (p *podmanEngine) Wait(ctx context.Context, id string) (int, error) {
	code, err := containers.Wait(p.ctx(ctx), id, new(containers.WaitOptions).WithCondition(
		[]define.ContainerStatus{define.ContainerStateStopped, define.ContainerStateExited}))
	if err != nil {
		return -1, p.wrap("wait for container "+id, err)
	}
	return int(code), nil
}

// stream sends a request whose answer is a multiplexed output stream
// (Docker's 8-byte frame headers) and copies it to stdout and stderr.
func (p *podmanEngine) stream(ctx context.Context, method, endpoint string, params url.Values, body []byte, id string, stdout, stderr io.Writer) error {
	conn, err := bindings.GetClient(p.conn)
	if err != nil {
		return err
	}
	headers := http.Header{}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
		headers.Set("Content-Type", "application/json")
	}
	resp, err := conn.DoRequest(ctx, rd, method, endpoint, params, headers, id)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !(resp.IsSuccess() || resp.IsInformational()) {
		return resp.Process(nil)
	}
	stop := context.AfterFunc(ctx, func() { resp.Body.Close() })
	defer stop()
	return demux(ctx, resp.Body, stdout, stderr)
}

// demux copies a multiplexed output stream (Docker's 8-byte frame headers)
// from r to stdout and stderr (nil: dropped) until it ends.
func demux(ctx context.Context, r io.Reader, stdout, stderr io.Writer) error {
	buf := make([]byte, 32*1024)
	for {
		fd, n, err := containers.DemuxHeader(r, buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return ctx.Err()
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return err
		}
		if n > len(buf) {
			buf = make([]byte, n)
		}
		frame, err := containers.DemuxFrame(r, buf, n)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return err
		}
		var w io.Writer
		switch fd {
		case 0, 1:
			w = stdout
		case 2:
			w = stderr
		case 3:
			return fmt.Errorf("engine reported: %s", frame)
		}
		if w != nil {
			if _, err := w.Write(frame); err != nil {
				return err
			}
		}
	}
}

func (p *podmanEngine) Logs(ctx context.Context, id string, follow bool, stdout, stderr io.Writer) error {
	if stdout == nil && stderr == nil {
		return nil
	}
	params := url.Values{}
	params.Set("follow", fmt.Sprint(follow))
	params.Set("stdout", fmt.Sprint(stdout != nil))
	params.Set("stderr", fmt.Sprint(stderr != nil))
	err := p.stream(ctx, http.MethodGet, "/containers/%s/logs", params, nil, id, stdout, stderr)
	return p.wrap("read the output of container "+id, err)
}

func (p *podmanEngine) Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cctx := p.ctx(ctx)
	sid, err := containers.ExecCreate(cctx, id, &handlers.ExecCreateConfig{ExecConfig: dockertypes.ExecConfig{
		AttachStdin: stdin != nil, AttachStdout: true, AttachStderr: true, Cmd: cmd,
	}})
	if err != nil {
		if code(err) == http.StatusNotFound {
			return -1, p.notFound("container "+id, err)
		}
		return -1, p.wrap("exec in container "+id, err)
	}
	body, _ := json.Marshal(map[string]any{"Detach": false, "Tty": false})
	if stdin != nil {
		err = p.execWithStdin(ctx, sid, body, stdin, orDiscard(stdout), orDiscard(stderr))
	} else {
		err = p.stream(ctx, http.MethodPost, "/exec/%s/start", nil, body, sid, orDiscard(stdout), orDiscard(stderr))
	}
	if err != nil {
		return -1, p.wrap("exec in container "+id, err)
	}
	for {
		st, err := containers.ExecInspect(cctx, sid, nil)
		if err != nil {
			return -1, p.wrap("exec in container "+id, err)
		}
		if !st.Running {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, p.wrap("exec in container "+id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// upgraded is a connection of its own to the libpod API, upgraded to a raw
// stream by a POST (as the bindings' ExecStartAndAttach does, but without
// replacing the shared client's transport). It is closed when ctx ends.
type upgraded struct {
	conn       io.ReadWriteCloser
	r          *bufio.Reader // the stream after the HTTP response
	closeWrite func() error  // ends the stream's input (stdin EOF)
	close      func()        // closes the connection and stops watching ctx
}

// upgrade posts to the libpod API path (e.g. "exec/ID/start") with body
// (JSON, or nil) and returns the raw stream. An error status is returned as
// the API's error (code() reads it); an error after ctx ended is ctx's.
func (p *podmanEngine) upgrade(ctx context.Context, path string, body []byte) (*upgraded, error) {
	conn, err := bindings.GetClient(p.conn)
	if err != nil {
		return nil, err
	}
	c, err := conn.GetDialer(ctx)
	if err != nil {
		return nil, err
	}
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		c.Close()
		return nil, fmt.Errorf("standard input needs a connection that can be closed for writing; this one (%T) cannot", c)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	v := version.APIVersion[version.Libpod][version.CurrentAPI]
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://d/v%d.%d.%d/libpod/%s", v.Major, v.Minor, v.Patch, path), rd)
	if err != nil {
		c.Close()
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	stop := context.AfterFunc(ctx, func() { c.Close() })
	u := &upgraded{conn: c, closeWrite: cw.CloseWrite, close: func() { stop(); c.Close() }}
	fail := func(err error) (*upgraded, error) {
		u.close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	if err := req.Write(c); err != nil {
		return fail(err)
	}
	u.r = bufio.NewReader(c)
	resp, err := http.ReadResponse(u.r, req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		err := (&bindings.APIResponse{Response: resp, Request: req}).Process(nil)
		resp.Body.Close()
		u.close()
		return nil, err
	}
	return u, nil
}

// execWithStdin starts exec session sid on an upgraded connection: the
// service then copies what is written to the connection to the command's
// standard input, and closes that input when the connection is closed for
// writing. Note that Podman watches the input for its detach keys (ctrl-p
// ctrl-q by default): input holding that byte pair detaches, which ends the
// command's output early.
func (p *podmanEngine) execWithStdin(ctx context.Context, sid string, body []byte, stdin io.Reader, stdout, stderr io.Writer) error {
	u, err := p.upgrade(ctx, "exec/"+url.PathEscape(sid)+"/start", body)
	if err != nil {
		return err
	}
	defer u.close()
	fed := feedStdin(stdin, u.conn, u.closeWrite)
	f := &inputErrorFilter{stdout: stdout, stderr: stderr}
	err = demux(ctx, u.r, writerFunc(f.writeOut), writerFunc(f.writeErr))
	u.close()
	awaitStdin(ctx, fed, stdin)
	if err != nil && ctx.Err() == nil && f.held != nil {
		// The service's report that the command's input could not be
		// written, as it exited without reading all of it: not the
		// command's output, and not a failure (its status follows).
		return nil
	}
	if ferr := f.flush(); err == nil {
		err = ferr
	}
	return err
}

// inputErrorFilter holds back a standard error frame that looks like the
// Podman service's own report of a failed copy of the command's input
// ("Error: write unixpacket ...attach: ..."), sent before it drops the
// connection, until another frame follows or the stream ends cleanly.
// Frames come from one goroutine (demux).
type inputErrorFilter struct {
	stdout, stderr io.Writer
	held           []byte
}

func (f *inputErrorFilter) flush() error {
	if f.held == nil {
		return nil
	}
	b := f.held
	f.held = nil
	_, err := f.stderr.Write(b)
	return err
}

func (f *inputErrorFilter) writeOut(b []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.stdout.Write(b)
}

func (f *inputErrorFilter) writeErr(b []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	if bytes.HasPrefix(b, []byte("Error: ")) && bytes.Contains(b, []byte("attach: ")) && bytes.HasSuffix(b, []byte("\n")) {
		f.held = bytes.Clone(b)
		return len(b), nil
	}
	return f.stderr.Write(b)
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

func (p *podmanEngine) CopyTo(ctx context.Context, id, dir string, tar io.Reader) error {
	copyFn, err := containers.CopyFromArchive(p.ctx(ctx), id, dir, tar)
	if err == nil {
		err = copyFn()
	}
	if code(err) == http.StatusNotFound {
		return p.notFound(fmt.Sprintf("container %s or its directory %s", id, dir), err)
	}
	return p.wrap(fmt.Sprintf("copy into %s:%s", id, dir), err)
}

func (p *podmanEngine) CopyFrom(ctx context.Context, id, path string, w io.Writer) error {
	copyFn, err := containers.CopyToArchive(p.ctx(ctx), id, path, w)
	if err == nil {
		err = copyFn()
	}
	if code(err) == http.StatusNotFound {
		return p.notFound(fmt.Sprintf("%s in container %s", path, id), err)
	}
	return p.wrap(fmt.Sprintf("copy from %s:%s", id, path), err)
}

// AttachStdin attaches to the container on an upgraded connection (see
// upgrade), with no detach keys so that any input goes through: the service
// copies what is written to the connection to the container's input and
// closes that input when the connection is closed for writing.
func (p *podmanEngine) AttachStdin(ctx context.Context, id string, r io.Reader) (func(), error) {
	u, err := p.upgrade(ctx, "containers/"+url.PathEscape(id)+"/attach?stream=true&stdin=true&stdout=false&stderr=false&detachKeys=", nil)
	if err != nil {
		if code(err) == http.StatusNotFound {
			return nil, p.notFound("container "+id, err)
		}
		return nil, p.wrap("attach to container "+id, err)
	}
	fed := feedStdin(r, u.conn, u.closeWrite)
	go io.Copy(io.Discard, u.r) // nothing is expected; ends when closed
	return func() {
		u.close()
		awaitStdin(ctx, fed, r)
	}, nil
}

func (p *podmanEngine) Commit(ctx context.Context, id, repo, tag string) (string, error) {
	ctx, cancel := p.op(ctx)
	defer cancel()
	opts := new(containers.CommitOptions).WithRepo(repo).WithPause(true)
	if tag != "" {
		opts = opts.WithTag(tag)
	}
	ref := repo
	if tag != "" {
		ref += ":" + tag
	}
	resp, err := containers.Commit(ctx, id, opts)
	if err != nil {
		switch c := code(err); {
		case c == http.StatusNotFound || noSuchContainer(err):
			return "", p.notFound("container "+id, err)
		case c == http.StatusBadRequest:
			return "", providers.UserErrorf("commit container %s to %s on podman %s: %w", id, ref, p.endpoint, err)
		}
		return "", p.wrap(fmt.Sprintf("commit container %s to %s", id, ref), err)
	}
	return resp.ID, nil
}

// redactedError hides a secret (an ssh password) that a library may have
// put in its message.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.secret, "xxxxx") }
func (e *redactedError) Unwrap() error { return e.err }
