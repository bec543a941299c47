package inventory

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// asFloats turns the int64s of a decoded value into float64s, the type
// encoding/json gives every number, for comparison.
func asFloats(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case Host:
		return asFloats(map[string]any(x))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = asFloats(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = asFloats(e)
		}
		return l
	}
	return v
}

// jsonTyped reports the first value that is not one of the JSON types the
// inventory promises.
func jsonTyped(v any) (string, bool) {
	switch x := v.(type) {
	case nil, string, bool, int64:
		return "", true
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "non-finite float", false
		}
		return "", true
	case map[string]any:
		for k, e := range x {
			if what, ok := jsonTyped(e); !ok {
				return k + ": " + what, false
			}
		}
		return "", true
	case Host:
		return jsonTyped(map[string]any(x))
	case []any:
		for _, e := range x {
			if what, ok := jsonTyped(e); !ok {
				return what, false
			}
		}
		return "", true
	}
	return reflect.TypeOf(v).String(), false
}

func TestDecodeHostMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`,
		` {"a" : [1, -2, 3.5, -0, 1e3, 1E-2, 12345678901234567890, -9223372036854775808, 9223372036854775807], "b": {"c": null}} `,
		`{"s": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 \ud800 \udc00x \ud800\u0041 <&>"}`,
		"{\"bad utf8\": \"\xff\xfe ok \xc3\xa9\"}",
		`{"a": 1, "a": 2}`,
		`{"t": true, "f": false, "n": null, "e": [], "o": {}}`,
	}
	for _, c := range cases {
		var ref any
		if err := json.Unmarshal([]byte(c), &ref); err != nil {
			t.Fatalf("bad case %s: %v", c, err)
		}
		h, err := decodeHost([]byte(c), newInterner())
		if err != nil {
			t.Errorf("decodeHost(%s): %v", c, err)
			continue
		}
		if !reflect.DeepEqual(asFloats(h), ref) {
			t.Errorf("decodeHost(%s) = %#v, encoding/json %#v", c, h, ref)
		}
	}
	h, err := decodeHost([]byte(`{"big": 9223372036854775807, "neg": -9223372036854775808, "over": 9223372036854775808}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h["big"] != int64(math.MaxInt64) || h["neg"] != int64(math.MinInt64) || h["over"] != float64(1<<63) {
		t.Errorf("integer limits: %#v", h)
	}
	for _, bad := range []string{``, `[]`, `null`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
		`{"a":1e400}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":tru}`, `{} x`, `{"a":[1,]}`, `{"a" 1}`} {
		if _, err := decodeHost([]byte(bad), nil); err == nil {
			t.Errorf("decodeHost(%q) succeeded", bad)
		}
	}
}

