package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// defaultNetwork is the test engine's default network (shared/ci/README.md).
func defaultNetwork(rt string) string {
	if rt == "podman" {
		return "broker-test"
	}
	return "bridge"
}

// TestProvider is the conformance suite, on every runtime.
func TestProvider(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		t.Run("CheckoutRecordLabelsCheckin", func(t *testing.T) {
			t.Parallel()
			testCheckoutRecordLabelsCheckin(t, e)
		})
		t.Run("PortsDebian", func(t *testing.T) { t.Parallel(); testPortsDebian(t, e) })
		t.Run("AutoMapPorts", func(t *testing.T) { t.Parallel(); testAutoMapPorts(t, e) })
		t.Run("EnvironmentVolumesHostnameCommand", func(t *testing.T) { t.Parallel(); testEnvVolumes(t, e) })
		t.Run("Network", func(t *testing.T) { t.Parallel(); testNetwork(t, e) })
		t.Run("ConcurrentCheckouts", func(t *testing.T) { t.Parallel(); testConcurrent(t, e) })
		t.Run("List", func(t *testing.T) { t.Parallel(); testList(t, e) })
		t.Run("Execute", func(t *testing.T) { t.Parallel(); testExecute(t, e) })
		t.Run("ExecuteCancelled", func(t *testing.T) { t.Parallel(); testExecuteCancelled(t, e) })
		t.Run("CancelledCheckout", func(t *testing.T) { t.Parallel(); testCancelledCheckout(t, e) })
		t.Run("BadInputs", func(t *testing.T) { t.Parallel(); testBadInputs(t, e) })
		t.Run("Info", func(t *testing.T) { t.Parallel(); testInfo(t, e) })
		t.Run("Copy", func(t *testing.T) { t.Parallel(); testCopy(t, e) })
		t.Run("Unreachable", func(t *testing.T) { t.Parallel(); testUnreachable(t, e) })
	})
}

