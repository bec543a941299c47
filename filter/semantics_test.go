package filter

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func record() map[string]any {
	return map[string]any{
		"name":     "Web-01",
		"hostname": "web-01.example.com",
		"job_id":   42,
		"ratio":    0.5,
		"count64":  int64(3),
		"enabled":  true,
		"disabled": false,
		"empty":    "",
		"none":     nil,
		"tags":     []any{"a", "b"},
		"ports":    map[string]any{"22": "32768"},
		"labels":   map[string]string{"env": "prod"},
		"list_s":   []string{"x", "y"},
		"nested":   map[string]any{"a": map[string]any{"b": "deep"}},
		"pipe":     "a|b",
		"quote":    `it's "q"`,
		"uni":      "héllo",
	}
}

// TestPythonSemantics checks per-item expressions against one record:
// want is whether the record is kept.
func TestPythonSemantics(t *testing.T) {
	items := []any{record()}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		// numbers and strings compare like Python
		{`@inv.job_id == 42`, true},
		{`@inv.job_id == 42.0`, true},
		{`@inv.job_id == "42"`, false},
		{`@inv.job_id != "42"`, true},
		{`@inv.ratio < 1`, true},
		{`@inv.count64 >= 3`, true},
		{`@inv.enabled == 1`, true},
		{`@inv.enabled == True`, true},
		{`@inv.enabled is True`, true},
		{`@inv.job_id == 0x2A`, true},
		{`@inv.job_id == 4_2`, true},
		{`@inv.ratio == .5`, true},
		{`@inv.ratio == 5e-1`, true},
		{`@inv.job_id > -1`, true},
		{`-@inv.job_id < 0`, true},
		{`@inv.name > "Web"`, true},
		{`@inv.name <= "Web-01"`, true},
		// chained ordering comparisons
		{`40 < @inv.job_id < 50`, true},
		{`50 < @inv.job_id < 60`, false},
		{`@inv.job_id > 40 and @inv.job_id < 50`, true},
		// in / not in
		{`"a" in @inv.tags`, true},
		{`"c" not in @inv.tags`, true},
		{`"22" in @inv.ports`, true},
		{`22 in @inv.ports`, false},
		{`"env" in @inv.labels`, true},
		{`"x" in @inv.list_s`, true},
		{`"eb" in @inv.name`, true},
		{`"hostname" in @inv`, true},
		{`@inv.job_id in (41, 42)`, true},
		{`@inv.job_id in [41, 42.0]`, true},
		{`@inv.job_id in ()`, false},
		{`@inv.job_id in (42,)`, true},
		{`"x" in @inv.none`, false},
		{`"x" not in @inv.missing`, true},
		// | inside a string literal does not split segments
		{`"|" in @inv.pipe`, true},
		{`@inv.pipe == 'a|b'`, true},
		// field access
		{`@inv.labels.env == "prod"`, true},
		{`@inv.nested.a.b == "deep"`, true},
		{`@inv.nested.a.missing.deeper is None`, true},
		{`@inv.none is None`, true},
		{`@inv.none is not None`, false},
		{`@inv.nothere == "x"`, false},
		{`@inv.nothere != "x"`, true},
		// truthiness
		{`@inv.empty`, false},
		{`not @inv.empty`, true},
		{`@inv.disabled`, false},
		{`@inv.tags`, true},
		{`@inv.none`, false},
		{`@inv.ratio`, true},
		{`@inv`, true},
		// len
		{`len(@inv.tags) == 2`, true},
		{`len(@inv.name) == 6`, true},
		{`len(@inv.uni) == 5`, true},
		{`len(@inv.ports) == 1`, true},
		{`len(@inv.list_s,) == 2`, true},
		// string methods
		{`@inv.name.lower() == "web-01"`, true},
		{`@inv.name.upper() == "WEB-01"`, true},
		{`@inv.name.upper().lower() == "web-01"`, true},
		{`@inv.name.strip("W1") == "eb-0"`, true},
		{`@inv.name.lstrip("W") == "eb-01"`, true},
		{`@inv.name.rstrip("1") == "Web-0"`, true},
		{`@inv.name.strip() == "Web-01"`, true},
		{`@inv.hostname.endswith((".com", ".org"))`, true},
		{`@inv.name.startswith("web")`, false},
		{`@inv.name.lower().startswith("web")`, true},
		// None propagates through methods and len, and fails ordering tests
		{`@inv.missing.lower() == "x"`, false},
		{`@inv.missing.startswith("x")`, false},
		{`len(@inv.missing) == 0`, false},
		{`@inv.missing > 1`, false},
		{`@inv.missing < 1`, false},
		// subscripts and slices
		{`@inv.uni[1] == "é"`, true},
		{`@inv.uni[-1] == "o"`, true},
		{`@inv.name[:3] == "Web"`, true},
		{`@inv.name[-2:] == "01"`, true},
		{`@inv.name[100:] == ""`, true},
		{`@inv.tags[0] == "a"`, true},
		{`@inv.tags[-1] == "b"`, true},
		{`@inv.tags[:] == ["a", "b"]`, true},
		{`@inv.ports["22"] == "32768"`, true},
		{`@inv.ports["23"] is None`, true},
		{`@inv.missing[0] is None`, true},
		// lists and tuples compare alike; lists order lexicographically
		{`@inv.tags == ["a", "b"]`, true},
		{`@inv.tags == ("a", "b")`, true},
		{`@inv.tags < ["b"]`, true},
		{`@inv.tags < ["a", "b", "c"]`, true},
		// string literals
		{`@inv.quote == "it's \"q\""`, true},
		{`@inv.quote == 'it\'s "q"'`, true},
		{`@inv.name == "We" 'b-01'`, true},
		{`@inv.name == r"Web-01"`, true},
		{`@inv.uni == "h\xe9llo"`, true},
		{`@inv.uni == "h\u00e9llo"`, true},
		{`@inv.uni == "h\U000000e9llo"`, true},
		{`@inv.name == "Web\x2d01"`, true},
		{`@inv.name == "Web\05501"`, true},
		{`@inv.name == "Web-\
01"`, true},
		// not binds looser than comparisons, as in Python
		{`not @inv.name == "x"`, true},
		{`not "W" in @inv.name`, false},
		{`not not @inv.name`, true},
		{`not @inv.empty and @inv.enabled`, true},
		{`not (@inv.empty or @inv.disabled)`, true},
		{`@inv.enabled and not @inv.empty`, true},
		{`[not @inv.empty, 1] == [True, 1]`, true},
		// and / or return an operand, as in Python
		{`(@inv.empty or @inv.name) == "Web-01"`, true},
		{`(@inv.name and @inv.job_id) == 42`, true},
		{`(@inv.empty and @inv.job_id) == ""`, true},
		{`@inv.missing or @inv.enabled`, true},
		// parentheses and white space
		{"(\n@inv.job_id\t==\n42\n)", true},
		{`((@inv.job_id)) == (42)`, true},
	} {
		t.Run(c.filter, func(t *testing.T) {
			got := apply(t, c.filter, "inv", items)
			if (len(got) == 1) != c.want {
				t.Errorf("kept = %v, want %v", len(got) == 1, c.want)
			}
		})
	}
}