// FuzzDecodeHost checks the record decoder against encoding/json: it accepts
// exactly the JSON objects encoding/json accepts, decodes them to the same
// values (integers aside, which it keeps as int64), and what it decodes
// survives a store round trip unchanged.
func FuzzDecodeHost(f *testing.F) {
	for _, h := range sampleHosts() {
		b, _ := encodeHost(h)
		f.Add(b)
	}
	f.Add([]byte(`{"s": "\ud83d\ude00\ud800\u0041\"\\", "n": [-0, 1e308, 1.5e-400, 18446744073709551616]}`))
	f.Add([]byte("{\"\xff\": \"\xed\xa0\x80\"}"))
	f.Add([]byte(`{"a":{"b":{"c":[[[{}]]]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ref any
		refErr := json.Unmarshal(data, &ref)
		_, isObject := ref.(map[string]any)
		h, err := decodeHost(data, newInterner())
		if refErr != nil || !isObject {
			if err == nil {
				t.Fatalf("decodeHost accepted %q (encoding/json: %v, %T)", data, refErr, ref)
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeHost(%q): %v", data, err)
		}
		if !reflect.DeepEqual(asFloats(h), ref) {
			t.Fatalf("decodeHost(%q) = %#v, encoding/json %#v", data, h, ref)
		}
		if what, ok := jsonTyped(h); !ok {
			t.Fatalf("decodeHost(%q) holds %s", data, what)
		}
		// Stored and read back, the record is the same, except that a
		// float with an integral value (2.0) comes back as an int64; and a
		// second round trip changes nothing at all.
		b, err := encodeHost(h)
		if err != nil {
			t.Fatalf("encodeHost: %v", err)
		}
		h2, err := decodeHost(b, nil)
		if err != nil || !reflect.DeepEqual(asFloats(h), asFloats(h2)) {
			t.Fatalf("round trip of %q: %#v, %v; want %#v", b, h2, err, h)
		}
		b2, _ := encodeHost(h2)
		if h3, err := decodeHost(b2, newInterner()); err != nil || !bytes.Equal(b, b2) || !reflect.DeepEqual(h2, h3) {
			t.Fatalf("second round trip of %q: %q, %#v, %v", b, b2, h3, err)
		}
	})
}

// FuzzReadYAML: no input crashes ReadYAML, and whatever it returns holds
// only JSON types and stores unchanged.
func FuzzReadYAML(f *testing.F) {
	// One record of each kind from the samples: whole files make mutation
	// and minimisation slow.
	for _, name := range []string{"upstream_inventory.yaml", "upstream_inventory_mixed.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		recs := bytes.Split(b, []byte("\n- "))
		f.Add(append([]byte("- "), recs[len(recs)-1]...))
		f.Add(append([]byte("- "), recs[3]...))
	}
	for _, s := range []string{"", "~", "[]", "- {a: 1}\n", "- &a {x: 1}\n- <<: *a\n  y: [*a]\n", "- {22: 0x10, .inf: .nan, ~: !!binary aGk=}\n",
		"- a: 1\n---\n- b\n", "- &a [*a]\n", "- ? {a: b}\n  : c\n", "- <<: [*x]\n", "- a: 2001-12-14t21:59:43.10-05:00\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hosts, err := ReadYAML(bytes.NewReader(data))
		if err != nil {
			if hosts != nil {
				t.Fatalf("ReadYAML returned hosts and an error")
			}
			if !strings.HasPrefix(err.Error(), "read inventory YAML: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		if hosts == nil {
			t.Fatal("ReadYAML returned nil hosts and no error")
		}
		for i, h := range hosts {
			if h == nil {
				t.Fatalf("host %d is nil", i)
			}
			if what, ok := jsonTyped(h); !ok {
				t.Fatalf("host %d holds %s", i, what)
			}
			b, err := encodeHost(h)
			if err != nil {
				t.Fatalf("host %d cannot be stored: %v", i, err)
			}
			back, err := decodeHost(b, nil)
			if err != nil {
				t.Fatalf("host %d: %v", i, err)
			}
			if !reflect.DeepEqual(asFloats(back), asFloats(h)) && !bytes.ContainsRune(b, '\uFFFD') {
				t.Fatalf("host %d changes when stored: %#v -> %#v", i, h, back)
			}
		}
	})
}

// FuzzRender fuzzes the inventory_fields spec language.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"hostname | name", "os_distribution os_distribution_version", "$action", "_broker_args.workflow",
		"shutdown_time", "a..b", "|", " | ", "x.y.z | $action name", "\t\n", "remove_time|hostname", "._broker_args."} {
		f.Add(s)
	}
	h := Host{
		FieldHostname: "h.example.com", FieldName: "n", FieldProvider: "AnsibleTower",
		FieldArgs:         map[string]any{"workflow": "deploy-rhel", "x": map[string]any{"y": int64(0)}},
		"os_distribution": "RHEL", "shutdown_time": "1779455297", "remove_time": int64(-5), "list": []any{nil},
		"": "empty key", "a b": "spaced", "x": map[string]any{"y": map[string]any{"z": "deep"}},
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got := Render(spec, h, actionKeys)
		if got == "" {
			t.Fatalf("Render(%q) is empty", spec)
		}
		if got != Render(spec, h, actionKeys) {
			t.Fatalf("Render(%q) is not deterministic", spec)
		}
		if strings.Contains(spec, "|") {
			ok := got == Unknown
			for _, alt := range strings.Split(spec, "|") {
				ok = ok || got == Render(strings.TrimSpace(alt), h, actionKeys)
			}
			if !ok {
				t.Fatalf("Render(%q) = %q, which is none of its alternatives", spec, got)
			}
			return
		}
		if parts := strings.Fields(spec); len(parts) > 1 {
			want := make([]string, len(parts))
			for i, p := range parts {
				want[i] = Render(p, h, actionKeys)
			}
			if got != strings.Join(want, " ") {
				t.Fatalf("Render(%q) = %q, want its parts joined", spec, got)
			}
			return
		}
		if v, ok := h[spec].(string); ok && v != "" && !strings.Contains(spec, ".") && !strings.HasSuffix(spec, "_time") && spec != "$action" {
			if got != v {
				t.Fatalf("Render(%q) = %q, want %q", spec, got, v)
			}
		}
	})
}

var pythonInt = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*$`)

// FuzzParseWhole checks the numeric-string reading of *_time values against
// Python's int(str) rules (ASCII digits).
func FuzzParseWhole(f *testing.F) {
	for _, s := range []string{"1779455297", " -12 ", "+0", "1_000", "1__0", "_1", "1_", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "8.6", "", "-", "0x10", "\u00a012\u2003"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseWhole(s)
		trimmed := strings.TrimSpace(s)
		if !pythonInt.MatchString(trimmed) {
			if ok {
				t.Fatalf("parseWhole(%q) = %d, but Python's int() refuses it", s, n)
			}
			return
		}
		want, err := strconv.ParseInt(strings.ReplaceAll(trimmed, "_", ""), 10, 64)
		if (err == nil) != ok || (ok && n != want) {
			t.Fatalf("parseWhole(%q) = %d, %v; want %d, %v", s, n, ok, want, err)
		}
	})
}
