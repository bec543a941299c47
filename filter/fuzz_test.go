package filter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	`@inv.hostname ==`,
	`@inv[1:3] | "x" in @inv.name`,
	`not @inv.a and (@inv.b or @inv.c) in ("1", "2",)`,
	`len(@inv.tags) >= 2 and @inv.tags[-1].upper().startswith(("A", "B"))`,
	`@inv.a is not None | @inv[-2:] | @inv[0]`,
	`"a|b" in @inv.pipe`,
	`1 < @inv.n <= 3.5e0 and @inv.n != 0x1f`,
	`@inv.s[::2]`,
	`[@inv[0], @inv[-1]]`,
	`@inv.a == r"\d" "x" '\u00e9\x41\101'`,
	`@res.lower().strip("-") == "rhel"`,
	`@scenario_inv.x`,
	`name<sat-jenkins,_broker_args.deploy_sat_version=6.13.0`,
	`a!<b,c!=d,e!{f,g!}h`,
	`<x`,
	`a<b,,`,
}

// fuzzItems is a mix of records and scalars of every JSON-like type.
var fuzzItems = []any{
	map[string]any{"hostname": "dhcp-1.example.com", "name": "rhel-9", "n": 2, "tags": []any{"a", "b"},
		"a": nil, "b": map[string]any{"c": []any{1.5, true}}, "s": "héllo", "pipe": "a|b"},
	map[string]any{},
	"rhel-9.4",
	42,
	nil,
	[]any{1, "x"},
}

func checkCompile(t *testing.T, src, key string) *Filter {
	f, err := Compile(src, key)
	if err != nil {
		if f != nil {
			t.Fatalf("Compile(%q): non-nil Filter with error %v", src, err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Compile(%q): error %T %v, want *SyntaxError", src, err, err)
		}
		if se.Pos < 0 || se.Pos > len(src) || se.Filter != src {
			t.Fatalf("Compile(%q): bad position %d: %v", src, se.Pos, se)
		}
		_ = se.Error()
		return nil
	}
	if f.String() != src {
		t.Fatalf("String() = %q, want %q", f.String(), src)
	}
	return f
}

func checkApply(t *testing.T, f *Filter, items []any) {
	idx, err := f.Apply(items)
	if err != nil {
		var ee *EvalError
		if !errors.As(err, &ee) {
			t.Fatalf("Apply(%q): error %T %v, want *EvalError", f.String(), err, err)
		}
		if ee.Pos < 0 || ee.Pos > len(f.String()) || ee.Item >= len(items) {
			t.Fatalf("Apply(%q): bad position %d or item %d: %v", f.String(), ee.Pos, ee.Item, ee)
		}
		if f.Legacy() {
			t.Fatalf("Apply(%q): a legacy filter cannot fail: %v", f.String(), err)
		}
		_ = ee.Error()
		return
	}
	seen := map[int]bool{}
	for _, i := range idx {
		if i < 0 || i >= len(items) || seen[i] {
			t.Fatalf("Apply(%q) = %v: bad or repeated index", f.String(), idx)
		}
		seen[i] = true
	}
}

// FuzzCompile feeds arbitrary text to both parsers (expression and legacy)
// for every key, and runs whatever compiles over mixed items.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, c := range expressionGolden {
		f.Add(c.filter)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, key := range knownKeys {
			if flt := checkCompile(t, src, key); flt != nil {
				checkApply(t, flt, fuzzItems)
			}
		}
	})
}

// FuzzLegacy targets the legacy parser: text without @ always takes the
// legacy path or is rejected, and a compiled legacy filter never fails.
func FuzzLegacy(f *testing.F) {
	for _, c := range legacyGolden {
		f.Add(c.filter)
	}
	f.Add(`a<b,c=d`)
	f.Add(` x !} y `)
	f.Fuzz(func(t *testing.T, src string) {
		for _, key := range knownKeys {
			flt := checkCompile(t, src, key)
			if flt == nil {
				continue
			}
			if !flt.Legacy() && !containsSubject(src) {
				t.Fatalf("Compile(%q): expression syntax chosen without @", src)
			}
			checkApply(t, flt, fuzzItems)
		}
	})
}

func containsSubject(src string) bool {
	for _, k := range knownKeys {
		if strings.Contains(src, "@"+k) {
			return true
		}
	}
	return false
}

// FuzzStringLiteral checks that any string survives the trip through a
// Python literal, the lexer, the expr source and back.
func FuzzStringLiteral(f *testing.F) {
	for _, s := range []string{"", "a|b", `it's "q"`, "tab\there", "nul\x00", "é\u2028", `back\slash`, "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		src := `@res == ` + strRepr(s)
		flt, err := Compile(src, "res")
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		idx, err := flt.Apply([]any{s, s + "x"})
		if err != nil || len(idx) != 1 || idx[0] != 0 {
			t.Fatalf("Apply(%q) = %v, %v; want [0]", src, idx, err)
		}
	})
}

// FuzzApply runs filters over arbitrary JSON records, exercising the
// Python value semantics with every combination of types.
func FuzzApply(f *testing.F) {
	rec := `{"a": 1, "b": "x", "c": [1, "2", null], "d": {"e": true}, "f": 1.5}`
	for _, s := range fuzzSeeds {
		f.Add(s, rec)
	}
	for _, s := range []string{`@inv.a < @inv.b`, `@inv.c in @inv.d`, `@inv.c[@inv.a] == @inv.f`, `@inv.b[@inv.f:]`,
		`len(@inv.d) == @inv.a`, `@inv.b.startswith(@inv.c)`, `@inv.c < @inv.c`, `@inv.d.e.lower()`, `-@inv.b`} {
		f.Add(s, rec)
	}
	f.Fuzz(func(t *testing.T, src, record string) {
		var v any
		if json.Unmarshal([]byte(record), &v) != nil {
			return
		}
		items := append([]any{v}, fuzzItems...)
		for _, key := range knownKeys {
			if flt := checkCompile(t, src, key); flt != nil {
				checkApply(t, flt, items)
			}
		}
	})
}
