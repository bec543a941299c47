// Package awxfake is an HTTP test double of the AWX / Tower / AAP controller REST API (v2), limited to
// what broker's AnsibleTower provider uses (the contract is /work/shared/reference/awx-api.md). It is
// an httptest.Server over a small in-memory world: users, organizations, inventories with hosts
// (variables and ansible_facts), workflow job templates, job templates, labels and tokens.
//
// Served (P is /api/v2/, or /api/controller/v2/ with Config.AAP25):
//
//	GET  /api/ (gateway document without available_versions under AAP25), /api/controller/ (AAP25)
//	GET|POST <root>login/ (session login: form post, 302, awx_sessionid cookie)
//	GET  P, P ping/ (anonymous), P me/ (one-item list)
//	GET  P users/[<id|username>/]; GET|POST P users/<u>/personal_tokens/; GET P tokens/[<id>/]; DELETE P tokens/<id>/
//	GET  P organizations/[<id>/], P inventories/[<id>/], P inventories/<id>/hosts/, P hosts/[<id>/],
//	     P hosts/<id>/ansible_facts/ (bare object), P hosts/<id>/variable_data/
//	GET|POST P labels/; GET P labels/<id>/
//	GET  P workflow_job_templates/[<id>/], <id>/survey_spec/, <id>/workflow_jobs/; GET|POST <id>/launch/
//	GET  P job_templates/[<id>/], <id>/survey_spec/, <id>/jobs/; GET|POST <id>/launch/
//	GET  P workflow_jobs/[<id>/], <id>/workflow_nodes/; P workflow_job_nodes/[<id>/]
//	GET  P jobs/[<id>/], <id>/job_events/, <id>/stdout/?format=txt|txt_download|ansi|json|html
//
// Every list has AWX's envelope, page/page_size (default 25, max 200, "Invalid page." 404), the
// filters field=, field__<lookup>= (iexact contains icontains startswith istartswith endswith
// iendswith regex iregex gt gte lt lte isnull in), relation paths through summary_fields
// (organization__name=), not__ and or__ prefixes, search= and order_by=. Launches are validated like
// AWX (prompts, survey, unknown or mistyped inventory and labels, start permission) and their status
// moves pending → waiting → running → final over detail polls, or over wall-clock time (Timing).
// Every request is recorded (Requests, Count, Counts); Fail injects transient statuses; Verify (run
// automatically at cleanup when Config.T is set) reports unconsumed injections and unrouted requests.
//
// Not modelled: cancel, relaunch, schedules, approvals, project and inventory updates, sliced job
// templates, workflow node branching (all nodes run; a run workflow fails when any node does),
// RBAC beyond Hidden inventories and CannotStart templates, CSRF checks, gateway tokens
// (/api/gateway/v1/tokens/ is a deliberate 404), and YAML beyond flat "key: value" mappings.
package awxfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes the controller and its initial world.
type Config struct {
	AAP25              bool   // serve under /api/controller/v2/ with the gateway /api/ document; else /api/v2/
	Token              string // accepted Bearer token, for Username or else the first user ("" = none)
	Username, Password string // a user accepted by Basic auth and /api/login/ ("" = none)
	DisableTokens      bool   // users/<u>/personal_tokens/ and tokens/ answer 404 (controllers after 24.6.1)
	Version            string // ping version; default "4.6.15"

	Users         []User
	Organizations []Organization
	Inventories   []Inventory
	Hosts         []Host
	Workflows     []Workflow
	JobTemplates  []JobTemplate
	Labels        []Label

	// T, when set, gets t.Cleanup(s.Close) and a Verify at cleanup.
	T TB
}

// Reporter is the part of testing.TB that Verify uses.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// TB is the part of testing.TB the server uses.
type TB interface {
	Reporter
	Cleanup(func())
}

// Request is one recorded request.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   any    // decoded JSON, url.Values for forms, string otherwise, nil when empty
	Auth   string // "token", "basic", "session" or "none" (what authenticated the caller)
	Header http.Header
	Status int  // the status the double answered
	Routed bool // false when no endpoint matched (404)
}

type failure struct {
	prefix   string
	statuses []int
}

// Server is a running double. URL is its base URL (no trailing slash).
type Server struct {
	URL string

	cfg  Config
	srv  *httptest.Server
	mu   sync.Mutex
	now  func() time.Time
	reqs []Request
	fail []*failure

	root   string // "/api/" or "/api/controller/"
	prefix string // root + "v2/"

	nextID   map[string]int
	users    []*User
	orgs     []*Organization
	invs     []*Inventory
	hosts    []*Host
	wfts     []*Workflow
	jts      []*JobTemplate
	labels   []*Label
	tokens   []*token
	sessions map[string]int // session id → user id
	wjobs    []*workflowJob
	jobs     []*job
	nodes    []*nodeRec
	created  time.Time
}

