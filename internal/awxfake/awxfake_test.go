package awxfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	tok      = "Tok3n"
	password = "s3cret"
)

var tsRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func world() Config {
	return Config{
		Token: tok, Username: "jdoe", Password: password,
		Organizations: []Organization{{ID: 3, Name: "SatLab"}},
		Users:         []User{{ID: 42, Username: "jdoe", Password: password}, {ID: 43, Username: "other", Password: "x"}},
		Inventories: []Inventory{
			{ID: 7, Name: "satlab-inv", Organization: 3},
			{ID: 8, Name: "jdoe-inventory", Organization: 3, Description: "personal"},
			{ID: 9, Name: "jdoe-smart", Organization: 3, Kind: "smart"},
			{ID: 10, Name: "secret-inv", Organization: 3, Hidden: true},
		},
		Hosts: []Host{{ID: 55, Inventory: 8, Name: "test-sat-1",
			Variables: `{"ansible_host": "10.0.0.5", "fqdn": "sat.example.com"}`,
			Facts: map[string]any{"ansible_fqdn": "sat.example.com", "ansible_distribution": "RedHat",
				"_broker_args": map[string]any{"host_type": "satellite"}}}},
		JobTemplates: []JobTemplate{
			{ID: 70, Name: "satlab-tower-deploy-vm", Organization: 3, Inventory: 7, AskVariables: true},
			{ID: 77, Name: "satlab-tower-deploy-set-stats", Organization: 3, Inventory: 7, AskVariables: true,
				Job: Node{Status: "failed", Stdout: "fatal: boom\n"}, Timing: Timing{RunningPolls: 1, EventLagPolls: 1}},
		},
		Workflows: []Workflow{
			{ID: 34, Name: "deploy-rhel", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"deploy_scenario": "baserhel", "deploy_rhel_version": "", "host_type": "host"}`,
				Timing:    Timing{PendingPolls: 1, WaitingPolls: 1, RunningPolls: 2},
				Nodes: []Node{{JobTemplate: 70},
					{JobTemplate: 77, Status: "successful", Artifacts: map[string]any{
						"_broker_args":  map[string]any{"host_type": "host"},
						"_broker_facts": map[string]any{"fqdn": "fake.host.test.com", "name": "fake-physical-host"}}}},
				CreatesHosts: []Host{{Name: "fake-physical-host", Variables: `{"fqdn": "fake.host.test.com"}`}}},
			{ID: 35, Name: "remove-vm", Organization: 3, AskVariables: true, ExtraVars: "source_vm: ''\nhost_type: host\n",
				Nodes: []Node{{JobName: "remove"}}},
			{ID: 36, Name: "extend-vm", Organization: 3, AskVariables: true, ExtraVars: `{"target_vm": "", "new_expire_time": ""}`},
			{ID: 37, Name: "locked", Organization: 3, ExtraVars: `{"a": "1"}`, CannotStart: false,
				Survey: []SurveyQuestion{{Variable: "must", Required: true}}},
			{ID: 38, Name: "deploy-fails", Organization: 3, AskVariables: true, Nodes: []Node{
				{JobName: "provision", Artifacts: map[string]any{"vm_name": "dangling-1"}},
				{JobName: "configure", Status: "failed", FailedEvents: []Event{{Play: "Deploy VM", Task: "Create VM", Msg: "Quota exceeded"}}},
				{JobName: "cleanup", DoNotRun: true}}},
			{ID: 39, Name: "no-start", Organization: 3, AskVariables: true, CannotStart: true},
		},
	}
}

type client struct {
	t    *testing.T
	s    *Server
	auth string // "token", "basic", "none", or "bearer:<tok>"
	jar  []*http.Cookie
}

func (c *client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	if !strings.HasPrefix(path, "/api/") {
		path = c.s.Prefix() + path
	}
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.s.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	switch {
	case c.auth == "token":
		req.Header.Set("Authorization", "Bearer "+tok)
	case c.auth == "basic":
		req.SetBasicAuth("jdoe", password)
	case strings.HasPrefix(c.auth, "bearer:"):
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(c.auth, "bearer:"))
	}
	for _, ck := range c.jar {
		req.AddCookie(ck)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	c.jar = append(c.jar, resp.Cookies()...)
	return resp.StatusCode, resp.Header, data
}

func (c *client) json(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	st, _, data := c.do(method, path, body)
	var m map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("%s %s: %d %q: %v", method, path, st, data, err)
		}
	}
	return st, m
}

func (c *client) get(path string) map[string]any {
	c.t.Helper()
	st, m := c.json("GET", path, nil)
	if st != 200 {
		c.t.Fatalf("GET %s: %d %v", path, st, m)
	}
	return m
}

func start(t *testing.T, cfg Config) (*Server, *client) {
	t.Helper()
	cfg.T = t
	s := New(cfg)
	return s, &client{t: t, s: s, auth: "token"}
}

func names(list map[string]any) []string {
	var out []string
	for _, r := range list["results"].([]any) {
		out = append(out, r.(map[string]any)["name"].(string))
	}
	return out
}

func num(v any) int { f, _ := v.(float64); return int(f) }

func TestRootDocuments(t *testing.T) {
	for _, tc := range []struct {
		name  string
		aap25 bool
		path  string
		want  map[string]any
	}{
		{"awx root", false, "/api/", map[string]any{"description": "AWX REST API", "current_version": "/api/v2/",
			"available_versions": map[string]any{"v2": "/api/v2/"}, "oauth2": "/api/o/", "custom_logo": "",
			"custom_login_info": "", "login_redirect_override": ""}},
		{"gateway root", true, "/api/", map[string]any{"apis": map[string]any{"gateway": "/api/gateway/", "controller": "/api/controller/"}}},
		{"controller root", true, "/api/controller/", map[string]any{"description": "AWX REST API", "current_version": "/api/controller/v2/",
			"available_versions": map[string]any{"v2": "/api/controller/v2/"}, "custom_logo": "",
			"custom_login_info": "", "login_redirect_override": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := world()
			cfg.AAP25 = tc.aap25
			_, c := start(t, cfg)
			c.auth = "none"
			if got := c.get(tc.path); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
			v := c.get("")
			for _, k := range []string{"ping", "me", "tokens", "inventory", "hosts", "job_templates", "jobs",
				"workflow_job_templates", "workflow_jobs", "workflow_job_nodes", "labels"} {
				if !strings.HasPrefix(fmt.Sprint(v[k]), c.s.Prefix()) {
					t.Errorf("version root %s = %v", k, v[k])
				}
			}
			if v["inventory"] != c.s.Prefix()+"inventories/" {
				t.Errorf("inventory key = %v", v["inventory"])
			}
			c.auth = "bearer:wrong"
			if p := c.get("ping/"); p["version"] != "4.6.15" || p["ha"] != false {
				t.Errorf("ping = %v", p)
			}
		})
	}
}

func TestAuthModes(t *testing.T) {
	unauth := map[string]any{"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}
	for _, tc := range []struct {
		auth     string
		status   int
		recorded string
	}{
		{"token", 200, "token"},
		{"basic", 200, "basic"},
		{"none", 401, "none"},
		{"bearer:nope", 401, "none"},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			s, c := start(t, world())
			c.auth = tc.auth
			st, h, data := c.do("GET", "me/", nil)
			if st != tc.status {
				t.Fatalf("status %d: %s", st, data)
			}
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			if st == 401 {
				if !reflect.DeepEqual(m, unauth) {
					t.Errorf("body %v", m)
				}
				if h.Get("WWW-Authenticate") != "Bearer realm=api authorization_url=/api/o/authorize/" {
					t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
				}
			} else {
				if m["count"] != 1.0 || m["results"].([]any)[0].(map[string]any)["username"] != "jdoe" {
					t.Errorf("me = %v", m)
				}
			}
			if r := s.Requests(); r[0].Auth != tc.recorded {
				t.Errorf("recorded auth %q", r[0].Auth)
			}
		})
	}
}

func TestSessionLogin(t *testing.T) {
	s, c := start(t, world())
	c.auth = "none"
	c.get("/api/")
	st, h, _ := c.do("POST", "/api/login/", url.Values{"username": {"jdoe"}, "password": {password}, "next": {"/api/"}})
	if st != 302 || h.Get("Location") != "/api/" || h.Get("X-API-Session-Cookie-Name") != "awx_sessionid" {
		t.Fatalf("login %d %v", st, h)
	}
	c.get("me/")
	if r := s.Requests(); r[len(r)-1].Auth != "session" {
		t.Errorf("auth = %q", r[len(r)-1].Auth)
	}
	bad := &client{t: t, s: s, auth: "none"}
	if st, _, _ := bad.do("POST", "/api/login/", url.Values{"username": {"jdoe"}, "password": {"wrong"}}); st != 200 {
		t.Errorf("bad login %d", st)
	}
	if st, _ := bad.json("GET", "me/", nil); st != 401 {
		t.Errorf("me after bad login %d", st)
	}
}

func TestTokenBootstrap(t *testing.T) {
	s, c := start(t, world())
	c.auth = "basic"
	st, tk := c.json("POST", "users/jdoe/personal_tokens/", map[string]any{"description": "Broker temp AbCdEfGhIj", "application": nil, "scope": "write"})
	if st != 201 || tk["type"] != "o_auth2_access_token" || tk["user"] != 42.0 || tk["description"] != "Broker temp AbCdEfGhIj" {
		t.Fatalf("create %d %v", st, tk)
	}
	for _, k := range []string{"created", "modified", "expires"} {
		if !tsRe.MatchString(tk[k].(string)) {
			t.Errorf("%s = %v", k, tk[k])
		}
	}
	c.auth = "bearer:" + tk["token"].(string)
	list := c.get("tokens/?description=" + url.QueryEscape("Broker temp AbCdEfGhIj"))
	if list["count"] != 1.0 || list["results"].([]any)[0].(map[string]any)["token"] != "************" {
		t.Fatalf("list %v", list)
	}
	if r := s.Requests(); r[len(r)-1].Auth != "token" {
		t.Errorf("auth %q", r[len(r)-1].Auth)
	}
	id := num(tk["id"])
	if st, _, body := c.do("DELETE", fmt.Sprintf("tokens/%d/", id), nil); st != 204 || len(body) != 0 {
		t.Errorf("delete %d %q", st, body)
	}
	if st, _ := c.json("GET", "me/", nil); st != 401 {
		t.Errorf("deleted token still works: %d", st)
	}
	other := &client{t: t, s: s, auth: "basic"}
	if st, m := other.json("POST", "users/other/personal_tokens/", map[string]any{}); st != 403 ||
		m["detail"] != "You do not have permission to perform this action." {
		t.Errorf("other user's token %d %v", st, m)
	}

	cfg := world()
	cfg.DisableTokens = true
	_, c2 := start(t, cfg)
	c2.auth = "basic"
	if st, m := c2.json("POST", "users/jdoe/personal_tokens/", map[string]any{}); st != 404 || m["detail"] != "Not found." {
		t.Errorf("disabled tokens %d %v", st, m)
	}
	if _, ok := c2.get("")["tokens"]; ok {
		t.Error("version root lists tokens")
	}
}

func TestPagination(t *testing.T) {
	cfg := world()
	for i := 0; i < 230; i++ {
		cfg.Inventories = append(cfg.Inventories, Inventory{Name: fmt.Sprintf("bulk-%03d", i)})
	}
	s, c := start(t, cfg)
	// Walk with the default page size, following next links.
	var seen []string
	next := s.Prefix() + "inventories/?name__startswith=bulk-"
	pages := 0
	for next != "" {
		m := c.get(next)
		if m["count"] != 230.0 {
			t.Fatalf("count %v", m["count"])
		}
		if pages > 0 && m["previous"] == nil {
			t.Errorf("page %d has no previous", pages+1)
		}
		seen = append(seen, names(m)...)
		next, _ = m["next"].(string)
		pages++
	}
	if pages != 10 || len(seen) != 230 || !sort.StringsAreSorted(seen) {
		t.Errorf("pages %d items %d sorted %v", pages, len(seen), sort.StringsAreSorted(seen))
	}
	m := c.get("inventories/?page_size=1000&name__startswith=bulk-")
	if len(m["results"].([]any)) != 200 || m["next"] != s.Prefix()+"inventories/?name__startswith=bulk-&page=2&page_size=200" || m["previous"] != nil {
		t.Errorf("clamped page: %d next %v", len(m["results"].([]any)), m["next"])
	}
	m = c.get(m["next"].(string))
	if m["previous"] != s.Prefix()+"inventories/?name__startswith=bulk-&page=1&page_size=200" || m["next"] != nil || len(m["results"].([]any)) != 30 {
		t.Errorf("page 2: previous %v next %v", m["previous"], m["next"])
	}
	for _, q := range []string{"page=99", "page=0", "page=x"} {
		if st, m := c.json("GET", "inventories/?"+q, nil); st != 404 || m["detail"] != "Invalid page." {
			t.Errorf("%s: %d %v", q, st, m)
		}
	}
	if m := c.get("inventories/?name=nothing"); m["count"] != 0.0 || len(m["results"].([]any)) != 0 || m["next"] != nil {
		t.Errorf("empty list %v", m)
	}
}

func TestFilters(t *testing.T) {
	_, c := start(t, world())
	for _, tc := range []struct {
		query  string
		status int
		want   []string
		detail string
	}{
		{"inventories/?name=satlab-inv", 200, []string{"satlab-inv"}, ""},
		{"inventories/?name__icontains=JDOE", 200, []string{"jdoe-inventory", "jdoe-smart"}, ""},
		{"inventories/?name__iexact=SATLAB-INV", 200, []string{"satlab-inv"}, ""},
		{"inventories/?id=8", 200, []string{"jdoe-inventory"}, ""},
		{"inventories/?id=10", 200, nil, ""}, // hidden
		{"inventories/?id__in=7,9", 200, []string{"jdoe-smart", "satlab-inv"}, ""},
		{"inventories/?id__gt=7", 200, []string{"jdoe-inventory", "jdoe-smart"}, ""},
		{"inventories/?kind=", 200, []string{"jdoe-inventory", "satlab-inv"}, ""},
		{"inventories/?kind=&name=jdoe-smart", 200, nil, ""},
		{"inventories/?kind=&page_size=1000", 200, []string{"jdoe-inventory", "satlab-inv"}, ""},
		{"inventories/?search=jdoe", 200, []string{"jdoe-inventory", "jdoe-smart"}, ""},
		{"inventories/?search=PERSONAL", 200, []string{"jdoe-inventory"}, ""},
		{"inventories/?search=jdoe,smart", 200, []string{"jdoe-smart"}, ""},
		{"inventories/?description=personal", 200, []string{"jdoe-inventory"}, ""},
		{"inventories/?not__kind=", 200, []string{"jdoe-smart"}, ""},
		{"inventories/?or__name=satlab-inv&or__name=jdoe-smart", 200, []string{"jdoe-smart", "satlab-inv"}, ""},
		{"inventories/?order_by=-name", 200, []string{"satlab-inv", "jdoe-smart", "jdoe-inventory"}, ""},
		{"inventories/?name__regex=^jdoe-i", 200, []string{"jdoe-inventory"}, ""},
		{"inventories/?organization__name=SatLab&name__endswith=inv", 200, []string{"satlab-inv"}, ""},
		{"inventories/?id=abc", 400, nil, "Field 'id' expected a number but got 'abc'."},
		{"inventories/?bogus=1", 400, nil, "Cannot resolve keyword 'bogus' into field."},
		{"inventories/?order_by=bogus", 400, nil, "Cannot resolve keyword 'bogus' into field."},
		{"workflow_job_templates/?name=deploy-rhel", 200, []string{"deploy-rhel"}, ""},
		{"workflow_job_templates/?name=missing", 200, nil, ""},
		{"workflow_job_templates/?ask_variables_on_launch=false", 200, []string{"locked"}, ""},
		{"workflow_job_templates/?inventory__isnull=false", 200, []string{"deploy-rhel"}, ""},
		{"workflow_job_templates/?inventory__name=satlab-inv", 200, []string{"deploy-rhel"}, ""},
		{"workflow_job_templates/?ask_labels_on_launch=maybe", 400, nil, "'maybe' value must be either True or False."},
		{"workflow_job_templates/?inventory__isnull=maybe", 400, nil, "Unable to convert value 'maybe' to a boolean."},
		{"inventories/?name__gt=r", 200, []string{"satlab-inv"}, ""},
		{"inventories/?name__contains=Inv", 200, nil, ""},
		{"inventories/?name__istartswith=JDOE&name__iendswith=SMART", 200, []string{"jdoe-smart"}, ""},
		{"inventories/?name__iregex=^SAT", 200, []string{"satlab-inv"}, ""},
		{"inventories/?name__regex=(", 400, nil, "Invalid regular expression: error parsing regexp: missing closing ): `(`"},
		{"inventories/?id__lte=7&id__gte=7&id__lt=8", 200, []string{"satlab-inv"}, ""},
		{"job_templates/?name__icontains=set-stats", 200, []string{"satlab-tower-deploy-set-stats"}, ""},
		{"hosts/?name=test-sat-1", 200, []string{"test-sat-1"}, ""},
		{"users/?username=jdoe", 200, nil, ""},
		{"organizations/?name=SatLab", 200, []string{"SatLab"}, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			st, m := c.json("GET", tc.query, nil)
			if st != tc.status {
				t.Fatalf("status %d %v", st, m)
			}
			if st != 200 {
				if !reflect.DeepEqual(m, map[string]any{"detail": tc.detail}) {
					t.Errorf("body %v", m)
				}
				return
			}
			if strings.HasPrefix(tc.query, "users/") {
				if m["count"] != 1.0 {
					t.Errorf("users %v", m)
				}
				return
			}
			got := names(m)
			if !strings.Contains(tc.query, "order_by") {
				sort.Strings(got)
			}
			if !reflect.DeepEqual(got, tc.want) || m["count"] != float64(len(tc.want)) {
				t.Errorf("got %v (count %v) want %v", got, m["count"], tc.want)
			}
		})
	}
}

func TestInventoriesAndHosts(t *testing.T) {
	_, c := start(t, world())
	inv := c.get("inventories/?id=8")["results"].([]any)[0].(map[string]any)
	if inv["type"] != "inventory" || inv["url"] != "/api/v2/inventories/8/" || inv["kind"] != "" || inv["total_hosts"] != 1.0 ||
		inv["organization"] != 3.0 || inv["host_filter"] != nil || !tsRe.MatchString(inv["created"].(string)) {
		t.Errorf("inventory %v", inv)
	}
	hosts := c.get(inv["related"].(map[string]any)["hosts"].(string) + "?page_size=200")
	h := hosts["results"].([]any)[0].(map[string]any)
	if hosts["count"] != 1.0 || h["name"] != "test-sat-1" || h["inventory"] != 8.0 || h["variables"] != `{"ansible_host": "10.0.0.5", "fqdn": "sat.example.com"}` {
		t.Errorf("host %v", h)
	}
	if sf := h["summary_fields"].(map[string]any)["inventory"].(map[string]any); sf["name"] != "jdoe-inventory" {
		t.Errorf("host summary %v", sf)
	}
	facts := c.get(h["related"].(map[string]any)["ansible_facts"].(string))
	if facts["ansible_fqdn"] != "sat.example.com" || facts["_broker_args"].(map[string]any)["host_type"] != "satellite" {
		t.Errorf("facts %v", facts)
	}
	for _, p := range []string{"hosts/999/ansible_facts/", "inventories/10/", "inventories/10/hosts/", "jobs/1/"} {
		if st, m := c.json("GET", p, nil); st != 404 || m["detail"] != "Not found." {
			t.Errorf("%s: %d %v", p, st, m)
		}
	}
	if st, m := c.json("POST", "inventories/", map[string]any{}); st != 405 || m["detail"] != `Method "POST" not allowed.` {
		t.Errorf("POST inventories: %d %v", st, m)
	}
}

func TestLabels(t *testing.T) {
	_, c := start(t, world())
	st, l := c.json("POST", "labels/", map[string]any{"name": "team=satqe", "organization": 3})
	if st != 201 || l["type"] != "label" || l["name"] != "team=satqe" || l["organization"] != 3.0 || l["url"] != fmt.Sprintf("/api/v2/labels/%d/", num(l["id"])) {
		t.Fatalf("create %d %v", st, l)
	}
	st, dup := c.json("POST", "labels/", map[string]any{"name": "team=satqe", "organization": 3})
	if st != 400 || !reflect.DeepEqual(dup, map[string]any{"__all__": []any{"Label with this Name and Organization already exists."}}) {
		t.Errorf("duplicate %d %v", st, dup)
	}
	got := c.get("labels/?name=team%3Dsatqe")
	if got["count"] != 1.0 || got["results"].([]any)[0].(map[string]any)["id"] != l["id"] {
		t.Errorf("lookup %v", got)
	}
	if st, m := c.json("POST", "labels/", map[string]any{"name": "x", "organization": 99}); st != 400 ||
		!reflect.DeepEqual(m, map[string]any{"organization": []any{`Invalid pk "99" - object does not exist.`}}) {
		t.Errorf("bad org %d %v", st, m)
	}
}

// launch runs the client flow awxkit uses: GET launch/, POST launch/, GET the sublist by id.
func launch(t *testing.T, c *client, tmpl int, body map[string]any) map[string]any {
	t.Helper()
	c.get(fmt.Sprintf("workflow_job_templates/%d/launch/", tmpl))
	st, h, data := c.do("POST", fmt.Sprintf("workflow_job_templates/%d/launch/", tmpl), body)
	if st != 201 {
		t.Fatalf("launch %d %s", st, data)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	if h.Get("Location") != m["url"] || m["status"] != "pending" || m["workflow_job"] != m["id"] || m["type"] != "workflow_job" {
		t.Fatalf("launch reply %v %v", h, m)
	}
	list := c.get(fmt.Sprintf("workflow_job_templates/%d/workflow_jobs/?id=%d", tmpl, num(m["id"])))
	if list["count"] != 1.0 {
		t.Fatalf("sublist %v", list)
	}
	return list["results"].([]any)[0].(map[string]any)
}

func TestLaunchPolledToCompletion(t *testing.T) {
	s, c := start(t, world())
	labelID := s.AddLabel(Label{Name: "team=satqe", Organization: 3})
	ld := c.get("workflow_job_templates/34/launch/")
	if ld["can_start_without_user_input"] != true || ld["defaults"].(map[string]any)["inventory"].(map[string]any)["id"] != 7.0 {
		t.Errorf("launch doc %v", ld)
	}
	ev, _ := json.Marshal(map[string]any{"workflow": "deploy-rhel", "deploy_rhel_version": "9.7", "_broker_origin": "broker_cli:jdoe"})
	wj := launch(t, c, 34, map[string]any{"extra_vars": string(ev), "inventory": 8, "labels": []any{labelID}})
	if _, ok := wj["result_traceback"]; ok {
		t.Error("list item has result_traceback")
	}
	var statuses []string
	for range 10 {
		d := c.get(wj["url"].(string))
		if !tsRe.MatchString(d["created"].(string)) {
			t.Fatalf("created %v", d["created"])
		}
		if _, ok := d["artifacts"]; ok {
			t.Fatal("workflow job has artifacts")
		}
		if _, ok := d["event_processing_finished"]; ok {
			t.Fatal("workflow job has event_processing_finished")
		}
		st := d["status"].(string)
		if d["failed"] != false {
			t.Fatalf("failed flag %v for %s", d["failed"], st)
		}
		if (st == "running" || st == "successful") && !tsRe.MatchString(fmt.Sprint(d["started"])) {
			t.Errorf("started %v while %s", d["started"], st)
		}
		statuses = append(statuses, st)
		if st == "successful" {
			if !tsRe.MatchString(fmt.Sprint(d["finished"])) || d["inventory"] != 8.0 {
				t.Errorf("finished %v inventory %v", d["finished"], d["inventory"])
			}
			var vars map[string]any
			_ = json.Unmarshal([]byte(d["extra_vars"].(string)), &vars)
			if vars["deploy_rhel_version"] != "9.7" || vars["deploy_scenario"] != "baserhel" {
				t.Errorf("extra_vars %v", vars)
			}
			if lbl := d["summary_fields"].(map[string]any)["labels"].(map[string]any); lbl["count"] != 1.0 {
				t.Errorf("labels %v", lbl)
			}
			break
		}
		if st != "pending" && st != "waiting" {
			nodes := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))
			if nodes["count"] != 2.0 {
				t.Errorf("nodes while %s: %v", st, nodes)
			}
		}
	}
	if want := []string{"pending", "waiting", "running", "running", "successful"}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v want %v", statuses, want)
	}
	nodes := c.get(fmt.Sprintf("workflow_jobs/%d/workflow_nodes/", num(wj["id"])))
	if nodes["count"] != 2.0 {
		t.Fatalf("nodes %v", nodes)
	}
	last := nodes["results"].([]any)[1].(map[string]any)
	sj := last["summary_fields"].(map[string]any)["job"].(map[string]any)
	if sj["name"] != "satlab-tower-deploy-set-stats" || sj["status"] != "successful" || sj["failed"] != false || sj["type"] != "job" {
		t.Errorf("summary job %v", sj)
	}
	job := c.get(last["related"].(map[string]any)["job"].(string))
	facts := job["artifacts"].(map[string]any)["_broker_facts"].(map[string]any)
	if job["type"] != "job" || job["event_processing_finished"] != true || facts["fqdn"] != "fake.host.test.com" ||
		job["launch_type"] != "workflow" || job["job_template"] != 77.0 {
		t.Errorf("job %v", job)
	}
	if _, ok := job["related"].(map[string]any)["workflow_nodes"]; ok {
		t.Error("job has related.workflow_nodes")
	}
	hosts := c.get("hosts/?name=fake-physical-host")
	if hosts["count"] != 1.0 || hosts["results"].([]any)[0].(map[string]any)["inventory"] != 8.0 {
		t.Errorf("created host %v", hosts)
	}
	if n := s.Count("workflow_jobs/"); n != 8 { // 5 polls + 3 node lists
		t.Errorf("workflow_jobs requests %d", n)
	}
}

func TestFailedWorkflow(t *testing.T) {
	_, c := start(t, world())
	wj := launch(t, c, 38, map[string]any{"extra_vars": `{"x": "1"}`})
	d := c.get(wj["url"].(string))
	if d["status"] != "failed" || d["failed"] != true {
		t.Fatalf("status %v failed %v", d["status"], d["failed"])
	}
	nodes := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)
	if len(nodes) != 3 {
		t.Fatalf("nodes %v", nodes)
	}
	skipped := nodes[2].(map[string]any)
	if _, ok := skipped["summary_fields"].(map[string]any)["job"]; ok || skipped["job"] != nil || skipped["do_not_run"] != true {
		t.Errorf("skipped node %v", skipped)
	}
	if _, ok := skipped["related"].(map[string]any)["job"]; ok {
		t.Error("skipped node has related.job")
	}
	ok := nodes[0].(map[string]any)
	okJob := c.get(ok["related"].(map[string]any)["job"].(string))
	if okJob["artifacts"].(map[string]any)["vm_name"] != "dangling-1" {
		t.Errorf("ok job %v", okJob["artifacts"])
	}
	bad := nodes[1].(map[string]any)
	if bad["summary_fields"].(map[string]any)["job"].(map[string]any)["failed"] != true {
		t.Errorf("failed node %v", bad)
	}
	job := c.get(bad["related"].(map[string]any)["job"].(string))
	if job["status"] != "failed" || job["result_traceback"] != "" {
		t.Errorf("job %v", job)
	}
	events := c.get(job["related"].(map[string]any)["job_events"].(string) + "?page_size=200")
	var failed []map[string]any
	for _, e := range events["results"].([]any) {
		if e := e.(map[string]any); e["failed"] == true {
			failed = append(failed, e)
		}
	}
	if len(failed) != 2 { // runner_on_failed and playbook_on_stats
		t.Fatalf("failed events %v", failed)
	}
	ed := failed[0]["event_data"].(map[string]any)
	if failed[0]["event"] != "runner_on_failed" || ed["play"] != "Deploy VM" || ed["task"] != "Create VM" ||
		ed["res"].(map[string]any)["msg"] != "Quota exceeded" {
		t.Errorf("event %v", failed[0])
	}
	if _, ok := failed[1]["event_data"].(map[string]any)["res"]; ok {
		t.Error("stats event has res")
	}
}

func TestJobTemplateLaunchAndStdout(t *testing.T) {
	_, c := start(t, world())
	c.get("job_templates/77/launch/")
	st, j := c.json("POST", "job_templates/77/launch/", map[string]any{"extra_vars": map[string]any{"a": "b"}})
	if st != 201 || j["type"] != "job" || j["job"] != j["id"] || j["status"] != "pending" {
		t.Fatalf("launch %d %v", st, j)
	}
	if l := c.get(fmt.Sprintf("job_templates/77/jobs/?id=%d", num(j["id"]))); l["count"] != 1.0 {
		t.Fatalf("sublist %v", l)
	}
	first := c.get(j["url"].(string))
	if first["status"] != "running" || first["event_processing_finished"] != false {
		t.Errorf("first poll %v %v", first["status"], first["event_processing_finished"])
	}
	done := c.get(j["url"].(string))
	if done["status"] != "failed" || done["failed"] != true || done["event_processing_finished"] != false {
		t.Errorf("second poll %v", done)
	}
	if done = c.get(j["url"].(string)); done["status"] != "failed" || done["event_processing_finished"] != true {
		t.Errorf("third poll %v", done)
	}
	st, h, body := c.do("GET", done["related"].(map[string]any)["stdout"].(string)+"?format=txt_download", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || string(body) != "fatal: boom\n" ||
		h.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="job_%d.txt"`, num(j["id"])) {
		t.Errorf("stdout %d %v %q", st, h, body)
	}
	st, h, body = c.do("GET", done["related"].(map[string]any)["stdout"].(string)+"?format=txt", nil)
	if st != 200 || h.Get("Content-Disposition") != "" || string(body) != "fatal: boom\n" {
		t.Errorf("txt %d %v %q", st, h, body)
	}
	if js := c.get(done["related"].(map[string]any)["stdout"].(string) + "?format=json"); js["content"] != "fatal: boom\n" {
		t.Errorf("json stdout %v", js)
	}
	if tmpl := c.get("job_templates/77/"); tmpl["status"] != "failed" || tmpl["last_job_failed"] != true {
		t.Errorf("template status %v", tmpl["status"])
	}
}

func TestLaunchValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		want   map[string]any
	}{
		{"vars not prompted", "workflow_job_templates/37/launch/", map[string]any{"extra_vars": `{"workflow": "locked", "_broker_origin": "x", "a": "1", "must": "y"}`}, 400,
			map[string]any{"extra_vars": []any{"Variables _broker_origin, workflow are not allowed on launch. Check the Prompt on Launch setting on the Workflow Job Template to include Extra Variables."}}},
		{"survey missing", "workflow_job_templates/37/launch/", map[string]any{}, 400,
			map[string]any{"variables_needed_to_start": []any{"'must' value missing"}}},
		{"inventory not prompted", "workflow_job_templates/35/launch/", map[string]any{"inventory": 7}, 400,
			map[string]any{"inventory": []any{"Field is not configured to prompt on launch."}}},
		{"unknown inventory", "workflow_job_templates/34/launch/", map[string]any{"inventory": 99}, 400,
			map[string]any{"inventory": []any{`Invalid pk "99" - object does not exist.`}}},
		{"hidden inventory", "workflow_job_templates/34/launch/", map[string]any{"inventory_id": 10}, 400,
			map[string]any{"inventory": []any{`Invalid pk "10" - object does not exist.`}}},
		{"inventory by name", "workflow_job_templates/34/launch/", map[string]any{"inventory": "satlab-inv"}, 400,
			map[string]any{"inventory": []any{"Incorrect type. Expected pk value, received str."}}},
		{"unknown label", "workflow_job_templates/34/launch/", map[string]any{"labels": []any{12345}}, 400,
			map[string]any{"labels": []any{`Invalid pk "12345" - object does not exist.`}}},
		{"no start", "workflow_job_templates/39/launch/", map[string]any{}, 403,
			map[string]any{"detail": "You do not have permission to perform this action."}},
		{"unknown template", "workflow_job_templates/999/launch/", map[string]any{}, 404, map[string]any{"detail": "Not found."}},
		{"jt vars not prompted", "job_templates/70/launch/", map[string]any{"inventory": 8}, 400,
			map[string]any{"inventory": []any{"Field is not configured to prompt on launch."}}},
		{"defaults allowed", "workflow_job_templates/37/launch/", map[string]any{"extra_vars": `{"a": "1", "must": "y"}`}, 201, nil},
		{"yaml extra vars", "workflow_job_templates/35/launch/", map[string]any{"extra_vars": "source_vm: vm1\n"}, 201, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := start(t, world())
			st, m := c.json("POST", tc.path, tc.body)
			if st != tc.status {
				t.Fatalf("status %d %v", st, m)
			}
			if tc.want != nil && !reflect.DeepEqual(m, tc.want) {
				t.Errorf("body %v\nwant %v", m, tc.want)
			}
		})
	}
}