func testCheckoutRecordLabelsCheckin(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, map[string]any{"provider_labels": map[string]any{"team": "qe", "empty": nil}})
	name := p.opts.NamePrefix + "_named"
	args := providers.Args{
		"container_host":  "broker-test/busybox", // no localhost/, no :latest
		"name":            name,
		"_broker_origin":  "test-origin",
		"_count":          1, // "_" keys stay out of broker.args
		"provider_labels": map[string]string{"run": "42"},
	}
	h := checkout(t, p, args)

	id, _ := h["container_id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("container_id = %q, want a full ID", id)
	}
	want := map[string]any{
		"name":             name,
		"hostname":         id[:12], // the container's default host name
		"image":            testenv.BusyboxImage,
		"runtime":          e.Runtime,
		"container_engine": e.Host,
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("record %s = %v, want %v", k, h[k], v)
		}
	}
	if ip, _ := h["ip"].(string); net.ParseIP(ip) == nil {
		t.Errorf("record ip = %q, want an address", h["ip"])
	}
	if len(h["ports"].(map[string]any)) != 0 || len(h["exposed_ports"].(map[string]any)) != 0 {
		t.Errorf("busybox exposes nothing, got ports %v exposed_ports %v", h["ports"], h["exposed_ports"])
	}
	for _, k := range []string{inventory.FieldProvider, inventory.FieldInstance, inventory.FieldArgs} {
		if _, ok := h[k]; ok {
			t.Errorf("record has %s: the caller adds it", k)
		}
	}

	// The labels, as the engine's own client sees them.
	var labels map[string]string
	if err := json.Unmarshal([]byte(engineCLI(t, e, "inspect", "--format", "{{json .Config.Labels}}", id)), &labels); err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"broker.owner": "broker", "broker.user": p.user, "broker.provider": "Container",
		"broker.instance": "test", "broker.origin": "test-origin",
		"broker.team": "qe", "broker.empty": "", "broker.run": "42",
	}
	for k, v := range wantLabels {
		if got, ok := labels[k]; !ok || got != v {
			t.Errorf("label %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	var recorded map[string]any
	if err := json.Unmarshal([]byte(labels["broker.args"]), &recorded); err != nil {
		t.Fatalf("broker.args %q: %v", labels["broker.args"], err)
	}
	if recorded["container_host"] != "broker-test/busybox" || recorded["name"] != name || recorded["_broker_origin"] != "test-origin" {
		t.Errorf("broker.args = %v", recorded)
	}
	if _, ok := recorded["_count"]; ok {
		t.Errorf("broker.args keeps _count: %v", recorded)
	}
	if _, ok := labels["broker.ephemeral"]; ok {
		t.Errorf("a checked-out container is labelled ephemeral")
	}

	if err := p.Checkin(t.Context(), h); err != nil {
		t.Fatalf("Checkin: %v", err)
	}
	gone(t, p, id)
	err := p.Checkin(t.Context(), h)
	if !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("second Checkin = %v, want ErrNotFound", err)
	}
	// A record without container_id is found by name.
	h2 := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	if err := p.Checkin(t.Context(), inventory.Host{"name": h2.Name()}); err != nil {
		t.Fatalf("Checkin by name: %v", err)
	}
	gone(t, p, h2.Name())
	if !strings.HasPrefix(h2.Name(), p.opts.NamePrefix+"_") || len(h2.Name()) != len(p.opts.NamePrefix)+9 {
		t.Errorf("generated name %q, want %s_<8 hex>", h2.Name(), p.opts.NamePrefix)
	}
}

func testPortsDebian(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, map[string]any{"auto_map_ports": false})
	h := checkout(t, p, providers.Args{"container_host": testenv.DebianImage, "ports": "22"})
	ports := h["ports"].(map[string]any)
	port, _ := ports["22/tcp"].(string)
	if port == "" {
		t.Fatalf("ports = %v, want 22/tcp published", ports)
	}
	if h["hostname"] != "127.0.0.1:"+port {
		t.Errorf("hostname = %v, want 127.0.0.1:%s", h["hostname"], port)
	}
	if exp := h["exposed_ports"].(map[string]any); exp["22"] != port {
		t.Errorf("exposed_ports = %v, want {22: %s}", exp, port)
	}
	// sshd answers on the published port.
	deadline := time.Now().Add(15 * time.Second)
	for {
		banner, err := sshBanner(h["hostname"].(string))
		if err == nil && strings.HasPrefix(banner, "SSH-2.0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SSH banner on %s: %q %v", h["hostname"], banner, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Several forms at once: a host port and an address.
	h2 := checkout(t, p, providers.Args{"container_host": testenv.DebianImage, "ports": "22/tcp,127.0.0.1::2222"})
	ports2 := h2["ports"].(map[string]any)
	if ports2["22/tcp"] == nil || ports2["2222/tcp"] == nil {
		t.Errorf("ports = %v, want 22/tcp and 2222/tcp", ports2)
	}
}

func sshBanner(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

func testAutoMapPorts(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil) // auto_map_ports defaults to true
	h := checkout(t, p, providers.Args{"container_host": testenv.DebianImage})
	if h["ports"].(map[string]any)["22/tcp"] == nil {
		t.Errorf("auto_map_ports: ports = %v, want the exposed 22/tcp published", h["ports"])
	}
	h2 := checkout(t, p, providers.Args{"container_host": testenv.DebianImage, "auto_map_ports": "false"})
	if len(h2["ports"].(map[string]any)) != 0 {
		t.Errorf("auto_map_ports false: ports = %v, want none", h2["ports"])
	}
}

func testEnvVolumes(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	h := checkout(t, p, providers.Args{
		"container_host": testenv.BusyboxImage,
		"environment":    "FOO=bar,BAZ=two words",
		"volumes":        dir + ":/data:ro",
		"hostname":       "myhost",
		"command":        `sh -c "trap 'exit 0' TERM; sleep 600 & wait"`,
		"_broker_origin": "origin-1",
	})
	id := h["container_id"].(string)
	if h["hostname"] != "myhost" {
		t.Errorf("hostname = %v, want myhost", h["hostname"])
	}
	out, _, code := execIn(t, p, id, "sh", "-c", `echo "$FOO|$BAZ|$BROKER_ORIGIN"; cat /data/f; hostname`)
	if want := "bar|two words|origin-1\nfrom the host\nmyhost\n"; out != want || code != 0 {
		t.Errorf("exec output %q (status %d), want %q", out, code, want)
	}
	_, errOut, code := execIn(t, p, id, "sh", "-c", "echo x > /data/g")
	if code == 0 {
		t.Errorf("writing to a read-only volume succeeded")
	}
	if !strings.Contains(strings.ToLower(errOut), "read-only") {
		t.Errorf("stderr %q, want a read-only file system error", errOut)
	}
	out, _, _ = execIn(t, p, id, "cat", "/proc/1/cmdline")
	if !strings.Contains(out, "sleep 600") {
		t.Errorf("pid 1 runs %q, want the given command", out)
	}
}

func testNetwork(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, map[string]any{"network": defaultNetwork(e.Runtime)})
	h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	if ip, _ := h["ip"].(string); net.ParseIP(ip) == nil {
		t.Errorf("ip = %v, want an address on %s", h["ip"], defaultNetwork(e.Runtime))
	}
	_, err := p.Checkout(t.Context(), providers.Args{"container_host": testenv.BusyboxImage, "network": "no-such-net"})
	wantUserError(t, err, `network "no-such-net" not found on `+e.Runtime+" "+e.Host, "create it or fix Container.network")
}

func testConcurrent(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	const n = 4
	var wg sync.WaitGroup
	hosts := make([]inventory.Host, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts[i], errs[i] = p.Checkout(t.Context(), providers.Args{"container_host": testenv.BusyboxImage})
			if hosts[i] != nil {
				removeLater(t, p, hosts[i]["container_id"].(string))
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("checkout %d: %v", i, errs[i])
		}
		if seen[hosts[i].Name()] {
			t.Errorf("duplicate name %s", hosts[i].Name())
		}
		seen[hosts[i].Name()] = true
	}
	if got, err := p.List(t.Context(), ""); err != nil || len(got) != n {
		t.Fatalf("List = %d hosts, %v; want %d", len(got), err, n)
	}
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.Checkin(t.Context(), hosts[i]) }()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("checkin %d: %v", i, errs[i])
		}
	}
}