type token struct {
	id          int
	user        int
	value       string
	description string
	scope       string
	created     time.Time
}

// New starts the double.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, now: time.Now, sessions: map[string]int{}, created: time.Now().Add(-24 * time.Hour)}
	s.nextID = map[string]int{"user": 41, "organization": 2, "inventory": 6, "host": 54, "wft": 33, "jt": 69,
		"label": 100, "token": 6, "unified_job": 3863900, "node": 2528148, "event": 990}
	s.root = "/api/"
	if cfg.AAP25 {
		s.root = "/api/controller/"
	}
	s.prefix = s.root + "v2/"
	if cfg.Version == "" {
		s.cfg.Version = "4.6.15"
	}
	for _, o := range cfg.Organizations {
		s.AddOrganization(o)
	}
	if len(s.orgs) == 0 {
		s.AddOrganization(Organization{ID: 1, Name: "Default"})
	}
	for _, u := range cfg.Users {
		s.AddUser(u)
	}
	if cfg.Username != "" && s.userByName(cfg.Username) == nil {
		s.AddUser(User{Username: cfg.Username, Password: cfg.Password})
	}
	if len(s.users) == 0 {
		s.AddUser(User{ID: 42, Username: "jdoe"})
	}
	for _, i := range cfg.Inventories {
		s.AddInventory(i)
	}
	for _, h := range cfg.Hosts {
		s.AddHost(h)
	}
	for _, l := range cfg.Labels {
		s.AddLabel(l)
	}
	for _, j := range cfg.JobTemplates {
		s.AddJobTemplate(j)
	}
	for _, w := range cfg.Workflows {
		s.AddWorkflow(w)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	if cfg.T != nil {
		cfg.T.Cleanup(func() {
			s.Close()
			s.Verify(cfg.T)
		})
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Prefix returns the controller API prefix P ("/api/v2/" or "/api/controller/v2/").
func (s *Server) Prefix() string { return s.prefix }

// SetClock replaces the clock used for timestamps and Duration timings.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func (s *Server) id(kind string, want int) int {
	if want != 0 {
		if want > s.nextID[kind] {
			s.nextID[kind] = want
		}
		return want
	}
	s.nextID[kind]++
	return s.nextID[kind]
}

// AddOrganization adds an organization and returns its id.
func (s *Server) AddOrganization(o Organization) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	o.ID = s.id("organization", o.ID)
	s.orgs = append(s.orgs, &o)
	return o.ID
}

// AddUser adds a user and returns its id.
func (s *Server) AddUser(u User) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u.ID = s.id("user", u.ID)
	s.users = append(s.users, &u)
	return u.ID
}

// AddInventory adds an inventory and returns its id.
func (s *Server) AddInventory(i Inventory) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	i.ID = s.id("inventory", i.ID)
	if i.Organization == 0 {
		i.Organization = s.orgs[0].ID
	}
	s.invs = append(s.invs, &i)
	return i.ID
}

// AddHost adds a host and returns its id.
func (s *Server) AddHost(h Host) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addHost(h)
}

func (s *Server) addHost(h Host) int {
	h.ID = s.id("host", h.ID)
	s.hosts = append(s.hosts, &h)
	return h.ID
}

// AddLabel adds a label and returns its id.
func (s *Server) AddLabel(l Label) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.ID = s.id("label", l.ID)
	if l.Organization == 0 {
		l.Organization = s.orgs[0].ID
	}
	s.labels = append(s.labels, &l)
	return l.ID
}

// AddWorkflow adds a workflow job template and returns its id.
func (s *Server) AddWorkflow(w Workflow) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.ID = s.id("wft", w.ID)
	if w.Organization == 0 {
		w.Organization = s.orgs[0].ID
	}
	s.wfts = append(s.wfts, &w)
	return w.ID
}

// AddJobTemplate adds a job template and returns its id.
func (s *Server) AddJobTemplate(j JobTemplate) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.ID = s.id("jt", j.ID)
	if j.Organization == 0 {
		j.Organization = s.orgs[0].ID
	}
	if j.Playbook == "" {
		j.Playbook = "site.yml"
	}
	s.jts = append(s.jts, &j)
	return j.ID
}

