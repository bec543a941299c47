package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestWithHosts(t *testing.T) {
	sc := mustParse(t, `
steps:
  - name: get
    action: checkout
    arguments: {container_host: debian, count: 3}
  - name: index
    action: ssh
    arguments: {command: hostname}
    with: {hosts: "-1"}
    capture: {as: last, transform: "{{ step.output.stdout | trim }}"}
  - name: slice
    action: ssh
    arguments: {command: hostname}
    with: {hosts: "0:2"}
    capture: {as: first_two, transform: "{{ step.output.keys() | list }}"}
  - name: filter
    action: ssh
    arguments: {command: hostname}
    with: {hosts: "'host2' in @scenario_inv.hostname"}
    capture: {as: filtered, transform: "{{ step.output.stdout | trim }}"}
  - name: template
    action: ssh
    arguments: {command: hostname}
    with: {hosts: "{{ scenario_inventory[1] }}"}
    capture: {as: templated, transform: "{{ step.output.stdout | trim }}"}
  - name: main inventory
    action: ssh
    arguments: {command: "echo hi"}
    with: {hosts: inventory}
    parallel: false
    capture: {as: all, transform: "{{ len(step.output) }}"}
  - name: not a list
    action: ssh
    arguments: {command: "echo hi"}
    with: {hosts: "{{ 'nothing' }}"}
    exit_on_error: false
  - name: no with
    action: ssh
    arguments: {command: "echo hi"}
    on_error: continue
  - name: checkin one
    action: checkin
    with: {hosts: "0"}
`)
	fb := &fakeBroker{}
	out, err := (&Runner{Broker: fb}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	v := out.Variables
	if v["last"] != "host3.example.com" || v["filtered"] != "host2.example.com" || v["templated"] != "host2.example.com" || v["all"] != 3 {
		t.Errorf("variables: %v", v)
	}
	if got, _ := json.Marshal(v["first_two"]); string(got) != `["host1.example.com","host2.example.com"]` {
		t.Errorf("first_two = %s", got)
	}
	st := map[string]string{}
	for _, s := range out.Steps {
		st[s.Name] = s.Status + " " + s.Error
	}
	if !strings.Contains(st["not a list"], "selected no hosts") || !strings.Contains(st["no with"], "requires target hosts") {
		t.Errorf("statuses: %v", st)
	}
	if len(out.Hosts) != 2 || hostName(out.Hosts[0]) != "host2.example.com" {
		t.Errorf("scenario inventory after checkin: %d hosts", len(out.Hosts))
	}
}

func TestOutputFilesAndInventoryFile(t *testing.T) {
	dir := t.TempDir()
	sc := mustParse(t, `
variables:
  data: {b: [1, 2], a: x}
steps:
  - name: get
    action: checkout
    arguments: {container_host: debian}
  - name: json
    action: output
    arguments: {content: data, destination: "`+dir+`/sub/out.json"}
  - name: json from string
    action: output
    arguments: {content: '{"k": 1}', destination: "`+dir+`/s.json"}
  - name: yaml
    action: output
    arguments: {content: "{{ data }}", destination: "`+dir+`/out.yaml"}
  - name: text
    action: output
    arguments: {content: line1, destination: "`+dir+`/out.txt"}
  - name: text append
    action: output
    arguments: {content: line2, destination: "`+dir+`/out.txt", mode: append}
  - name: stderr
    action: output
    arguments: {content: "{{ data.b }}", destination: stderr}
`)
	var stderr bytes.Buffer
	invPath := filepath.Join(dir, "inv.yaml")
	os.WriteFile(invPath, []byte("stale"), 0o644)
	_, err := (&Runner{Broker: &fakeBroker{}, Stderr: &stderr, InventoryPath: invPath}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("sub/out.json"); got != "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2\n  ]\n}\n" {
		t.Errorf("out.json = %q", got)
	}
	if got := read("s.json"); got != "{\n  \"k\": 1\n}\n" {
		t.Errorf("s.json = %q", got)
	}
	if got := read("out.yaml"); got != "a: x\nb:\n    - 1\n    - 2\n" {
		t.Errorf("out.yaml = %q", got)
	}
	if got := read("out.txt"); got != "line1\nline2\n" {
		t.Errorf("out.txt = %q", got)
	}
	if got := stderr.String(); got != "- 1\n- 2\n" {
		t.Errorf("stderr = %q", got)
	}
	var recs []map[string]any
	if err := yaml.Unmarshal([]byte(read("inv.yaml")), &recs); err != nil || len(recs) != 1 || recs[0]["hostname"] != "host1.example.com" {
		t.Errorf("inventory file: %v %v", recs, err)
	}
}

func TestRetryTimeoutCancel(t *testing.T) {
	sc := mustParse(t, `
steps:
  - name: flaky
    action: assert
    arguments: {that: "{{ retry.attempt == 3 }}"}
    retry: {count: 3, delay: 0}
    capture: {as: ok}
  - name: never enough
    action: assert
    arguments: {that: ["{{ retry.attempt > 5 }}"], fail_msg: nope}
    retry: {count: 2}
`)
	out, err := (&Runner{}).Run(context.Background(), sc)
	var se *StepError
	if !errors.As(err, &se) || se.Name != "never enough" || se.Index != 1 || se.Line != 8 || !strings.Contains(err.Error(), "nope: (condition #1): false") {
		t.Fatalf("err = %v", err)
	}
	if out.Variables["ok"] != true {
		t.Errorf("flaky step: %v", out.Variables)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&Runner{}).Run(ctx, mustParse(t, "steps: [{name: a, action: exit}]"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

type blockingHost struct{ fakeHost }

func (h *blockingHost) Run(ctx context.Context, cmd string) (Result, error) {
	<-ctx.Done()
	return Result{}, ctx.Err()
}

type blockingBroker struct{ fakeBroker }

func (b *blockingBroker) Checkout(ctx context.Context, args map[string]any) ([]Host, error) {
	return []Host{&blockingHost{fakeHost{rec: map[string]any{"hostname": "slow"}}}}, nil
}

func TestStepTimeout(t *testing.T) {
	sc := mustParse(t, `
steps:
  - name: get
    action: checkout
  - name: hang
    action: ssh
    arguments: {command: sleep}
    with: {hosts: scenario_inventory}
    timeout: 1s
`)
	_, err := (&Runner{Broker: &blockingBroker{}}).Run(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), `step "hang" timed out after 1s`) {
		t.Errorf("err = %v", err)
	}
}

func TestActionsWithoutBroker(t *testing.T) {
	for _, a := range []string{"checkout", "checkin", "inventory", "execute"} {
		_, err := (&Runner{}).Run(context.Background(), mustParse(t, "steps: [{name: a, action: "+a+"}]"))
		if !errors.Is(err, ErrNoBroker) {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func TestBrokerActionsAndLogging(t *testing.T) {
	dir := t.TempDir()
	child := filepath.Join(dir, "child.yaml")
	os.WriteFile(child, []byte("steps: [{name: c, action: output, arguments: {content: 'child {{ who }}'}}]\n"), 0o644)
	sc := mustParse(t, `
variables: {who: parent}
steps:
  - name: exec
    action: execute
    arguments: {workflow: deploy}
    capture: {as: job, transform: "{{ step.output.status }}"}
  - name: info
    action: provider_info
    arguments: {provider: Container, query: container_hosts}
    capture: {as: images}
  - name: inv
    action: inventory
    capture: {as: inv}
  - name: sub
    action: run_scenarios
    arguments: {paths: ["`+child+`"]}
    capture: {as: sub}
  - name: bad provider
    action: provider_info
    arguments: {provider: Nope}
`)
	var logs, stdout bytes.Buffer
	r := &Runner{Broker: &fakeBroker{}, Stdout: &stdout, Variables: map[string]any{"who": "cli"},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	out, err := r.Run(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "provider_info failed for Nope") {
		t.Fatalf("err = %v", err)
	}
	v := out.Variables
	if v["job"] != "successful" || len(v["images"].([]any)) != 2 || len(v["inv"].([]any)) != 0 {
		t.Errorf("variables: %v", v)
	}
	if stdout.String() != "child cli\n" {
		t.Errorf("stdout = %q", stdout.String())
	}
	if !strings.Contains(logs.String(), `"msg":"step finished","scenario":"test.yaml","step":"exec","index":0,"action":"execute","status":"completed"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
	if b, err := json.Marshal(out.Steps); err != nil || !strings.Contains(string(b), `"duration"`) {
		t.Errorf("results JSON: %s %v", b, err)
	}
}

func TestRecoveryFailurePropagates(t *testing.T) {
	sc := mustParse(t, `
steps:
  - name: fails
    action: assert
    arguments: {that: false}
    on_error:
      - name: give up
        action: exit
        arguments: {return_code: 4, message: recovery gave up}
  - name: after
    action: output
    arguments: {content: never}
`)
	var stdout bytes.Buffer
	out, err := (&Runner{Stdout: &stdout}).Run(context.Background(), sc)
	var ee *ExitError
	var se *StepError
	if !errors.As(err, &ee) || ee.Code != 4 || !errors.As(err, &se) || se.Name != "give up" {
		t.Fatalf("err = %v", err)
	}
	if stdout.Len() != 0 || len(out.Steps) != 2 || out.Steps[1].Recovery != "fails" {
		t.Errorf("stdout %q steps %+v", stdout.String(), out.Steps)
	}
	// exit 0 inside recovery ends the run successfully.
	sc = mustParse(t, `
steps:
  - name: fails
    action: assert
    arguments: {that: false}
    on_error: [{name: done, action: exit}]
  - name: after
    action: output
    arguments: {content: never}
`)
	out, err = (&Runner{Stdout: &stdout}).Run(context.Background(), sc)
	if err != nil || !out.Exited || stdout.Len() != 0 {
		t.Errorf("exit 0 in recovery: %v %+v", err, out)
	}
}

func TestMultilineSingleExpression(t *testing.T) {
	v, err := Render("{{ [1,\n 2] }}", nil)
	if err != nil || len(v.([]any)) != 2 {
		t.Errorf("got %#v, %v", v, err)
	}
}