func testList(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	args := providers.Args{"container_host": testenv.BusyboxImage, "environment": "A=1", "_broker_origin": "o"}
	h := checkout(t, p, args)

	// Another user's container, and a container without broker's labels
	// but with this user's name prefix.
	other := newTestProvider(t, providers.Spec{Instance: "test", Config: p.opts.config(e), User: uniqueUser(t)})
	checkout(t, other, providers.Args{"container_host": testenv.BusyboxImage})
	eng := mustEngine(t, p)
	foreign := p.opts.NamePrefix + "_foreign"
	id, err := eng.Create(t.Context(), &createSpec{Name: foreign, Image: testenv.BusyboxImage, Labels: map[string]string{"x": "y"}})
	if id != "" {
		removeLater(t, p, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The same user on another instance.
	otherInst := newTestProvider(t, providers.Spec{Instance: "other", Config: p.opts.config(e), User: p.user})
	checkout(t, otherInst, providers.Args{"container_host": testenv.BusyboxImage})

	for _, arg := range []string{"", p.opts.NamePrefix} {
		got, err := p.List(t.Context(), arg)
		if err != nil {
			t.Fatalf("List(%q): %v", arg, err)
		}
		if len(got) != 1 {
			t.Fatalf("List(%q) = %v, want only %s", arg, names(got), h.Name())
		}
		r := got[0]
		for _, k := range []string{"name", "hostname", "container_id", "image", "ip", "runtime", "container_engine"} {
			if fmt.Sprint(r[k]) != fmt.Sprint(h[k]) {
				t.Errorf("List(%q) %s = %v, checkout had %v", arg, k, r[k], h[k])
			}
		}
		if r[inventory.FieldProvider] != "Container" || r[inventory.FieldInstance] != "test" || r["status"] != "running" {
			t.Errorf("List(%q) record = %v", arg, r)
		}
		ra := r.Args()
		if ra["container_host"] != testenv.BusyboxImage || ra["environment"] != "A=1" || ra["_broker_origin"] != "o" {
			t.Errorf("List(%q) _broker_args = %v, want the checkout's", arg, ra)
		}
	}
	// A stopped container is listed too (a host that crashed is still held).
	engineCLI(t, e, "stop", h["container_id"].(string))
	got, err := p.List(t.Context(), "")
	if err != nil || len(got) != 1 || got[0]["status"] != "exited" {
		t.Fatalf("List after stop = %v, %v; want one exited host", got, err)
	}
}

func names(hs []inventory.Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name())
	}
	return out
}

