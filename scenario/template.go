package scenario

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// TemplateError is a template that failed to parse or render.
type TemplateError struct {
	Template string
	Err      error
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("template %q: %v", e.Template, e.Err)
}
func (e *TemplateError) Unwrap() error { return e.Err }

// ErrUndefined is wrapped when a rendered string uses an undefined name.
var ErrUndefined = errors.New("undefined variable in template")

// singleExpr matches a value that is exactly one {{ expr }}.
var singleExpr = regexp.MustCompile(`(?s)^\{\{-?(.*?)-?\}\}$`)

// Render renders v with the given template variables: strings holding
// {{ or {% are Jinja2 templates, maps and lists are rendered recursively,
// anything else passes through. A string that is exactly one {{ expr }}
// keeps the expression's native type (list, map, number, bool, Host) and an
// undefined name there yields nil; other templates render to strings and an
// undefined name is an error wrapping ErrUndefined.
func Render(v any, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return renderString(x, vars)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := Render(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := Render(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func renderString(s string, vars map[string]any) (any, error) {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "{%") {
		return s, nil
	}
	t := strings.TrimSpace(s)
	if m := singleExpr.FindStringSubmatch(t); m != nil && !strings.Contains(m[1], "{{") && !strings.Contains(m[1], "}}") && !strings.Contains(t, "{%") {
		return Eval(m[1], vars)
	}
	out, err := renderText(s, vars)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func newConfig(strict bool) *config.Config {
	c := config.New()
	c.StrictUndefined = strict
	c.KeepTrailingNewline = true
	return c
}

// environment builds a gonja environment with vars and the Python helpers
// upstream adds to the context.
func environment(vars map[string]any) *exec.Environment {
	ctx := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables)
	for k, v := range pyHelpers {
		ctx.Set(k, v)
	}
	for k, v := range vars {
		ctx.Set(k, v)
	}
	return &exec.Environment{
		Context:           ctx,
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
}

func parse(src string, strict bool) (*exec.Template, *config.Config, loaders.Loader, error) {
	cfg := newConfig(strict)
	// A memory loader: templates cannot include files.
	loader, err := loaders.NewMemoryLoader(map[string]string{"/scenario": src})
	if err != nil {
		return nil, nil, nil, err
	}
	tpl, err := exec.NewTemplate("/scenario", cfg, loader, environment(nil))
	return tpl, cfg, loader, err
}

// renderText renders a template to a string with strict undefined names.
func renderText(src string, vars map[string]any) (out string, err error) {
	defer recoverTo(src, &err)
	tpl, _, _, err := parse(src, true)
	if err != nil {
		return "", &TemplateError{Template: src, Err: err}
	}
	ctx := exec.NewContext(plainVars(vars))
	for k, v := range pyHelpers {
		ctx.Set(k, v)
	}
	s, err := tpl.ExecuteToString(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "Unable to evaluate name") {
			return "", &TemplateError{Template: src, Err: fmt.Errorf("%w: %v", ErrUndefined, err)}
		}
		return "", &TemplateError{Template: src, Err: err}
	}
	return s, nil
}

// Eval evaluates one Jinja2 expression (without the braces) and returns its
// native value; undefined names evaluate to nil.
func Eval(expr string, vars map[string]any) (v any, err error) {
	src := "{{ " + strings.TrimSpace(expr) + " }}"
	defer recoverTo(src, &err)
	tpl, cfg, loader, err := parse(src, false)
	if err != nil {
		return nil, &TemplateError{Template: src, Err: err}
	}
	root := tpl.Root()
	if len(root.Nodes) != 1 {
		return nil, &TemplateError{Template: src, Err: errors.New("not a single expression")}
	}
	out, ok := root.Nodes[0].(*nodes.Output)
	if !ok {
		return nil, &TemplateError{Template: src, Err: errors.New("not a single expression")}
	}
	ev := &exec.Evaluator{Config: cfg, Environment: environment(plainVars(vars)), Loader: loader}
	var val *exec.Value
	if out.Condition != nil {
		c := ev.Eval(out.Condition)
		if c.IsError() {
			return nil, &TemplateError{Template: src, Err: errors.New(c.Error())}
		}
		switch {
		case c.IsTrue():
			val = ev.Eval(out.Expression)
		case out.Alternative != nil:
			val = ev.Eval(out.Alternative)
		default:
			return nil, nil
		}
	} else {
		val = ev.Eval(out.Expression)
	}
	if val.IsError() {
		return nil, &TemplateError{Template: src, Err: errors.New(val.Error())}
	}
	return native(val.Interface()), nil
}

// Truthy evaluates a condition as upstream does: booleans as-is; the
// strings true/yes/1 and false/no/0/none/"" by name; an empty condition is
// true; anything else is a Jinja2 expression (wrapped in {{ }} when it is
// not already) judged by Python truthiness.
func Truthy(cond string, vars map[string]any) (bool, error) {
	c := strings.TrimSpace(cond)
	if c == "" {
		return true, nil
	}
	switch strings.ToLower(c) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0", "none":
		return false, nil
	}
	expr := c
	if m := singleExpr.FindStringSubmatch(c); m != nil {
		expr = m[1]
	} else if strings.Contains(c, "{{") || strings.Contains(c, "{%") {
		s, err := renderText(c, vars)
		if err != nil {
			return false, err
		}
		return truthValue(s), nil
	}
	v, err := Eval(expr, vars)
	if err != nil {
		return false, err
	}
	return truthValue(v), nil
}

func truthValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true
		case "false", "no", "0", "none", "":
			return false
		}
		return true
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