func TestFailureInjection(t *testing.T) {
	s, c := start(t, world())
	wj := launch(t, c, 35, map[string]any{"extra_vars": `{"source_vm": "vm1"}`})
	s.Fail("workflow_jobs/", 502, 503, 504)
	var got []int
	for {
		st, _, body := c.do("GET", wj["url"].(string), nil)
		got = append(got, st)
		if st == 200 {
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			if m["status"] != "successful" {
				t.Errorf("status %v", m["status"])
			}
			break
		}
	}
	if !reflect.DeepEqual(got, []int{502, 503, 504, 200}) {
		t.Errorf("statuses %v", got)
	}
	s.Fail("/api/v2/me/", 403)
	if st, m := c.json("GET", "me/", nil); st != 403 || m["detail"] != "You do not have permission to perform this action." {
		t.Errorf("403 injection %d %v", st, m)
	}
	rec := &recorder{}
	s.Fail("jobs/", 500)
	s.Verify(rec)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "unused failure injection") {
		t.Errorf("verify %v", rec.errs)
	}
	c.do("GET", "jobs/", nil) // consume it so cleanup passes
}

type recorder struct{ errs []string }

func (r *recorder) Helper()                      {}
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }

func TestVerifyReportsUnroutedRequests(t *testing.T) {
	s := New(world())
	defer s.Close()
	c := &client{t: t, s: s, auth: "token"}
	c.do("GET", "nowhere/", nil)
	rec := &recorder{}
	s.Verify(rec)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "/api/v2/nowhere/") {
		t.Errorf("verify %v", rec.errs)
	}
}

