package inventory

import (
	"reflect"
	"testing"
)

func actionKeys(provider string) []string {
	return map[string][]string{
		"AnsibleTower": {"workflow", "job_template"},
		"Container":    {"container_host", "container_app"},
	}[provider]
}

func TestRender(t *testing.T) {
	h := Host{
		FieldHostname:             "dhcp-111.test.example.com",
		FieldName:                 "mahuser-rhel-8.6-6e74d20e",
		FieldProvider:             "AnsibleTower",
		"os_distribution":         "RHEL",
		"os_distribution_version": "8.4",
		"empty":                   "",
		"zero":                    int64(0),
		"no":                      false,
		"null":                    nil,
		"count":                   int64(3),
		"ratio":                   0.25,
		"yes":                     true,
		"list":                    []any{"a", int64(1)},
		"exposed_ports":           map[string]any{"22": "32768"},
		"shutdown_time":           "1779455297",
		"remove_time":             int64(432000),
		"zero_time":               int64(0),
		"bad_time":                "soon",
		FieldArgs: map[string]any{
			"job_template": "tmpl",
			"workflow":     "deploy-rhel",
			"nested":       map[string]any{"deep": "value"},
			"empty_time":   "",
		},
	}
	cases := []struct{ spec, want string }{
		{"hostname", "dhcp-111.test.example.com"},
		{"hostname | name", "dhcp-111.test.example.com"},
		{"missing | name", "mahuser-rhel-8.6-6e74d20e"},
		{"missing|empty|zero|no|null", "Unknown"},
		{"missing | os_distribution os_distribution_version", "RHEL 8.4"},
		{"os_distribution missing", "RHEL Unknown"},
		{"  os_distribution   os_distribution_version  ", "RHEL 8.4"},
		{"missing | os_distribution missing", "RHEL Unknown"}, // partly unknown still wins
		{"_broker_provider", "AnsibleTower"},
		{"$action", "deploy-rhel"}, // registry order, not map order
		{"$action | name", "deploy-rhel"},
		{"_broker_args.nested.deep", "value"},
		{"_broker_args.nested.missing", "Unknown"},
		{"_broker_args.missing.deep", "Unknown"},
		{"hostname.deeper", "Unknown"}, // a string is not a map
		{"count", "3"},
		{"ratio", "0.25"},
		{"yes", "true"},
		{"zero", "Unknown"},
		{"empty", "Unknown"},
		{"list", `["a",1]`},
		{"exposed_ports", `{"22":"32768"}`},
		{"exposed_ports.22", "32768"},
		{"shutdown_time", "May 22, 2026 13:08 UTC"},
		{"remove_time", "5d"},
		{"zero_time", "0s"},
		{"bad_time", "soon"},
		{"_broker_args.empty_time", "Unknown"},
		{"", "Unknown"},
		{"|", "Unknown"},
		{" ", "Unknown"},
	}
	for _, c := range cases {
		if got := Render(c.spec, h, actionKeys); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.spec, got, c.want)
		}
	}
	container := Host{FieldProvider: "Container", FieldArgs: map[string]any{"container_host": "ubi8:latest"}}
	if got := Render("$action", container, actionKeys); got != "ubi8:latest" {
		t.Errorf("Render($action) of a container = %q", got)
	}
	noAction := Host{FieldProvider: "Container", FieldArgs: map[string]any{"container_host": ""}}
	unknownProvider := Host{FieldProvider: "Beaker", FieldArgs: map[string]any{"job_xml": "x"}}
	for _, h := range []Host{noAction, unknownProvider, {}} {
		if got := Render("$action", h, actionKeys); got != "Unknown" {
			t.Errorf("Render($action) of %v = %q, want Unknown", h, got)
		}
	}
	if got := Render("$action", h, nil); got != "Unknown" {
		t.Errorf("Render($action) with no action keys = %q, want Unknown", got)
	}
}

func TestHumanizeTime(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{int64(978307200), "Jan 01, 2001 00:00 UTC"},
		{int64(4102444800), "Jan 01, 2100 00:00 UTC"},
		{"1779455297", "May 22, 2026 13:08 UTC"},
		{" 1_779_455_297 ", "May 22, 2026 13:08 UTC"},
		{1779455297.9, "May 22, 2026 13:08 UTC"},
		{int64(978307199), "11322d 23h 59m"},
		{int64(4102444801), "47482d"},
		{int64(432000), "5d"},
		{int64(90061), "1d 1h 1m"}, // seconds left out when there are days
		{int64(3661), "1h 1m 1s"},
		{int64(3601), "1h 1s"},
		{int64(59), "59s"},
		{int64(0), "0s"},
		{0, "0s"},
		{true, "1s"},
		{false, "0s"},
		{int64(-1), "-1d 23h 59m"}, // Python's floor division
		{"-90", "-1d 23h 58m"},
		{"8.6", "8.6"},
		{"soon", "soon"},
		{"1__0", "1__0"},
		{"", ""},
		{1e300, "1e+300"},
		{map[string]any{"a": int64(1)}, `{"a":1}`},
	}
	for _, c := range cases {
		if got := HumanizeTime(c.in); got != c.want {
			t.Errorf("HumanizeTime(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHumanizeTimes(t *testing.T) {
	h := Host{
		"hostname":      "a",
		"shutdown_time": "1779455297",
		"null_time":     nil,
		"timeout":       int64(60),
		"_broker_args": map[string]any{
			"remove_time": int64(432000),
			"deep":        map[string]any{"start_time": int64(61)},
		},
		"jobs": []any{map[string]any{"end_time": int64(3600)}, "x_time"},
	}
	want := Host{
		"hostname":      "a",
		"shutdown_time": "May 22, 2026 13:08 UTC",
		"null_time":     nil,
		"timeout":       int64(60),
		"_broker_args": map[string]any{
			"remove_time": "5d",
			"deep":        map[string]any{"start_time": "1m 1s"},
		},
		"jobs": []any{map[string]any{"end_time": "1h"}, "x_time"},
	}
	orig := h.Clone()
	if got := HumanizeTimes(h); !reflect.DeepEqual(got, want) {
		t.Errorf("HumanizeTimes = %#v\nwant %#v", got, want)
	}
	if !reflect.DeepEqual(h, orig) {
		t.Error("HumanizeTimes changed its argument")
	}
	if HumanizeTimes(nil) != nil {
		t.Error("HumanizeTimes(nil) is not nil")
	}
}

func TestRenderConcatAllUnknownIsOneUnknown(t *testing.T) {
	h := Host{"os_distribution": "RHEL"}
	if got := Render("os_distribution os_distribution_version", h, nil); got != "RHEL Unknown" {
		t.Fatalf("one part known: got %q, want %q", got, "RHEL Unknown")
	}
	if got := Render("os_distribution os_distribution_version", Host{}, nil); got != Unknown {
		t.Fatalf("no part known: got %q, want %q", got, Unknown)
	}
}
