package scenario

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// containerFake is a fakeBroker that also runs containers and snapshots:
// RunContainer records each spec (with its stdin read) and answers with
// run's result (by default: status 0, the sorted environment as stdout).
type containerFake struct {
	*fakeBroker
	mu    sync.Mutex
	specs []ContainerSpec
	stdin []string // per spec; "<nil>" without stdin
	run   func(ContainerSpec) (Result, error)
	snaps []string // "hostname ref"
}

func newContainerFake() *containerFake { return &containerFake{fakeBroker: &fakeBroker{}} }

func (b *containerFake) RunContainer(ctx context.Context, spec ContainerSpec) (Result, error) {
	in := "<nil>"
	if spec.Stdin != nil {
		data, err := io.ReadAll(spec.Stdin)
		if err != nil {
			return Result{}, err
		}
		in = string(data)
	}
	b.mu.Lock()
	b.specs = append(b.specs, spec)
	b.stdin = append(b.stdin, in)
	b.mu.Unlock()
	if b.run != nil {
		return b.run(spec)
	}
	var lines []string
	for k, v := range spec.Env {
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	return Result{Stdout: strings.Join(lines, "\n")}, nil
}

func (b *containerFake) Snapshot(ctx context.Context, h Host, ref string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.snaps = append(b.snaps, hostName(h)+" "+ref)
	return "sha256:" + strings.Repeat("ab", 32), nil
}

// Checkout makes AWX hosts for provider: AWX, else Container ones.
func (b *containerFake) Checkout(ctx context.Context, args map[string]any) ([]Host, error) {
	if args["provider"] == "AWX" {
		return []Host{&fakeHost{rec: map[string]any{"hostname": "vm1.example.com", "name": "vm1", "_broker_provider": "AWX"}}}, nil
	}
	return b.fakeBroker.Checkout(ctx, args)
}

// runIn parses src as dir/name and runs it with broker b.
func runIn(t *testing.T, b Broker, dir, name, src string) (*Outcome, error) {
	t.Helper()
	sc, err := Parse(filepath.Join(dir, name), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return (&Runner{Broker: b}).Run(context.Background(), sc)
}

func stepResult(t *testing.T, out *Outcome, name string) StepResult {
	t.Helper()
	for _, s := range out.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q in %v", name, out.Steps)
	return StepResult{}
}

func TestContainerArguments(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := newContainerFake()
	out, err := runIn(t, b, dir, "build.yaml", `
steps:
  - name: shell
    action: container
    arguments:
      image: " busybox "
      command: "echo hi && exit 0"
      workdir: /src
      timeout: 2m
      output: /out/result.json
      volumes:
        - in:/in
        - out:/out:rw
        - /abs/path:/abs:ro
        - {source: in, target: /in2}
        - {source: made, target: /made, rw: true}
  - name: argv
    action: container
    arguments:
      image: busybox
      command: [ls, -l, 3]
      output: stderr
  - name: default
    action: container
    arguments: {image: busybox}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.specs) != 3 {
		t.Fatalf("%d containers ran, want 3", len(b.specs))
	}
	s := b.specs[0]
	if s.Image != "busybox" || s.Shell != "echo hi && exit 0" || s.Command != nil || s.Workdir != "/src" ||
		s.Timeout != 2*time.Minute || s.Output != "/out/result.json" || s.Name != "shell" || s.Host != nil || s.Stdin != nil {
		t.Errorf("spec 1: %+v", s)
	}
	wantVols := []Volume{
		{Source: filepath.Join(dir, "in"), Target: "/in"},
		{Source: filepath.Join(dir, "out"), Target: "/out", RW: true},
		{Source: "/abs/path", Target: "/abs"},
		{Source: filepath.Join(dir, "in"), Target: "/in2"},
		{Source: filepath.Join(dir, "made"), Target: "/made", RW: true},
	}
	if !reflect.DeepEqual(s.Volumes, wantVols) {
		t.Errorf("volumes:\n got %+v\nwant %+v", s.Volumes, wantVols)
	}
	for _, d := range []string{"out", "made"} { // missing rw sources are made
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("rw volume source %s not made: %v", d, err)
		}
	}
	if s := b.specs[1]; !reflect.DeepEqual(s.Command, []string{"ls", "-l", "3"}) || s.Shell != "" || s.Output != "stderr" {
		t.Errorf("spec 2: %+v", s)
	}
	if s := b.specs[2]; s.Command != nil || s.Shell != "" || s.Output != "stdout" || s.Timeout != 0 {
		t.Errorf("spec 3: %+v", s)
	}
	if got := stepResult(t, out, "default").Output; !reflect.DeepEqual(got, map[string]any{"status": 0, "stdout": "", "stderr": ""}) {
		t.Errorf("output %#v, want a {status, stdout, stderr} map", got)
	}
}

func TestContainerArgumentErrors(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{`{command: "true"}`, "requires an 'image' argument"},
		{`{image: busybox, command: {a: b}}`, "'command' must be a string"},
		{`{image: busybox, command: []}`, "empty list"},
		{`{image: busybox, command: "  "}`, "'command' is empty"},
		{`{image: busybox, volumes: "a:/b"}`, "'volumes' must be a list"},
		{`{image: busybox, volumes: ["a"]}`, "want SOURCE:TARGET"},
		{`{image: busybox, volumes: ["a:/b:rx"]}`, "mode must be ro or rw"},
		{`{image: busybox, volumes: ["a:rel"]}`, "must be an absolute path"},
		{`{image: busybox, volumes: [{source: a, dest: /b}]}`, `unknown key "dest"`},
		{`{image: busybox, volumes: [{source: a, target: /b, rw: "yes"}]}`, "rw must be true or false"},
		{`{image: busybox, volumes: ["missing:/m"]}`, "missing does not exist"},
		{`{image: busybox, output: relative/path}`, "'output' must be stdout, stderr or an absolute path"},
		{`{image: busybox, workdir: src}`, "'workdir' must be an absolute path"},
		{`{image: busybox, timeout: soon}`, "invalid timeout"},
		{`{image: busybox, environment: [A]}`, "not NAME=VALUE"},
		{`{image: busybox, environment: "A=1"}`, "'environment' must be a map"},
		{`{image: busybox, environment: {"A=B": 1}}`, "invalid environment variable name"},
	} {
		b := newContainerFake()
		out, err := runIn(t, b, t.TempDir(), "s.yaml", "steps:\n  - name: c\n    action: container\n    arguments: "+c.args+"\n")
		var se *StepError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a step error with %q", c.args, err, c.want)
		}
		if len(b.specs) != 0 {
			t.Errorf("%s: a container ran", c.args)
		}
		if r := stepResult(t, out, "c"); r.Status != StatusFailed {
			t.Errorf("%s: status %s", c.args, r.Status)
		}
	}

	// a broker that cannot run containers
	_, err := runIn(t, &fakeBroker{}, t.TempDir(), "s.yaml", "steps:\n  - name: c\n    action: container\n    arguments: {image: x}\n")
	if !errors.Is(err, ErrNotImplemented) {
		t.Errorf("no ContainerRunner: err = %v, want ErrNotImplemented", err)
	}
	_, err = (&Runner{}).Run(context.Background(), mustParse(t, "steps:\n  - name: c\n    action: container\n    arguments: {image: x}\n"))
	if !errors.Is(err, ErrNoBroker) {
		t.Errorf("no broker: err = %v, want ErrNoBroker", err)
	}
}

// The environment: scalar scenario variables < the step's variables < the
// environment argument; the overrides are that container's only.
func TestContainerEnvLayering(t *testing.T) {
	b := newContainerFake()
	out, err := runIn(t, b, t.TempDir(), "s.yaml", `
variables:
  a: global
  b: global
  c: global
  n: 3
  f: 1.5
  yes: true
  list: [1, 2]
  map: {k: v}
  "bad name": x
steps:
  - name: capture
    action: output
    arguments: {content: captured}
    capture: {as: cap}
  - name: layered
    action: container
    variables:
      b: step
      c: step
      obj: {k: "{{ a }}"}
    arguments:
      image: busybox
      environment:
        c: container
        extra: "{{ n + 1 }}"
        empty: null
  - name: plain
    action: container
    arguments: {image: busybox}
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": "global", "b": "step", "c": "container", "n": "3", "f": "1.5", "yes": "true",
		"cap": "captured", "obj": `{"k":"global"}`, "extra": "4", "empty": "",
	}
	if got := b.specs[0].Env; !reflect.DeepEqual(got, want) {
		t.Errorf("layered env:\n got %v\nwant %v", got, want)
	}
	want = map[string]string{"a": "global", "b": "global", "c": "global", "n": "3", "f": "1.5", "yes": "true", "cap": "captured"}
	if got := b.specs[1].Env; !reflect.DeepEqual(got, want) {
		t.Errorf("next container's env:\n got %v\nwant %v", got, want)
	}
	for _, k := range []string{"step", "steps", "previous_step", "scenario_inventory", "inventory", "retry", "list", "map"} {
		if _, ok := b.specs[0].Env[k]; ok {
			t.Errorf("env has %s", k)
		}
	}
	if got := stepResult(t, out, "plain").Output.(map[string]any)["stdout"]; !strings.Contains(got.(string), "a=global\n") {
		t.Errorf("stdout %q", got)
	}
}

func TestContainerHostsInputAndFailure(t *testing.T) {
	b := newContainerFake()
	b.run = func(s ContainerSpec) (Result, error) {
		switch {
		case s.Shell == "fail":
			return Result{Status: 4, Stdout: "partial", Stderr: strings.Repeat("x", 600) + "\nthe end of stderr\n"}, nil
		case s.Shell == "fail on host2" && hostName(s.Host) == "host2.example.com":
			return Result{Status: 2, Stderr: "no"}, nil
		case s.Shell == "engine down":
			return Result{Status: -1}, errors.New("cannot reach the engine")
		}
		h := "default"
		if s.Host != nil {
			h = hostName(s.Host)
		}
		return Result{Stdout: "ran on " + h}, nil
	}
	out, err := runIn(t, b, t.TempDir(), "s.yaml", `
steps:
  - name: get
    action: checkout
    arguments: {container_host: busybox, count: 2}
  - name: one host
    action: container
    arguments: {image: busybox, command: x}
    with: {hosts: "0"}
  - name: two hosts
    action: container
    arguments: {image: busybox, command: x}
    with: {hosts: scenario_inventory}
  - name: source
    action: output
    arguments: {content: "piped text"}
  - name: piped
    action: container
    input: source
    arguments: {image: busybox, command: cat}
  - name: piped to hosts
    action: container
    input: source
    arguments: {image: busybox, command: cat}
    with: {hosts: scenario_inventory}
  - name: broken
    action: container
    arguments: {image: busybox, command: fail}
    on_error:
      - name: report
        action: output
        arguments: {content: "{{ steps['broken'].output }}"}
        capture: {as: report}
  - name: half broken
    action: container
    arguments: {image: busybox, command: fail on host2}
    with: {hosts: scenario_inventory}
    on_error: continue
  - name: unreachable
    action: container
    arguments: {image: busybox, command: engine down}
    on_error: continue
  - name: no hosts
    action: container
    arguments: {image: busybox, command: x}
    with: {hosts: "{{ [] }}"}
    on_error: continue
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := stepResult(t, out, "one host").Output; !reflect.DeepEqual(got, map[string]any{"status": 0, "stdout": "ran on host1.example.com", "stderr": ""}) {
		t.Errorf("one host: %v", got)
	}
	got := stepResult(t, out, "two hosts").Output.(map[string]any)
	if len(got) != 2 || got["host2.example.com"].(map[string]any)["stdout"] != "ran on host2.example.com" {
		t.Errorf("two hosts: %v", got)
	}
	// stdin: the input step's text, for each container
	var piped []string
	for i, s := range b.specs {
		if s.Shell == "cat" {
			piped = append(piped, b.stdin[i])
		} else if b.stdin[i] != "<nil>" {
			t.Errorf("container %d (%s) got stdin %q", i, s.Shell, b.stdin[i])
		}
	}
	if !reflect.DeepEqual(piped, []string{"piped text", "piped text", "piped text"}) {
		t.Errorf("stdin of the piped containers: %q", piped)
	}
	// a non-zero status fails the step: the image, the status, the end of stderr
	broken := stepResult(t, out, "broken")
	if broken.Status != StatusFailed {
		t.Errorf("broken: status %s", broken.Status)
	}
	for _, part := range []string{"container busybox exited with status 4", "the end of stderr", "..."} {
		if !strings.Contains(broken.Error, part) {
			t.Errorf("broken: error %q lacks %q", broken.Error, part)
		}
	}
	if len(broken.Error) > 700 {
		t.Errorf("broken: error is %d bytes; want only the end of stderr", len(broken.Error))
	}
	if r, _ := out.Variables["report"].(string); !strings.Contains(r, "exited with status 4") {
		t.Errorf("on_error saw %q", r)
	}
	half := stepResult(t, out, "half broken")
	if half.Status != StatusFailed || !strings.Contains(half.Error, "host2.example.com: container busybox exited with status 2: no") || strings.Contains(half.Error, "host1") {
		t.Errorf("half broken: %s %q", half.Status, half.Error)
	}
	if u := stepResult(t, out, "unreachable"); u.Status != StatusFailed || !strings.Contains(u.Error, "cannot reach the engine") {
		t.Errorf("unreachable: %s %q", u.Status, u.Error)
	}
	if n := stepResult(t, out, "no hosts"); !strings.Contains(n.Error, "selected no hosts") {
		t.Errorf("no hosts: %q", n.Error)
	}
}

func TestSnapshot(t *testing.T) {
	b := newContainerFake()
	out, err := runIn(t, b, t.TempDir(), "My Scenario.v2.yaml", `
steps:
  - name: get
    action: checkout
    arguments: {container_host: busybox}
  - name: Snap It! Now
    action: snapshot
    with: {hosts: scenario_inventory}
  - name: tagged
    action: snapshot
    arguments: {tag: "registry.local:5000/team/app:v1"}
    with: {hosts: scenario_inventory}
  - name: repo only
    action: snapshot
    arguments: {tag: "team/app"}
    with: {hosts: scenario_inventory}
  - name: split
    action: snapshot
    arguments: {repository: "team/app", tag: "v2"}
    with: {hosts: scenario_inventory}
  - name: more
    action: checkout
    arguments: {container_host: busybox}
  - name: two
    action: snapshot
    arguments: {tag: "team/app:both"}
    with: {hosts: scenario_inventory}
  - name: vm
    action: checkout
    arguments: {provider: AWX}
  - name: not a container
    action: snapshot
    with: {hosts: "-1"}
    on_error: continue
  - name: no hosts
    action: snapshot
    on_error: continue
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"host1.example.com broker-snapshot/my-scenario-v2:snap-it--now",
		"host1.example.com registry.local:5000/team/app:v1",
		"host1.example.com team/app:latest",
		"host1.example.com team/app:v2",
		"host1.example.com team/app:both-host1.example.com",
		"host2.example.com team/app:both-host2.example.com",
	}
	if !reflect.DeepEqual(b.snaps, want) {
		t.Errorf("snapshots:\n got %q\nwant %q", b.snaps, want)
	}
	id := "sha256:" + strings.Repeat("ab", 32)
	if got := stepResult(t, out, "Snap It! Now").Output; !reflect.DeepEqual(got, map[string]any{"image": "broker-snapshot/my-scenario-v2:snap-it--now", "id": id}) {
		t.Errorf("one host: output %v", got)
	}
	two := stepResult(t, out, "two").Output.(map[string]any)
	if len(two) != 2 || two["host2.example.com"].(map[string]any)["image"] != "team/app:both-host2.example.com" {
		t.Errorf("two hosts: output %v", two)
	}
	if e := stepResult(t, out, "not a container").Error; !strings.Contains(e, "vm1.example.com is not a container host (provider AWX): snapshot needs container hosts") {
		t.Errorf("AWX host: %q", e)
	}
	if e := stepResult(t, out, "no hosts").Error; !strings.Contains(e, "requires target hosts") {
		t.Errorf("no with.hosts: %q", e)
	}

	_, err = runIn(t, &fakeBroker{}, t.TempDir(), "s.yaml", `
steps:
  - name: get
    action: checkout
    arguments: {container_host: busybox}
  - name: snap
    action: snapshot
    with: {hosts: scenario_inventory}
`)
	if !errors.Is(err, ErrNotImplemented) {
		t.Errorf("no Snapshotter: %v", err)
	}
}

func TestSlugs(t *testing.T) {
	for in, want := range map[string]string{"Build Step #1": "build-step--1", "..x": "x", "": "latest", "a_b.c-D": "a_b.c-d", strings.Repeat("a", 200): strings.Repeat("a", 128)} {
		if got := slugTag(in); got != want {
			t.Errorf("slugTag(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"My_File.v2": "my-file-v2", "__": "scenario", "ok": "ok"} {
		if got := slugRepo(in); got != want {
			t.Errorf("slugRepo(%q) = %q, want %q", in, got, want)
		}
	}
}
