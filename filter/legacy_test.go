package filter

import (
	"slices"
	"testing"
)

func TestLegacySemantics(t *testing.T) {
	items := []any{
		map[string]any{
			"name": "alpha-rhel8", "job_id": 42, "ratio": 1.0, "big": 1e20, "small": 0.00001,
			"on": true, "none": nil, "tags": []any{"a", 1, nil}, "args": map[string]any{"wf": "deploy", "deep": map[string]any{"x": "y"}},
			"empty": map[string]any{}, "a=b": "eq", "quote": "it's",
		},
		map[string]any{"name": "beta-rhel9", "job_id": 7, "args": map[string]any{"wf": "other"}},
		"a plain string record",
	}
	for _, c := range []struct {
		filter string
		want   []int
	}{
		{`name<rhel`, []int{0, 1}},
		{`name!<rhel9`, []int{0}},
		{`name=beta-rhel9`, []int{1}},
		{`name!=beta-rhel9`, []int{0}},
		{`name{alpha`, []int{0}},
		{`name!{alpha`, []int{1}},
		{`name}rhel9`, []int{1}},
		{`name!}rhel9`, []int{0}},
		// white space around property and value is ignored
		{` name < rhel8 , job_id = 42 `, []int{0}},
		// string forms of non-string values, as Python's str()
		{`job_id=42`, []int{0}},
		{`ratio=1.0`, []int{0}},
		{`big=1e+20`, []int{0}},
		{`small=1e-05`, []int{0}},
		{`on=True`, []int{0}},
		{`none=None`, []int{0}},
		{`tags<['a'`, []int{0}}, // lists render as ['a', 1, None]
		{`quote=it's`, []int{0}},
		// nested maps are flattened with dots; an empty map has no property
		{`args.wf=deploy`, []int{0}},
		{`args.deep.x=y`, []int{0}},
		{`args<deploy`, []int{}},
		{`empty={}`, []int{}},
		// detection order: < before =, so this splits at <
		{`name<a=b`, []int{}},
		{`a<b,name<rhel9`, []int{1}},
		// a test on a missing property is skipped; no applied test → dropped
		{`job_id=7,missing=x`, []int{1}},
		{`missing=x`, []int{}},
		// the value may contain the operator again
		{`name=alpha-rhel8=x`, []int{}},
		{`args.wf!=other,name<rhel`, []int{0}},
	} {
		t.Run(c.filter, func(t *testing.T) {
			f, err := Compile(c.filter, "inv")
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if !f.Legacy() {
				t.Fatal("want a legacy filter")
			}
			got, err := f.Apply(items)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestLegacyResults(t *testing.T) {
	results := []any{"rhel-9.4", "rhel-8.10", 9, nil}
	for _, c := range []struct {
		filter string
		want   []int
	}{
		{`x<rhel`, []int{0, 1}},
		{`<9`, []int{0, 2}},
		{`=9`, []int{2}},
		{`=None`, []int{3}},
		{`!<rhel`, []int{2, 3}},
		{`x<rhel,y}.10`, []int{1}},
	} {
		t.Run(c.filter, func(t *testing.T) {
			if got := apply(t, c.filter, "res", results); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
