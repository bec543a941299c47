package ansibletower

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

func TestDecodeOptions(t *testing.T) {
	_, err := decodeOptions(map[string]any{"token": "x"})
	var ue *providers.UserError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "AnsibleTower.base_url") {
		t.Fatalf("no base_url: %v", err)
	}
	_, err = decodeOptions(map[string]any{"base_url": "https://tower.example.com", "username": "u"})
	if !errors.As(err, &ue) || err.Error() != "set AnsibleTower.token (or AnsibleTower.username and AnsibleTower.password)" {
		t.Fatalf("no credentials: %v", err)
	}
	o, err := decodeOptions(map[string]any{"base_url": "https://tower.example.com/", "token": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if o.BaseURL != "https://tower.example.com" || o.ReleaseWorkflow != "remove-vm" || o.ExtendWorkflow != "extend-vm" ||
		o.NewExpireTime != "+172800" || o.WorkflowTimeout != time.Hour || o.PollInterval != 5*time.Second ||
		o.MaxResilientWait != 2*time.Hour || o.ResultsLimit != 20 || !o.VerifySSL || o.ErrorScope != "last" {
		t.Fatalf("defaults: %+v", o)
	}
	o, err = decodeOptions(map[string]any{"BASE_URL": "http://awx:8052", "username": "u", "password": "p",
		"workflow_timeout": 10, "verify_ssl": "false", "aap_version": "2.5", "provider_labels": map[string]any{"team": "qe"}})
	if err != nil {
		t.Fatal(err)
	}
	if o.WorkflowTimeout != 10*time.Second || o.VerifySSL || o.AAPVersion != "2.5" || o.Labels["team"] != "qe" {
		t.Fatalf("decoded: %+v", o)
	}
	for _, bad := range []map[string]any{
		{"base_url": "tower.example.com", "token": "x"},
		{"base_url": "https://t", "token": "x", "aap_version": "two"},
		{"base_url": "https://t", "token": "x", "workflow_timeout": "soon"},
		{"base_url": "https://t", "token": "x", "verify_ssl": "maybe"},
		{"base_url": "https://t", "token": "x", "ca_file": "/nonexistent/ca.pem"},
	} {
		_, err := newProvider(providers.Spec{Config: bad})
		if !errors.As(err, &ue) {
			t.Errorf("%v: want a UserError, got %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), `"x"`) {
			t.Errorf("%v: error shows the token: %v", bad, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for s, want := range map[string]int{"2.5": 2005, "2.4.1": 2004, "v2.6": 2006, "3": 3000} {
		if got, ok := parseVersion(s); !ok || got != want {
			t.Errorf("%s: %d %v", s, got, ok)
		}
	}
	if _, ok := parseVersion("x.y"); ok {
		t.Error("x.y parsed")
	}
}

func TestRetryPolicy(t *testing.T) {
	connErr := errors.New("connection reset")
	cases := []struct {
		method string
		status int
		err    error
		want   bool
	}{
		{"GET", 503, nil, true}, {"GET", 502, nil, true}, {"GET", 504, nil, true},
		{"GET", 500, nil, false}, {"GET", 401, nil, false}, {"GET", 403, nil, false}, {"GET", 404, nil, false},
		{"GET", 200, nil, false}, {"GET", 0, connErr, true}, {"GET", 0, context.Canceled, false},
		{"POST", 503, nil, false}, {"POST", 0, connErr, false},
	}
	for _, c := range cases {
		if got := retryable(c.method, c.status, c.err); got != c.want {
			t.Errorf("retryable(%s, %d, %v) = %v", c.method, c.status, c.err, got)
		}
	}
	var got []time.Duration
	for i := range 7 {
		got = append(got, backoff(time.Second, 30*time.Second, i))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff: %v", got)
		}
	}
}

func TestExtraVarsAndLaunchBody(t *testing.T) {
	args := providers.Args{
		"workflow": "deploy-rhel", "deploy_rhel_version": "9.7", "_broker_origin": "broker_cli:jdoe",
		"inventory": int64(7), "count": "123", "nested": `{"a": [1, 2]}`, "flag": "true",
	}
	vars := extraVars(args, map[string]any{"deploy_rhel_version": "", "deploy_scenario": "baserhel"})
	want := map[string]any{
		"workflow": "deploy-rhel", "deploy_rhel_version": "9.7", "_broker_origin": "broker_cli:jdoe",
		"count": "123", "nested": map[string]any{"a": []any{int64(1), int64(2)}}, "flag": "true",
		"_broker_extra_vars": map[string]any{
			"workflow": "deploy-rhel", "_broker_origin": "broker_cli:jdoe", "count": "123",
			"nested": map[string]any{"a": []any{int64(1), int64(2)}}, "flag": "true",
		},
	}
	if !reflect.DeepEqual(vars, want) {
		t.Fatalf("extra vars:\n got %#v\nwant %#v", vars, want)
	}
	body, err := launchBody(map[string]any{"workflow": "w"}, inventoryChoice{ID: 7}, []int64{101})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(body)
	if string(b) != `{"extra_vars":"{\"workflow\":\"w\"}","inventory":7,"labels":[101]}` {
		t.Fatalf("body %s", b)
	}
	body, _ = launchBody(map[string]any{}, inventoryChoice{Name: "default"}, nil)
	if _, ok := body["inventory"]; ok {
		t.Fatalf("template default inventory sent: %v", body)
	}
}

func TestParseVars(t *testing.T) {
	if v := parseVars(`{"a": "1"}`); v["a"] != "1" {
		t.Errorf("json: %v", v)
	}
	if v := parseVars("a: 1\nb: x\n"); v["b"] != "x" {
		t.Errorf("yaml: %v", v)
	}
	if v := parseVars(""); v != nil {
		t.Errorf("empty: %v", v)
	}
	if jsonish("[1") != "[1" || jsonish("12") != "12" {
		t.Error("jsonish changed a non-JSON value")
	}
}

func TestCombineArtifacts(t *testing.T) {
	a := map[string]any{"x": 1, "m": map[string]any{"k1": "a", "k2": "b"}}
	b := map[string]any{"y": 2, "m": map[string]any{"k2": "B"}}
	merged := combine(combine(map[string]any{}, a, strategyMerge), b, strategyMerge)
	want := map[string]any{"x": 1, "y": 2, "m": map[string]any{"k1": "a", "k2": "B"}}
	if !reflect.DeepEqual(merged, want) {
		t.Fatalf("merge: %v", merged)
	}
	if a["m"].(map[string]any)["k2"] != "b" {
		t.Fatal("merge changed its input")
	}
	last := combine(combine(map[string]any{}, a, strategyLast), b, strategyLast)
	if !reflect.DeepEqual(last, b) {
		t.Fatalf("last: %v", last)
	}
}

func TestJobNodes(t *testing.T) {
	items := []map[string]any{
		{"id": int64(1), "summary_fields": map[string]any{"job": map[string]any{"id": int64(30), "name": "b", "type": "job", "failed": true}},
			"related": map[string]any{"job": "/api/v2/jobs/30/"}},
		{"id": int64(2), "summary_fields": map[string]any{}},
		{"id": int64(3), "summary_fields": map[string]any{"job": map[string]any{"id": int64(20), "name": "a", "type": "workflow_job"}}},
	}
	got := jobNodes(items)
	want := []node{
		{JobID: 20, JobName: "a", JobType: "workflow_job", JobLink: "workflow_jobs/20/"},
		{JobID: 30, JobName: "b", JobType: "job", Failed: true, JobLink: "/api/v2/jobs/30/"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("nodes: %+v", got)
	}
}

func TestHostFromArtifacts(t *testing.T) {
	art := map[string]any{
		"_broker_args": map[string]any{"host_type": "host", "workflow": "deploy-rhel", "empty": ""},
		"_broker_facts": map[string]any{
			"vm_fqdn": []any{"fake.host.test.com", "second.test.com"}, "name": "fake-physical-host",
			"os_distribution_version": "9.4", "empty": "", "ip": "10.0.0.5",
		},
	}
	h, err := hostFromArtifacts(art, "satlab-inv")
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Host{
		"hostname": "fake.host.test.com", "name": "fake-physical-host", "type": "host", "tower_inventory": "satlab-inv",
		"vm_fqdn": []any{"fake.host.test.com", "second.test.com"}, "os_distribution_version": "9.4", "ip": "10.0.0.5",
		"_broker_args": map[string]any{"host_type": "host", "workflow": "deploy-rhel"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("record:\n got %#v\nwant %#v", h, want)
	}
	h, err = hostFromArtifacts(map[string]any{"_broker_facts": map[string]any{"a_fqdn": "a.test", "fqdn": "f.test", "vm_provisioned": []any{"vm1"}}}, "")
	if err != nil || h.Hostname() != "f.test" || h.Name() != "vm1" {
		t.Fatalf("fqdn first: %v %v", h, err)
	}
	if _, err := hostFromArtifacts(map[string]any{"vm_name": "x"}, ""); err == nil || !strings.Contains(err.Error(), "no _broker_facts") {
		t.Fatalf("no facts: %v", err)
	}
	if _, err := hostFromArtifacts(map[string]any{"_broker_facts": map[string]any{"name": "x"}}, ""); err == nil {
		t.Fatal("a host without hostname was accepted")
	}
}

func TestJobErrorMessage(t *testing.T) {
	e := &JobError{Kind: "workflow", Template: "deploy-rhel", JobID: 1336, Status: "failed",
		URL: "https://t/#/jobs/workflow/1336/output",
		Reasons: []Reason{{Job: "deploy-baserhel-from-rhvm", JobID: 1337, Status: "failed", Task: `task "Create VM" (play "Deploy VM")`,
			Reason: "Quota exceeded for instances", Stdout: "TASK [Create VM]\nfatal: [localhost]: FAILED!", URL: "https://t/#/jobs/playbook/1337/output"}}}
	msg := e.Error()
	for _, want := range []string{`workflow "deploy-rhel" (job 1336) ended with status failed`, "https://t/#/jobs/workflow/1336/output",
		`failed node "deploy-baserhel-from-rhvm": job 1337, status failed`, "Quota exceeded for instances",
		"end of stdout", "fatal: [localhost]: FAILED!", `task "Create VM"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestSyncRecord(t *testing.T) {
	host := map[string]any{"name": "vm1", "variables": `{"ansible_host": "10.0.0.5", "fqdn": "vm1.example.com"}`}
	facts := map[string]any{"ansible_fqdn": "other", "ansible_distribution": "RedHat", "ansible_distribution_version": "9.4",
		"ansible_interfaces": []any{"lo", "eth0"}, "_broker_args": map[string]any{"host_type": "satellite", "x": ""},
		"_broker_facts": map[string]any{"deploy_scenario": "sat", "empty": nil}}
	got := syncRecord(host, facts, "jdoe-inv")
	want := inventory.Host{"name": "vm1", "type": "host", "hostname": "vm1.example.com", "ip": "10.0.0.5",
		"tower_inventory": "jdoe-inv", "_broker_args": map[string]any{"host_type": "satellite"},
		"deploy_scenario": "sat", "os_distribution": "RedHat", "os_distribution_version": "9.4",
		"reported_devices": map[string]any{"nics": []any{"lo", "eth0"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("record:\n got %#v\nwant %#v", got, want)
	}
	got = syncRecord(map[string]any{"name": "vm2", "variables": "openstack:\n  metadata:\n    fqdn: os.example.com\n"}, map[string]any{}, "i")
	if got.Hostname() != "os.example.com" {
		t.Fatalf("openstack fqdn: %v", got)
	}
}

func TestLabels(t *testing.T) {
	got := labelNames(labelMap("team=qe,solo,k=v=w"))
	if !reflect.DeepEqual(got, []string{"k=v=w", "solo", "team=qe"}) {
		t.Fatalf("labels: %v", got)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\nb\nc\n", 2, 100); got != "b\nc" {
		t.Errorf("lines: %q", got)
	}
	if got := tail("abcdef", 5, 3); got != "…def" {
		t.Errorf("bytes: %q", got)
	}
}

// testProvider is a provider against a plain handler, with fast retries.
func testProvider(t *testing.T, h http.Handler, cfg map[string]any) *Provider {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := map[string]any{"base_url": srv.URL, "token": "s3cret-token"}
	for k, v := range cfg {
		c[k] = v
	}
	p, err := newProvider(providers.Spec{Instance: "test", Config: c})
	if err != nil {
		t.Fatal(err)
	}
	p.c.backoffBase, p.c.backoffMax = time.Millisecond, 4*time.Millisecond
	p.opts.PollInterval = time.Millisecond
	return p
}

func TestClientRetriesTransientGET(t *testing.T) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"ok": true}`)
	})
	p := testProvider(t, h, map[string]any{"aap_version": "2.4"})
	var out map[string]any
	if err := p.c.call(t.Context(), "GET", "ping/", nil, nil, &out); err != nil || out["ok"] != true {
		t.Fatalf("%v %v", out, err)
	}
	if n.Load() != 3 {
		t.Fatalf("%d requests", n.Load())
	}
	// POST is not retried on 503
	n.Store(0)
	err := p.c.call(t.Context(), "POST", "x/", nil, map[string]any{}, nil)
	if statusOf(err) != 503 || n.Load() != 1 {
		t.Fatalf("POST: %v after %d", err, n.Load())
	}
	// the budget runs out
	h2 := testProvider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }), map[string]any{"aap_version": "2.4"})
	h2.c.maxWait = 10 * time.Millisecond
	err = h2.c.call(t.Context(), "GET", "ping/", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "max_resilient_wait") {
		t.Fatalf("budget: %v", err)
	}
}

func TestClientAuthErrors(t *testing.T) {
	var auth atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.WriteHeader(401)
		io.WriteString(w, `{"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}`)
	})
	p := testProvider(t, h, map[string]any{"aap_version": "2.4"})
	err := p.c.call(t.Context(), "GET", "workflow_job_templates/", nil, nil, nil)
	var ae *providers.AuthError
	if !errors.As(err, &ae) || ae.Setting != "AnsibleTower.token" || ae.Provider != Name || ae.Instance != "test" {
		t.Fatalf("%#v", err)
	}
	for _, want := range []string{"BROKER_ANSIBLETOWER__TOKEN", "401", "/api/v2/workflow_job_templates/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("message shows the token: %v", err)
	}
	if auth.Load() != "Bearer s3cret-token" {
		t.Errorf("auth header %v", auth.Load())
	}
	pb := testProvider(t, h, map[string]any{"aap_version": "2.4", "token": "", "username": "jdoe", "password": "pw"})
	err = pb.c.call(t.Context(), "GET", "me/", nil, nil, nil)
	if !errors.As(err, &ae) || ae.Setting != "AnsibleTower.password" || strings.Contains(err.Error(), "pw ") {
		t.Fatalf("basic: %v", err)
	}
	if a, _ := auth.Load().(string); !strings.HasPrefix(a, "Basic ") {
		t.Errorf("basic header %q", a)
	}
}

