package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ApplyOverrides applies `scenarios execute` extra arguments (--VAR value,
// --config.a.b value) to sc as upstream does: keys starting "config." set
// nested keys of the config (values stay strings; inventory_path, log_path
// and settings.* are understood); other keys are variables, converted to the
// type of the existing variable (bool from true/1/yes/on/false/0/no/off,
// int, float, list/map from JSON), falling back to the string with a
// warning; new variables stay strings. It returns the variables to pass as
// Runner.Variables and the warnings to log.
func ApplyOverrides(sc *Scenario, args map[string]string) (vars map[string]any, warnings []string) {
	vars = map[string]any{}
	for _, k := range sortedStringKeys(args) {
		v := args[k]
		if rest, ok := strings.CutPrefix(k, "config."); ok {
			switch {
			case rest == "inventory_path":
				sc.Config.InventoryPath = v
			case rest == "log_path":
				sc.Config.LogPath = v
			case rest == "main_inventory":
				b, err := convertLike(false, v)
				if err != nil {
					warnings = append(warnings, fmt.Sprintf("config override %q: %v (use true or false); ignored", k, err))
				} else {
					sc.Config.MainInventory = b.(bool)
				}
			case strings.HasPrefix(rest, "settings."):
				if sc.Config.Settings == nil {
					sc.Config.Settings = map[string]any{}
				}
				setNested(sc.Config.Settings, strings.Split(strings.TrimPrefix(rest, "settings."), "."), v)
			default:
				warnings = append(warnings, fmt.Sprintf("unknown config override %q ignored", k))
			}
			continue
		}
		old, exists := sc.Variables[k]
		if !exists {
			vars[k] = v
			continue
		}
		conv, err := convertLike(old, v)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("variable %s: %v; using the string %q", k, err, v))
			vars[k] = v
			continue
		}
		vars[k] = conv
	}
	return vars, warnings
}

func setNested(m map[string]any, path []string, v string) {
	for i, p := range path {
		if i == len(path)-1 {
			m[p] = v
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
}

func convertLike(old any, s string) (any, error) {
	switch old.(type) {
	case bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean", s)
	case int, int64, uint64:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	case float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case []any, map[string]any:
		t := strings.TrimSpace(s)
		if !strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "{") {
			return nil, fmt.Errorf("%q is not a JSON list or map", s)
		}
		var v any
		if err := json.Unmarshal([]byte(t), &v); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		return normalizeJSON(v), nil
	}
	return s, nil
}

// normalizeJSON turns whole float64 numbers into ints, as YAML decoding does.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeJSON(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeJSON(e)
		}
	}
	return v
}

func sortedStringKeys(m map[string]string) []string {
	ks := make(map[string]any, len(m))
	for k := range m {
		ks[k] = nil
	}
	return sortedKeys(ks)
}
