package scenario

import (
	"errors"
	"reflect"
	"testing"
)

func TestEvalKeepsTypes(t *testing.T) {
	vars := map[string]any{
		"value": 42, "name": "deploy-x", "s": "  hi  ",
		"test_dict": map[string]any{"a": 1, "b": "two"},
		"lst":       []any{1, 2, 3},
	}
	cases := []struct {
		expr string
		want any
	}{
		{"value > 40", true},
		{"'deploy' in name", true},
		{"'nope' in name", false},
		{"test_dict.items()", []any{[]any{"a", 1}, []any{"b", "two"}}},
		{"lst", []any{1, 2, 3}},
		{"len(lst)", 3},
		{"len(test_dict)", 2},
		{"s | trim", "hi"},
		{"lst | length", 3},
		{"x is defined", false},
		{"undefined_thing", nil},
		{"range(3)", []any{0, 1, 2}},
		{"lst[0:2]", []any{1, 2}},
		{"test_dict.a", 1},
		{"sorted([3, 1, 2])", []any{1, 2, 3}},
		{"{'k': 1}", map[string]any{"k": 1}},
		{"lst | join(',')", "1,2,3"},
		{"value + 1", 43},
		{"sum(lst)", 6},
		{"max(lst)", 3},
		{"int('7') + 1", 8},
		{"str(value)", "42"},
		{"round(2.5)", 2},
		{"list(reversed(lst))", []any{3, 2, 1}},
		{"enumerate(['a'])", []any{[]any{0, "a"}}},
		{"zip([1, 2], ['a', 'b'])", []any{[]any{1, "a"}, []any{2, "b"}}},
		{"any([0, 1])", true},
		{"all([0, 1])", false},
	}
	for _, c := range cases {
		got, err := Eval(c.expr, vars)
		if err != nil {
			t.Errorf("Eval(%q): %v", c.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Eval(%q) = %#v, want %#v", c.expr, got, c.want)
		}
	}
}

func TestRender(t *testing.T) {
	vars := map[string]any{"name": "web", "n": 3, "m": map[string]any{"x": []any{1}}}
	cases := []struct {
		in, want any
	}{
		{"plain text", "plain text"},
		{"hello {{ name }}", "hello web"},
		{"{{ n }}", 3},
		{"  {{ m }}  ", map[string]any{"x": []any{1}}},
		{"{{ missing }}", nil},
		{"{% for i in range(n) %}{{ i }}{% endfor %}", "012"},
		{map[string]any{"a": "{{ n }}", "b": []any{"{{ name }}", 5}}, map[string]any{"a": 3, "b": []any{"web", 5}}},
		{7, 7},
	}
	for _, c := range cases {
		got, err := Render(c.in, vars)
		if err != nil {
			t.Errorf("Render(%#v): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Render(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
	if _, err := Render("x {{ missing }}", vars); !errors.Is(err, ErrUndefined) {
		t.Errorf("undefined name in text: err = %v, want ErrUndefined", err)
	}
	if _, err := Render("{{ 1 + }}", vars); err == nil {
		t.Error("syntax error: want an error")
	}
}

func TestTruthy(t *testing.T) {
	vars := map[string]any{"value": 42, "flag": false, "empty": []any{}}
	cases := map[string]bool{
		"": true, "true": true, "yes": true, "1": true, "false": false, "no": false, "0": false, "none": false,
		"value > 40": true, "{{ value < 40 }}": false, "flag": false, "empty": false, "missing is defined": false,
		"value is defined": true, "not flag": true,
	}
	for c, want := range cases {
		got, err := Truthy(c, vars)
		if err != nil {
			t.Errorf("Truthy(%q): %v", c, err)
			continue
		}
		if got != want {
			t.Errorf("Truthy(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestTemplateEnginePanicIsAnError(t *testing.T) {
	if _, err := Eval("'%s' % ('a',)", nil); err == nil {
		t.Error("string % operator: want an error (gonja gap), got none")
	}
}
