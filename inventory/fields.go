package inventory

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Unknown is what Render shows for a field with no (or a falsy) value.
const Unknown = "Unknown"

// Render resolves one inventory_fields spec (upstream's display
// mini-language) for a record:
//
//   - "a | b | c": the first alternative whose result is not empty and not
//     "Unknown", else "Unknown". The spec is split on "|" first, so an
//     alternative may itself be "a b".
//   - "a b": each part resolved and joined with one space; a missing part
//     shows as "Unknown" ("RHEL Unknown").
//   - "x.y.z": a nested lookup; a missing or non-map step is "Unknown".
//   - "$action": the value of the first key of the record's _broker_args
//     that is one of actionKeys(provider) and has a truthy value (the
//     workflow name, the container image), else "Unknown".
//   - a field whose name ends in "_time": its value through HumanizeTime.
//   - otherwise the value: strings as they are, numbers in decimal, lists
//     and maps as compact JSON; a falsy value (missing, null, false, 0, "",
//     empty list or map) is "Unknown".
//
// actionKeys lists a provider's action keys in registry order; nil (or an
// unknown provider) makes "$action" "Unknown".
func Render(spec string, h Host, actionKeys func(provider string) []string) string {
	if strings.Contains(spec, "|") {
		for alt := range strings.SplitSeq(spec, "|") {
			if v := Render(strings.TrimSpace(alt), h, actionKeys); v != "" && v != Unknown {
				return v
			}
		}
		return Unknown
	}
	if strings.IndexFunc(spec, unicode.IsSpace) >= 0 {
		parts := strings.Fields(spec)
		if len(parts) == 0 {
			return Unknown
		}
		out := make([]string, len(parts))
		known := false
		for i, p := range parts {
			out[i] = Render(p, h, actionKeys)
			known = known || out[i] != Unknown
		}
		if !known {
			// "Unknown" once, not "Unknown Unknown" (upstream's quirk)
			return Unknown
		}
		return strings.Join(out, " ")
	}
	if spec == "$action" {
		return action(h, actionKeys)
	}
	v, ok := lookup(h, spec)
	if !ok {
		return Unknown
	}
	if v != nil && strings.HasSuffix(spec, "_time") {
		if s := HumanizeTime(v); s != "" {
			return s
		}
		return Unknown
	}
	if !truthy(v) {
		return Unknown
	}
	return display(v)
}

// lookup follows a dotted path through nested maps.
func lookup(h Host, path string) (any, bool) {
	var cur any = map[string]any(h)
	for key := range strings.SplitSeq(path, ".") {
		m, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func action(h Host, actionKeys func(string) []string) string {
	if actionKeys == nil {
		return Unknown
	}
	args := h.Args()
	for _, k := range actionKeys(h.Provider()) {
		if v, ok := args[k]; ok && truthy(v) {
			return display(v)
		}
	}
	return Unknown
}

// truthy is Python's truth test on the JSON types.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case float32:
		return x != 0
	case int:
		return x != 0
	case int64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case Host:
		return len(x) > 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// display formats a value for a table cell.
func display(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return reflect.ValueOf(v).String()
	}
	return string(b)
}

func formatFloat(f float64) string {
	if math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Epoch range that HumanizeTime shows as a date: 2001-01-01 to 2100-01-01 UTC.
const (
	epochMin = 978307200
	epochMax = 4102444800
)

// HumanizeTime formats a *_time value as upstream does. A value that reads
// as a whole number (an integer, a float, which is truncated, a bool, or a
// string of digits such as "1779455297", the form AnsibleTower records
// use) is a date "Jan 02, 2006 15:04 UTC" when it lies in [978307200,
// 4102444800] (2001–2100), and otherwise a duration in seconds,
// "Xd Yh Zm Ws" with zero parts left out and the seconds left out when
// there are days ("5d", "1h 1s", 0 → "0s"). Anything else is returned as it
// is (a string unchanged, other values as Render shows them).
func HumanizeTime(v any) string {
	ts, ok := wholeNumber(v)
	if !ok {
		return display(v)
	}
	if ts >= epochMin && ts <= epochMax {
		return time.Unix(ts, 0).UTC().Format("Jan 02, 2006 15:04 UTC")
	}
	// Python's floor division and modulo, so negative values read as upstream's.
	days := floorDiv(ts, 86400)
	hours := floorMod(ts, 86400) / 3600
	minutes := floorMod(ts, 3600) / 60
	secs := floorMod(ts, 60)
	var parts []string
	if days != 0 {
		parts = append(parts, strconv.FormatInt(days, 10)+"d")
	}
	if hours != 0 {
		parts = append(parts, strconv.FormatInt(hours, 10)+"h")
	}
	if minutes != 0 {
		parts = append(parts, strconv.FormatInt(minutes, 10)+"m")
	}
	if secs != 0 && days == 0 {
		parts = append(parts, strconv.FormatInt(secs, 10)+"s")
	}
	if len(parts) == 0 {
		return strconv.FormatInt(ts, 10) + "s"
	}
	return strings.Join(parts, " ")
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// wholeNumber is Python's int(v) for the values an inventory holds.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if math.IsNaN(x) || x >= 1<<63 || x < -(1<<63) {
			return 0, false
		}
		return int64(x), true // truncates toward zero, as int() does
	case string:
		return parseWhole(x)
	case json.Number:
		return parseWhole(string(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), true
		}
	case reflect.Float32:
		return wholeNumber(rv.Float())
	}
	return 0, false
}

// parseWhole parses a decimal integer string as Python's int(str) does:
// surrounding whitespace, an optional sign, and single underscores between
// digits are allowed.
func parseWhole(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	digits := strings.ReplaceAll(s, "_", "")
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true //nolint:gosec // wraps to MinInt64 for 1<<63, as intended
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	}
	return 0, false
}

// HumanizeTimes returns a copy of h in which the value of every key ending
// in "_time", at any depth (maps, and maps inside lists), is replaced by
// HumanizeTime of it, for `inventory --details`. Null values and maps are
// left as they are (a map under a *_time key is searched like any other).
func HumanizeTimes(h Host) Host {
	if h == nil {
		return nil
	}
	return Host(humanizeMap(h))
}

func humanizeMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			out[k] = humanizeMap(x)
		case Host:
			out[k] = humanizeMap(x)
		case []any:
			out[k] = humanizeList(x)
		default:
			if v != nil && strings.HasSuffix(k, "_time") {
				out[k] = HumanizeTime(v)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

func humanizeList(l []any) []any {
	out := make([]any, len(l))
	for i, v := range l {
		switch x := v.(type) {
		case map[string]any:
			out[i] = humanizeMap(x)
		case Host:
			out[i] = humanizeMap(x)
		case []any:
			out[i] = humanizeList(x)
		default:
			out[i] = v
		}
	}
	return out
}