func TestDurationAndConcurrentLaunches(t *testing.T) {
	cfg := world()
	cfg.Workflows = append(cfg.Workflows, Workflow{ID: 50, Name: "slow", AskVariables: true, Timing: Timing{Duration: time.Minute},
		Nodes: []Node{{JobName: "sleep"}}})
	s, c := start(t, cfg)
	var mu sync.Mutex
	now := time.Date(2025, 5, 8, 14, 3, 11, 482913000, time.UTC)
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			cl := &client{t: t, s: s, auth: "token"}
			_, m := cl.json("POST", "workflow_job_templates/50/launch/", map[string]any{"extra_vars": fmt.Sprintf(`{"n": %d}`, i)})
			ids[i] = m["url"].(string)
		})
		if i == 1 {
			wg.Wait()
			advance(30 * time.Second)
		}
	}
	wg.Wait()
	if d := c.get(ids[0]); d["created"] != "2025-05-08T14:03:11.482913Z" || d["status"] != "running" {
		t.Errorf("first %v %v", d["created"], d["status"])
	}
	advance(45 * time.Second)
	for i, u := range ids {
		want := "successful"
		if i >= 2 {
			want = "running"
		}
		if d := c.get(u); d["status"] != want {
			t.Errorf("launch %d: %v want %s", i, d["status"], want)
		}
	}
	advance(time.Minute)
	for _, u := range ids {
		if d := c.get(u); d["status"] != "successful" || d["elapsed"].(float64) <= 0 {
			t.Errorf("%s: %v elapsed %v", u, d["status"], d["elapsed"])
		}
	}
}

