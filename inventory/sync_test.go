package inventory

import (
	"context"
	"reflect"
	"testing"
)

func atHost(name, hostname, instance string, extra map[string]any) Host {
	h := Host{
		FieldName:     name,
		FieldHostname: hostname,
		FieldProvider: "AnsibleTower",
		FieldArgs:     map[string]any{"workflow": "deploy-rhel"},
	}
	if instance != "" {
		h[FieldInstance] = instance
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func labels(hosts []Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Label()
	}
	return out
}

func TestSyncAddsUpdatesRemovesAndKeepsOthers(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	mustAdd(t, s,
		atHost("vm-keep", "a.example.com", "prod", map[string]any{"note": "local only", "_broker_args": map[string]any{"workflow": "deploy-rhel", "local_arg": "x"}}),
		Host{FieldName: "box", FieldHostname: "localhost:32768", FieldProvider: "Container"},
		atHost("vm-gone", "b.example.com", "prod", nil),
		atHost("vm-same", "c.example.com", "prod", map[string]any{"os_distribution": "RHEL"}),
	)
	fresh := []Host{
		{FieldName: "vm-new", FieldHostname: "d.example.com", "os_distribution": "RHEL"},
		{FieldName: "vm-keep", FieldHostname: "a2.example.com", "note": nil, "status": "running",
			FieldArgs: map[string]any{"workflow": "deploy-rhel", "deploy_rhel_version": "9.4"}},
		{FieldName: "vm-same", FieldHostname: "c.example.com", "os_distribution": "RHEL"},
	}
	res, err := s.Sync(ctx, "AnsibleTower", "prod", fresh)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got, want := labels(res.Added), []string{"d.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Added = %v, want %v", got, want)
	}
	if got, want := labels(res.Updated), []string{"a2.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Updated = %v, want %v (vm-same did not change)", got, want)
	}
	if got, want := labels(res.Removed), []string{"b.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Removed = %v, want %v", got, want)
	}

	list := mustList(t, s)
	if got, want := names(list), []string{"vm-keep", "box", "vm-same", "vm-new"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("inventory after Sync = %v, want %v", got, want)
	}
	wantKeep := Host{
		FieldName:     "vm-keep",
		FieldHostname: "a2.example.com",
		FieldProvider: "AnsibleTower",
		FieldInstance: "prod",
		FieldArgs:     map[string]any{"workflow": "deploy-rhel", "local_arg": "x", "deploy_rhel_version": "9.4"},
		"note":        "local only", // a null in fresh does not erase it
		"status":      "running",
	}
	if !reflect.DeepEqual(list[0].Host, wantKeep) {
		t.Errorf("merged record = %#v\nwant %#v", list[0].Host, wantKeep)
	}
	if !reflect.DeepEqual(res.Updated[0], wantKeep) {
		t.Errorf("Updated[0] = %#v, want the stored record", res.Updated[0])
	}
	if !reflect.DeepEqual(list[1].Host, Host{FieldName: "box", FieldHostname: "localhost:32768", FieldProvider: "Container"}) {
		t.Errorf("another provider's record changed: %#v", list[1].Host)
	}
	if p, in := list[3].Host.Provider(), list[3].Host.Instance(); p != "AnsibleTower" || in != "prod" {
		t.Errorf("added record has provider %q instance %q, want AnsibleTower/prod", p, in)
	}

	// A second identical sync changes nothing.
	res, err = s.Sync(ctx, "AnsibleTower", "prod", fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added)+len(res.Updated)+len(res.Removed) != 0 {
		t.Errorf("second Sync changed %v / %v / %v", labels(res.Added), labels(res.Updated), labels(res.Removed))
	}
}

