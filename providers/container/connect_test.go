package container

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/providers"
)

func TestBadRuntime(t *testing.T) {
	_, err := New(t.Context(), providers.Spec{Config: map[string]any{"runtime": "LXC"}, User: "u"})
	wantUserError(t, err, `Container.runtime "LXC" is not supported`, "docker or podman")
	for _, rt := range []string{"Docker", "PODMAN", "podman"} {
		if _, err := New(t.Context(), providers.Spec{Config: map[string]any{"runtime": rt}, User: "u"}); err != nil {
			t.Errorf("runtime %q: %v", rt, err)
		}
	}
}

func TestBadSettings(t *testing.T) {
	for cfg, want := range map[string]map[string]any{
		"Container.timeout":        {"timeout": "soon"},
		"Container.auto_map_ports": {"auto_map_ports": "maybe"},
		"Container.host_port":      {"host_port": "ssh"},
		"unsupported scheme":       {"host": "npipe:////./pipe/docker"},
	} {
		p, err := New(t.Context(), providers.Spec{Config: want, User: "u"})
		if err == nil {
			_, err = p.(*Provider).opts.hostURL()
		}
		wantUserError(t, err, cfg)
	}
}

func TestHostURL(t *testing.T) {
	cases := []struct {
		o    options
		want string // "" = auto-detect
	}{
		{options{}, ""},
		{options{Host: "localhost", HostPort: 2375}, ""},
		{options{Host: "/run/x.sock"}, "unix:///run/x.sock"},
		{options{Host: "unix:///run/x.sock"}, "unix:///run/x.sock"},
		{options{Host: "unix://run/x.sock"}, "unix:///run/x.sock"},
		{options{Host: "tcp://h"}, "tcp://h:2375"},
		{options{Host: "tcp://h:1234"}, "tcp://h:1234"},
		{options{Host: "http://h:1234"}, "tcp://h:1234"},
		{options{Host: "h"}, "tcp://h:2375"},
		{options{Host: "h", HostPort: 2376}, "tcp://h:2376"},
		{options{Host: "h", HostPort: 22, HostUsername: "root"}, "ssh://root@h:22"},
		{options{Host: "ssh://me@h", HostUsername: "root", HostPassword: "pw"}, "ssh://me:pw@h"},
	}
	for _, c := range cases {
		u, err := c.o.hostURL()
		if err != nil {
			t.Errorf("%+v: %v", c.o, err)
			continue
		}
		got := ""
		if u != nil {
			got = u.String()
		}
		if got != c.want {
			t.Errorf("host %q port %d: %q, want %q", c.o.Host, c.o.HostPort, got, c.want)
		}
	}
	u, _ := (&options{Host: "ssh://me@h", HostPassword: "secret"}).hostURL()
	if r := u.Redacted(); r != "ssh://me:xxxxx@h" {
		t.Errorf("redacted %q", r)
	}
}

// TestAutoDetect points CONTAINER_HOST and DOCKER_HOST at the test engines
// and checks which runtime the provider settles on.
func TestAutoDetect(t *testing.T) {
	d := testenv.Need(t, "docker")
	pm := testenv.Need(t, "podman")
	cases := []struct {
		name                  string
		containerHost, docker string
		runtime               string // setting
		want                  string
		wantHost              string
	}{
		{"CONTAINER_HOST", pm.Host, "", "", "podman", pm.Host},
		{"DOCKER_HOST", "", d.Host, "", "docker", d.Host},
		{"CONTAINER_HOST first", pm.Host, d.Host, "", "podman", pm.Host},
		{"DOCKER_HOST on podman prefers libpod", "", pm.Host, "", "podman", pm.Host},
		{"runtime docker on podman's socket", "", pm.Host, "docker", "docker", pm.Host},
		{"dead CONTAINER_HOST is skipped", "unix:///nonexistent-broker.sock", d.Host, "", "docker", d.Host},
		{"runtime podman skips docker", "", d.Host, "podman", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CONTAINER_HOST", c.containerHost)
			t.Setenv("DOCKER_HOST", c.docker)
			t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
			p := newTestProvider(t, providers.Spec{Config: map[string]any{"runtime": c.runtime}, User: "u"})
			p.probe = localCandidates()[:len(localCandidates())-2] // not the machine's fixed sockets
			eng, err := p.engine(t.Context())
			if c.want == "" {
				wantUserError(t, err, "no podman engine answered", "tried:", "$DOCKER_HOST="+c.docker+" (a Docker engine, but Container.runtime is podman)", "Container.host")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if eng.Runtime() != c.want || eng.Endpoint() != c.wantHost {
				t.Errorf("detected %s %s, want %s %s", eng.Runtime(), eng.Endpoint(), c.want, c.wantHost)
			}
			if _, err := eng.Images(t.Context()); err != nil {
				t.Errorf("the detected engine does not answer: %v", err)
			}
		})
	}
	t.Run("runtime docker over podman's compat API checks out", func(t *testing.T) {
		p := newTestProvider(t, providers.Spec{Instance: "compat", Config: map[string]any{"runtime": "docker", "host": pm.Host}, User: uniqueUser(t)})
		h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
		if h["runtime"] != "docker" {
			t.Errorf("runtime %v", h["runtime"])
		}
		if got, err := p.List(t.Context(), ""); err != nil || len(got) != 1 {
			t.Errorf("List = %v, %v", names(got), err)
		}
		if err := p.Checkin(t.Context(), h); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nothing answers", func(t *testing.T) {
		t.Setenv("CONTAINER_HOST", "unix:///nonexistent-a.sock")
		t.Setenv("DOCKER_HOST", "")
		p := newTestProvider(t, providers.Spec{User: "u"})
		p.probe = []candidate{
			{URL: "unix:///nonexistent-a.sock", Runtime: "podman", Source: "$CONTAINER_HOST"},
			{URL: "unix:///nonexistent-b.sock", Runtime: "docker"},
		}
		_, err := p.Checkout(t.Context(), providers.Args{"container_host": "x"})
		wantUserError(t, err, "no container engine answered", "$CONTAINER_HOST=unix:///nonexistent-a.sock",
			"unix:///nonexistent-b.sock", "no such file or directory", fixHint)
	})
}

func TestLocalCandidatesOrder(t *testing.T) {
	t.Setenv("CONTAINER_HOST", "unix:///a.sock")
	t.Setenv("DOCKER_HOST", "tcp://b:2375")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	var got []string
	for _, c := range localCandidates() {
		got = append(got, c.Runtime+" "+c.URL)
	}
	want := []string{"podman unix:///a.sock", "docker tcp://b:2375", "podman unix:///run/user/7/podman/podman.sock",
		"podman unix:///run/podman/podman.sock", "docker unix:///var/run/docker.sock"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidate %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func writeTar(t testing.TB, w io.Writer, name, body string) {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func readTar(t testing.TB, r io.Reader) (string, string) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	io.Copy(&b, tr)
	return h.Name, b.String()
}