func TestClientPrefix(t *testing.T) {
	for _, c := range []struct {
		cfg  map[string]any
		root string // answer of GET /api/ ("" = must not be asked)
		want string
	}{
		{map[string]any{"aap_version": "2.4"}, "", "/api/v2/"},
		{map[string]any{"aap_version": "2.5"}, "", "/api/controller/v2/"},
		{nil, `{"current_version": "/api/v2/", "available_versions": {"v2": "/api/v2/"}}`, "/api/v2/"},
		{nil, `{"apis": {"gateway": "/api/gateway/", "controller": "/api/controller/"}}`, "/api/controller/v2/"},
	} {
		var asked atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/" || r.Header.Get("Authorization") != "" {
				t.Errorf("unexpected %s %s (auth %q)", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			}
			asked.Add(1)
			io.WriteString(w, c.root)
		})
		p := testProvider(t, h, c.cfg)
		for range 2 {
			got, err := p.c.prefix(t.Context())
			if err != nil || got != c.want {
				t.Errorf("%v: %q %v", c.cfg, got, err)
			}
		}
		if c.root == "" && asked.Load() != 0 || c.root != "" && asked.Load() != 1 {
			t.Errorf("%v: /api/ asked %d times", c.cfg, asked.Load())
		}
		ui := p.uiURL(t.Context(), "workflow", 12)
		if wantUI := p.opts.BaseURL + "/#/jobs/workflow/12/output"; strings.HasPrefix(c.want, "/api/controller/") {
			if ui != p.opts.BaseURL+"/execution/jobs/workflow/12/output" {
				t.Errorf("ui %s", ui)
			}
		} else if ui != wantUI {
			t.Errorf("ui %s", ui)
		}
	}
}