func TestSyncInstanceScope(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s,
		atHost("p1", "p1.example.com", "prod", nil),
		atHost("s1", "s1.example.com", "stage", nil),
		atHost("n1", "n1.example.com", "", nil), // no instance: in every instance's scope
	)
	res, err := s.Sync(context.Background(), "AnsibleTower", "prod", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labels(res.Removed), []string{"p1.example.com", "n1.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Removed = %v, want %v", got, want)
	}
	if got, want := names(mustList(t, s)), []string{"s1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("left = %v, want %v (the stage instance is not in scope)", got, want)
	}

	// An empty instance means every instance of the provider.
	mustAdd(t, s, atHost("p2", "p2.example.com", "prod", nil))
	res, err = s.Sync(context.Background(), "AnsibleTower", "", []Host{{FieldName: "s1", FieldHostname: "s1.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labels(res.Removed), []string{"p2.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Removed = %v, want %v", got, want)
	}
	if len(res.Updated) != 0 || len(res.Added) != 0 {
		t.Errorf("Updated %v, Added %v; want none", labels(res.Updated), labels(res.Added))
	}
}

func TestSyncRecordsTheInstanceOnUnscopedRecords(t *testing.T) {
	// Upstream's Container sync wrote no instance; syncing an instance
	// claims such a record for it.
	s := newStore(t)
	mustAdd(t, s, Host{FieldName: "c1", FieldHostname: "abc", FieldProvider: "Container", "status": "running"})
	res, err := s.Sync(context.Background(), "Container", "podman1", []Host{{FieldName: "c1", FieldHostname: "abc", "status": "exited"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 {
		t.Fatalf("Updated = %v, want c1", labels(res.Updated))
	}
	got := mustList(t, s)[0].Host
	if got.Instance() != "podman1" || got["status"] != "exited" {
		t.Errorf("record = %v, want instance podman1 and status exited", got)
	}
}

func TestSyncMatching(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s,
		// Same hostname, different names: different containers (a reused
		// port), so the old one is gone and the new one is added.
		Host{FieldName: "old-box", FieldHostname: "localhost:32768", FieldProvider: "Container"},
		// No name on record: the hostname decides.
		Host{FieldHostname: "vm.example.com", FieldProvider: "Container", "local": 1},
		// Name matches although the hostname changed (new DHCP lease).
		Host{FieldName: "named", FieldHostname: "10.0.0.1", FieldProvider: "Container"},
		// Two records with one name: the first matches, the second goes.
		Host{FieldName: "twin", FieldHostname: "t1", FieldProvider: "Container"},
		Host{FieldName: "twin", FieldHostname: "t2", FieldProvider: "Container"},
	)
	fresh := []Host{
		{FieldName: "new-box", FieldHostname: "localhost:32768"},
		{FieldName: "vm", FieldHostname: "vm.example.com"},
		{FieldName: "named", FieldHostname: "10.0.0.2"},
		{FieldName: "twin", FieldHostname: "t2"},
	}
	res, err := s.Sync(context.Background(), "Container", "", fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labels(res.Removed), []string{"localhost:32768", "t2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Removed = %v, want %v", got, want)
	}
	if got, want := labels(res.Updated), []string{"vm.example.com", "10.0.0.2", "t2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Updated = %v, want %v", got, want)
	}
	if got, want := labels(res.Added), []string{"localhost:32768"}; !reflect.DeepEqual(got, want) || res.Added[0].Name() != "new-box" {
		t.Errorf("Added = %v, want new-box at %v", res.Added, want)
	}
	list := mustList(t, s)
	if got, want := names(list), []string{"vm", "named", "twin", "new-box"}; !reflect.DeepEqual(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
	if list[0].Host["local"] != int64(1) {
		t.Errorf("hostname-matched record lost its local field: %v", list[0].Host)
	}
}

func TestSyncNeedsAProvider(t *testing.T) {
	if _, err := newStore(t).Sync(context.Background(), "", "", nil); err == nil {
		t.Error("Sync with no provider name succeeded")
	}
}

func TestMerge(t *testing.T) {
	old := Host{
		"a":    "old",
		"keep": "old",
		"null": nil,
		"list": []any{"x", "y"},
		"m":    map[string]any{"x": int64(1), "y": int64(2), "deep": map[string]any{"p": "old"}},
		"s":    "scalar becomes map",
	}
	fresh := Host{
		"a":    "new",
		"keep": nil,
		"list": []any{"z"},
		"m":    map[string]any{"y": int64(3), "z": nil, "deep": map[string]any{"q": "new"}},
		"s":    map[string]any{"k": "v", "gone": nil},
		"add":  int64(5),
		"nil":  nil,
	}
	want := Host{
		"a":    "new",
		"keep": "old",
		"null": nil,
		"list": []any{"z"},
		"m":    map[string]any{"x": int64(1), "y": int64(3), "deep": map[string]any{"p": "old", "q": "new"}},
		"s":    map[string]any{"k": "v"},
		"add":  int64(5),
	}
	oldCopy, freshCopy := old.Clone(), fresh.Clone()
	got := Merge(old, fresh)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %#v\nwant %#v", got, want)
	}
	if !reflect.DeepEqual(old, oldCopy) || !reflect.DeepEqual(fresh, freshCopy) {
		t.Error("Merge changed its arguments")
	}
	got["m"].(map[string]any)["x"] = "changed"
	if old["m"].(map[string]any)["x"] != int64(1) {
		t.Error("Merge's result shares maps with old")
	}
	if got := Merge(nil, nil); got == nil || len(got) != 0 {
		t.Errorf("Merge(nil, nil) = %#v, want an empty Host", got)
	}
}