// Fail makes the next len(statuses) requests whose path starts with prefix answer those statuses, in
// order. A prefix not starting with "/api/" is relative to the API prefix P (e.g. "workflow_jobs/").
func (s *Server) Fail(prefix string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(prefix, "/api/") {
		prefix = s.prefix + strings.TrimPrefix(prefix, "/")
	}
	s.fail = append(s.fail, &failure{prefix: prefix, statuses: statuses})
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the recorded requests (the world is kept).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// Count returns how many recorded requests have a path starting with prefix (relative to P unless it
// starts with "/api/"); "" counts them all.
func (s *Server) Count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prefix != "" && !strings.HasPrefix(prefix, "/api/") {
		prefix = s.prefix + prefix
	}
	n := 0
	for _, r := range s.reqs {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// Counts returns the number of requests per exact path.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, r := range s.reqs {
		m[r.Path]++
	}
	return m
}

// Verify reports injected failures that were never served and requests that matched no endpoint.
func (s *Server) Verify(t Reporter) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fail {
		if len(f.statuses) > 0 {
			t.Errorf("awxfake: unused failure injection for %s: %v", f.prefix, f.statuses)
		}
	}
	for _, r := range s.reqs {
		if !r.Routed {
			t.Errorf("awxfake: unexpected request %s %s", r.Method, r.Path)
		}
	}
}

// ---- HTTP plumbing ----

type apiError struct {
	status int
	body   any
}

var (
	errUnauth = &apiError{401, map[string]any{"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}}
	errForbid = &apiError{403, map[string]any{"detail": "You do not have permission to perform this action."}}
	errNotFnd = &apiError{404, map[string]any{"detail": "Not found."}}
	errPage   = &apiError{404, map[string]any{"detail": "Invalid page."}}
)

func badRequest(body any) *apiError { return &apiError{400, body} }

func methodNotAllowed(m string) *apiError {
	return &apiError{405, map[string]any{"detail": fmt.Sprintf("Method %q not allowed.", m)}}
}

// call is one request in flight.
type call struct {
	r      *http.Request
	w      http.ResponseWriter
	path   string // relative to P, e.g. "jobs/5/"
	query  url.Values
	body   any
	raw    []byte
	user   *User
	auth   string
	routed bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := &call{r: r, w: w, query: r.URL.Query(), raw: raw}
	c.body = decodeBody(r, raw)
	w.Header().Set("X-API-Product-Name", "AWX")
	s.mu.Lock()
	defer s.mu.Unlock()
	c.user, c.auth = s.authenticate(r)
	w.Header().Set("X-API-Product-Version", s.cfg.Version)
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: c.query, Body: c.body, Auth: c.auth, Header: r.Header.Clone(), Routed: true}
	status := s.injected(r.URL.Path)
	if status == 0 {
		s.tick()
		var status2 int
		status2, c.routed = s.dispatch(c)
		status = status2
		rec.Routed = c.routed
	} else {
		writeInjected(w, status)
	}
	rec.Status = status
	s.reqs = append(s.reqs, rec)
}

func decodeBody(r *http.Request, raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(raw))
		if err == nil {
			return v
		}
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		return v
	}
	return string(raw)
}

func (s *Server) injected(path string) int {
	for _, f := range s.fail {
		if len(f.statuses) > 0 && strings.HasPrefix(path, f.prefix) {
			st := f.statuses[0]
			f.statuses = f.statuses[1:]
			return st
		}
	}
	return 0
}