func TestAAP25Paths(t *testing.T) {
	cfg := world()
	cfg.AAP25 = true
	s, c := start(t, cfg)
	if s.Prefix() != "/api/controller/v2/" {
		t.Fatal(s.Prefix())
	}
	tmpl := c.get("workflow_job_templates/?name=deploy-rhel")["results"].([]any)[0].(map[string]any)
	if tmpl["url"] != "/api/controller/v2/workflow_job_templates/34/" ||
		tmpl["related"].(map[string]any)["launch"] != "/api/controller/v2/workflow_job_templates/34/launch/" {
		t.Errorf("links %v", tmpl["related"])
	}
	wj := launch(t, c, 35, map[string]any{"extra_vars": `{"source_vm": "vm1"}`})
	if !strings.HasPrefix(wj["url"].(string), "/api/controller/v2/workflow_jobs/") {
		t.Errorf("url %v", wj["url"])
	}
	d := c.get(wj["url"].(string))
	node := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)[0].(map[string]any)
	if j := node["related"].(map[string]any)["job"].(string); !strings.HasPrefix(j, "/api/controller/v2/jobs/") {
		t.Errorf("job link %v", j)
	}
	// Old paths are not served through the gateway; the test consumes Verify's report itself.
	if st, m := c.json("GET", "/api/v2/ping/", nil); st != 404 || m["detail"] != "Not found." {
		t.Errorf("/api/v2/ping/: %d", st)
	}
	rec := &recorder{}
	s.Verify(rec)
	if len(rec.errs) != 1 {
		t.Errorf("verify %v", rec.errs)
	}
	s.Reset()
}

