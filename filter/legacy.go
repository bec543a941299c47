package filter

import (
	"strings"
)

// legacyOps lists the legacy operators in detection order: the first one
// present in a test wins and the test is split at it.
var legacyOps = []struct {
	tok    string
	negate bool
	match  func(prop, value string) bool
}{
	{"!<", true, strings.Contains},
	{"<", false, strings.Contains},
	{"!=", true, func(p, v string) bool { return p == v }},
	{"=", false, func(p, v string) bool { return p == v }},
	{"!{", true, strings.HasPrefix},
	{"{", false, strings.HasPrefix},
	{"!}", true, strings.HasSuffix},
	{"}", false, strings.HasSuffix},
}

// isLegacy reports whether src contains a legacy operator.
func isLegacy(src string) bool {
	return strings.ContainsAny(src, "<={}")
}

// legacyTest is one comma-separated test: property, operator, value.
type legacyTest struct {
	prop   string
	value  string
	negate bool
	match  func(prop, value string) bool
}

// parseLegacy splits src into tests. Property and value are trimmed of
// surrounding white space. For "res" the property may be empty (it is
// ignored there); elsewhere it is required.
func parseLegacy(src, key string) ([]legacyTest, error) {
	var tests []legacyTest
	start := 0
	for _, part := range strings.Split(src, ",") {
		partStart := start
		start += len(part) + 1
		if strings.TrimSpace(part) == "" {
			return nil, synErr(src, partStart, "empty test in legacy filter (tests are separated by commas)")
		}
		lead := len(part) - len(strings.TrimLeft(part, " \t\r\n"))
		var found bool
		for _, op := range legacyOps {
			at := strings.Index(part, op.tok)
			if at < 0 {
				continue
			}
			found = true
			prop := strings.TrimSpace(part[:at])
			if prop == "" && key != "res" {
				return nil, synErr(src, partStart+lead, "legacy filter test "+quote(strings.TrimSpace(part))+" has no property before "+op.tok)
			}
			tests = append(tests, legacyTest{
				prop:   prop,
				value:  strings.TrimSpace(part[at+len(op.tok):]),
				negate: op.negate,
				match:  op.match,
			})
			break
		}
		if !found {
			return nil, synErr(src, partStart+lead, "legacy filter test "+quote(strings.TrimSpace(part))+
				" has no operator (one of <, =, {, }, optionally negated with !)")
		}
	}
	return tests, nil
}

func quote(s string) string { return "\"" + s + "\"" }

// lookup finds a dotted property in a record the way upstream did after
// flattening it (nested maps joined with "."): a value is found when it is
// not itself a map (nested maps, empty ones included, contribute only their
// leaves). Keys that contain dots are matched too.
func lookup(m map[string]any, prop string) (any, bool) {
	if v, ok := m[prop]; ok {
		if _, isMap := asMap(v); !isMap {
			return v, true
		}
	}
	for i := 0; i < len(prop); i++ {
		if prop[i] != '.' {
			continue
		}
		if sub, ok := asMap(m[prop[:i]]); ok {
			if v, ok := lookup(sub, prop[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// applyLegacy keeps the items for which at least one test applied and every
// applied test passed. A test whose property a record lacks is skipped for
// that record. For "res", scalar items are compared whole (the property is
// ignored); map items are treated like records.
func applyLegacy(tests []legacyTest, key string, items []any) []int {
	keep := []int{}
	for idx, item := range items {
		m, isMap := asMap(unref(item))
		applied, passed := 0, true
		for _, t := range tests {
			var prop string
			switch {
			case isMap:
				v, ok := lookup(m, t.prop)
				if !ok {
					continue
				}
				prop = pyStr(v)
			case key == "res":
				prop = pyStr(item)
			default:
				continue // a scalar record has no properties
			}
			applied++
			if t.match(prop, t.value) == t.negate {
				passed = false
				break
			}
		}
		if applied > 0 && passed {
			keep = append(keep, idx)
		}
	}
	return keep
}
