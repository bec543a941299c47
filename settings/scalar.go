package settings

import (
	"math"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

var (
	reInt   = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
	reFloat = regexp.MustCompile(`^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+)$`)
)

// ParseScalar turns a string from the environment or the command line into
// a typed value, the way a YAML plain scalar would read:
//
//	true, True, TRUE, false, …   → bool
//	42, -7                        → int (decimal only; "0123" stays a string)
//	1.5, 9.4, 1e3                 → float64
//	null, Null, NULL, ~           → nil
//	[1, 2], {a: 1}                → list / map (YAML flow syntax)
//	"quoted", 'quoted'            → the string inside the quotes
//	anything else                 → the string unchanged
//
// It is deliberately narrower than YAML: "yes"/"on", hex and octal numbers,
// timestamps, ".inf"/".nan" and "key: value" stay strings, so that
// passwords, ids and URLs are not mangled. Quote a value to force a string
// ("5" → the string 5).
func ParseScalar(s string) any {
	switch s {
	case "":
		return ""
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	case "null", "Null", "NULL", "~":
		return nil
	}
	switch {
	case reInt.MatchString(s):
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n == int64(int(n)) {
				return int(n)
			}
			return n
		}
		return s
	case reFloat.MatchString(s):
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
		return s
	}
	switch s[0] {
	case '[', '{':
		v, err := decodeYAMLValue([]byte(s))
		if err != nil {
			return s
		}
		switch v.(type) {
		case []any, map[string]any:
			return v
		}
	case '"', '\'':
		v, err := decodeYAMLValue([]byte(s))
		if err != nil {
			return s
		}
		if str, ok := v.(string); ok {
			return str
		}
	}
	return s
}

// decodeYAMLValue decodes one YAML document into plain Go values
// (map[string]any, []any, scalars), never panicking.
func decodeYAMLValue(data []byte) (v any, err error) {
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return nodeValue(doc.Content[0])
}