// TestEvalErrors checks runtime errors: reported, with a Python-like
// message and the position of the operation, never a panic.
func TestEvalErrors(t *testing.T) {
	items := []any{map[string]any{"x": 1}, record()}
	for _, c := range []struct {
		filter string
		msg    string
		pos    int
	}{
		{`@inv.name < 1`, "'<' not supported between instances of 'str' and 'int'", 10},
		{`@inv.name >= 1.5`, "'>=' not supported between instances of 'str' and 'float'", 10},
		{`@inv.tags > "a"`, "'>' not supported between instances of 'list' and 'str'", 10},
		{`1 in @inv.name`, "'in <string>' requires string as left operand, not int", 2},
		{`"a" in @inv.job_id`, "argument of type 'int' is not iterable", 4},
		{`@inv.job_id.startswith("4")`, "'int' object has no attribute 'startswith'", 12},
		{`@inv.tags.lower()`, "'list' object has no attribute 'lower'", 10},
		{`len(@inv.job_id) > 0`, "object of type 'int' has no len()", 0},
		{`@inv.tags[5] == "x"`, "list index 5 out of range (the list has 2 items)", 9},
		{`@inv.uni[-6] == "x"`, "string index -6 out of range (the string has 5 characters)", 8},
		{`@inv.tags["a"]`, "list indices must be integers or slices, not str", 9},
		{`@inv.tags[1.5]`, "list indices must be integers or slices, not float", 9},
		{`@inv.tags["a":]`, "slice indices must be integers or None, not str", 9},
		{`@inv.job_id[0]`, "'int' object is not subscriptable", 11},
		{`@inv.name.startswith(1)`, "startswith first arg must be str or a tuple of str, not int", 10},
		{`@inv.name.endswith(("a", 1))`, "tuple for endswith must only contain str, not int", 10},
		{`@inv.name.strip(1)`, "strip arg must be None or str, not int", 10},
		{`@inv.tags in @inv.ports`, "unhashable type: 'list'", 10},
	} {
		t.Run(c.filter, func(t *testing.T) {
			f, err := Compile(c.filter, "inv")
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			_, err = f.Apply(items)
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Apply error = %v, want *EvalError", err)
			}
			if ee.Err.Error() != c.msg {
				t.Errorf("message = %q, want %q", ee.Err.Error(), c.msg)
			}
			if ee.Pos != c.pos {
				t.Errorf("Pos = %d, want %d\n%v", ee.Pos, c.pos, ee)
			}
			if ee.Item != 1 {
				t.Errorf("Item = %d, want 1 (the first item has no such fields and passes)", ee.Item)
			}
		})
	}

	// expr's own runtime errors are returned too.
	f, err := Compile(`-@inv.name`, "inv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Apply(items); err == nil {
		t.Error("unary minus on a string: want an error")
	}
}

