package settings

import "strings"

// Column is one column of the inventory table: a title and a field spec in
// the inventory_fields mini-language ("hostname | name", "$action", …).
type Column struct {
	Title, Spec string
}

// DefaultInventoryFields are the columns used when the settings define no
// inventory_fields (upstream has no default; these are the four columns of
// its example file).
var defaultInventoryFields = []Column{
	{"Host", "hostname | name"},
	{"Provider", "_broker_provider"},
	{"Action", "$action"},
	{"OS", "os_distribution os_distribution_version"},
}

// DefaultInventoryFields returns a copy of the built-in inventory columns.
func DefaultInventoryFields() []Column {
	return append([]Column(nil), defaultInventoryFields...)
}

// LogLevels are the accepted values of logging.console_level and
// logging.file_level, most to least severe.
var logLevels = []string{"error", "warning", "info", "debug", "trace", "silent"}

// LogLevels returns the accepted log level names.
func LogLevels() []string { return append([]string(nil), logLevels...) }

// baseKeys are the top-level keys that are not provider sections. They are
// matched case-insensitively (upstream's dynaconf is case-insensitive, and
// its example file writes SCENARIO_IMPORT).
var baseKeys = []string{
	"_version", "less_colors", "logging", "thread_limit", "inventory_fields",
	"inventory_list_vars", "ssh", "scenario_import", "nicks", "provider_labels",
}

// baseKey returns the canonical spelling of a base key, or "".
func baseKey(k string) string {
	for _, b := range baseKeys {
		if strings.EqualFold(b, k) {
			return b
		}
	}
	return ""
}

// defaults returns the built-in defaults layer (a fresh map each call).
// inventory_fields is only included when withFields is set: a file's own
// inventory_fields replaces the default columns rather than adding to them.
func defaults(withFields bool) map[string]any {
	m := map[string]any{
		"less_colors": false,
		"logging": map[string]any{
			"console_level": "info",
			"file_level":    "debug",
			"log_path":      "logs/broker.log",
			"structured":    false,
		},
		"thread_limit":        nil,
		"inventory_list_vars": "hostname | name",
		"ssh": map[string]any{
			"backend":                 "hussh",
			"host_username":           "root",
			"host_password":           "toor",
			"host_ssh_port":           22,
			"host_connection_timeout": 60,
			"host_ssh_key_filename":   nil,
			"host_ipv6":               false,
			"host_ipv4_fallback":      true,
		},
		"scenario_import": map[string]any{"git_hosts": []any{}},
		// The Container provider is configured even without a file; its own
		// defaults live in the provider.
		"Container": map[string]any{},
	}
	if withFields {
		f := make(map[string]any, len(defaultInventoryFields))
		for _, c := range defaultInventoryFields {
			f[c.Title] = c.Spec
		}
		m["inventory_fields"] = f
	}
	return m
}
