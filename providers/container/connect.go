package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/broker-go/broker/providers"
)

// pingTimeout bounds one probe of a candidate engine socket.
const pingTimeout = 2 * time.Second

// candidate is a place where a local engine may listen.
type candidate struct {
	URL     string // unix:///path, tcp://host:port, ssh://...
	Runtime string // the runtime this place suggests ("podman" for $CONTAINER_HOST)
	Source  string // where it came from, for messages ("$DOCKER_HOST")
}

// localCandidates are the places auto-detection probes, in order:
// $CONTAINER_HOST (podman), $DOCKER_HOST (docker), the rootless Podman
// socket, the rootful Podman socket, the Docker socket.
func localCandidates() []candidate {
	var out []candidate
	if v := os.Getenv("CONTAINER_HOST"); v != "" {
		out = append(out, candidate{URL: v, Runtime: "podman", Source: "$CONTAINER_HOST"})
	}
	if v := os.Getenv("DOCKER_HOST"); v != "" {
		out = append(out, candidate{URL: v, Runtime: "docker", Source: "$DOCKER_HOST"})
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		out = append(out, candidate{URL: "unix://" + filepath.Join(d, "podman", "podman.sock"), Runtime: "podman"})
	}
	return append(out,
		candidate{URL: "unix:///run/podman/podman.sock", Runtime: "podman"},
		candidate{URL: "unix:///var/run/docker.sock", Runtime: "docker"},
	)
}

// pingResult is what a probe of an engine's /_ping learned.
type pingResult struct {
	Libpod     bool   // the socket is Podman's (Libpod-API-Version header)
	APIVersion string // the Docker API version it speaks
}

// ping asks u's /_ping (unix or tcp) within pingTimeout.
func ping(ctx context.Context, u *url.URL) (pingResult, error) {
	var res pingResult
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		if u.Scheme == "unix" {
			return d.DialContext(ctx, "unix", u.Path)
		}
		return d.DialContext(ctx, "tcp", u.Host)
	}
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine/_ping", nil)
	if err != nil {
		return res, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // "Get http://engine/_ping:" says nothing useful
		}
		return res, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("/_ping answered %s: not a Docker or Podman API", resp.Status)
	}
	res.Libpod = resp.Header.Get("Libpod-API-Version") != ""
	res.APIVersion = resp.Header.Get("API-Version")
	return res, nil
}

// hostURL turns the host setting into an engine URL: a unix socket path
// or unix:// URL, tcp://host:port, ssh://user@host[:port][/socket], or
// upstream's bare host name (with host_port: 22 means ssh, anything else
// tcp, default 2375). "" and "localhost" (upstream's default) return nil:
// find the local engine.
func (o *options) hostURL() (*url.URL, error) {
	h := strings.TrimSpace(o.Host)
	switch {
	case h == "" || h == "localhost":
		return nil, nil
	case strings.HasPrefix(h, "/"):
		return &url.URL{Scheme: "unix", Path: h}, nil
	}
	if !strings.Contains(h, "://") {
		port := o.HostPort
		if port == 0 {
			port = 2375
		}
		if port == 22 {
			h = "ssh://" + h + ":22"
		} else {
			h = "tcp://" + net.JoinHostPort(h, strconv.Itoa(port))
		}
	}
	u, err := url.Parse(h)
	if err != nil {
		return nil, providers.UserErrorf("Container.host %q is not a valid URL: %v", redactURL(h), errors.Unwrap(err))
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" { // unix://path/rel → /path/rel, as the bindings do
			u.Path = "/" + u.Host + u.Path
			u.Host = ""
		}
		if u.Path == "" {
			return nil, providers.UserErrorf("Container.host %q names no socket path", h)
		}
	case "tcp":
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), "2375")
		}
	case "ssh":
		if u.User == nil && o.HostUsername != "" {
			u.User = url.User(o.HostUsername)
		}
		if o.HostPassword != "" && u.User != nil {
			if _, set := u.User.Password(); !set {
				u.User = url.UserPassword(u.User.Username(), o.HostPassword)
			}
		}
	case "http":
		u.Scheme = "tcp"
	default:
		return nil, providers.UserErrorf("Container.host %q: unsupported scheme %q (use unix://, tcp:// or ssh://)", u.Redacted(), u.Scheme)
	}
	return u, nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

