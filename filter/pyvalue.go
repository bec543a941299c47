package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the Python value semantics the expression functions rely on:
// truthiness, equality, ordering, membership, indexing, slicing and str().
// Values are JSON-like: nil, bool, numbers of any Go kind, string, []any,
// map[string]any (other slices and string-keyed maps are read through reflect).

var (
	listType = reflect.TypeFor[[]any]()
	mapType  = reflect.TypeFor[map[string]any]()
)

// ref is an element of the list a list-level segment sees: the record plus
// its index into the items given to Apply, so a selection can be mapped back.
type ref struct {
	i int
	v any
}

// valueError is an evaluation error raised by a filter function. Its message
// is phrased like the Python error upstream would raise.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf(format, args...)}
}

func unref(v any) any {
	if r, ok := v.(*ref); ok {
		return r.v
	}
	return v
}

// typeName returns the Python type name of v, for error messages.
func typeName(v any) string {
	v = unref(v)
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	if _, _, isFloat, ok := number(v); ok {
		if isFloat {
			return "float"
		}
		return "int"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.String:
		return "str"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// number reports whether v is a number (bools count, as in Python) and
// returns it as an int64 (isFloat false) or a float64 (isFloat true).
func number(v any) (i int64, f float64, isFloat bool, ok bool) {
	switch n := v.(type) {
	case int:
		return int64(n), 0, false, true
	case int64:
		return n, 0, false, true
	case float64:
		return 0, n, true, true
	case bool:
		if n {
			return 1, 0, false, true
		}
		return 0, 0, false, true
	case int8:
		return int64(n), 0, false, true
	case int16:
		return int64(n), 0, false, true
	case int32:
		return int64(n), 0, false, true
	case uint:
		return unsigned(uint64(n))
	case uint8:
		return int64(n), 0, false, true
	case uint16:
		return int64(n), 0, false, true
	case uint32:
		return int64(n), 0, false, true
	case uint64:
		return unsigned(n)
	case float32:
		return 0, float64(n), true, true
	case json.Number: // from a decoder with UseNumber
		if i, err := n.Int64(); err == nil {
			return i, 0, false, true
		}
		if f, err := n.Float64(); err == nil {
			return 0, f, true, true
		}
	}
	return 0, 0, false, false
}

func unsigned(u uint64) (int64, float64, bool, bool) {
	if u > math.MaxInt64 {
		return 0, float64(u), true, true
	}
	return int64(u), 0, false, true
}

// asString returns v as a string when it is one (including named string types).
func asString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case nil, bool, int, int64, float64, []any, map[string]any, json.Number:
		return "", false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// asList returns v as a list when it is a slice or an array ([]byte included).
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case nil, bool, string, int, int64, float64, map[string]any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Type().ConvertibleTo(listType) && rv.Kind() == reflect.Slice {
		return rv.Convert(listType).Interface().([]any), true // a named []any: no copy
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asMap returns v as a map when it is a map with string keys.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case nil, bool, string, int, int64, float64, []any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	if rv.Type().ConvertibleTo(mapType) {
		return rv.Convert(mapType).Interface().(map[string]any), true // a named map[string]any: no copy
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// truthy applies Python's truth rules: None, False, 0, 0.0 and empty
// strings, lists and maps are false; everything else is true.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case *ref:
		return truthy(x.v)
	}
	if i, f, isFloat, ok := number(v); ok {
		if isFloat {
			return f != 0
		}
		return i != 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// numEqual compares two numbers exactly, as Python does for int and float.
func numEqual(ai int64, af float64, aFloat bool, bi int64, bf float64, bFloat bool) bool {
	switch {
	case !aFloat && !bFloat:
		return ai == bi
	case aFloat && bFloat:
		return af == bf
	case aFloat:
		return intFloatCmp(bi, af) == 0
	default:
		return intFloatCmp(ai, bf) == 0
	}
}

// intFloatCmp compares an int with a float: -1, 0, 1, or 2 when f is NaN.
func intFloatCmp(i int64, f float64) int {
	if math.IsNaN(f) {
		return 2
	}
	if f >= -9.2e18 && f <= 9.2e18 && f == math.Trunc(f) {
		fi := int64(f)
		switch {
		case i < fi:
			return -1
		case i > fi:
			return 1
		}
		return 0
	}
	// |f| is too large for an int64 or f has a fraction: float order is exact enough.
	switch fi := float64(i); {
	case fi < f:
		return -1
	case fi > f:
		return 1
	}
	if float64(i) == f {
		// Rounding made them equal; the fraction decides.
		if f > 0 {
			return -1
		}
		return 1
	}
	return 0
}

// pyEqual implements Python ==: a string never equals a number, ints and
// floats compare by value, lists and maps compare element by element.
func pyEqual(a, b any) bool {
	a, b = unref(a), unref(b)
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ai, af, aFloat, ok := number(a); ok {
		bi, bf, bFloat, ok := number(b)
		return ok && numEqual(ai, af, aFloat, bi, bf, bFloat)
	}
	if as, ok := asString(a); ok {
		bs, ok := asString(b)
		return ok && as == bs
	}
	if al, ok := asList(a); ok {
		bl, ok := asList(b)
		if !ok || len(al) != len(bl) {
			return false
		}
		for i := range al {
			if !pyEqual(al[i], bl[i]) {
				return false
			}
		}
		return true
	}
	if am, ok := asMap(a); ok {
		bm, ok := asMap(b)
		if !ok || len(am) != len(bm) {
			return false
		}
		for k, av := range am {
			bv, ok := bm[k]
			if !ok || !pyEqual(av, bv) {
				return false
			}
		}
		return true
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.TypeOf(a).Comparable() {
		return false
	}
	return a == b
}

// pyCompare implements Python's <, <=, > and >=. Numbers compare by value,
// strings by code point, lists lexicographically; other combinations are a
// TypeError like Python's, except that None on either side makes the
// comparison false (a missing field never matches an ordering test).
func pyCompare(op string, a, b any) (bool, error) {
	a, b = unref(a), unref(b)
	if a == nil || b == nil {
		return false, nil
	}
	c, err := order(op, a, b)
	if err != nil {
		return false, err
	}
	if c == 2 { // unordered (NaN)
		return false, nil
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c >= 0, nil
	}
}

// order returns -1, 0 or 1, or 2 when the values are unordered (NaN).
func order(op string, a, b any) (int, error) {
	if ai, af, aFloat, ok := number(a); ok {
		if bi, bf, bFloat, ok := number(b); ok {
			switch {
			case !aFloat && !bFloat:
				return cmp3(ai < bi, ai > bi), nil
			case aFloat && bFloat:
				if math.IsNaN(af) || math.IsNaN(bf) {
					return 2, nil
				}
				return cmp3(af < bf, af > bf), nil
			case aFloat:
				c := intFloatCmp(bi, af)
				if c == 2 {
					return 2, nil
				}
				return -c, nil
			default:
				return intFloatCmp(ai, bf), nil
			}
		}
	} else if as, ok := asString(a); ok {
		if bs, ok := asString(b); ok {
			return strings.Compare(as, bs), nil
		}
	} else if al, ok := asList(a); ok {
		if bl, ok := asList(b); ok {
			for i := 0; i < len(al) && i < len(bl); i++ {
				if !pyEqual(al[i], bl[i]) {
					x, y := unref(al[i]), unref(bl[i])
					if x == nil || y == nil {
						return 0, errorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(x), typeName(y))
					}
					return order(op, x, y)
				}
			}
			return cmp3(len(al) < len(bl), len(al) > len(bl)), nil
		}
	}
	return 0, errorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// pyIn implements Python's `needle in haystack`: substring test for strings,
// membership for lists, key test for maps. A None haystack (a missing field)
// gives false instead of Python's TypeError.
func pyIn(needle, haystack any) (bool, error) {
	needle, haystack = unref(needle), unref(haystack)
	if haystack == nil {
		return false, nil
	}
	if hs, ok := asString(haystack); ok {
		ns, ok := asString(needle)
		if !ok {
			return false, errorf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(hs, ns), nil
	}
	if hl, ok := asList(haystack); ok {
		for _, x := range hl {
			if pyEqual(needle, x) {
				return true, nil
			}
		}
		return false, nil
	}
	if hm, ok := asMap(haystack); ok {
		if ns, ok := asString(needle); ok {
			_, found := hm[ns]
			return found, nil
		}
		if _, ok := asList(needle); ok {
			return false, errorf("unhashable type: '%s'", typeName(needle))
		}
		if _, ok := asMap(needle); ok {
			return false, errorf("unhashable type: '%s'", typeName(needle))
		}
		return false, nil // map keys are strings, so no other value is a key
	}
	return false, errorf("argument of type '%s' is not iterable", typeName(haystack))
}

// getAttr reads a field of a map. Anything else, or a missing field, is None.
func getAttr(v any, name string) any {
	switch m := unref(v).(type) {
	case map[string]any:
		return m[name]
	case nil, string, []any:
		return nil
	}
	if m, ok := asMap(unref(v)); ok {
		return m[name]
	}
	return nil
}

// index converts a Python index value to an int.
func index(k any) (int, bool) {
	i, _, isFloat, ok := number(unref(k))
	if !ok || isFloat {
		return 0, false
	}
	if i > math.MaxInt32 || i < math.MinInt32 {
		// Out of range for any list we can hold; keep the sign.
		if i > 0 {
			return math.MaxInt32, true
		}
		return math.MinInt32, true
	}
	return int(i), true
}

// getItem implements v[k]. Lists and strings take int indexes (negative ones
// count from the end; out of range is an error naming index and length).
// Maps return None for a missing key, like a missing attribute. None yields None.
func getItem(v, k any) (any, error) {
	v = unref(v)
	if v == nil {
		return nil, nil
	}
	if l, ok := asList(v); ok {
		i, ok := index(k)
		if !ok {
			return nil, errorf("list indices must be integers or slices, not %s", typeName(k))
		}
		j := i
		if j < 0 {
			j += len(l)
		}
		if j < 0 || j >= len(l) {
			orig, _, _, _ := number(unref(k))
			return nil, errorf("list index %d out of range (the list has %d %s)", orig, len(l), plural(len(l), "item", "items"))
		}
		return l[j], nil
	}
	if s, ok := asString(v); ok {
		i, ok := index(k)
		if !ok {
			return nil, errorf("string indices must be integers, not %s", typeName(k))
		}
		r := []rune(s)
		j := i
		if j < 0 {
			j += len(r)
		}
		if j < 0 || j >= len(r) {
			orig, _, _, _ := number(unref(k))
			return nil, errorf("string index %d out of range (the string has %d %s)", orig, len(r), plural(len(r), "character", "characters"))
		}
		return string(r[j]), nil
	}
	if m, ok := asMap(v); ok {
		if ks, ok := asString(unref(k)); ok {
			return m[ks], nil
		}
		return nil, nil
	}
	return nil, errorf("'%s' object is not subscriptable", typeName(v))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sliceBounds applies Python's slice rules (step 1): None means the end,
// negative bounds count from the end, and everything is clamped to [0, n].
func sliceBounds(n int, from, to any) (lo, hi int, err error) {
	bound := func(b any, def int) (int, error) {
		b = unref(b)
		if b == nil {
			return def, nil
		}
		i, ok := index(b)
		if !ok {
			return 0, errorf("slice indices must be integers or None, not %s", typeName(b))
		}
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n), nil
	}
	if lo, err = bound(from, 0); err != nil {
		return 0, 0, err
	}
	if hi, err = bound(to, n); err != nil {
		return 0, 0, err
	}
	return lo, max(hi, lo), nil
}

// getSlice implements v[from:to] on lists and strings; out-of-range bounds
// are truncated as in Python. None yields None.
func getSlice(v, from, to any) (any, error) {
	v = unref(v)
	if v == nil {
		return nil, nil
	}
	if l, ok := asList(v); ok {
		lo, hi, err := sliceBounds(len(l), from, to)
		if err != nil {
			return nil, err
		}
		return l[lo:hi:hi], nil
	}
	if s, ok := asString(v); ok {
		r := []rune(s)
		lo, hi, err := sliceBounds(len(r), from, to)
		if err != nil {
			return nil, err
		}
		return string(r[lo:hi]), nil
	}
	return nil, errorf("'%s' object is not subscriptable", typeName(v))
}

// pyLen implements len(); None (a missing field) yields None.
func pyLen(v any) (any, error) {
	v = unref(v)
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case map[string]any:
		return len(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return utf8.RuneCountInString(rv.String()), nil
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), nil
	}
	return nil, errorf("object of type '%s' has no len()", typeName(v))
}

// pyStr renders v the way Python's str() does, for legacy filters, which
// compare string forms.
func pyStr(v any) string {
	v = unref(v)
	if s, ok := asString(v); ok {
		return s
	}
	return pyRepr(v)
}

// pyRepr renders v like Python's repr() for the JSON-like value types.
func pyRepr(v any) string {
	v = unref(v)
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	if i, f, isFloat, ok := number(v); ok {
		if !isFloat {
			return strconv.FormatInt(i, 10)
		}
		return floatRepr(f)
	}
	if s, ok := asString(v); ok {
		return strRepr(s)
	}
	if l, ok := asList(v); ok {
		var b strings.Builder
		b.WriteByte('[')
		for i, x := range l {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(x))
		}
		b.WriteByte(']')
		return b.String()
	}
	if m, ok := asMap(v); ok {
		// Go maps have no order; Python's insertion order is lost, so sort.
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strRepr(k))
			b.WriteString(": ")
			b.WriteString(pyRepr(m[k]))
		}
		b.WriteByte('}')
		return b.String()
	}
	return fmt.Sprint(v)
}

// floatRepr matches Python's float repr: shortest round-trip digits, always
// with a decimal point or exponent, exponent form outside [1e-4, 1e16).
func floatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64) // same form as Python: 1e+16, 1.5e-05
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// strRepr quotes s like Python's repr(): single quotes unless s contains a
// single quote and no double quote.
func strRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// errNotString builds the AttributeError Python raises for a string method
// called on another type.
func errNotString(method string, v any) error {
	return errorf("'%s' object has no attribute '%s'", typeName(v), method)
}

// prefixes reads the argument of startswith/endswith: a string or a tuple
// (list) of strings.
func prefixes(method string, arg any) ([]string, error) {
	arg = unref(arg)
	if s, ok := asString(arg); ok {
		return []string{s}, nil
	}
	if l, ok := asList(arg); ok {
		out := make([]string, len(l))
		for i, x := range l {
			s, ok := asString(unref(x))
			if !ok {
				return nil, errorf("tuple for %s must only contain str, not %s", method, typeName(x))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errorf("%s first arg must be str or a tuple of str, not %s", method, typeName(arg))
}