func TestRecording(t *testing.T) {
	s, c := start(t, world())
	c.get("workflow_job_templates/?name=deploy-rhel&page_size=1000")
	c.json("POST", "labels/", map[string]any{"name": "a", "organization": 3})
	r := s.Requests()
	if len(r) != 2 {
		t.Fatalf("requests %v", r)
	}
	if r[0].Method != "GET" || r[0].Path != "/api/v2/workflow_job_templates/" || r[0].Query.Get("name") != "deploy-rhel" ||
		r[0].Query.Get("page_size") != "1000" || r[0].Auth != "token" || r[0].Status != 200 || !r[0].Routed {
		t.Errorf("first %+v", r[0])
	}
	if !reflect.DeepEqual(r[1].Body, map[string]any{"name": "a", "organization": 3.0}) || r[1].Status != 201 {
		t.Errorf("second %+v", r[1])
	}
	if s.Count("") != 2 || s.Count("labels/") != 1 || s.Counts()["/api/v2/labels/"] != 1 {
		t.Errorf("counts %v", s.Counts())
	}
	s.Reset()
	if len(s.Requests()) != 0 {
		t.Error("reset")
	}
}

func TestTemplateShapes(t *testing.T) {
	_, c := start(t, world())
	w := c.get("workflow_job_templates/34/")
	for k, want := range map[string]any{"type": "workflow_job_template", "extra_vars": `{"deploy_scenario": "baserhel", "deploy_rhel_version": "", "host_type": "host"}`,
		"inventory": 7.0, "organization": 3.0, "ask_variables_on_launch": true, "status": "never updated", "last_job_run": nil} {
		if !reflect.DeepEqual(w[k], want) {
			t.Errorf("%s = %v want %v", k, w[k], want)
		}
	}
	sf := w["summary_fields"].(map[string]any)
	if sf["user_capabilities"].(map[string]any)["start"] != true || sf["organization"].(map[string]any)["name"] != "SatLab" ||
		sf["inventory"].(map[string]any)["name"] != "satlab-inv" {
		t.Errorf("summary %v", sf)
	}
	if ns := c.get("workflow_job_templates/39/")["summary_fields"].(map[string]any)["user_capabilities"].(map[string]any); ns["start"] != false {
		t.Errorf("no-start caps %v", ns)
	}
	if r := c.get("workflow_job_templates/36/"); r["inventory"] != nil {
		t.Errorf("extend-vm inventory %v", r["inventory"])
	}
	if sp := c.get("workflow_job_templates/37/survey_spec/"); sp["spec"].([]any)[0].(map[string]any)["variable"] != "must" {
		t.Errorf("survey %v", sp)
	}
	jt := c.get("job_templates/70/")
	if jt["type"] != "job_template" || jt["playbook"] != "site.yml" || jt["related"].(map[string]any)["jobs"] != "/api/v2/job_templates/70/jobs/" {
		t.Errorf("jt %v", jt)
	}
}

