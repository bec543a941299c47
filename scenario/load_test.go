package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFields(t *testing.T) {
	src := `_spec_ver: 2
description: all fields
tags: [smoke]
config:
  inventory_path: /tmp/inv.yaml
  log_path: run.log
  main_inventory: true
  settings:
    Container:
      runtime: podman
variables:
  n: 3
steps:
  - name: s1
    action: ssh
    description: run it
    arguments: {command: ls}
    with: {hosts: scenario_inventory}
    when: n > 1
    retry: {count: 3, delay: 2m}
    timeout: 30s
    loop: {iterable: "range(n)", iter_var: "k, v", on_error: continue}
    capture: {as: out, transform: "{{ step.output }}", key: k}
    exit_on_error: false
    parallel: false
    input: s0
    variables: {x: 1}
    on_error:
      - name: r1
        action: output
        arguments: {content: x}
  - name: s2
    action: exit
    on_error: continue
`
	sc, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.SpecVersion != 2 || sc.Description != "all fields" || sc.Config.InventoryPath != "/tmp/inv.yaml" ||
		sc.Config.LogPath != "run.log" || sc.Config.Settings["Container"] == nil || sc.Variables["n"] != 3 ||
		sc.Extra["tags"] == nil || !sc.Config.MainInventory {
		t.Errorf("top level: %+v", sc)
	}
	s := sc.Steps[0]
	if s.Line != 14 || s.Input != "s0" || s.Variables["x"] != 1 || s.Name != "s1" || s.Action != "ssh" || s.Hosts != "scenario_inventory" || s.When != "n > 1" ||
		s.Retry.Count != 3 || s.Retry.Delay != 2*time.Minute || s.Timeout != 30*time.Second ||
		s.Loop.Iterable != "range(n)" || strings.Join(s.Loop.IterVar, "|") != "k|v" || !s.Loop.Continue ||
		s.Capture.As != "out" || s.Capture.Key != "k" || s.ExitOnError || s.Parallel || !s.ParallelSet ||
		len(s.OnError) != 1 || s.OnError[0].Name != "r1" || s.OnError[0].Line != 29 {
		t.Errorf("step 0: %+v loop=%+v capture=%+v", s, s.Loop, s.Capture)
	}
	s2 := sc.Steps[1]
	if !s2.OnErrorContinue || !s2.ExitOnError || !s2.Parallel || s2.ParallelSet || s2.Retry.Count != 1 || s2.Index != 1 {
		t.Errorf("step 1 defaults: %+v", s2)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"steps: [", "failed to parse scenario file"},
		{"- a\n- b\n", "empty or has invalid format"},
		{"", "empty or has invalid format"},
		{"description: x\n", "missing property 'steps'"},
		{"_spec_ver: 9\nsteps: []\n", "unsupported scenario format version: 9"},
		{"config:\n  settings:\n    debug: true\nsteps: []\n", "x.yaml:3: at /config/settings/debug"},
		{"steps:\n  - name: a\n    action: exit\n    timeout: 5x\n", "x.yaml:4: step 1 (\"a\"): at /steps/0/timeout"},
		{"steps:\n  - name: a\n    action: exit\n    on_error: sometimes\n", "step 1 (\"a\")"},
	}
	for _, c := range cases {
		_, err := Parse("x.yaml", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: error %q, want it to contain %q and wrap ErrInvalid", c.src, err, c.want)
		}
		var le *LoadError
		if !errors.As(err, &le) {
			t.Errorf("%q: not a *LoadError: %T", c.src, err)
		}
	}
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("steps:\n  - name: a\n    action: exit\n    on_error: [{name: b, action: output}]\n"))
	f.Add([]byte("steps: &a [*a]\n"))
	f.Add([]byte("{steps: [], 1: 2, ? [x] : y}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is not a *LoadError: %T %v", err, err)
			}
			return
		}
		var walk func([]*Step)
		walk = func(steps []*Step) {
			for i, s := range steps {
				if s.Name == "" && s.Action == "" || s.Index != i || s.Arguments == nil || s.Retry.Count < 1 {
					t.Fatalf("invalid step accepted: %+v", s)
				}
				walk(s.OnError)
			}
		}
		walk(sc.Steps)
	})
}