func recoverTo(src string, err *error) {
	if r := recover(); r != nil {
		*err = &TemplateError{Template: src, Err: fmt.Errorf("template engine panic: %v", r)}
	}
}

// plainVars converts the values templates see into plain Go values gonja
// understands: Host objects become their record maps, Results maps.
func plainVars(vars map[string]any) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		out[k] = plain(v)
	}
	return out
}

func plain(v any) any {
	switch x := v.(type) {
	case Host:
		return hostRecord(x)
	case []Host:
		out := make([]any, len(x))
		for i, h := range x {
			out[i] = hostRecord(h)
		}
		return out
	case Result:
		return x.Map()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// native converts a gonja result into plain Go values.
func native(v any) any {
	switch x := v.(type) {
	case *exec.Value:
		if x == nil {
			return nil
		}
		return native(x.Interface())
	case *exec.Dict:
		out := make(map[string]any, len(x.Pairs))
		for _, p := range x.Pairs {
			out[p.Key.String()] = native(p.Value.Interface())
		}
		return out
	case *exec.Pair:
		return []any{native(x.Key.Interface()), native(x.Value.Interface())}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = native(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = native(e)
		}
		return out
	case nil, string, bool, int, int64, float64:
		return x
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = native(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[fmt.Sprint(it.Key().Interface())] = native(it.Value().Interface())
		}
		return out
	case reflect.Chan: // range()
		var out []any
		for {
			e, ok := rv.Recv()
			if !ok {
				break
			}
			out = append(out, native(e.Interface()))
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint())
	case reflect.Float32:
		return rv.Float()
	}
	return v
}

// pyHelpers are the Python builtins upstream puts in every template context.
var pyHelpers = map[string]any{
	"len": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("len() takes exactly one argument")
		}
		rv := reflect.ValueOf(native(a.Args[0].Interface()))
		switch rv.Kind() {
		case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
			if rv.Kind() == reflect.String {
				return len([]rune(rv.String())), nil
			}
			return rv.Len(), nil
		}
		return nil, fmt.Errorf("object of type %s has no len()", a.Args[0].Val.Kind())
	},
	"str": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return "", nil
		}
		return a.Args[0].String(), nil
	},
	"int": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return 0, nil
		}
		v := a.Args[0]
		switch {
		case v.IsInteger():
			return v.Integer(), nil
		case v.IsFloat():
			return int(v.Float()), nil
		case v.IsBool():
			if v.Bool() {
				return 1, nil
			}
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v.String()))
		if err != nil {
			return nil, fmt.Errorf("invalid literal for int(): %q", v.String())
		}
		return n, nil
	},
	"float": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return 0.0, nil
		}
		v := a.Args[0]
		if v.IsNumber() {
			return v.Float(), nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v.String()), 64)
		if err != nil {
			return nil, fmt.Errorf("could not convert string to float: %q", v.String())
		}
		return f, nil
	},
	"bool": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return false, nil
		}
		return truthValue(native(a.Args[0].Interface())), nil
	},
	"list": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return []any{}, nil
		}
		return toList(native(a.Args[0].Interface())), nil
	},
	"set": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return []any{}, nil
		}
		var out []any
		seen := map[string]bool{}
		for _, e := range toList(native(a.Args[0].Interface())) {
			k := fmt.Sprint(e)
			if !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
		return out, nil
	},
	"tuple": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return []any{}, nil
		}
		return toList(native(a.Args[0].Interface())), nil
	},
	"sum": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 {
			return nil, errors.New("sum() takes at least one argument")
		}
		var i int
		var f float64
		isFloat := false
		for _, e := range toList(native(a.Args[0].Interface())) {
			switch n := e.(type) {
			case int:
				i += n
			case float64:
				f += n
				isFloat = true
			default:
				return nil, fmt.Errorf("sum(): unsupported item %v", e)
			}
		}
		if isFloat {
			return f + float64(i), nil
		}
		return i, nil
	},
	"min":    func(a *exec.VarArgs) (any, error) { return extreme(a, -1) },
	"max":    func(a *exec.VarArgs) (any, error) { return extreme(a, 1) },
	"abs":    func(a *exec.VarArgs) (any, error) { return mathOne(a, math.Abs) },
	"round":  pyRound,
	"sorted": func(a *exec.VarArgs) (any, error) { return sortedList(a) },
	"reversed": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("reversed() takes exactly one argument")
		}
		l := toList(native(a.Args[0].Interface()))
		out := make([]any, len(l))
		for i, e := range l {
			out[len(l)-1-i] = e
		}
		return out, nil
	},
	"enumerate": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) < 1 {
			return nil, errors.New("enumerate() takes an iterable")
		}
		start := 0
		if len(a.Args) > 1 {
			start = a.Args[1].Integer()
		}
		l := toList(native(a.Args[0].Interface()))
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = []any{i + start, e}
		}
		return out, nil
	},
	"zip": func(a *exec.VarArgs) (any, error) {
		var lists [][]any
		n := -1
		for _, x := range a.Args {
			l := toList(native(x.Interface()))
			lists = append(lists, l)
			if n < 0 || len(l) < n {
				n = len(l)
			}
		}
		out := make([]any, 0, max(n, 0))
		for i := 0; i < n; i++ {
			row := make([]any, len(lists))
			for j := range lists {
				row[j] = lists[j][i]
			}
			out = append(out, row)
		}
		return out, nil
	},
	"any": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("any() takes exactly one argument")
		}
		for _, e := range toList(native(a.Args[0].Interface())) {
			if truthValue(e) {
				return true, nil
			}
		}
		return false, nil
	},
	"all": func(a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("all() takes exactly one argument")
		}
		for _, e := range toList(native(a.Args[0].Interface())) {
			if !truthValue(e) {
				return false, nil
			}
		}
		return true, nil
	},
}

