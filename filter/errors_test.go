package filter

import (
	"errors"
	"strings"
	"testing"
)

// TestSyntaxErrors checks that bad filters are rejected by Compile, before
// anything runs, with the byte position of the problem.
func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		key, filter string
		pos         int
		msg         string
	}{
		// not a filter at all (upstream matched everything)
		{"inv", ``, 0, "empty filter"},
		{"inv", `   `, 0, "empty filter"},
		{"inv", `x`, 0, "not a filter"},
		{"inv", `dhcp-111`, 0, "not a filter"},
		{"inv", `"rhel" in @res`, 10, "@res is not available in this filter; the subject is @inv"},
		{"res", `@inv.name == "x"`, 0, "@inv is not available in this filter; the subject is @res"},
		{"inv", `@inventory.a`, 0, "unknown subject @inventory"},
		{"inv", `@inv.a == @ x`, 10, "unexpected '@'"},
		// incomplete or unbalanced
		{"inv", `@inv.hostname ==`, 16, "unexpected end of expression"},
		{"inv", `@inv.hostname ==   `, 16, "unexpected end of expression"},
		{"inv", `@inv.a and not`, 14, "unexpected end of expression"},
		{"inv", `(@inv.name == "x"`, 0, "'(' was never closed"},
		{"inv", `@inv[0`, 4, "'[' was never closed"},
		{"inv", `@inv.name == "x")`, 16, "unmatched ')'"},
		{"inv", `(@inv.name]`, 10, "closing ']' does not match '('"},
		{"inv", `@inv.name == "x`, 13, "unterminated string literal"},
		{"inv", `@inv.`, 4, "expected a field name after '.'"},
		{"inv", `@inv..a`, 4, "expected a field name after '.'"},
		{"inv", `@inv.a @inv.b`, 7, "unexpected '@inv'"},
		{"inv", `@inv.a == "x" "y" 1`, 18, "unexpected '1'"},
		{"inv", `@inv.a == == 1`, 10, "unexpected '=='"},
		// segments
		{"inv", `@inv.a |`, 8, "empty filter segment"},
		{"inv", `| @inv.a`, 0, "empty filter segment"},
		{"inv", `@inv.a || @inv.b`, 8, "empty filter segment"},
		{"inv", `@inv.a | True`, 9, "does not use @inv"},
		{"inv", `@inv.a | "@inv"`, 9, "does not use @inv"},
		// unsupported syntax, with hints
		{"inv", `@inv.name = "x"`, 10, "use == to compare"},
		{"inv", `@inv.name ! "x"`, 10, "unexpected '!'"},
		{"inv", `@inv.name == x`, 13, "unknown name x (record fields are written @inv.x)"},
		{"res", `@res == x`, 8, "unknown name x (record fields are written @res.x)"},
		{"inv", `@inv.name == true`, 13, "Python spells the constants True, False and None"},
		{"inv", `@inv.a == null`, 10, "Python spells the constants True, False and None"},
		{"inv", `@inv.a if @inv.b else @inv.c`, 7, "'if' is not supported in filters"},
		{"inv", `[@inv.a for x in @inv.b]`, 8, "'for' is not supported in filters"},
		{"inv", `@inv.name.foo()`, 10, "unsupported method .foo()"},
		{"inv", `@inv.name.startswith()`, 20, ".startswith() takes exactly one argument (0 given)"},
		{"inv", `@inv.name.lower(1)`, 15, ".lower() takes no arguments (1 given)"},
		{"inv", `@inv.name.strip(1, 2)`, 15, ".strip() takes from 0 to 1 arguments (2 given)"},
		{"inv", `len(@inv.a, @inv.b)`, 3, "len() takes exactly one argument (2 given)"},
		{"inv", `len(@inv.a,) == 1 and len() == 0`, 25, "len() takes exactly one argument (0 given)"},
		{"inv", `len == 1 and @inv`, 0, "len must be called"},
		{"inv", `@inv.a("x")`, 5, "unsupported method .a()"},
		{"inv", `@inv("x")`, 4, "only len() and the string methods"},
		{"inv", `"x"(1) == @inv`, 3, "only len() and the string methods"},
		{"inv", `@inv.a == 1 == 1`, 12, "chained comparisons"},
		{"inv", `@inv.a < 1 == 1`, 11, "chained comparisons"},
		{"inv", `"a" in @inv.b in @inv.c`, 14, "chained comparisons"},
		{"inv", `@inv.a is None is None`, 15, "chained comparisons"},
		{"inv", `@inv.a not "x"`, 7, "unexpected 'not' after a value (did you mean 'not in'?)"},
		{"inv", `@inv.a, @inv.b`, 6, "unexpected ','"},
		{"inv", `@inv.a in [1:2]`, 12, "unexpected ':'"},
		{"inv", `@inv.a[1:2:3]`, 6, "slice steps are not supported"},
		{"inv", `@inv.a[1, 2]`, 6, "only one index or slice"},
		{"inv", `@inv.a[]`, 6, "empty subscript"},
		{"inv", `@inv["hostname"]`, 4, "@inv[...] selects items by position; to read a field of each item write @inv.hostname"},
		{"inv", `@inv.a + 1`, 7, "arithmetic is not supported in filters"},
		{"inv", `@inv.a - 1 > 0`, 7, "arithmetic is not supported in filters"},
		{"inv", `@inv.a * 2`, 7, "operator * is not supported"},
		{"inv", `@inv.a // 2`, 7, "operator // is not supported"},
		{"inv", `@inv.a ** 2`, 7, "operator ** is not supported"},
		{"inv", `@inv.a ; 1`, 7, "unexpected character ';'"},
		{"inv", `@inv.a ?? 1`, 7, "unexpected character '?'"},
		{"inv", `@inv.a == {}`, 10, "unexpected character '{'"},
		{"inv", "@inv.a == `x`", 10, "unexpected character '`'"},
		{"inv", `@inv.a # comment`, 7, "unexpected character '#'"},
		{"inv", `$env | @inv`, 0, "unexpected character '$'"},
		// literals
		{"inv", `@inv.a == 0755`, 10, "leading zeros"},
		{"inv", `@inv.a == 1j`, 10, "invalid number literal"},
		{"inv", `@inv.a == 1__0`, 10, "invalid number literal"},
		{"inv", `@inv.a == 0x`, 10, "invalid number literal"},
		{"inv", `@inv.a == 99999999999999999999`, 10, "integer literal too large"},
		{"inv", `@inv.a == 1e999`, 10, "float literal out of range"},
		{"inv", `@inv.a == b"x"`, 10, "bytes and f-string literals are not supported"},
		{"inv", `@inv.a == f"{x}"`, 10, "bytes and f-string literals are not supported"},
		{"inv", `@inv.a == "\x4"`, 11, `truncated \x escape`},
		{"inv", `@inv.a == "\U00110000"`, 11, "illegal Unicode character"},
		{"inv", `@inv.a == "\N{DASH}"`, 11, `\N{...} escapes are not supported`},
		{"inv", "@inv.a == \"x\ny\"", 10, "unterminated string literal"},
		{"inv", "@inv.a == \"\xff\"", 11, "invalid UTF-8"},
		// legacy syntax
		{"inv", `name<x,foo`, 7, `legacy filter test "foo" has no operator`},
		{"inv", `<x`, 0, `legacy filter test "<x" has no property before <`},
		{"inv", `a<b, !=c`, 5, `legacy filter test "!=c" has no property before !=`},
		{"inv", `a<b,,c=d`, 4, "empty test in legacy filter"},
		{"inv", `a<b,`, 4, "empty test in legacy filter"},
	} {
		t.Run(c.filter, func(t *testing.T) {
			_, err := Compile(c.filter, c.key)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile error = %v, want *SyntaxError", err)
			}
			if se.Filter != c.filter {
				t.Errorf("Filter = %q", se.Filter)
			}
			if se.Pos != c.pos {
				t.Errorf("Pos = %d, want %d\n%v", se.Pos, c.pos, se)
			}
			if !strings.Contains(se.Msg, c.msg) {
				t.Errorf("Msg = %q, want it to contain %q", se.Msg, c.msg)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	se := &SyntaxError{Filter: "@inv.a == \"é\" x", Pos: 15, Msg: "unexpected 'x'"}
	want := "filter \"@inv.a == \\\"é\\\" x\": unexpected 'x' at column 15\n" +
		"  @inv.a == \"é\" x\n" +
		"                ^"
	if se.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", se.Error(), want)
	}

	// Control characters are shown as spaces so the caret lines up.
	se = &SyntaxError{Filter: "@inv.a\t==", Pos: 9, Msg: "unexpected end of expression"}
	if lines := strings.Split(se.Error(), "\n"); lines[1] != "  @inv.a ==" || lines[2] != "           ^" {
		t.Errorf("got\n%s", se.Error())
	}

	ee := &EvalError{Filter: `@inv.a < 1`, Pos: 7, Item: 3, Err: errors.New("boom")}
	want = "filter \"@inv.a < 1\" (item 3): boom at column 8\n" +
		"  @inv.a < 1\n" +
		"         ^"
	if ee.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", ee.Error(), want)
	}
	if !errors.Is(ee, ee.Err) {
		t.Error("EvalError should unwrap to Err")
	}
}
