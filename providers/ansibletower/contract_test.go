package ansibletower

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/broker-go/broker/internal/awxfake"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

const fakeToken = "tok-123"

// world is a controller with the upstream fixtures' shape: deploy-rhel
// (two nodes, the last one publishing the host), remove-vm, extend-vm,
// a failing workflow and a job template.
func world(t *testing.T, aap25 bool) *awxfake.Server {
	t.Helper()
	deployFacts := map[string]any{
		"_broker_args":  map[string]any{"host_type": "host", "deploy_rhel_version": "9.4", "empty": ""},
		"_broker_facts": map[string]any{"fqdn": "fake.host.test.com", "name": "fake-physical-host", "os_distribution_version": "9.4"},
	}
	return awxfake.New(awxfake.Config{
		T: t, AAP25: aap25, Token: fakeToken,
		Inventories: []awxfake.Inventory{
			{ID: 7, Name: "satlab-inv"},
			{ID: 8, Name: "jdoe-inventory"},
			{ID: 9, Name: "jdoe-inventory-old"},
		},
		Hosts: []awxfake.Host{
			{ID: 55, Inventory: 8, Name: "vm-one", Variables: `{"ansible_host": "10.0.0.5", "fqdn": "vm-one.example.com"}`,
				Facts: map[string]any{"ansible_distribution": "RedHat", "_broker_args": map[string]any{"workflow": "deploy-rhel"},
					"_broker_facts": map[string]any{"deploy_scenario": "baserhel"}}},
			{ID: 56, Inventory: 7, Name: "other-vm"},
		},
		Workflows: []awxfake.Workflow{
			{ID: 34, Name: "deploy-rhel", Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"deploy_scenario": "baserhel", "deploy_rhel_version": "", "host_type": "host"}`,
				Timing:    awxfake.Timing{PendingPolls: 1, RunningPolls: 2},
				Nodes: []awxfake.Node{
					{JobName: "deploy-vm", Artifacts: map[string]any{"vm_name": "fake-physical-host"}},
					{JobName: "set-stats", Artifacts: deployFacts},
				}},
			{ID: 35, Name: "remove-vm", Inventory: 7, AskVariables: true, AskInventory: true,
				ExtraVars: `{"source_vm": "", "host_type": "host"}`, Nodes: []awxfake.Node{{JobName: "remove", Artifacts: map[string]any{}}}},
			{ID: 36, Name: "extend-vm", Inventory: 7, AskVariables: true, AskInventory: true,
				Nodes: []awxfake.Node{{JobName: "extend"}}},
			{ID: 37, Name: "deploy-broken", Inventory: 7, AskVariables: true, AskInventory: true,
				Nodes: []awxfake.Node{
					{JobName: "deploy-vm", Artifacts: map[string]any{"vm_name": "half-made"}},
					{JobName: "configure", Status: "failed", Stdout: "PLAY [Deploy VM]\nTASK [Create VM]\nfatal: [localhost]: FAILED! => quota",
						FailedEvents: []awxfake.Event{{Play: "Deploy VM", Task: "Create VM", Host: "localhost", Msg: "Quota exceeded for instances"}}},
				}},
			{ID: 38, Name: "locked", Inventory: 7, AskVariables: true, CannotStart: true},
			{ID: 39, Name: "release-fails", Inventory: 7, AskVariables: true, AskInventory: true,
				Nodes: []awxfake.Node{{JobName: "remove", Status: "failed", Stdout: "VM not found"}}},
		},
		JobTemplates: []awxfake.JobTemplate{
			{ID: 70, Name: "run-it", Inventory: 7, AskVariables: true, AskInventory: true,
				Job: awxfake.Node{Artifacts: map[string]any{"a": map[string]any{"x": "1"}}}},
		},
	})
}

func fakeProvider(t *testing.T, s *awxfake.Server, cfg map[string]any) *Provider {
	t.Helper()
	c := map[string]any{"base_url": s.URL, "token": fakeToken}
	for k, v := range cfg {
		c[k] = v
	}
	p, err := newProvider(providers.Spec{Instance: "fake", Config: c})
	if err != nil {
		t.Fatal(err)
	}
	p.c.backoffBase, p.c.backoffMax = time.Millisecond, 4*time.Millisecond
	p.opts.PollInterval = time.Millisecond
	t.Cleanup(func() { p.Close() })
	return p
}

// launches are the recorded launch POSTs.
func launches(s *awxfake.Server) []awxfake.Request {
	var out []awxfake.Request
	for _, r := range s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/launch/") {
			out = append(out, r)
		}
	}
	return out
}

func launchVars(t *testing.T, r awxfake.Request) map[string]any {
	t.Helper()
	body, _ := r.Body.(map[string]any)
	ev, ok := body["extra_vars"].(string)
	if !ok {
		t.Fatalf("extra_vars is not a JSON string: %#v", body)
	}
	var vars map[string]any
	if err := json.Unmarshal([]byte(ev), &vars); err != nil {
		t.Fatal(err)
	}
	return vars
}

func TestCheckoutAgainstFake(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	args := providers.Args{"workflow": "deploy-rhel", "deploy_rhel_version": "9.7", "tower_inventory": "satlab-inv",
		"_broker_origin": "broker_cli:jdoe", "extra": `{"k": ["v"]}`}
	h, err := p.Checkout(t.Context(), args)
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Host{
		"hostname": "fake.host.test.com", "name": "fake-physical-host", "type": "host", "tower_inventory": "satlab-inv",
		"fqdn": "fake.host.test.com", "os_distribution_version": "9.4",
		"_broker_args": map[string]any{"host_type": "host", "deploy_rhel_version": "9.4"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("record:\n got %#v\nwant %#v", h, want)
	}
	ls := launches(s)
	if len(ls) != 1 || ls[0].Path != "/api/v2/workflow_job_templates/34/launch/" || ls[0].Auth != "token" {
		t.Fatalf("launches: %+v", ls)
	}
	body := ls[0].Body.(map[string]any)
	if body["inventory"] != float64(7) || len(body) != 2 {
		t.Fatalf("launch body: %#v", body)
	}
	vars := launchVars(t, ls[0])
	wantVars := map[string]any{
		"workflow": "deploy-rhel", "deploy_rhel_version": "9.7", "tower_inventory": "satlab-inv",
		"_broker_origin": "broker_cli:jdoe", "extra": map[string]any{"k": []any{"v"}},
		"_broker_extra_vars": map[string]any{"workflow": "deploy-rhel", "tower_inventory": "satlab-inv",
			"_broker_origin": "broker_cli:jdoe", "extra": map[string]any{"k": []any{"v"}}},
	}
	if !reflect.DeepEqual(vars, wantVars) {
		t.Fatalf("extra vars:\n got %#v\nwant %#v", vars, wantVars)
	}
	// polled until done: pending, running, running, successful at least
	if n := s.Count("workflow_jobs/"); n < 4 {
		t.Errorf("workflow job polled %d times", n)
	}
	for _, r := range s.Requests() {
		if r.Method == "GET" && strings.Contains(r.Path, "inventories") && r.Query.Get("search") != "satlab-inv" {
			t.Errorf("inventory lookup %v", r.Query)
		}
	}
}

func TestCheckoutDefaultInventoryAndRetries(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	s.Fail("workflow_jobs/", 503, 502, 504)
	h, err := p.Checkout(t.Context(), providers.Args{"workflow": "deploy-rhel"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Hostname() != "fake.host.test.com" || h["tower_inventory"] != "satlab-inv" {
		t.Fatalf("record %v", h)
	}
	body := launches(s)[0].Body.(map[string]any)
	if _, ok := body["inventory"]; ok {
		t.Fatalf("the template default inventory must not be sent: %v", body)
	}
}

func TestCheckoutFailureReport(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	_, err := p.Checkout(t.Context(), providers.Args{"workflow": "deploy-broken"})
	var je *JobError
	if !errors.As(err, &je) {
		t.Fatalf("want a JobError, got %v", err)
	}
	if je.Status != "failed" || len(je.Reasons) != 1 || je.Reasons[0].Job != "configure" || je.Reasons[0].JobID == 0 {
		t.Fatalf("%+v", je)
	}
	msg := err.Error()
	for _, want := range []string{`workflow "deploy-broken"`, "status failed", s.URL + "/#/jobs/workflow/",
		`failed node "configure"`, "Quota exceeded for instances", `task "Create VM"`, "fatal: [localhost]: FAILED! => quota",
		"/#/jobs/playbook/", "dangling host half-made: checked in"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// the VM the successful node made was released
	ls := launches(s)
	if len(ls) != 2 || ls[1].Path != "/api/v2/workflow_job_templates/35/launch/" || launchVars(t, ls[1])["source_vm"] != "half-made" {
		t.Fatalf("dangling release: %+v", ls)
	}

	s.Reset()
	p = fakeProvider(t, s, map[string]any{"dangling_behavior": "store"})
	_, err = p.Checkout(t.Context(), providers.Args{"workflow": "deploy-broken"})
	if !strings.Contains(fmt.Sprint(err), "dangling host half-made: left as it is") || len(launches(s)) != 1 {
		t.Fatalf("store: %v", err)
	}
}

func TestNotFoundAndForbidden(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	_, err := p.Checkout(t.Context(), providers.Args{"workflow": "no-such"})
	var ue *providers.UserError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--workflows") || !strings.Contains(err.Error(), `"no-such"`) {
		t.Fatalf("not found: %v", err)
	}
	_, err = p.Checkout(t.Context(), providers.Args{"workflow": "locked"})
	var ae *providers.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("403 launch: %v", err)
	}
	_, err = p.Checkout(t.Context(), providers.Args{"workflow": "deploy-rhel", "tower_inventory": "nope"})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("unknown inventory: %v", err)
	}
	_, err = p.Checkout(t.Context(), providers.Args{"workflow": "deploy-rhel", "tower_inventory": "jdoe-inventory"})
	if err != nil {
		t.Fatalf("exact name among several matches: %v", err)
	}
}

func TestBadToken(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, map[string]any{"token": "wrong-token"})
	_, err := p.Checkout(t.Context(), providers.Args{"workflow": "deploy-rhel"})
	var ae *providers.AuthError
	if !errors.As(err, &ae) || ae.Setting != "AnsibleTower.token" {
		t.Fatalf("want an AuthError, got %v", err)
	}
	if !strings.Contains(err.Error(), "BROKER_ANSIBLETOWER__TOKEN") || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("message: %v", err)
	}
	if len(launches(s)) != 0 {
		t.Fatal("launched with a bad token")
	}
}

func TestAAP25Paths(t *testing.T) {
	s := world(t, true)
	p := fakeProvider(t, s, nil)
	h, err := p.Checkout(t.Context(), providers.Args{"workflow": "deploy-rhel"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Hostname() != "fake.host.test.com" {
		t.Fatalf("record %v", h)
	}
	for _, r := range s.Requests() {
		if r.Path != "/api/" && !strings.HasPrefix(r.Path, "/api/controller/v2/") {
			t.Errorf("request outside the controller prefix: %s %s", r.Method, r.Path)
		}
	}
	if got := p.uiURL(t.Context(), "workflow", 5); got != s.URL+"/execution/jobs/workflow/5/output" {
		t.Errorf("ui %s", got)
	}
	// with aap_version set, no probe
	s.Reset()
	p2 := fakeProvider(t, s, map[string]any{"aap_version": "2.6"})
	if _, err := p2.Info(t.Context(), providers.InfoQuery{Name: "workflows"}); err != nil {
		t.Fatal(err)
	}
	if s.Count("/api/") != s.Count("/api/controller/v2/") {
		t.Errorf("probed although aap_version is set: %v", s.Counts())
	}
}

func TestCheckinAndExtend(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, map[string]any{"inventory": "satlab-inv"})
	rec := inventory.Host{"name": "fake-physical-host", "hostname": "fake.host.test.com", "tower_inventory": "satlab-inv",
		"_broker_args": map[string]any{"workflow": "deploy-rhel", "deploy_rhel_version": "9.7"}}
	if err := p.Checkin(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	ls := launches(s)
	if len(ls) != 1 || ls[0].Path != "/api/v2/workflow_job_templates/35/launch/" {
		t.Fatalf("checkin launches %+v", ls)
	}
	vars := launchVars(t, ls[0])
	if vars["source_vm"] != "fake-physical-host" || vars["workflow"] != "remove-vm" || vars["deploy_rhel_version"] != "9.7" {
		t.Fatalf("checkin vars %v", vars)
	}
	if ls[0].Body.(map[string]any)["inventory"] != float64(7) {
		t.Fatalf("checkin body %v", ls[0].Body)
	}

	s.Reset()
	if err := p.Extend(t.Context(), rec, providers.Args{"new_expire_time": "+3600"}); err != nil {
		t.Fatal(err)
	}
	vars = launchVars(t, launches(s)[0])
	if vars["target_vm"] != "fake-physical-host" || vars["new_expire_time"] != "+3600" || vars["workflow"] != "extend-vm" {
		t.Fatalf("extend vars %v", vars)
	}
	s.Reset()
	if err := p.Extend(t.Context(), rec, providers.Args{}); err != nil {
		t.Fatal(err)
	}
	if vars = launchVars(t, launches(s)[0]); vars["new_expire_time"] != "+172800" {
		t.Fatalf("extend default %v", vars)
	}

	// a release that fails for a host no inventory has: not found
	pf := fakeProvider(t, s, map[string]any{"release_workflow": "release-fails"})
	err := pf.Checkin(t.Context(), inventory.Host{"name": "gone-vm", "tower_inventory": "satlab-inv"})
	if !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	// ... but for a host an inventory still has, a provider error
	err = pf.Checkin(t.Context(), inventory.Host{"name": "other-vm"})
	var pe *providers.Error
	if errors.Is(err, providers.ErrNotFound) || !errors.As(err, &pe) || !strings.Contains(err.Error(), "VM not found") {
		t.Fatalf("want a provider error, got %v", err)
	}
}

func TestExecuteAgainstFake(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	res, err := p.Execute(t.Context(), providers.Args{"job_template": "run-it", "artifacts": "merge"}, providers.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Output, map[string]any{"a": map[string]any{"x": "1"}}) || res.ExitCode != 0 {
		t.Fatalf("job template artifacts: %#v", res)
	}
	if ls := launches(s); ls[0].Path != "/api/v2/job_templates/70/launch/" {
		t.Fatalf("launch %s", ls[0].Path)
	}
	res, err = p.Execute(t.Context(), providers.Args{"workflow": "deploy-rhel", "artifacts": "merge"}, providers.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	art := res.Output.(map[string]any)
	if art["vm_name"] != "fake-physical-host" || art["_broker_facts"] == nil {
		t.Fatalf("merged artifacts %v", art)
	}
	res, err = p.Execute(t.Context(), providers.Args{"workflow": "deploy-rhel", "artifacts": "last"}, providers.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Output.(map[string]any)["vm_name"]; ok {
		t.Fatalf("last kept an older job's artifacts: %v", res.Output)
	}
	res, err = p.Execute(t.Context(), providers.Args{"workflow": "deploy-rhel"}, providers.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job := res.Output.(map[string]any); job["status"] != "successful" || job["type"] != "workflow_job" {
		t.Fatalf("job output %v", job)
	}
	if _, err := p.Execute(t.Context(), providers.Args{"container_app": "x"}, providers.ExecOptions{}); err == nil {
		t.Fatal("no template accepted")
	}
}

func TestListAgainstFake(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	hosts, err := p.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Host{{"name": "vm-one", "type": "host", "hostname": "vm-one.example.com", "ip": "10.0.0.5",
		"tower_inventory": "jdoe-inventory", "_broker_args": map[string]any{"workflow": "deploy-rhel"},
		"deploy_scenario": "baserhel", "os_distribution": "RedHat"}}
	if !reflect.DeepEqual(hosts, want) {
		t.Fatalf("hosts:\n got %#v\nwant %#v", hosts, want)
	}
	all, err := p.List(t.Context(), "@ll")
	if err != nil || len(all) != 2 {
		t.Fatalf("@ll: %v %v", all, err)
	}
}

func TestInfoAgainstFake(t *testing.T) {
	s := world(t, false)
	p := fakeProvider(t, s, nil)
	res, err := p.Info(t.Context(), providers.InfoQuery{Name: "workflows"})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"deploy-broken", "deploy-rhel", "extend-vm", "release-fails", "remove-vm"}
	if !reflect.DeepEqual(res.Items, want) {
		t.Fatalf("workflows %v", res.Items)
	}
	res, err = p.Info(t.Context(), providers.InfoQuery{Name: "workflow", Value: "deploy-rhel"})
	if err != nil {
		t.Fatal(err)
	}
	item := res.Items[0].(map[string]any)
	if item["inventory"] != "satlab-inv" || item["extra_vars"].(map[string]any)["deploy_scenario"] != "baserhel" {
		t.Fatalf("workflow %v", item)
	}
	res, err = p.Info(t.Context(), providers.InfoQuery{Name: "job_templates"})
	if err != nil || !reflect.DeepEqual(res.Items, []any{"run-it"}) {
		t.Fatalf("job templates %v %v", res.Items, err)
	}
	res, err = p.Info(t.Context(), providers.InfoQuery{Name: "inventories"})
	if err != nil || len(res.Items) != 3 {
		t.Fatalf("inventories %v %v", res.Items, err)
	}
	res, err = p.Info(t.Context(), providers.InfoQuery{Name: "inventory", Value: "satlab-inv"})
	if err != nil || res.Items[0].(map[string]any)["id"] != int64(7) {
		t.Fatalf("inventory %v %v", res.Items, err)
	}
	if _, err := p.Info(t.Context(), providers.InfoQuery{Name: "flavors"}); !errors.Is(err, providers.ErrUnsupported) {
		t.Fatalf("flavors: %v", err)
	}
}

func TestWorkflowTimeout(t *testing.T) {
	s := world(t, false)
	s.AddWorkflow(awxfake.Workflow{ID: 40, Name: "slow", Inventory: 7, AskVariables: true,
		Timing: awxfake.Timing{RunningPolls: 1 << 30}, Nodes: []awxfake.Node{{JobName: "wait"}}})
	p := fakeProvider(t, s, nil)
	p.opts.WorkflowTimeout = 20 * time.Millisecond
	_, err := p.Checkout(t.Context(), providers.Args{"workflow": "slow"})
	if err == nil || !strings.Contains(err.Error(), "workflow_timeout") || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("want a timeout, got %v", err)
	}
}

func TestLabelsOnLaunch(t *testing.T) {
	s := world(t, false)
	s.AddLabel(awxfake.Label{ID: 150, Name: "team=qe"})
	p := fakeProvider(t, s, map[string]any{"provider_labels": map[string]any{"owner": "jdoe"}})
	_, err := p.Execute(t.Context(), providers.Args{"workflow": "deploy-rhel", "provider_labels": map[string]string{"team": "qe"}}, providers.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := launches(s)[0].Body.(map[string]any)
	labels, _ := body["labels"].([]any)
	if len(labels) != 2 || labels[1] != float64(150) {
		t.Fatalf("labels %v", body)
	}
}

func TestErrorScopeAll(t *testing.T) {
	s := world(t, false)
	s.AddWorkflow(awxfake.Workflow{ID: 41, Name: "two-failures", Inventory: 7, AskVariables: true,
		Nodes: []awxfake.Node{
			{JobName: "first", Status: "error", ResultTraceback: "Traceback: boom"},
			{JobName: "second", Status: "failed", FailedEvents: []awxfake.Event{{Play: "P", Task: "T", Msg: "bad"}}},
		}})
	for scope, n := range map[string]int{"last": 1, "all": 2} {
		p := fakeProvider(t, s, map[string]any{"error_scope": scope})
		_, err := p.Checkout(t.Context(), providers.Args{"workflow": "two-failures"})
		var je *JobError
		if !errors.As(err, &je) || len(je.Reasons) != n || je.Reasons[0].Job != "second" {
			t.Fatalf("%s: %v", scope, err)
		}
		if scope == "all" && !strings.Contains(err.Error(), "Traceback: boom") {
			t.Fatalf("traceback missing: %v", err)
		}
	}
}

func TestInfoTemplates(t *testing.T) {
	s := world(t, false)
	s.AddWorkflow(awxfake.Workflow{ID: 42, Name: "list-templates", Inventory: 7, AskVariables: true,
		Nodes: []awxfake.Node{{JobName: "list", Artifacts: map[string]any{"data_out": map[string]any{
			"list_templates": []any{"rhel-8.10", "rhel-9.4", "rhel-8.10", "fedora-40"}}}}}})
	p := fakeProvider(t, s, nil)
	res, err := p.Info(t.Context(), providers.InfoQuery{Name: "templates", Value: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Items, []any{"rhel-9.4", "rhel-8.10", "fedora-40"}) {
		t.Fatalf("templates %v", res.Items)
	}
}