func TestListLevel(t *testing.T) {
	items := loadFixture(t)[:3] // dhcp-111, dhcp-121, dhcp-113
	for _, c := range []struct {
		filter string
		want   []int
	}{
		{`@inv[0]`, []int{0}},
		{`@inv[-3]`, []int{0}},
		{`@inv[:]`, []int{0, 1, 2}},
		{`@inv[0:0]`, []int{}},
		{`@inv[5:]`, []int{}},
		{`@inv[-100:1]`, []int{0}},
		{`@inv[2:1]`, []int{}},
		{`@inv[1:][0]`, []int{1}},
		{`@inv[:][:]`, []int{0, 1, 2}},
		{`[@inv[2], @inv[0], @inv[2]]`, []int{2, 0}}, // result order, no repeats
		{`(@inv[1],)`, []int{1}},
		{`@inv[True]`, []int{1}},
		{`@inv[1:] | @inv[0]`, []int{1}},
		{`@inv[1:] | "sat" in @inv.name | @inv[-1]`, []int{2}},
		{`"rhel-" in @inv.name | @inv[-1]`, []int{1}},
		{`@inv[-1] | @inv[0] | @inv[:]`, []int{2}},
	} {
		t.Run(c.filter, func(t *testing.T) {
			if got := apply(t, c.filter, "inv", items); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}

	for _, c := range []struct {
		filter string
		items  []any
		msg    string
	}{
		{`@inv[-4]`, items, "list index -4 out of range (the list has 3 items)"},
		{`@inv[0]`, nil, "list index 0 out of range (the list has 0 items)"},
		{`@inv[:1] | @inv[1]`, items, "list index 1 out of range (the list has 1 item)"},
		{`@inv[0].hostname`, items, "must select items of @inv"},
		{`[@inv[0].hostname]`, items, "got a list holding a str"},
		{`@inv[1.0]`, items, "list indices must be integers or slices, not float"},
	} {
		t.Run(c.filter, func(t *testing.T) {
			f, err := Compile(c.filter, "inv")
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			_, err = f.Apply(c.items)
			var ee *EvalError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Apply error = %v, want *EvalError containing %q", err, c.msg)
			}
			if ee.Item != -1 {
				t.Errorf("Item = %d, want -1 for a list-level segment", ee.Item)
			}
		})
	}
}

func TestEmptyAndNil(t *testing.T) {
	f, err := Compile(`"x" in @inv.name`, "inv")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.Apply(nil); err != nil || len(got) != 0 {
		t.Errorf("Apply(nil) = %v, %v; want empty", got, err)
	}
	var none *Filter
	if got, err := none.Apply([]any{1, 2, 3}); err != nil || !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("nil Filter Apply = %v, %v; want all", got, err)
	}
	if none.String() != "" || none.Legacy() {
		t.Error("nil Filter: String() and Legacy() should be zero")
	}
}

func TestSubjectKeys(t *testing.T) {
	items := []any{map[string]any{"hostname": "a"}, map[string]any{"hostname": "b"}}
	if got := apply(t, `@scenario_inv.hostname == "b"`, "scenario_inv", items); !slices.Equal(got, []int{1}) {
		t.Errorf("scenario_inv: got %v", got)
	}
	if got := apply(t, `hostname=a`, "scenario_inv", items); !slices.Equal(got, []int{0}) {
		t.Errorf("scenario_inv legacy: got %v", got)
	}
	// Map items under @res are records like any other.
	if got := apply(t, `@res.hostname == "a"`, "res", items); !slices.Equal(got, []int{0}) {
		t.Errorf("res over maps: got %v", got)
	}
	if got := apply(t, `hostname=b`, "res", items); !slices.Equal(got, []int{1}) {
		t.Errorf("res legacy over maps: got %v", got)
	}
	if _, err := Compile(`@inv`, "host"); err == nil {
		t.Error("unknown key: want an error")
	}
}

