// Package scenario loads, validates and runs broker scenario files: YAML
// lists of steps in upstream broker's format (check hosts out, run commands
// on them, capture results, branch, loop, clean up).
//
// Load/Parse read a file and validate it against an embedded JSON schema
// (draft-07, modelled on upstream's scenario_schema.json) with
// github.com/google/jsonschema-go, whose package init is negligible
// (santhosh-tekuri/jsonschema/v6, the test oracle, compiles every draft
// metaschema at init: ~5 ms per process); a *LoadError names the file
// line, the step (index and name) and the JSON pointer of the bad value.
// A Runner executes the steps; provider work goes through the Broker and
// Host interfaces, which the root package implements.
//
// # Templating
//
// Jinja2 through github.com/nikolalohinski/gonja/v2. The context holds the
// variables (and captures), step, previous_step, steps, scenario_inventory
// (hosts as their records), retry, loop variables inside loops, inventory
// (the main inventory's records, read only for steps whose templates name
// it) and the Python helpers upstream adds (len int str bool float list dict
// set tuple sum min max abs round sorted reversed enumerate zip any all).
// A value that is exactly one {{ expr }} keeps its type.
//
// Known differences from Python Jinja2 (gonja v2.9.1), checked in tests:
//   - dicts have no order: items(), keys(), values(), loops over maps and
//     dict iteration go in sorted key order (YAML maps are decoded into Go
//     maps, so file order is lost too);
//   - the string % operator is not supported ('%s' % x fails with an error;
//     gonja panics inside, the panic is recovered into a *TemplateError);
//     use ~ , format() with {} or the format filter (Go verbs);
//   - the round filter returns an int for whole results (Jinja: a float);
//   - gonja's own logging (logrus) stays disabled.
//
// # Beyond upstream
//
// with.hosts also takes an index ("0", "-1") or a slice ("0:2") of the
// scenario inventory, and a template yielding one host. A loop runs its
// items concurrently (bounded by Runner.Parallelism) only when the step
// says parallel: true explicitly; upstream always ran loops sequentially.
//
// Actions beyond upstream's: container (a one-off container per step, via
// ContainerRunner), ansible (ansible-playbook on the step's hosts, via
// AnsibleRunner) and snapshot (commit container hosts to images, via
// Snapshotter). Step fields beyond upstream's: input (feed an earlier
// step's captured output to this step's command on stdin) and variables
// (overrides for this step only).
package scenario