func writeInjected(w http.ResponseWriter, status int) {
	switch status {
	case 401:
		writeJSON(w, status, errUnauth.body)
	case 403:
		writeJSON(w, status, errForbid.body)
	case 404:
		writeJSON(w, status, errNotFnd.body)
	case 500:
		writeJSON(w, status, map[string]any{"detail": "A server error has occurred."})
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authenticate(r *http.Request) (*User, string) {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		if s.cfg.Token != "" && tok == s.cfg.Token {
			if u := s.userByName(s.cfg.Username); u != nil {
				return u, "token"
			}
			return s.users[0], "token"
		}
		for _, t := range s.tokens {
			if t.value == tok {
				return s.userByID(t.user), "token"
			}
		}
	}
	if b, ok := strings.CutPrefix(h, "Basic "); ok {
		if dec, err := base64.StdEncoding.DecodeString(b); err == nil {
			name, pw, _ := strings.Cut(string(dec), ":")
			if u := s.userByName(name); u != nil && u.Password != "" && u.Password == pw {
				return u, "basic"
			}
		}
	}
	for _, name := range []string{"awx_sessionid", "sessionid"} {
		if ck, err := r.Cookie(name); err == nil {
			if uid, ok := s.sessions[ck.Value]; ok {
				return s.userByID(uid), "session"
			}
		}
	}
	return nil, "none"
}

func (s *Server) userByName(n string) *User {
	for _, u := range s.users {
		if u.Username == n {
			return u
		}
	}
	return nil
}

func (s *Server) userByID(id int) *User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// dispatch routes a request and writes the response; it returns the status and whether a route matched.
func (s *Server) dispatch(c *call) (int, bool) {
	p := c.r.URL.Path
	var (
		v   any
		st  = 200
		err *apiError
	)
	c.routed = true
	switch {
	case p == "/api/":
		http.SetCookie(c.w, &http.Cookie{Name: "csrftoken", Value: "fakecsrf", Path: "/"})
		if s.cfg.AAP25 {
			v = map[string]any{"apis": map[string]any{"gateway": "/api/gateway/", "controller": "/api/controller/"}}
		} else {
			v = s.rootDoc()
		}
	case s.cfg.AAP25 && p == "/api/controller/":
		http.SetCookie(c.w, &http.Cookie{Name: "csrftoken", Value: "fakecsrf", Path: "/"})
		v = s.rootDoc()
	case p == s.root+"login/":
		return s.login(c), true
	case p == "/api/gateway/v1/tokens/":
		// Newer awxkit tries gateway tokens first and falls back on 404: a known, deliberate 404.
		err = errNotFnd
	case strings.HasPrefix(p, s.prefix):
		c.path = strings.TrimPrefix(p, s.prefix)
		if c.path != "" && c.path != "ping/" && c.user == nil {
			err = errUnauth
			break
		}
		v, st, err = s.route(c)
	default:
		c.routed = false
		err = errNotFnd
	}
	if err == nil && c.r.Method != http.MethodGet && (p == "/api/" || (s.cfg.AAP25 && p == "/api/controller/")) {
		err = methodNotAllowed(c.r.Method)
	}
	if err != nil {
		if err.status == 401 {
			c.w.Header().Set("WWW-Authenticate", "Bearer realm=api authorization_url=/api/o/authorize/")
		}
		writeJSON(c.w, err.status, err.body)
		return err.status, c.routed
	}
	if st == -1 { // handler wrote the response itself
		return 200, c.routed
	}
	if st == http.StatusNoContent {
		c.w.WriteHeader(st)
		return st, c.routed
	}
	writeJSON(c.w, st, v)
	return st, c.routed
}

func (s *Server) rootDoc() map[string]any {
	d := map[string]any{"description": "AWX REST API", "current_version": s.prefix,
		"available_versions": map[string]any{"v2": s.prefix}, "custom_logo": "", "custom_login_info": "",
		"login_redirect_override": ""}
	if !s.cfg.AAP25 {
		d["oauth2"] = "/api/o/"
	}
	return d
}

func (s *Server) login(c *call) int {
	switch c.r.Method {
	case http.MethodGet:
		c.w.Header().Set("Content-Type", "text/html")
		c.w.WriteHeader(200)
		_, _ = io.WriteString(c.w, "<html><body>login</body></html>\n")
		return 200
	case http.MethodPost:
	default:
		writeJSON(c.w, 405, methodNotAllowed(c.r.Method).body)
		return 405
	}
	form, _ := c.body.(url.Values)
	u := s.userByName(form.Get("username"))
	if u == nil || u.Password == "" || u.Password != form.Get("password") {
		c.w.Header().Set("Content-Type", "text/html")
		c.w.WriteHeader(200) // Django re-renders the form
		_, _ = io.WriteString(c.w, "<html><body>Please enter a correct username and password.</body></html>\n")
		return 200
	}
	sid := fmt.Sprintf("sess%d%d", u.ID, len(s.sessions)+1)
	s.sessions[sid] = u.ID
	next := form.Get("next")
	if next == "" {
		next = s.root
	}
	c.w.Header().Set("X-API-Session-Cookie-Name", "awx_sessionid")
	http.SetCookie(c.w, &http.Cookie{Name: "awx_sessionid", Value: sid, Path: "/", HttpOnly: true})
	c.w.Header().Set("Location", next)
	c.w.WriteHeader(http.StatusFound)
	return http.StatusFound
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func (s *Server) link(format string, args ...any) string {
	return s.prefix + fmt.Sprintf(format, args...)
}

// idOrNil returns nil for 0.
func idOrNil(id int) any {
	if id == 0 {
		return nil
	}
	return id
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func itoa(n int) string { return strconv.Itoa(n) }
