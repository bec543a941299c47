package settings

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// newVErr reports the value got at path.
func newVErr(path []string, want string, got any) *ValidationError {
	return newVErrText(path, want, describe(got))
}

// newVErrText is newVErr with the found value already described.
func newVErrText(path []string, want, got string) *ValidationError {
	p := append([]string(nil), path...)
	return &ValidationError{Key: strings.Join(p, "."), Want: want, Got: got, path: p}
}

// describe renders a value for a validation message.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(t)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return strconv.FormatBool(t)
	case int, int64, uint64:
		return fmt.Sprintf("%d", t)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// asInt returns v as an int if it is an integer (a float with no
// fraction counts).
func asInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int64:
		if t == int64(int(t)) {
			return int(t), true
		}
	case uint64:
		if t <= math.MaxInt {
			return int(t), true
		}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int(t), true
		}
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, uint64, float64:
		return true
	}
	return false
}

// validate checks the base keys and the shape of every provider section's
// instances (instances must already be normalized).
func validate(m map[string]any) *ValidationError {
	if err := validateBase(m); err != nil {
		return err
	}
	if err := validateSSH(m); err != nil {
		return err
	}
	for _, p := range sortedKeys(m) {
		if baseKey(p) != "" {
			continue
		}
		if sec, ok := m[p].(map[string]any); ok {
			if err := validateInstances(p, sec); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateBase(m map[string]any) *ValidationError {
	levels := strings.Join(logLevels, ", ")
	if v, ok := m["logging"]; ok && v != nil {
		lg, ok := v.(map[string]any)
		if !ok {
			return newVErr([]string{"logging"}, "a map", v)
		}
		for _, k := range []string{"console_level", "file_level"} {
			x, ok := lg[k]
			if !ok {
				continue
			}
			s, isStr := x.(string)
			if !isStr || !validLevel(s) {
				return newVErr([]string{"logging", k}, "one of "+levels, x)
			}
		}
		if x, ok := lg["log_path"]; ok && x != nil {
			if s, isStr := x.(string); !isStr || s == "" {
				return newVErr([]string{"logging", "log_path"}, "a file or directory path", x)
			}
		}
		if x, ok := lg["structured"]; ok && x != nil {
			if _, isBool := x.(bool); !isBool {
				return newVErr([]string{"logging", "structured"}, "true or false", x)
			}
		}
	}
	if v := m["thread_limit"]; v != nil {
		if n, ok := asInt(v); !ok || n < 1 {
			return newVErr([]string{"thread_limit"}, "null or a whole number of at least 1", v)
		}
	}
	if v := m["inventory_fields"]; v != nil {
		f, ok := v.(map[string]any)
		if !ok {
			return newVErr([]string{"inventory_fields"}, "a map of column title to field spec", v)
		}
		for _, k := range sortedKeys(f) {
			if _, ok := f[k].(string); !ok {
				return newVErr([]string{"inventory_fields", k}, "a field spec string such as \"hostname | name\"", f[k])
			}
		}
	}
	if v := m["inventory_list_vars"]; v != nil {
		if _, ok := v.(string); !ok {
			return newVErr([]string{"inventory_list_vars"}, "a field spec string such as \"hostname | name\"", v)
		}
	}
	if v := m["less_colors"]; v != nil {
		if _, ok := v.(bool); !ok {
			return newVErr([]string{"less_colors"}, "true or false", v)
		}
	}
	if v := m["nicks"]; v != nil {
		n, ok := v.(map[string]any)
		if !ok {
			return newVErr([]string{"nicks"}, "a map of nick name to arguments", v)
		}
		for _, k := range sortedKeys(n) {
			if n[k] == nil {
				continue
			}
			if _, ok := n[k].(map[string]any); !ok {
				return newVErr([]string{"nicks", k}, "a map of broker arguments", n[k])
			}
		}
	}
	if v := m["provider_labels"]; v != nil {
		l, ok := v.(map[string]any)
		if !ok {
			return newVErr([]string{"provider_labels"}, "a map of label name to value", v)
		}
		for _, k := range sortedKeys(l) {
			switch l[k].(type) {
			case map[string]any, []any:
				return newVErr([]string{"provider_labels", k}, "a plain value", l[k])
			}
		}
	}
	if v := m["scenario_import"]; v != nil {
		si, ok := v.(map[string]any)
		if !ok {
			return newVErr([]string{"scenario_import"}, "a map", v)
		}
		if gh := si["git_hosts"]; gh != nil {
			l, ok := gh.([]any)
			if !ok {
				return newVErr([]string{"scenario_import", "git_hosts"}, "a list of {url, token, type}", gh)
			}
			for i, h := range l {
				if _, ok := h.(map[string]any); !ok {
					return newVErr([]string{"scenario_import", "git_hosts", strconv.Itoa(i)}, "a map with url, token and type", h)
				}
			}
		}
	}
	return nil
}

func validLevel(s string) bool {
	for _, l := range logLevels {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// validateSSH checks the types of the ssh keys.
func validateSSH(m map[string]any) *ValidationError {
	v := m["ssh"]
	if v == nil {
		return nil
	}
	ssh, ok := v.(map[string]any)
	if !ok {
		return newVErr([]string{"ssh"}, "a map", v)
	}
	p := func(k string) []string { return []string{"ssh", k} }
	for _, k := range []string{"backend", "host_username"} {
		if x, ok := ssh[k]; ok && x != nil {
			if _, isStr := x.(string); !isStr {
				return newVErr(p(k), "a string", x)
			}
		}
	}
	if x, ok := ssh["host_password"]; ok && x != nil {
		if _, isStr := x.(string); !isStr && !isNumber(x) {
			return newVErr(p("host_password"), "a string", x)
		}
	}
	if x, ok := ssh["host_ssh_key_filename"]; ok && x != nil {
		if _, isStr := x.(string); !isStr {
			return newVErr(p("host_ssh_key_filename"), "null or a key file path", x)
		}
	}
	for _, k := range []string{"host_ssh_port", "ssh_port"} {
		if x, ok := ssh[k]; ok && x != nil {
			if n, isInt := asInt(x); !isInt || n < 1 || n > 65535 {
				return newVErr(p(k), "a port number (1-65535)", x)
			}
		}
	}
	if x, ok := ssh["host_connection_timeout"]; ok && x != nil {
		if f, isNum := toFloat(x); !isNum || f < 0 {
			return newVErr(p("host_connection_timeout"), "null or a number of seconds", x)
		}
	}
	for _, k := range []string{"host_ipv6", "host_ipv4_fallback"} {
		if x, ok := ssh[k]; ok && x != nil {
			if _, isBool := x.(bool); !isBool {
				return newVErr(p(k), "true or false", x)
			}
		}
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint64:
		return float64(t), true
	case float64:
		return t, !math.IsNaN(t)
	}
	return 0, false
}

// validateInstances checks a provider section's (normalized) instances:
// default and override_envars are booleans, and at most one instance is
// the default.
func validateInstances(p string, sec map[string]any) *ValidationError {
	raw, ok := sec["instances"]
	if !ok {
		return nil
	}
	insts, ok := raw.(map[string]any)
	if !ok {
		return newVErr([]string{p, "instances"}, "a map of instance name to settings, or a list of single-key maps", raw)
	}
	var defs []string
	for _, name := range sortedKeys(insts) {
		if strings.TrimSpace(name) == "" {
			return newVErrText([]string{p, "instances"}, "instance names that are not empty", strconv.Quote(name))
		}
		im, ok := insts[name].(map[string]any)
		if !ok {
			return newVErr([]string{p, "instances", name}, "a map of instance settings", insts[name])
		}
		for _, k := range []string{"default", "override_envars"} {
			if x, ok := im[k]; ok && x != nil {
				if _, isBool := x.(bool); !isBool {
					return newVErr([]string{p, "instances", name, k}, "true or false", x)
				}
			}
		}
		if b, _ := im["default"].(bool); b {
			defs = append(defs, name)
		}
	}
	if len(defs) > 1 {
		e := newVErrText([]string{p, "instances"}, "at most one instance with default: true", strings.Join(defs, " and "))
		e.path = []string{p, "instances", defs[1]}
		return e
	}
	return nil
}