func TestFixtureCheckoutFlow(t *testing.T) {
	for _, aap := range []bool{false, true} {
		t.Run(fmt.Sprint("aap25=", aap), func(t *testing.T) {
			cfg := Fixture()
			cfg.AAP25 = aap
			cfg.T = t
			s := New(cfg)
			c := &client{t: t, s: s, auth: "bearer:fixture-token"}
			tmpl := c.get("workflow_job_templates/?name=deploy-rhel")["results"].([]any)[0].(map[string]any)
			wj := launch(t, c, num(tmpl["id"]), map[string]any{"extra_vars": `{"deploy_rhel_version": "9.7", "_broker_origin": "broker_cli:jdoe"}`, "inventory": 8})
			d := c.get(wj["url"].(string))
			if d["status"] != "successful" {
				t.Fatalf("status %v", d["status"])
			}
			nodes := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)
			last := nodes[len(nodes)-1].(map[string]any)
			job := c.get(last["related"].(map[string]any)["job"].(string))
			if f := job["artifacts"].(map[string]any)["_broker_facts"].(map[string]any); f["fqdn"] != "fake.host.test.com" || f["os_distribution_version"] != "9.4" {
				t.Errorf("facts %v", f)
			}
			hosts := c.get("inventories/8/hosts/?page_size=200")
			if hosts["count"] != 2.0 {
				t.Errorf("hosts after checkout %v", names(hosts))
			}
			for _, name := range []string{"remove-vm", "extend-vm", "deploy-satellite", "list-templates", "list-flavors"} {
				if m := c.get("workflow_job_templates/?name=" + name); m["count"] != 1.0 {
					t.Errorf("%s missing", name)
				}
			}
			if st, _ := c.json("POST", "workflow_job_templates/37/launch/", map[string]any{"extra_vars": `{"x": 1}`}); st != 400 {
				t.Errorf("locked-vars launch %d", st)
			}
		})
	}
}

