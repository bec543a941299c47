package scenario

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// ansibleFake is a fakeBroker that also runs playbooks: it records each
// spec and host list and answers with result (or err).
type ansibleFake struct {
	*fakeBroker
	mu     sync.Mutex
	specs  []PlaybookSpec
	hosts  [][]string
	result func(hosts []Host, spec PlaybookSpec) PlaybookResult
	err    error
}

func (f *ansibleFake) RunPlaybook(ctx context.Context, hosts []Host, spec PlaybookSpec) (PlaybookResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, h := range hosts {
		names = append(names, hostRecord(h)["name"].(string))
	}
	f.specs = append(f.specs, spec)
	f.hosts = append(f.hosts, names)
	if f.err != nil {
		return PlaybookResult{}, f.err
	}
	if f.result != nil {
		return f.result(hosts, spec), nil
	}
	// every host ran two tasks: ok, changed
	res := PlaybookResult{Stats: map[string]map[string]int{}, Tasks: map[string][]TaskStatus{}, Stdout: "{}", Stderr: "warning\n"}
	for _, n := range names {
		res.Stats[n] = map[string]int{"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}
		res.Tasks[n] = []TaskStatus{{Task: "write", Status: "changed"}, {Task: "read", Status: "ok"}}
	}
	return res, nil
}

// ansibleScenario writes a scenario and an empty playbook (play.yml) into a
// temporary directory and parses the scenario from there.
func ansibleScenario(t *testing.T, src string) (*Scenario, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "plays"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plays", "play.yml"), []byte("- hosts: all\n  tasks: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.yaml")
	sc, err := Parse(path, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc, dir
}

func stepsByName(out *Outcome) map[string]StepResult {
	m := map[string]StepResult{}
	for _, s := range out.Steps {
		m[s.Name] = s
	}
	return m
}

func TestAnsibleArguments(t *testing.T) {
	sc, dir := ansibleScenario(t, `
variables:
  who: world
steps:
  - name: get
    action: checkout
    arguments: {container_host: debian, count: 3}
  - name: play
    action: ansible
    arguments:
      playbook: plays/play.yml
      extra_vars: {greeting: "hello {{ who }}", n: 3, nested: {l: [1, 2]}}
      options: ["--tags", "web", "-v", 5]
      timeout: 2m
    with: {hosts: "0:2"}
    capture: {as: play}
  - name: show
    action: output
    arguments:
      content: "{% for h, ts in play.tasks.items() %}{% for t in ts %}{{ h }} {{ t.task }}={{ t.status }};{% endfor %}{% endfor %}"
  - name: stats
    action: output
    arguments: {content: "status={{ play.status }} changed={{ play.stats.c1.changed }} stderr={{ play.stderr | trim }}"}
  - name: string options, no extra vars
    action: ansible
    arguments: {playbook: "{{ 'plays/play.yml' }}", options: "--check --diff"}
    with: {hosts: scenario_inventory}
`)
	fb := &ansibleFake{fakeBroker: &fakeBroker{}}
	var stdout strings.Builder
	out, err := (&Runner{Broker: fb, Stdout: &stdout}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(fb.specs) != 2 {
		t.Fatalf("%d playbook runs, want 2", len(fb.specs))
	}
	want := PlaybookSpec{
		Playbook:  filepath.Join(dir, "plays", "play.yml"),
		ExtraVars: map[string]any{"greeting": "hello world", "n": 3, "nested": map[string]any{"l": []any{1, 2}}},
		Options:   []string{"--tags", "web", "-v", "5"},
		Timeout:   2 * time.Minute,
	}
	if !reflect.DeepEqual(fb.specs[0], want) {
		t.Errorf("spec = %#v\nwant %#v", fb.specs[0], want)
	}
	if !reflect.DeepEqual(fb.hosts, [][]string{{"c1", "c2"}, {"c1", "c2", "c3"}}) {
		t.Errorf("hosts = %v", fb.hosts)
	}
	if s := fb.specs[1]; !reflect.DeepEqual(s.Options, []string{"--check", "--diff"}) || s.ExtraVars != nil || s.Timeout != 0 {
		t.Errorf("second spec = %#v", s)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || lines[0] != "c1 write=changed;c1 read=ok;c2 write=changed;c2 read=ok;" || lines[1] != "status=0 changed=1 stderr=warning" {
		t.Errorf("output:\n%s", stdout.String())
	}
	// the output's shape, as recorded in the step result
	got := stepsByName(out)["play"].Output
	wantOut := map[string]any{
		"status": 0,
		"stats": map[string]any{
			"c1": map[string]any{"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0},
			"c2": map[string]any{"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0},
		},
		"tasks": map[string]any{
			"c1": []any{map[string]any{"task": "write", "status": "changed"}, map[string]any{"task": "read", "status": "ok"}},
			"c2": []any{map[string]any{"task": "write", "status": "changed"}, map[string]any{"task": "read", "status": "ok"}},
		},
		"stderr": "warning\n",
	}
	if !reflect.DeepEqual(got, wantOut) {
		t.Errorf("output = %#v\nwant %#v", got, wantOut)
	}
}

func TestAnsibleBadArguments(t *testing.T) {
	for _, tc := range []struct{ step, want string }{
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml}}`, "requires target hosts (with.hosts)"},
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml}, with: {hosts: "{{ [] }}"}}`, "selected no hosts"},
		{`{name: x, action: ansible, arguments: {}, with: {hosts: scenario_inventory}}`, "requires a 'playbook' argument"},
		{`{name: x, action: ansible, arguments: {playbook: nope.yml}, with: {hosts: scenario_inventory}}`, "nope.yml: no such file or directory"},
		{`{name: x, action: ansible, arguments: {playbook: plays}, with: {hosts: scenario_inventory}}`, "is a directory"},
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml, extra_vars: [a]}, with: {hosts: scenario_inventory}}`, "extra_vars must be a map"},
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml, options: [{a: 1}]}, with: {hosts: scenario_inventory}}`, "options must be a list of strings"},
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml, timeout: soon}, with: {hosts: scenario_inventory}}`, "is not a duration"},
		{`{name: x, action: ansible, arguments: {playbook: plays/play.yml, extravars: {a: 1}}, with: {hosts: scenario_inventory}}`, `unknown argument "extravars"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			sc, _ := ansibleScenario(t, "steps:\n  - {name: get, action: checkout, arguments: {container_host: debian}}\n  - "+tc.step+"\n")
			fb := &ansibleFake{fakeBroker: &fakeBroker{}}
			_, err := (&Runner{Broker: fb}).Run(context.Background(), sc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if len(fb.specs) != 0 {
				t.Errorf("playbook ran: %v", fb.specs)
			}
		})
	}
}