// config is the settings map that made o, for a second provider on the same
// engine.
func (o options) config(e testenv.Engine) map[string]any {
	return map[string]any{"runtime": e.Runtime, "host": e.Host}
}

func testExecute(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	var stdout, stderr bytes.Buffer
	name := p.opts.NamePrefix + "_exec"
	removeLater(t, p, name)
	res, err := p.Execute(t.Context(), providers.Args{
		"container_app": testenv.BusyboxImage,
		"command":       `sh -c 'echo hi; echo oops >&2; echo "$X"; exit 3'`,
		"environment":   map[string]any{"X": "from env"},
		"name":          name,
	}, providers.ExecOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.Output != "hi\nfrom env\n" || res.ExitCode != 3 {
		t.Errorf("Execute = %q, %d; want \"hi\\nfrom env\\n\", 3", res.Output, res.ExitCode)
	}
	if stdout.String() != "hi\nfrom env\n" || stderr.String() != "oops\n" {
		t.Errorf("streamed stdout %q stderr %q", stdout.String(), stderr.String())
	}
	gone(t, p, name)

	// Collect only, exit 0.
	res, err = p.Execute(t.Context(), providers.Args{"container_app": testenv.BusyboxImage, "command": []any{"pwd"}}, providers.ExecOptions{})
	if err != nil || res.Output != "/\n" || res.ExitCode != 0 {
		t.Errorf("Execute pwd = %+v, %v", res, err)
	}

	_, err = p.Execute(t.Context(), providers.Args{"container_app": testenv.BusyboxImage}, providers.ExecOptions{})
	wantUserError(t, err, "execute needs a command", "--command")
	if got, err := p.List(t.Context(), ""); err != nil || len(got) != 0 {
		t.Errorf("after Execute, List = %v, %v; want nothing left", names(got), err)
	}
}

func testExecuteCancelled(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	name := p.opts.NamePrefix + "_cancel"
	removeLater(t, p, name)
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	var stdout bytes.Buffer
	w := &signalWriter{w: &stdout, once: func() { close(started) }}
	done := make(chan error, 1)
	go func() {
		_, err := p.Execute(ctx, providers.Args{
			"container_app": testenv.BusyboxImage, "name": name,
			"command": "sh -c 'echo started; sleep 600'",
		}, providers.ExecOptions{Stdout: w})
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Execute ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no output from the execute container")
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Execute = %v, want context.Canceled", err)
	}
	gone(t, p, name)
}

// signalWriter calls once on the first write.
type signalWriter struct {
	mu   sync.Mutex
	w    *bytes.Buffer
	once func()
}

func (s *signalWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.once != nil {
		s.once()
		s.once = nil
	}
	return s.w.Write(b)
}

func testCancelledCheckout(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	name := p.opts.NamePrefix + "_cancelled"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var created string
	p.afterCreate = func(id string) {
		created = id
		removeLater(t, p, id)
		cancel() // as a Ctrl-C between create and start
	}
	_, err := p.Checkout(ctx, providers.Args{"container_host": testenv.BusyboxImage, "name": name})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Checkout = %v, want context.Canceled", err)
	}
	if created == "" {
		t.Fatal("the hook did not run")
	}
	if !strings.Contains(err.Error(), "(removed)") {
		t.Errorf("error %q does not say the container was removed", err)
	}
	gone(t, p, created)
	gone(t, p, name)
}