func TestErrorNodeTraceback(t *testing.T) {
	cfg := world()
	cfg.Workflows = append(cfg.Workflows, Workflow{ID: 60, Name: "errs", AskVariables: true, Nodes: []Node{
		{JobName: "boom", Status: "error", ResultTraceback: "Traceback (most recent call last): ...", JobExplanation: "Job terminated due to error"}}})
	_, c := start(t, cfg)
	wj := launch(t, c, 60, nil)
	d := c.get(wj["url"].(string))
	if d["status"] != "failed" || d["failed"] != true {
		t.Fatalf("workflow %v", d["status"])
	}
	node := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)[0].(map[string]any)
	if sj := node["summary_fields"].(map[string]any)["job"].(map[string]any); sj["status"] != "error" || sj["failed"] != true {
		t.Errorf("summary job %v", sj)
	}
	job := c.get(node["related"].(map[string]any)["job"].(string))
	if job["status"] != "error" || job["result_traceback"] != "Traceback (most recent call last): ..." ||
		job["job_explanation"] != "Job terminated due to error" || job["failed"] != true {
		t.Errorf("job %v", job)
	}
	if _, ok := c.get(fmt.Sprintf("jobs/?id=%d", num(job["id"])))["results"].([]any)[0].(map[string]any)["result_traceback"]; ok {
		t.Error("list item has result_traceback")
	}
}