// toList turns an iterable into a list as Python's list() does: maps give
// their keys (sorted), strings their characters, scalars themselves.
func toList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, k)
		}
		return out
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out
	case nil:
		return []any{}
	}
	return []any{v}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func less(a, b any) (bool, error) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x < y, nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return x < y, nil
		}
	}
	return false, fmt.Errorf("'<' not supported between %T and %T", a, b)
}

func extreme(a *exec.VarArgs, sign int) (any, error) {
	var items []any
	if len(a.Args) == 1 {
		items = toList(native(a.Args[0].Interface()))
	} else {
		for _, x := range a.Args {
			items = append(items, native(x.Interface()))
		}
	}
	if len(items) == 0 {
		return nil, errors.New("min()/max() arg is an empty sequence")
	}
	best := items[0]
	for _, e := range items[1:] {
		var l bool
		var err error
		if sign < 0 {
			l, err = less(e, best)
		} else {
			l, err = less(best, e)
		}
		if err != nil {
			return nil, err
		}
		if l {
			best = e
		}
	}
	return best, nil
}

func mathOne(a *exec.VarArgs, f func(float64) float64) (any, error) {
	if len(a.Args) < 1 {
		return nil, errors.New("expected a number")
	}
	v := native(a.Args[0].Interface())
	switch n := v.(type) {
	case int:
		r := f(float64(n))
		return int(r), nil
	case float64:
		if len(a.Args) > 1 { // round(x, ndigits)
			p := math.Pow(10, float64(a.Args[1].Integer()))
			return f(n*p) / p, nil
		}
		return f(n), nil
	}
	return nil, fmt.Errorf("expected a number, got %T", v)
}

// pyRound is Python's round: banker's rounding, an int without ndigits.
func pyRound(a *exec.VarArgs) (any, error) {
	if len(a.Args) == 1 {
		if f, ok := number(native(a.Args[0].Interface())); ok {
			return int(math.RoundToEven(f)), nil
		}
	}
	return mathOne(a, math.RoundToEven)
}

func sortedList(a *exec.VarArgs) (any, error) {
	if len(a.Args) < 1 {
		return nil, errors.New("sorted() takes an iterable")
	}
	l := append([]any(nil), toList(native(a.Args[0].Interface()))...)
	var err error
	sort.SliceStable(l, func(i, j int) bool {
		r, e := less(l[i], l[j])
		if e != nil {
			err = e
		}
		return r
	})
	if err != nil {
		return nil, err
	}
	if r, ok := a.KwArgs["reverse"]; ok && r.IsTrue() {
		for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
			l[i], l[j] = l[j], l[i]
		}
	}
	return l, nil
}