func TestRegistered(t *testing.T) {
	ri, ok := providers.Default.Lookup(Name)
	if !ok {
		t.Fatal("not registered")
	}
	if !reflect.DeepEqual(ri.CheckoutKeys, []string{"workflow"}) || !reflect.DeepEqual(ri.ExecuteKeys, []string{"workflow", "job_template"}) {
		t.Fatalf("keys %v %v", ri.CheckoutKeys, ri.ExecuteKeys)
	}
	sensitive := map[string]bool{}
	for _, o := range ri.Options {
		sensitive[o.Name] = o.Sensitive
	}
	if !sensitive["token"] || !sensitive["password"] {
		t.Fatal("token and password must be Sensitive")
	}
	p, err := ri.New(t.Context(), providers.Spec{Config: map[string]any{"base_url": "https://127.0.0.1:1", "token": "t"}})
	if err != nil {
		t.Fatalf("New must not dial: %v", err)
	}
	if p.(providers.Limiter).Connections() != 16 {
		t.Fatal("connections")
	}
	p.Close()
}

func TestClientRetriesDroppedConnections(t *testing.T) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		io.WriteString(w, `{"ok": true}`)
	})
	p := testProvider(t, h, map[string]any{"aap_version": "2.4"})
	var out map[string]any
	if err := p.c.call(t.Context(), "GET", "ping/", nil, nil, &out); err != nil || n.Load() != 3 {
		t.Fatalf("%v after %d requests", err, n.Load())
	}
}

func TestWaitStopsOnCancel(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id": 5, "type": "workflow_job", "status": "running", "related": {"workflow_nodes": "/api/v2/workflow_jobs/5/workflow_nodes/"}}`)
	})
	p := testProvider(t, h, map[string]any{"aap_version": "2.4"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err := p.wait(ctx, "workflow_jobs/5/", "workflow", "w", 5, "ui")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "left running") {
		t.Fatalf("%v", err)
	}
}
