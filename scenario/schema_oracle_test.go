package scenario

// The production validator (github.com/google/jsonschema-go plus locate) is
// checked here against github.com/santhosh-tekuri/jsonschema/v6, which reports
// instance locations itself but whose package init costs ~5 ms per process,
// so it is only used by tests.

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	oracle "github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var oracleSchema = sync.OnceValues(func() (*oracle.Schema, error) {
	doc, err := oracle.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := oracle.NewCompiler()
	const url = "https://github.com/broker-go/broker/scenario/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// oracleVerdict validates inst with jsonschema/v6: nil when valid, else the
// instance locations of the deepest leaves of its error tree (the values
// schemaError would have reported; v6 walks objects in map order, so ties can
// come out in any order).
func oracleVerdict(t testing.TB, inst any) []string {
	t.Helper()
	sch, err := oracleSchema()
	if err != nil {
		t.Fatal(err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*oracle.ValidationError)
	if !ok {
		t.Fatalf("oracle: %T %v", err, err)
	}
	var leaves [][]string
	var walk func(*oracle.ValidationError)
	walk = func(e *oracle.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e.InstanceLocation)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	depth := 0
	for _, l := range leaves {
		depth = max(depth, len(l))
	}
	var locs []string
	for _, l := range leaves {
		if len(l) == depth {
			p := (&schemaFailure{Loc: l}).Location()
			if !slices.Contains(locs, p) {
				locs = append(locs, p)
			}
		}
	}
	return locs
}

// docValue reads YAML the way Parse does before validating it; ok is false
// when Parse would reject it before the schema.
func docValue(data []byte) (root *yaml.Node, inst any, ok bool) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, false
	}
	root = doc.Content[0]
	var raw any
	if root.Decode(&raw) != nil {
		return nil, nil, false
	}
	inst, err := jsonValue(raw)
	if err != nil {
		return nil, nil, false
	}
	return root, inst, true
}

// checkAgreement validates a document with both validators and fails when
// they disagree on validity or (with loc) on where the error is. It returns
// the production failure (nil when valid).
func checkAgreement(t testing.TB, data []byte, loc bool) *schemaFailure {
	t.Helper()
	root, inst, ok := docValue(data)
	if !ok {
		t.Skip("not a YAML mapping")
	}
	v, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := v.validate(root, inst)
	want := oracleVerdict(t, inst)
	switch {
	case got == nil && want != nil:
		t.Fatalf("valid for jsonschema-go, invalid for jsonschema/v6 at %q:\n%s", want, data)
	case got != nil && want == nil:
		t.Fatalf("valid for jsonschema/v6, invalid for jsonschema-go at %q (%s):\n%s", got.Location(), got.Msg, data)
	case got != nil && loc && !slices.Contains(want, got.Location()):
		t.Fatalf("error at %q (%s), jsonschema/v6 says %q:\n%s", got.Location(), got.Msg, want, data)
	}
	return got
}