func TestNestedWorkflow(t *testing.T) {
	cfg := world()
	cfg.Workflows = append(cfg.Workflows,
		Workflow{ID: 61, Name: "inner", AskVariables: true, Nodes: []Node{{JobName: "inner-job", Artifacts: map[string]any{"fqdn": "in.example.com"}}}},
		Workflow{ID: 62, Name: "outer", AskVariables: true, Timing: Timing{PendingPolls: 1},
			Nodes: []Node{{JobName: "first"}, {Workflow: 61}}})
	_, c := start(t, cfg)
	wj := launch(t, c, 62, map[string]any{"extra_vars": `{"a": 1}`})
	d := c.get(wj["url"].(string))
	if d["status"] != "pending" {
		t.Fatalf("status %v", d["status"])
	}
	nodes := c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)
	if _, ok := nodes[1].(map[string]any)["summary_fields"].(map[string]any)["job"]; ok {
		t.Error("nested job visible while pending")
	}
	if d = c.get(wj["url"].(string)); d["status"] != "successful" {
		t.Fatalf("status %v", d["status"])
	}
	nodes = c.get(d["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)
	n := nodes[1].(map[string]any)
	sj := n["summary_fields"].(map[string]any)["job"].(map[string]any)
	if sj["type"] != "workflow_job" || sj["name"] != "inner" || sj["status"] != "successful" {
		t.Fatalf("nested summary %v", sj)
	}
	child := c.get(n["related"].(map[string]any)["job"].(string))
	if child["type"] != "workflow_job" || child["launch_type"] != "workflow" {
		t.Errorf("child %v", child)
	}
	in := c.get(child["related"].(map[string]any)["workflow_nodes"].(string))["results"].([]any)[0].(map[string]any)
	job := c.get(in["related"].(map[string]any)["job"].(string))
	if job["artifacts"].(map[string]any)["fqdn"] != "in.example.com" {
		t.Errorf("inner artifacts %v", job["artifacts"])
	}
}