// resolve finds the engine to use: the configured host (with the runtime
// configured, or else the one its ping reveals) or the first local engine
// that answers. It returns the URL, the runtime and the ping result (nil
// when no ping was made, over ssh).
func (p *Provider) resolve(ctx context.Context) (*url.URL, string, *pingResult, error) {
	u, err := p.opts.hostURL()
	if err != nil {
		return nil, "", nil, err
	}
	if u != nil {
		return p.resolveHost(ctx, u, p.opts.Runtime, "Container.host")
	}
	var tried []string
	for _, c := range p.candidates() {
		cu, err := url.Parse(c.URL)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s %s: not a URL", c.Source, redactURL(c.URL)))
			continue
		}
		if cu.Scheme == "unix" && cu.Host != "" {
			cu.Path, cu.Host = "/"+cu.Host+cu.Path, ""
		}
		if cu.Scheme == "ssh" {
			// Cannot probe cheaply: trust the variable.
			rt := p.opts.Runtime
			if rt == "" {
				rt = c.Runtime
			}
			return cu, rt, nil, nil
		}
		if cu.Scheme != "unix" && cu.Scheme != "tcp" {
			tried = append(tried, fmt.Sprintf("%s: unsupported scheme", label(c, cu)))
			continue
		}
		pr, err := ping(ctx, cu)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", nil, ctx.Err()
			}
			tried = append(tried, fmt.Sprintf("%s (%v)", label(c, cu), err))
			continue
		}
		rt := "docker"
		if pr.Libpod {
			rt = "podman"
		}
		if p.opts.Runtime == "podman" && !pr.Libpod {
			tried = append(tried, fmt.Sprintf("%s (a Docker engine, but Container.runtime is podman)", label(c, cu)))
			continue
		}
		if p.opts.Runtime == "docker" {
			rt = "docker" // Podman's Docker-compatible API serves Docker clients
		}
		p.log.Debug("found a local container engine", "url", cu.Redacted(), "runtime", rt, "source", c.Source)
		return cu, rt, &pr, nil
	}
	what := "no container engine answered"
	if p.opts.Runtime != "" {
		what = "no " + p.opts.Runtime + " engine answered"
	}
	return nil, "", nil, providers.UserErrorf("%s; tried: %s; %s", what, strings.Join(tried, "; "), fixHint)
}

func label(c candidate, u *url.URL) string {
	if c.Source != "" {
		return c.Source + "=" + u.Redacted()
	}
	return u.Redacted()
}

// resolveHost settles the runtime of a configured engine URL.
func (p *Provider) resolveHost(ctx context.Context, u *url.URL, runtime, source string) (*url.URL, string, *pingResult, error) {
	if u.Scheme == "ssh" {
		if runtime == "" {
			runtime = "podman" // upstream's default runtime
		}
		if runtime == "podman" && (u.Path == "" || u.Path == "/") {
			u.Path = "/run/podman/podman.sock"
		}
		return u, runtime, nil, nil
	}
	pr, err := ping(ctx, u)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", nil, ctx.Err()
		}
		return nil, "", nil, &providers.UserError{Err: &unreachableError{Runtime: runtime, Endpoint: u.Redacted(), Err: err}}
	}
	switch {
	case runtime == "":
		runtime = "docker"
		if pr.Libpod {
			runtime = "podman"
		}
	case runtime == "podman" && !pr.Libpod:
		return nil, "", nil, providers.UserErrorf("%s %s is a Docker engine, not Podman: set Container.runtime to docker (or BROKER_CONTAINER__RUNTIME=docker)", source, u.Redacted())
	}
	return u, runtime, &pr, nil
}

// engine returns the connected engine, connecting on first use. A failed
// connection is not kept: the next call tries again.
func (p *Provider) engine(ctx context.Context) (engine, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eng != nil {
		return p.eng, nil
	}
	u, rt, pr, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	var eng engine
	switch rt {
	case "docker":
		api := ""
		if pr != nil {
			api = pr.APIVersion
		}
		eng, err = newDockerEngine(ctx, u, api, p.opts.Timeout)
	case "podman":
		eng, err = newPodmanEngine(ctx, u, p.opts.Timeout)
	}
	if err != nil {
		return nil, err
	}
	p.log.Debug("connected", "runtime", rt, "url", eng.Endpoint())
	p.eng = eng
	return eng, nil
}
