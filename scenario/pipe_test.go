package scenario

import (
	"context"
	"io"
	"strings"
	"testing"
)

// RunInput makes fakeHost an InputRunner: "cat" echoes stdin, "wc -l"
// counts its lines, anything else runs as Run does.
func (h *fakeHost) RunInput(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	b, err := io.ReadAll(stdin)
	if err != nil {
		return Result{}, err
	}
	h.mu.Lock()
	h.cmds = append(h.cmds, cmd+" <<< "+string(b))
	h.mu.Unlock()
	switch cmd {
	case "cat":
		return Result{Stdout: string(b)}, nil
	case "wc -l":
		return Result{Stdout: strings.Repeat("x", strings.Count(string(b), "\n"))}, nil
	}
	return h.Run(ctx, cmd)
}

func TestInputPipes(t *testing.T) {
	sc := mustParse(t, `
variables:
  who: world
steps:
  - name: get
    action: checkout
    arguments: {container_host: debian, count: 2}
  - name: one host
    action: ssh
    arguments: {command: "echo {{ who }}"}
    with: {hosts: "0"}
  - name: captured
    action: ssh
    arguments: {command: "echo raw"}
    with: {hosts: "0"}
    capture: {as: shaped, transform: "shaped {{ step.output.stdout | trim }}"}
  - name: per host
    action: ssh
    arguments: {command: hostname}
    with: {hosts: scenario_inventory}
  - name: feed result
    action: ssh
    input: one host
    arguments: {command: cat}
    with: {hosts: "1"}
    capture: {as: fed, transform: "{{ step.output.stdout }}"}
  - name: feed capture
    action: ssh
    input: captured
    arguments: {command: cat}
    with: {hosts: "0"}
    capture: {as: fed_capture, transform: "{{ step.output.stdout }}"}
  - name: feed own host
    action: ssh
    input: per host
    arguments: {command: cat}
    with: {hosts: scenario_inventory}
    capture: {as: own, transform: "{{ step.output['host2.example.com'].stdout | trim }}"}
  - name: feed a list as json
    action: ssh
    input: get
    arguments: {command: "wc -l"}
    with: {hosts: "0"}
  - name: from the future
    action: ssh
    input: not yet
    arguments: {command: cat}
    with: {hosts: "0"}
    on_error: continue
  - name: not yet
    action: output
    arguments: {content: x}
`)
	fb := &fakeBroker{}
	out, err := (&Runner{Broker: fb, Stdout: io.Discard}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	v := out.Variables
	if v["fed"] != "world\n" {
		t.Errorf("a single-host result feeds its stdout: got %q", v["fed"])
	}
	if v["fed_capture"] != "shaped raw" {
		t.Errorf("a captured step feeds its captured value: got %q", v["fed_capture"])
	}
	if v["own"] != "host2.example.com" {
		t.Errorf("per-host results feed each host its own stdout: got %q", v["own"])
	}
	var errText string
	for _, s := range out.Steps {
		if s.Name == "from the future" {
			errText = s.Error
		}
	}
	if !strings.Contains(errText, `no step named "not yet" ran before step "from the future"`) {
		t.Errorf("input naming a later step: %q", errText)
	}
}

func TestStepVariables(t *testing.T) {
	sc := mustParse(t, `
variables:
  color: red
  size: 3
steps:
  - name: override
    action: output
    variables:
      color: blue
      label: "{{ color }}-{{ size }}"
    arguments: {content: "{{ color }} {{ label }}"}
    capture: {as: got}
  - name: after
    action: output
    arguments: {content: "{{ color }}"}
    capture: {as: after}
  - name: broken
    action: output
    variables: {bad: "{{ nope }} x"}
    arguments: {content: "x"}
    on_error: continue
`)
	out, err := (&Runner{Stdout: io.Discard}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	// Step variables render against the scenario's: label sees color red.
	if got := out.Variables["got"]; got != "blue red-3" {
		t.Errorf("step variables: got %q", got)
	}
	if out.Variables["after"] != "red" {
		t.Errorf("step variables leaked into the next step: %q", out.Variables["after"])
	}
	var st StepResult
	for _, s := range out.Steps {
		if s.Name == "broken" {
			st = s
		}
	}
	if st.Status != StatusFailed || !strings.Contains(st.Error, "step variables: bad") {
		t.Errorf("broken step variables: %+v", st)
	}
}