// schemaCases cover every keyword of schema.json; loc is "" for a valid
// document, "/" for an error at the root.
var schemaCases = []struct {
	name, doc, loc, msg string
}{
	// valid
	{"empty steps", "steps: []\n", "", ""},
	{"all fields", `_spec_ver: 3
description: all fields
tags: [smoke]
config: {inventory_path: /tmp/inv.yaml, log_path: run.log, settings: {Container: {runtime: podman}}}
variables: {n: 3}
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
      - {name: r1, action: output, on_error: [{name: r2, action: exit, timeout: 5}]}
  - {name: s2, action: exit, on_error: continue, retry: {count: 1, delay: 0}}
`, "", ""},
	{"integral float", "_spec_ver: 2.0\nsteps: [{name: a, action: exit, timeout: 3.0}]\n", "", ""},
	{"unknown top-level key", "author: me\nsteps: []\n", "", ""},

	// type
	{"type description", "description: 5\nsteps: []\n", "/description", "got integer, want string"},
	{"type steps", "steps: {}\n", "/steps", "got object, want array"},
	{"type null steps", "steps:\n", "/steps", "got null, want array"},
	{"type step", "steps: [x]\n", "/steps/0", "got string, want object"},
	{"type spec float", "_spec_ver: 1.5\nsteps: []\n", "/_spec_ver", "got number, want integer"},
	{"type boolean", "steps: [{name: a, action: exit, exit_on_error: 'yes'}]\n", "/steps/0/exit_on_error", "got string, want boolean"},
	{"type variables", "variables: [1]\nsteps: []\n", "/variables", "got array, want object"},
	{"type arguments", "steps: [{name: a, action: exit, arguments: x}]\n", "/steps/0/arguments", "got string, want object"},
	{"type main_inventory", "config: {main_inventory: 'yes'}\nsteps: []\n", "/config/main_inventory", "got string, want boolean"},
	{"type settings key with slash", "config: {settings: {a/b: 1}}\nsteps: []\n", "/config/settings/a/b", "got integer, want object"},
	{"type name", "steps: [{name: 1, action: exit}]\n", "/steps/0/name", "got integer, want string"},

	// required
	{"required steps", "description: x\n", "/", "missing property 'steps'"},
	{"required action", "steps: [{name: a}]\n", "/steps/0", "missing property 'action'"},
	{"required two", "steps: [{}]\n", "/steps/0", "missing properties 'name', 'action'"},
	{"required retry count", "steps: [{name: a, action: exit, retry: {delay: 1}}]\n", "/steps/0/retry", "missing property 'count'"},
	{"required capture as", "steps: [{name: a, action: exit, capture: {key: k}}]\n", "/steps/0/capture", "missing property 'as'"},

	// enum
	{"enum action", "steps:\n  - name: a\n    action: output\n  - name: b\n    action: sshh\n", "/steps/1/action", "value must be one of 'checkout', 'checkin'"},
	{"enum loop on_error", "steps: [{name: a, action: exit, loop: {iterable: x, iter_var: i, on_error: stop}}]\n", "/steps/0/loop/on_error", "value must be 'continue'"},

	// additionalProperties
	{"additional step", "steps: [{name: a, action: exit, colour: red}]\n", "/steps/0", "additional property 'colour' is not allowed"},
	{"additional two", "steps: [{name: a, action: exit, b: 1, a: 2}]\n", "/steps/0", "additional properties 'a', 'b' are not allowed"},
	{"additional config", "config: {foo: 1}\nsteps: []\n", "/config", "additional property 'foo' is not allowed"},
	{"additional with", "steps: [{name: a, action: exit, with: {hosts: x, count: 2}}]\n", "/steps/0/with", "additional property 'count'"},
	{"additional schema", "config:\n  settings:\n    debug: true\nsteps: []\n", "/config/settings/debug", "got boolean, want object"},

	// oneOf
	{"oneOf on_error string", "steps: [{name: a, action: exit, on_error: sometimes}]\n", "/steps/0/on_error", "value must be 'continue'"},
	{"oneOf on_error type", "steps: [{name: a, action: exit, on_error: 5}]\n", "/steps/0/on_error", "got integer, want string or array"},
	{"oneOf on_error steps", "steps: [{name: a, action: exit, on_error: [{name: b, action: nope}]}]\n", "/steps/0/on_error/0/action", "value must be one of"},
	{"oneOf nested on_error", "steps: [{name: a, action: exit, on_error: [{name: b, action: output, on_error: [{name: c}]}]}]\n",
		"/steps/0/on_error/0/on_error/0", "missing property 'action'"},
	{"oneOf delay type", "steps: [{name: a, action: exit, retry: {count: 1, delay: true}}]\n", "/steps/0/retry/delay", "got boolean, want integer or string"},

	// pattern
	{"pattern timeout", "steps:\n  - name: a\n    action: exit\n    timeout: 5x\n", "/steps/0/timeout", `'5x' does not match pattern '^\d+[smhd]$'`},
	{"pattern delay", "steps: [{name: a, action: exit, retry: {count: 2, delay: soon}}]\n", "/steps/0/retry/delay", "'soon' does not match pattern"},

	// minimum
	{"minimum spec", "_spec_ver: 0\nsteps: []\n", "/_spec_ver", "value must be at least 1, got 0"},
	{"minimum count", "steps: [{name: a, action: exit, retry: {count: 0}}]\n", "/steps/0/retry/count", "value must be at least 1, got 0"},
	{"minimum delay", "steps: [{name: a, action: exit, retry: {count: 1, delay: -1}}]\n", "/steps/0/retry/delay", "value must be at least 0, got -1"},
	{"minimum timeout", "steps: [{name: a, action: exit, timeout: 0}]\n", "/steps/0/timeout", "value must be at least 1, got 0"},

	// minLength
	{"minLength input", "steps: [{name: a, action: exit, input: ''}]\n", "/steps/0/input", "value must not be empty"},

	// $ref (steps items and on_error items are #/definitions/step, timeout is #/definitions/duration)
	{"ref step", "steps: [{name: a, action: exit}, {action: exit}]\n", "/steps/1", "missing property 'name'"},
	{"ref duration", "steps: [{name: a, action: exit, timeout: [1]}]\n", "/steps/0/timeout", "got array, want integer or string"},

	// the deepest error wins; among equals, the first in the file
	{"deepest", "steps: [{name: a, timeout: 1x}]\n", "/steps/0/timeout", "does not match pattern"},
	{"first of equals", "steps:\n  - {name: a, action: bad}\n  - {name: b, action: worse}\n", "/steps/0/action", "value must be one of"},
	{"first of equals by line", "steps:\n  - name: a\n    timeout: 1x\n    action: bad\n", "/steps/0/timeout", "does not match pattern"},
}

func TestSchemaAgreement(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := checkAgreement(t, data, true)
			if invalid := strings.HasPrefix(filepath.Base(f), "invalid"); invalid != (got != nil) {
				t.Errorf("validation result %v", got)
			}
		})
	}
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			got := checkAgreement(t, []byte(c.doc), true)
			switch {
			case c.loc == "" && got != nil:
				t.Fatalf("invalid at %q: %s", got.Location(), got.Msg)
			case c.loc == "":
				return
			case got == nil:
				t.Fatalf("valid, want an error at %s", c.loc)
			}
			if loc := cmp.Or(got.Location(), "/"); loc != c.loc || !strings.Contains(got.Msg, c.msg) {
				t.Errorf("error at %s: %s\nwant at %s: ...%s...", loc, got.Msg, c.loc, c.msg)
			}
		})
	}
}

// FuzzSchemaAgreement checks that jsonschema-go with locate and
// jsonschema/v6 agree on arbitrary YAML: valid or not, and where the error is.
func FuzzSchemaAgreement(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, c := range schemaCases {
		f.Add([]byte(c.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgreement(t, data, true)
	})
}