func testBadInputs(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	bb := testenv.BusyboxImage
	cases := []struct {
		name  string
		args  providers.Args
		parts []string
	}{
		{"port", providers.Args{"container_host": bb, "ports": "22 22:abc"}, []string{`invalid port spec "22:abc"`, "PORT[/PROTO][:HOSTPORT]"}},
		{"port proto", providers.Args{"container_host": bb, "ports": "22/icmp"}, []string{`invalid port spec "22/icmp"`, `unknown protocol "icmp"`}},
		{"volume", providers.Args{"container_host": bb, "volumes": "relative/dir:/x"}, []string{`invalid volume "relative/dir:/x"`, "SOURCE:TARGET"}},
		{"volume mode", providers.Args{"container_host": bb, "volumes": "/tmp:/x:rx"}, []string{`unknown mode "rx"`}},
		{"environment", providers.Args{"container_host": bb, "environment": "A=1,B"}, []string{`invalid environment item "B"`}},
		{"command", providers.Args{"container_host": bb, "command": "sh -c 'unterminated"}, []string{"unterminated single quote"}},
		{"name", providers.Args{"container_host": bb, "name": "bad name"}, []string{`invalid container name "bad name"`}},
		{"label", providers.Args{"container_host": bb, "provider_labels": map[string]any{"owner": "me"}}, []string{`provider label "owner" is reserved`}},
		{"no image", providers.Args{"name": "x1"}, []string{"--container-host IMAGE"}},
		{"unknown image", providers.Args{"container_host": "localhost/broker-test/no-such-image:1"}, []string{
			`image "localhost/broker-test/no-such-image:1" not found`, "neither a local image on " + e.Runtime + " " + e.Host,
			"broker providers Container --container-hosts"}},
		{"network", providers.Args{"container_host": bb, "network": "nope1,nope2"}, []string{`network "nope1" not found`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Checkout(t.Context(), c.args)
			wantUserError(t, err, c.parts...)
		})
	}
	if _, err := p.Checkout(t.Context(), providers.Args{"container_host": "localhost/broker-test/no-such-image:1"}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("unknown image: %v does not match ErrNotFound", err)
	}

	// A name in use.
	name := p.opts.NamePrefix + "_taken"
	checkout(t, p, providers.Args{"container_host": bb, "name": name})
	_, err := p.Checkout(t.Context(), providers.Args{"container_host": bb, "name": name})
	wantUserError(t, err, fmt.Sprintf("container name %q is already in use on %s %s", name, e.Runtime, e.Host), "--name")
}

func testInfo(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	ctx := t.Context()
	res, err := p.Info(ctx, providers.InfoQuery{Name: "container_hosts"})
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.Items, testenv.DebianImage) || contains(res.Items, testenv.BusyboxImage) {
		t.Errorf("container_hosts = %v (%s), want the Debian image (exposes 22) and not busybox", res.Items, res.Title)
	}
	if res.Title != "Available Host Images" {
		t.Errorf("title %q", res.Title)
	}
	res, err = p.Info(ctx, providers.InfoQuery{Name: "container_apps"})
	if err != nil || !contains(res.Items, testenv.DebianImage) || !contains(res.Items, testenv.BusyboxImage) || res.Title != "Available App Images" {
		t.Errorf("container_apps = %v %q, %v", res.Items, res.Title, err)
	}
	res, err = p.Info(ctx, providers.InfoQuery{Name: "container_host", Value: "broker-test/debian"})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("container_host debian = %v, %v", res, err)
	}
	d := res.Items[0].(map[string]any)
	if d["name"] != testenv.DebianImage || len(d["id"].(string)) != 12 || !contains(d["tags"].([]any), testenv.DebianImage) {
		t.Errorf("details = %v", d)
	}
	if sz, _ := d["size"].(int64); sz <= 0 {
		t.Errorf("size = %v", d["size"])
	}
	cfg := d["config"].(map[string]any)
	if _, ok := cfg["Env"]; ok {
		t.Errorf("config keeps Env: %v", cfg)
	}
	if _, ok := cfg["ExposedPorts"].(map[string]any)["22/tcp"]; !ok {
		t.Errorf("config = %v, want ExposedPorts 22/tcp", cfg)
	}
	_, err = p.Info(ctx, providers.InfoQuery{Name: "container_app", Value: "nope/nothing"})
	wantUserError(t, err, `image "nope/nothing" on `+e.Runtime)
	if !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("unknown image: %v does not match ErrNotFound", err)
	}
	_, err = p.Info(ctx, providers.InfoQuery{Name: "workflows"})
	wantUserError(t, err, `no listing "workflows"`)
}