func TestAnsibleFailure(t *testing.T) {
	sc, _ := ansibleScenario(t, `
steps:
  - name: get
    action: checkout
    arguments: {container_host: debian, count: 3}
  - name: play
    action: ansible
    arguments: {playbook: plays/play.yml}
    with: {hosts: scenario_inventory}
    on_error:
      - name: report
        action: output
        arguments: {content: "recovered: {{ steps.play.status }}"}
`)
	fb := &ansibleFake{fakeBroker: &fakeBroker{}}
	fb.result = func(hosts []Host, spec PlaybookSpec) PlaybookResult {
		z := func(kv ...any) map[string]int {
			m := map[string]int{"ok": 0, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1].(int)
			}
			return m
		}
		return PlaybookResult{
			Status: 2,
			Stats:  map[string]map[string]int{"c1": z("ok", 1, "failures", 1, "ignored", 1), "c2": z("ok", 2), "c3": z("unreachable", 1)},
			Tasks: map[string][]TaskStatus{
				"c1": {{Task: "tolerated", Status: "failed", Msg: "ignored one"}, {Task: "setup", Status: "ok"}, {Task: "deploy", Status: "failed", Msg: "disk full"}},
				"c2": {{Task: "setup", Status: "ok"}, {Task: "deploy", Status: "ok"}},
				"c3": {{Task: "setup", Status: "unreachable", Msg: "no route"}},
			},
			Stderr: strings.Repeat("x", 5000) + "\nlast line\n",
		}
	}
	var stdout strings.Builder
	out, err := (&Runner{Broker: fb, Stdout: &stdout}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "recovered: failed\n" {
		t.Errorf("stdout = %q", stdout.String())
	}
	play := stepsByName(out)["play"]
	const want = `playbook play.yml failed (ansible-playbook exit status 2): host c1 failed at task "deploy": disk full; host c3 unreachable at task "setup": no route`
	if play.Status != StatusFailed || play.Error != want {
		t.Errorf("step: %s %q\nwant error %q", play.Status, play.Error, want)
	}

	// the error carries the output the step would have had
	fb2 := &ansibleFake{fakeBroker: &fakeBroker{}, result: fb.result}
	h, _ := fb2.Checkout(context.Background(), map[string]any{"_count": 1})
	st := &state{r: &Runner{Broker: fb2}, sc: sc, log: slog.New(slog.DiscardHandler)}
	v, err := st.ansible(context.Background(), &Step{Name: "p", Action: "ansible", Hosts: "scenario_inventory"}, map[string]any{"playbook": "plays/play.yml"}, h)
	var pe *PlaybookError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v, want a *PlaybookError", err, err)
	}
	o := pe.Output().(map[string]any)
	if !reflect.DeepEqual(o, v) || o["status"] != 2 {
		t.Errorf("output %v, returned %v", o, v)
	}
	if s := o["stderr"].(string); len(s) > ansibleStderrTail || !strings.HasSuffix(s, "last line\n") || strings.Contains(s, "x") && !strings.HasPrefix(s, "x") {
		t.Errorf("stderr tail: %d bytes, ends %q", len(s), s[max(0, len(s)-20):])
	}
	if pe.Failed["c1"].Task != "deploy" || len(pe.Failed) != 2 {
		t.Errorf("failed hosts: %v", pe.Failed)
	}
}

