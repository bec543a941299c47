package filter

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// loadFixture reads testdata/fake_inventory.yaml: YAML in flow style that is
// plain JSON once its leading comment lines are dropped.
func loadFixture(t testing.TB) []any {
	t.Helper()
	raw, err := os.ReadFile("testdata/fake_inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			body = append(body, line)
		}
	}
	var items []any
	if err := json.Unmarshal([]byte(strings.Join(body, "\n")), &items); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return items
}

// hosts returns the short hostnames (dhcp-111) of the kept records.
func hosts(items []any, idx []int) []string {
	out := []string{}
	for _, i := range idx {
		h, _ := items[i].(map[string]any)["hostname"].(string)
		out = append(out, strings.Split(h, ".")[0])
	}
	return out
}

// apply compiles src for key and applies it, failing the test on any error.
func apply(t *testing.T, src, key string, items []any) []int {
	t.Helper()
	f, err := Compile(src, key)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	idx, err := f.Apply(items)
	if err != nil {
		t.Fatalf("Apply(%q): %v", src, err)
	}
	return idx
}

// readYAMLSubset reads the block-style YAML subset used by
// inventory/testdata/*.yaml (sequences of mappings, nested mappings,
// scalars, {} and []), so the golden tests can also run on the shared
// fixture without a YAML dependency. It fails on anything else.
func readYAMLSubset(text string) (any, error) {
	type line struct {
		indent int
		text   string
		no     int
	}
	var lines []line
	for no, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		lines = append(lines, line{indent: len(l) - len(strings.TrimLeft(l, " ")), text: trimmed, no: no + 1})
	}
	pos := 0
	var block func(indent int) (any, error)
	scalar := func(s string) (any, error) {
		switch {
		case s == "{}":
			return map[string]any{}, nil
		case s == "[]":
			return []any{}, nil
		case s == "null" || s == "~":
			return nil, nil
		case s == "true" || s == "True":
			return true, nil
		case s == "false" || s == "False":
			return false, nil
		case strings.HasPrefix(s, "'"):
			if !strings.HasSuffix(s, "'") || len(s) < 2 {
				return nil, fmt.Errorf("bad quoted scalar %s", s)
			}
			return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
		case strings.HasPrefix(s, `"`):
			return strconv.Unquote(s)
		case strings.ContainsAny(s, "{}[]&*!|>%@`"):
			return nil, fmt.Errorf("unsupported scalar %s", s)
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && strings.Count(s, ".") == 1 {
			return f, nil
		}
		return s, nil
	}
	// entry reads "key: value" or "key:" (a nested block follows).
	var entry func(m map[string]any, text string, indent int) error
	entry = func(m map[string]any, text string, indent int) error {
		k, v, ok := strings.Cut(text, ":")
		if !ok {
			return fmt.Errorf("line %d: expected key: value", lines[pos-1].no)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			if pos < len(lines) && lines[pos].indent > indent {
				sub, err := block(lines[pos].indent)
				if err != nil {
					return err
				}
				m[k] = sub
				return nil
			}
			if pos < len(lines) && lines[pos].indent == indent && strings.HasPrefix(lines[pos].text, "- ") {
				sub, err := block(indent)
				if err != nil {
					return err
				}
				m[k] = sub
				return nil
			}
			m[k] = nil
			return nil
		}
		val, err := scalar(v)
		m[k] = val
		return err
	}
	block = func(indent int) (any, error) {
		if strings.HasPrefix(lines[pos].text, "- ") || lines[pos].text == "-" {
			var seq []any
			for pos < len(lines) && lines[pos].indent == indent && strings.HasPrefix(lines[pos].text, "-") {
				rest := strings.TrimSpace(strings.TrimPrefix(lines[pos].text, "-"))
				pos++
				if k, _, ok := strings.Cut(rest, ":"); ok && !strings.HasPrefix(rest, "'") && !strings.HasPrefix(rest, `"`) && !strings.Contains(k, " ") {
					m := map[string]any{}
					if err := entry(m, rest, indent+2); err != nil {
						return nil, err
					}
					for pos < len(lines) && lines[pos].indent == indent+2 {
						pos++
						if err := entry(m, lines[pos-1].text, indent+2); err != nil {
							return nil, err
						}
					}
					seq = append(seq, m)
					continue
				}
				v, err := scalar(rest)
				if err != nil {
					return nil, err
				}
				seq = append(seq, v)
			}
			return seq, nil
		}
		m := map[string]any{}
		for pos < len(lines) && lines[pos].indent == indent {
			pos++
			if err := entry(m, lines[pos-1].text, indent); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	if len(lines) == 0 {
		return nil, nil
	}
	v, err := block(lines[0].indent)
	if err == nil && pos != len(lines) {
		err = fmt.Errorf("line %d: unexpected indentation", lines[pos].no)
	}
	return v, err
}