func contains(items []any, s string) bool {
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}

func testCopy(t *testing.T, e testenv.Engine) {
	p := testProvider(t, e, nil)
	h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
	id := h["container_id"].(string)
	eng := mustEngine(t, p)
	var tarball bytes.Buffer
	writeTar(t, &tarball, "hello.txt", "hello\n")
	if err := eng.CopyTo(t.Context(), id, "/tmp", &tarball); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := execIn(t, p, id, "cat", "/tmp/hello.txt"); out != "hello\n" {
		t.Errorf("copied file holds %q", out)
	}
	var back bytes.Buffer
	if err := eng.CopyFrom(t.Context(), id, "/tmp/hello.txt", &back); err != nil {
		t.Fatal(err)
	}
	if name, body := readTar(t, &back); name != "hello.txt" || body != "hello\n" {
		t.Errorf("copied back %q: %q", name, body)
	}
	if err := eng.CopyFrom(t.Context(), id, "/no/such/file", &back); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("CopyFrom a missing file = %v, want ErrNotFound", err)
	}
}

func testUnreachable(t *testing.T, e testenv.Engine) {
	for _, host := range []string{"unix:///nonexistent.sock", refusingSocket(t)} {
		p := newTestProvider(t, providers.Spec{Config: map[string]any{"runtime": e.Runtime, "host": host}, User: "u"})
		_, err := p.Checkout(t.Context(), providers.Args{"container_host": testenv.BusyboxImage})
		wantUserError(t, err, "cannot reach the "+e.Runtime+" engine at "+host, "start the engine", "Container.host", "BROKER_CONTAINER__HOST")
		_, err = p.List(t.Context(), "")
		wantUserError(t, err, "cannot reach the "+e.Runtime+" engine at "+host)
	}
}

// refusingSocket is a unix socket path nobody listens on any more.
func refusingSocket(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "dead.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	return "unix://" + path
}

// TestCancelledConcurrentCheckouts cancels a dozen checkouts in flight (as
// Ctrl-C during checkout --count 12): none may leave a container behind,
// whatever step each was at.
func TestCancelledConcurrentCheckouts(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		p := testProvider(t, e, nil)
		eng := mustEngine(t, p)
		mine := map[string]string{labelOwner: ownerValue, labelUser: p.user}
		t.Cleanup(func() {
			list, _ := eng.List(context.Background(), mine)
			for _, c := range list {
				eng.Remove(context.Background(), c.ID)
			}
		})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		hosts := make([]inventory.Host, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hosts[i], errs[i] = p.Checkout(ctx, providers.Args{"container_host": testenv.DebianImage})
			}()
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			list, err := eng.List(t.Context(), mine)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		cancelled := 0
		for i, err := range errs {
			switch {
			case err == nil:
				// Made before the cancel: the caller checks it in.
				if err := p.Checkin(t.Context(), hosts[i]); err != nil {
					t.Errorf("checkin %d: %v", i, err)
				}
			case errors.Is(err, context.Canceled):
				cancelled++
			default:
				t.Errorf("checkout %d: %v", i, err)
			}
		}
		t.Logf("%d of %d checkouts cancelled", cancelled, n)
		list, err := eng.List(t.Context(), mine)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			var left []string
			for _, c := range list {
				left = append(left, c.Name)
			}
			t.Errorf("%d containers left after the cancelled checkouts: %v", len(list), left)
		}
	})
}
