package inventory

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func readSample(t *testing.T, name string) []Host {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hosts, err := ReadYAML(f)
	if err != nil {
		t.Fatalf("ReadYAML(%s): %v", name, err)
	}
	return hosts
}

func shortNames(hosts []Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, strings.TrimSuffix(h.Hostname(), ".test.example.com"))
	}
	return out
}

func where(hosts []Host, keep func(Host) bool) []Host {
	var out []Host
	for _, h := range hosts {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

// TestUpstreamSampleMatchesReference checks testdata/upstream_inventory.yaml
// against the worked examples of the behaviour reference (§4.1, §4.2), with
// plain Go predicates, so that the filter package's tests can rely on it.
func TestUpstreamSampleMatchesReference(t *testing.T) {
	inv := readSample(t, "upstream_inventory.yaml")
	order := []string{"dhcp-111", "dhcp-121", "dhcp-113", "dhcp-131", "dhcp-103", "dhcp-173", "dhcp-125", "dhcp-133", "dhcp-129", "dhcp-369"}
	if got := shortNames(inv); !reflect.DeepEqual(got, order) {
		t.Fatalf("hosts = %v, want %v", got, order)
	}
	arg := func(h Host, k string) (any, bool) { v, ok := h.Args()[k]; return v, ok }
	argIs := func(k, v string) func(Host) bool {
		return func(h Host) bool { a, _ := arg(h, k); return a == v }
	}
	nameHas := func(s string) func(Host) bool { return func(h Host) bool { return strings.Contains(h.Name(), s) } }
	// legacy evaluates a legacy filter's tests: a test whose property is
	// missing is skipped; a record passes if one test applied and all passed.
	type test struct {
		prop func(Host) (string, bool)
		ok   func(string) bool
	}
	legacy := func(tests ...test) func(Host) bool {
		return func(h Host) bool {
			applied := 0
			for _, tt := range tests {
				v, present := tt.prop(h)
				if !present {
					continue
				}
				applied++
				if !tt.ok(v) {
					return false
				}
			}
			return applied > 0
		}
	}
	field := func(k string) func(Host) (string, bool) {
		return func(h Host) (string, bool) { v, ok := h[k].(string); return v, ok }
	}
	argField := func(k string) func(Host) (string, bool) {
		return func(h Host) (string, bool) { v, ok := arg(h, k); s, _ := v.(string); return s, ok }
	}

	cases := []struct {
		name string
		got  []Host
		want []string
	}{
		{"'rhel8.7' in @inv.name", where(inv, nameHas("rhel8.7")), []string{"dhcp-131", "dhcp-133", "dhcp-129", "dhcp-369"}},
		{"@inv[:3] | 'sat-jenkins' in @inv.name", where(inv[:3], nameHas("sat-jenkins")), []string{"dhcp-113"}},
		{`@inv._broker_args.workflow == "deploy-rhel"`, where(inv, argIs("workflow", "deploy-rhel")), []string{"dhcp-111", "dhcp-121"}},
		{`@inv._broker_args.deploy_rhel_version == "8.6"`, where(inv, argIs("deploy_rhel_version", "8.6")),
			[]string{"dhcp-111", "dhcp-121", "dhcp-103", "dhcp-173", "dhcp-125"}},
		{`@inv._broker_args.host_type == "satellite" | @inv[-2:]`, func() []Host {
			s := where(inv, argIs("host_type", "satellite"))
			return s[len(s)-2:]
		}(), []string{"dhcp-129", "dhcp-369"}},
		{`@inv.hostname.startswith("dhcp-1") | @inv[0]`, where(inv, func(h Host) bool { return strings.HasPrefix(h.Hostname(), "dhcp-1") })[:1], []string{"dhcp-111"}},
		{"not @inv._broker_args", where(inv, func(h Host) bool { return len(h.Args()) == 0 }), []string{"dhcp-113"}},
		{`@inv._broker_args.deploy_snap_version in ("1.0", "5.0")`, where(inv, func(h Host) bool {
			v, _ := arg(h, "deploy_snap_version")
			return v == "1.0" || v == "5.0"
		}), []string{"dhcp-131", "dhcp-129", "dhcp-369"}},
		{"name<rhel8.7", where(inv, legacy(test{field("name"), func(v string) bool { return strings.Contains(v, "rhel8.7") }})), []string{"dhcp-131", "dhcp-133", "dhcp-129", "dhcp-369"}},
		{"_broker_args.workflow!=deploy-rhel", where(inv, legacy(test{argField("workflow"), func(v string) bool { return v != "deploy-rhel" }})),
			[]string{"dhcp-131", "dhcp-103", "dhcp-173", "dhcp-125", "dhcp-133", "dhcp-129", "dhcp-369"}},
		{"_broker_args.workflow{deploy-sat", where(inv, legacy(test{argField("workflow"), func(v string) bool { return strings.HasPrefix(v, "deploy-sat") }})),
			[]string{"dhcp-131", "dhcp-103", "dhcp-173", "dhcp-125", "dhcp-133", "dhcp-129", "dhcp-369"}},
		{"name<sat-jenkins,_broker_args.deploy_sat_version=6.13.0", where(inv, legacy(
			test{field("name"), func(v string) bool { return strings.Contains(v, "sat-jenkins") }},
			test{argField("deploy_sat_version"), func(v string) bool { return v == "6.13.0" }},
		)), []string{"dhcp-113", "dhcp-129", "dhcp-369"}},
		{"hostname<dhcp-1", where(inv, legacy(test{field("hostname"), func(v string) bool { return strings.Contains(v, "dhcp-1") }})),
			[]string{"dhcp-111", "dhcp-121", "dhcp-113", "dhcp-131", "dhcp-103", "dhcp-173", "dhcp-125", "dhcp-133", "dhcp-129"}},
	}
	for _, c := range cases {
		if got := shortNames(c.got); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, h := range inv {
		if h.Provider() != "AnsibleTower" || h.Instance() != "rhv" || h["type"] != "host" || h.Args() == nil {
			t.Errorf("%s: not an AnsibleTower record as upstream writes it: %v", h.Hostname(), h)
		}
	}
}

func TestMixedSampleIsTheUpstreamSamplePlusContainers(t *testing.T) {
	at := readSample(t, "upstream_inventory.yaml")
	mixed := readSample(t, "upstream_inventory_mixed.yaml")
	if len(mixed) != 12 || !reflect.DeepEqual(mixed[:10], at) {
		t.Fatalf("upstream_inventory_mixed.yaml does not start with the 10 records of upstream_inventory.yaml")
	}
	want := Host{
		FieldArgs:       map[string]any{"_broker_origin": "broker_cli:mahuser", "container_host": "localhost/ubi8:latest"},
		FieldProvider:   "Container",
		FieldInstance:   nil,
		"exposed_ports": map[string]any{"22": "32768"},
		FieldHostname:   "localhost:32768",
		FieldName:       "mahuser_1c8b3e2f",
		"type":          "host",
	}
	if !reflect.DeepEqual(mixed[10], want) {
		t.Errorf("record 10 = %#v\nwant %#v", mixed[10], want)
	}
	if _, has := mixed[11][FieldInstance]; has || mixed[11].Provider() != "Container" {
		t.Errorf("record 11 = %v, want a synced Container record without an instance", mixed[11])
	}
	if !reflect.DeepEqual(mixed[11]["image"], []any{"localhost/ubi9:latest"}) {
		t.Errorf("record 11 image = %#v", mixed[11]["image"])
	}
}

func TestReadYAMLEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# just a comment\n", "---\n", "~\n", "null\n", "[]\n"} {
		hosts, err := ReadYAML(strings.NewReader(in))
		if err != nil || hosts == nil || len(hosts) != 0 {
			t.Errorf("ReadYAML(%q) = %v, %v; want an empty list", in, hosts, err)
		}
	}
}

func TestReadYAMLTypes(t *testing.T) {
	in := `
- &base
  name: a
  count: 3
  big: 99999999999999999999
  ratio: 0.5
  inf: .inf
  on: true
  when: 2024-01-02
  nothing: ~
  ports: {22: 32768}
  tags: [x, 1]
- <<: *base
  name: b
  nested: {deep: {list: [{k: v}]}}
`
	hosts, err := ReadYAML(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want0 := Host{
		"name": "a", "count": int64(3), "big": 1e20, "ratio": 0.5, "inf": ".inf", "on": true,
		"when": "2024-01-02", "nothing": nil, "ports": map[string]any{"22": int64(32768)}, "tags": []any{"x", int64(1)},
	}
	if !reflect.DeepEqual(hosts[0], want0) {
		t.Errorf("host 0 = %#v\nwant %#v", hosts[0], want0)
	}
	want1 := Host{}
	for k, v := range want0 {
		want1[k] = v
	}
	want1["name"] = "b"
	want1["nested"] = map[string]any{"deep": map[string]any{"list": []any{map[string]any{"k": "v"}}}}
	if !reflect.DeepEqual(hosts[1], want1) {
		t.Errorf("host 1 = %#v\nwant %#v", hosts[1], want1)
	}
}

func TestReadYAMLErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hostname: a\n", "line 1: the inventory is a map; want a list of hosts"},
		{"just text\n", `line 1: the inventory is a string ("just text")`},
		{"- hostname: a\n- 5\n", "line 2: host 1 is a number (5); want a map of host fields"},
		{"- hostname: a\n-\n", "host 1 is null"},
		{"- hostname: a\n  name: b\n  hostname: c\n", `line 3: key "hostname" repeated (first at line 1)`},
		{"- hostname: a\n---\n- hostname: b\n", "line 2: a second YAML document"},
		{"- hostname: [a\n", "yaml: line"},
		{"- ? [a, b]\n  : c\n", "line 1: a key is a list"},
		{"- &a\n  x: *a\n", "refers to a value that contains it"},
		{"- <<: 5\n", "merge key << wants a map or a list of maps"},
	}
	for _, c := range cases {
		_, err := ReadYAML(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadYAML(%q): %v; want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestReadYAMLAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("- a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err := ReadYAML(strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases expanded") {
		t.Errorf("ReadYAML of an alias bomb: %v, want a size error", err)
	}
}

func TestImportTwiceAddsNothing(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// A record from a checkout that is also in the file: not imported again.
	mixed := readSample(t, "upstream_inventory_mixed.yaml")
	mustAdd(t, s, mixed[10])

	added, skipped, err := s.Import(ctx, mixed)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if added != 11 || skipped != 1 {
		t.Errorf("first Import: added %d, skipped %d; want 11, 1", added, skipped)
	}
	added, skipped, err = s.Import(ctx, mixed)
	if err != nil {
		t.Fatal(err)
	}
	if added != 0 || skipped != 12 {
		t.Errorf("second Import: added %d, skipped %d; want 0, 12", added, skipped)
	}
	list := mustList(t, s)
	if len(list) != 12 {
		t.Fatalf("%d records, want 12", len(list))
	}
	// The checkout's record first, then the file's order.
	want := append([]Host{mixed[10]}, slices.Delete(slices.Clone(mixed), 10, 11)...)
	for i, r := range list {
		if !reflect.DeepEqual(r.Host, want[i]) {
			t.Errorf("record %d = %v, want %v", i, r.Host, want[i])
		}
	}
}
