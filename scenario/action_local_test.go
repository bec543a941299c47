package scenario

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestLocalExec(t *testing.T) {
	dir := t.TempDir()
	sc := mustParse(t, `
_spec_ver: 3
variables:
  dir: `+dir+`
steps:
  - name: env and cwd
    action: local_exec
    arguments:
      command: 'echo "$GREETING $FLAG $N" && pwd && echo oops >&2 && exit 4'
      cwd: "{{ dir }}"
      env: {GREETING: hi, FLAG: true, N: 3}
    capture: {as: first}
  - name: stdin
    action: local_exec
    input: env and cwd
    arguments: {command: "tr a-z A-Z", stream: true}
    capture: {as: upper, transform: "{{ step.output.stdout | trim }}"}
  - name: slow
    action: local_exec
    arguments: {command: "echo started; sleep 30 & sleep 30; echo never", timeout: 1}
    capture: {as: slow}
  - name: bad env
    action: local_exec
    arguments: {command: "true", env: [a]}
    on_error: continue
`)
	var stdout bytes.Buffer
	start := time.Now()
	out, err := (&Runner{Stdout: &stdout}).Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the timeout did not kill the process group (took %s)", took)
	}
	first := out.Variables["first"].(map[string]any)
	if first["stdout"] != "hi True 3\n"+dir+"\n" || first["stderr"] != "oops\n" || first["status"] != 4 {
		t.Errorf("env and cwd: %#v", first)
	}
	if out.Variables["upper"] != "HI TRUE 3\n"+strings.ToUpper(dir) {
		t.Errorf("stdin from input: %q", out.Variables["upper"])
	}
	if !strings.Contains(stdout.String(), "HI TRUE 3") {
		t.Errorf("stream: the terminal got %q", stdout.String())
	}
	slow := out.Variables["slow"].(map[string]any)
	if slow["status"] != -1 || slow["stdout"] != "started\n" {
		t.Errorf("timeout: %#v", slow)
	}
	for _, s := range out.Steps {
		if s.Name == "bad env" && !strings.Contains(s.Error, "env must be a map") {
			t.Errorf("bad env: %q", s.Error)
		}
	}
}