func TestAnsibleNoFailedTaskKnown(t *testing.T) {
	// a syntax error: non-zero status, no stats; the message shows stderr's end
	sc, _ := ansibleScenario(t, "steps:\n  - {name: get, action: checkout, arguments: {container_host: debian}}\n  - {name: play, action: ansible, arguments: {playbook: plays/play.yml}, with: {hosts: scenario_inventory}}\n")
	fb := &ansibleFake{fakeBroker: &fakeBroker{}, result: func([]Host, PlaybookSpec) PlaybookResult {
		return PlaybookResult{Status: 4, Stderr: "[WARNING]: x\nERROR! conflicting action statements: copy, command\n\nThe error appears to be in 'play.yml': line 3\n"}
	}}
	_, err := (&Runner{Broker: fb}).Run(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "playbook play.yml failed (ansible-playbook exit status 4): [WARNING]: x | ERROR! conflicting action statements: copy, command | The error appears to be in 'play.yml': line 3") {
		t.Fatalf("error = %v", err)
	}
}

func TestAnsibleRunnerErrors(t *testing.T) {
	sc, _ := ansibleScenario(t, "steps:\n  - {name: get, action: checkout, arguments: {container_host: debian}}\n  - {name: play, action: ansible, arguments: {playbook: plays/play.yml}, with: {hosts: scenario_inventory}}\n")
	// ansible-playbook missing: the runner's error says what to install
	fb := &ansibleFake{fakeBroker: &fakeBroker{}, err: ErrAnsibleNotFound}
	_, err := (&Runner{Broker: fb}).Run(context.Background(), sc)
	if !errors.Is(err, ErrAnsibleNotFound) || !strings.Contains(err.Error(), "install ansible-core") || !strings.Contains(err.Error(), "package `ansible`") {
		t.Errorf("error = %v", err)
	}
	// a broker that cannot run playbooks
	_, err = (&Runner{Broker: &fakeBroker{}}).Run(context.Background(), sc)
	if !errors.Is(err, ErrNotImplemented) {
		t.Errorf("error = %v, want ErrNotImplemented", err)
	}
}