func TestStringAndLegacy(t *testing.T) {
	for _, c := range []struct {
		src    string
		legacy bool
	}{
		{`"a" in @inv.name`, false},
		{`name<a`, true},
		{`@inv.name == "a=b"`, false},
	} {
		f, err := Compile(c.src, "inv")
		if err != nil {
			t.Fatal(err)
		}
		if f.String() != c.src || f.Legacy() != c.legacy {
			t.Errorf("%q: String() = %q, Legacy() = %v", c.src, f.String(), f.Legacy())
		}
	}
}

// TestConcurrentApply runs one compiled filter from many goroutines (run
// with -race).
func TestConcurrentApply(t *testing.T) {
	items := loadFixture(t)
	f, err := Compile(`"rhel8.7" in @inv.name | @inv[1:]`, "inv")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []string)
	for range 8 {
		go func() {
			idx, _ := f.Apply(items)
			done <- hosts(items, idx)
		}()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, []string{"dhcp-133", "dhcp-129", "dhcp-369"}) {
			t.Errorf("got %v", got)
		}
	}
}

// TestLongFilters compiles and runs long chains of each construct. The
// translation must stay linear: an and/or chain once doubled the tree at
// every level, so 60 of them never finished.
func TestLongFilters(t *testing.T) {
	items := []any{"abc", "def"}
	for name, src := range map[string]string{
		"and":      strings.Repeat("@res and ", 200) + "@res",
		"or":       strings.Repeat("@res or ", 200) + "@res",
		"mixed":    strings.Repeat("(@res or @res) and ", 100) + "@res",
		"not":      strings.Repeat("not ", 200) + "@res",
		"chain":    "0" + strings.Repeat(" < len(@res)", 200),
		"pipes":    strings.Repeat("@res | ", 200) + "@res",
		"parens":   strings.Repeat("(", 99) + "@res" + strings.Repeat(")", 99),
		"methods":  "@res" + strings.Repeat(".lower()", 200) + ` == "abc"`,
		"adjacent": `@res == ` + strings.Repeat(`"a" `, 1000),
	} {
		t.Run(name, func(t *testing.T) {
			f, err := Compile(src, "res")
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if _, err := f.Apply(items); err != nil {
				t.Fatalf("Apply: %v", err)
			}
		})
	}
	// Beyond expr's node budget the filter is rejected, not slow.
	if _, err := Compile("@res"+strings.Repeat(".a", 6000), "res"); err == nil {
		t.Error("a filter beyond the node budget should be rejected")
	}
	if _, err := Compile(strings.Repeat("(", maxDepth+1)+"@res"+strings.Repeat(")", maxDepth+1), "res"); err == nil {
		t.Error("brackets nested beyond maxDepth should be rejected")
	}
}

// host mimics inventory.Host: a named map type.
type host map[string]any

type tagList []any

func TestNamedTypesAndSelect(t *testing.T) {
	hs := []host{
		{"hostname": "a", "tags": tagList{"x"}, "args": host{"wf": "deploy"}},
		{"hostname": "b", "tags": tagList{}, "args": host{}},
	}
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`"x" in @inv.tags`, []string{"a"}},
		{`@inv.args.wf == "deploy"`, []string{"a"}},
		{`not @inv.args`, []string{"b"}},
		{`len(@inv.tags) == 0`, []string{"b"}},
		{`@inv[-1]`, []string{"b"}},
		{`"hostname" in @inv and @inv == @inv`, []string{"a", "b"}},
		{`args.wf=deploy`, []string{"a"}},
	} {
		t.Run(c.filter, func(t *testing.T) {
			f, err := Compile(c.filter, "inv")
			if err != nil {
				t.Fatal(err)
			}
			kept, err := Select(f, hs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range kept {
				got = append(got, h["hostname"].(string))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	if kept, err := Select[host](nil, hs); err != nil || len(kept) != 2 {
		t.Errorf("Select(nil) = %v, %v; want all", kept, err)
	}
	if _, err := Select(mustCompile(t, `@inv[5]`), hs); err == nil {
		t.Error("Select should return Apply's error")
	}
}

func mustCompile(t *testing.T, src string) *Filter {
	t.Helper()
	f, err := Compile(src, "inv")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestJSONNumber(t *testing.T) {
	items := []any{map[string]any{"id": json.Number("42"), "r": json.Number("1.5"), "bad": json.Number("x")}}
	for _, src := range []string{`@inv.id == 42`, `@inv.id > 41.5`, `@inv.r == 1.5`, `@inv.id != "42"`, `id=42`, `r=1.5`} {
		if got := apply(t, src, "inv", items); len(got) != 1 {
			t.Errorf("%s: not kept", src)
		}
	}
	f := mustCompile(t, `@inv.r < "a"`)
	if _, err := f.Apply(items); err == nil || !strings.Contains(err.Error(), "'float' and 'str'") {
		t.Errorf("got %v", err)
	}
}
