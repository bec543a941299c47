package settings

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Get returns a copy of the merged value at a dotted path, or nil. The
// exact spelling is tried first, then each part case-insensitively
// ("ansibletower.BASE_URL" finds AnsibleTower.base_url). "" is the whole
// settings map.
func (s *Settings) Get(path string) any {
	if path == "" {
		return s.All()
	}
	if s.k.Exists(path) {
		return deepCopy(s.k.Get(path))
	}
	var cur any = s.m
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		key := p
		if _, ok := m[p]; !ok {
			if key = foldKey(m, p); key == "" {
				return nil
			}
		}
		cur = m[key]
	}
	return deepCopy(cur)
}

// String returns the value at path as a string: numbers and booleans are
// formatted, null and missing give "".
func (s *Settings) String(path string) string {
	return toString(s.Get(path))
}

func toString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case map[string]any, []any:
		return ""
	}
	return fmt.Sprint(v)
}

// Int returns the value at path as an int: integers, whole floats and
// decimal strings convert; anything else gives 0.
func (s *Settings) Int(path string) int {
	v := s.Get(path)
	if n, ok := asInt(v); ok {
		return n
	}
	if str, ok := v.(string); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(str)); err == nil {
			return n
		}
	}
	return 0
}

// Bool returns the value at path as a bool: booleans, and strings that
// strconv.ParseBool accepts; anything else gives false.
func (s *Settings) Bool(path string) bool {
	switch t := s.Get(path).(type) {
	case bool:
		return t
	case string:
		b, _ := strconv.ParseBool(strings.TrimSpace(t))
		return b
	}
	return false
}

// Map returns a copy of the map at path, or nil when path is missing or not
// a map.
func (s *Settings) Map(path string) map[string]any {
	m, _ := s.Get(path).(map[string]any)
	return m
}

// All returns a copy of the merged settings (defaults < file < environment
// < overrides), instances in map form. It holds secrets: pass it through
// Redact before showing it.
func (s *Settings) All() map[string]any {
	m, _ := deepCopy(s.m).(map[string]any)
	return m
}

// ThreadLimit is thread_limit, or 0 when it is null (no limit: the caller
// picks).
func (s *Settings) ThreadLimit() int {
	n, _ := asInt(s.m["thread_limit"])
	return n
}

// Logging is the logging section with defaults filled in.
type Logging struct {
	// ConsoleLevel and FileLevel are lower-case level names (LogLevels).
	ConsoleLevel, FileLevel string
	// LogPath is the absolute path of the log file: logging.log_path,
	// under Dir when relative, with broker.log appended when it has no
	// file suffix.
	LogPath string
	// Structured asks for JSON log lines.
	Structured bool
}

// Logging returns the logging settings.
func (s *Settings) Logging() Logging {
	lg, _ := s.m["logging"].(map[string]any)
	get := func(k, def string) string {
		if v, ok := lg[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	out := Logging{
		ConsoleLevel: strings.ToLower(get("console_level", "info")),
		FileLevel:    strings.ToLower(get("file_level", "debug")),
	}
	out.Structured, _ = lg["structured"].(bool)
	p := get("log_path", "logs/broker.log")
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.Dir, p)
	}
	if filepath.Ext(p) == "" {
		p = filepath.Join(p, "broker.log")
	}
	out.LogPath = filepath.Clean(p)
	return out
}

// SSH returns a copy of the ssh section (host_username, host_password,
// host_ssh_port, host_connection_timeout, host_ssh_key_filename, host_ipv6,
// host_ipv4_fallback, backend), defaults filled in.
func (s *Settings) SSH() map[string]any {
	out, _ := defaults(false)["ssh"].(map[string]any)
	if m, ok := s.m["ssh"].(map[string]any); ok {
		mergeInto(out, deepCopy(m).(map[string]any))
	}
	return out
}

// InventoryListVars is inventory_list_vars: the field spec naming a host in
// compact listings.
func (s *Settings) InventoryListVars() string {
	if v, ok := s.m["inventory_list_vars"].(string); ok && v != "" {
		return v
	}
	return "hostname | name"
}

// InventoryFields returns the inventory table columns in the settings
// file's order (columns added by the environment come after, sorted). With
// no (or an empty) inventory_fields it returns DefaultInventoryFields.
func (s *Settings) InventoryFields() []Column {
	f, _ := s.m["inventory_fields"].(map[string]any)
	if len(f) == 0 {
		return DefaultInventoryFields()
	}
	order := s.order["inventory_fields"]
	if order == nil {
		for _, c := range defaultInventoryFields {
			order = append(order, c.Title)
		}
	}
	out := make([]Column, 0, len(f))
	for _, k := range orderedKeys(f, order) {
		spec, _ := f[k].(string)
		out = append(out, Column{Title: k, Spec: spec})
	}
	return out
}

// orderedKeys returns the keys of m: those in order first, in that order,
// then the rest sorted.
func orderedKeys(m map[string]any, order []string) []string {
	out := make([]string, 0, len(m))
	seen := make(map[string]bool, len(m))
	for _, k := range order {
		if _, ok := m[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// ProviderLabels returns the top-level provider_labels (labels added to
// every AnsibleTower and Container action). Null values become "".
func (s *Settings) ProviderLabels() map[string]string {
	l, _ := s.m["provider_labels"].(map[string]any)
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = toString(v)
	}
	return out
}

// Nicks returns the nick names in the settings file's order (nicks added
// by the environment come after, sorted).
func (s *Settings) Nicks() []string {
	n, _ := s.m["nicks"].(map[string]any)
	return orderedKeys(n, s.order["nicks"])
}

// Nick returns a copy of a nick's arguments. The name is matched exactly,
// then case-insensitively. An unknown nick is a *NotFoundError.
func (s *Settings) Nick(name string) (map[string]any, error) {
	n, _ := s.m["nicks"].(map[string]any)
	key := name
	_, found := n[name]
	if !found {
		key = foldKey(n, name)
		found = key != ""
	}
	if !found {
		return nil, &NotFoundError{Kind: "nick", Name: name, Known: s.Nicks(),
			Hint: "define it under nicks: in " + s.File}
	}
	m, _ := deepCopy(n[key]).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
