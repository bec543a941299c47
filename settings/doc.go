// Package settings loads, validates and edits broker's settings.
//
// # Layers
//
// Load merges four layers into a fresh koanf instance, later layers winning
// (maps merge key by key; lists and scalars replace):
//
//  1. built-in defaults: logging (info/debug, logs/broker.log), ssh
//     (root/toor, port 22, timeout 60, backend hussh), thread_limit null,
//     inventory_list_vars "hostname | name", inventory_fields (the four
//     columns of upstream's example: Host, Provider, Action, OS — only when
//     the file has none, so a file's columns replace rather than extend
//     them), scenario_import.git_hosts [], and an empty Container section so
//     the Container provider is configured with no file at all;
//  2. the settings file, Dir/broker_settings.yaml (skipped with NoFile);
//  3. BROKER_ environment variables;
//  4. Overrides from the command line (dotted keys).
//
// An explicit null in any layer for a key that has a default means "use the
// default". Top-level base keys (logging, ssh, nicks, …) are recognised in
// any case (upstream's example writes SCENARIO_IMPORT). Settings values are
// immutable after Load and every accessor returns copies.
//
// # First run
//
// When the file is missing, Load writes LoadOptions.Example there (under the
// file lock, mode 0600 since it may hold tokens) and sets Created; the
// caller tells the user. With no Example, the defaults are used.
// Dir creates $BROKER_DIRECTORY when it does not exist, where upstream
// silently ignores it and uses ~/.broker.
//
// # Environment
//
// Variables named BROKER_<KEY>[__<KEY>…] set settings, "__" nesting:
// BROKER_LOGGING__CONSOLE_LEVEL=debug, BROKER_AnsibleTower__base_url=….
// BROKER_DIRECTORY, BROKER_NO_GLOBAL_CONFIG, BROKER_NON_INTERACTIVE and any
// name containing VAULT_ are not settings, and an empty variable counts as
// unset (so "BROKER_X=" undoes an export). Each part is matched against the
// keys already loaded (defaults and file): the exact spelling, else
// case-insensitively, so BROKER_ANSIBLETOWER__BASE_URL sets
// AnsibleTower.base_url; from the first part with no match on, the name is
// lower-cased. Variables are applied in name order; nested ones merge into
// maps. Values are read with ParseScalar (true → bool, 42 → int, 9.4 →
// float, [1,2] → list, "quoted" → string), except under a sensitive key
// (IsSensitive), where the value is always the string given, so a numeric
// password or token stays as written.
//
// # Providers and instances
//
// A top-level key that is not a base key, does not start with "_" and
// holds a map is a provider section. Its instances may be a map
// ({name: {...}}) or, as before upstream 0.6, a list of single-key maps;
// Load turns the list into the map once (duplicate names are an error) and
// keeps the file's order for Instances. Provider(name, instance) overlays the chosen instance on the
// section; an unknown instance is an error (upstream falls back to the
// default silently). The instance keys default and override_envars are not
// passed to the provider. After the overlay the provider's environment
// variables are applied again unless the instance has override_envars:
// true, and command-line overrides always are.
//
// # Validation
//
// Load validates the merged settings: logging levels, thread_limit (null or
// an integer ≥ 1), inventory_fields (a map of strings), inventory_list_vars,
// nicks (a map of maps), less_colors, provider_labels, scenario_import, the
// types of the ssh keys (backend is only checked to be a string: the Go
// broker has one SSH implementation), and every section's instances (shape,
// boolean default/override_envars, non-empty names, at most one default). A
// *ValidationError names where the bad value came from — the file and line,
// "environment variable BROKER_…" or "command line" — the key, what was
// wanted and what was found. YAML syntax errors are ValidationErrors too.
// Provider-specific keys are checked by the providers.
//
// # Order
//
// koanf maps lose order, so the file's order of inventory_fields, nicks and
// instances is read from the YAML node tree; keys added by the environment
// come after, sorted.
//
// # Secrets
//
// IsSensitive names secret keys (password, token, host_password, …,
// *_password, *_token; not host_ssh_key_filename). Redact deep-copies a
// value hiding them, and ViewChunk hides them in the raw file; Secret is a
// string type that prints, logs and encodes as Redacted. These are the one
// redaction rule for config view, logs and output files.
//
// # Editing the file
//
// ViewChunk, SetChunk, Restore and Init implement the config commands on
// the raw file with yaml.v3 nodes, so comments survive. ViewChunk redacts
// (ViewChunkRaw does not). SetChunk creates missing intermediate maps and
// reads a string value with ParseScalar (upstream stores "5" for
// "set thread_limit 5"; this stores 5). Every write validates the result
// first and refuses an invalid one, copies the old file to
// broker_settings.bak (one level of undo, for Restore), writes a temporary
// file and renames it over the settings file, all under an exclusive flock
// on broker_settings.yaml.lock, waited for at most 10 s (then ErrLocked).
// Load only takes the lock to write the first-run file: readers never see a
// half-written file because writes are renames.
//
// The package prints nothing, never exits and keeps no global state.
package settings
