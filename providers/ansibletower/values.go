package ansibletower

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// str is v as a string: strings as they are, numbers in decimal, nil "".
func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		return i, err == nil
	}
	return 0, false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// dig follows keys through nested maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m := asMap(v)
		if m == nil {
			return nil
		}
		v = m[k]
	}
	return v
}

// truthy is Python's truth of a decoded JSON value.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int64:
		return t != 0
	case int:
		return t != 0
	case float64:
		return t != 0
	case map[string]any:
		return len(t) > 0
	case []any:
		return len(t) > 0
	}
	return true
}

// firstOf is v, or its first element when v is a list.
func firstOf(v any) any {
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		return l[0]
	}
	return v
}

// deepMerge merges src over dst (src wins; nested maps merged key by key)
// and returns dst (a new map when dst is nil).
func deepMerge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(cloneMap(dm), sm)
				continue
			}
			dst[k] = deepMerge(nil, sm)
			continue
		}
		dst[k] = v
	}
	return dst
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// parseVars reads a template's extra_vars string: JSON, else YAML, else
// nothing.
func parseVars(s string) map[string]any {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var m map[string]any
	if decodeJSON([]byte(s), &m) == nil {
		return m
	}
	var y map[string]any
	if yaml.Unmarshal([]byte(s), &y) == nil {
		return y
	}
	return nil
}

// jsonish replaces a string that parses as a JSON list or object by its
// value; anything else is returned as it is ("123" stays a string).
func jsonish(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '[' && t[0] != '{') {
		return v
	}
	var out any
	if decodeJSON([]byte(t), &out) != nil {
		return v
	}
	return out
}

// labelMap reads provider_labels: a map, or "k=v,k2=v2".
func labelMap(v any) map[string]string {
	out := map[string]string{}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			out[k] = str(e)
		}
	case map[string]string:
		for k, e := range t {
			out[k] = e
		}
	case string:
		for item := range strings.SplitSeq(t, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			k, val, _ := strings.Cut(item, "=")
			out[k] = val
		}
	}
	return out
}

// labelNames are the AWX label names for labels: "k=v", or "k" for an
// empty value, sorted.
func labelNames(labels map[string]string) []string {
	names := make([]string, 0, len(labels))
	for k, v := range labels {
		if v == "" {
			names = append(names, k)
		} else {
			names = append(names, k+"="+v)
		}
	}
	sort.Strings(names)
	return names
}

// tail is the last n lines of s, at most max bytes.
func tail(s string, n, max int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > max {
		out = "…" + out[len(out)-max:]
	}
	return out
}
