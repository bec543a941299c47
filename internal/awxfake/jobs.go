package awxfake

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// run is the shared timeline of a launched unified job.
type run struct {
	created  time.Time
	started  time.Time
	finished time.Time
	polls    int
	timing   Timing
	final    string
}

func (s *Server) status(r *run) string {
	if r.timing.Duration > 0 {
		if s.now().Sub(r.created) < r.timing.Duration {
			return "running"
		}
		return r.final
	}
	n := r.polls
	t := r.timing
	switch {
	case n <= t.PendingPolls:
		return "pending"
	case n <= t.PendingPolls+t.WaitingPolls:
		return "waiting"
	case n <= t.PendingPolls+t.WaitingPolls+t.RunningPolls:
		return "running"
	}
	return r.final
}

// eventsDone reports whether a finished job's events are processed (see Timing.EventLagPolls).
func (s *Server) eventsDone(j *job) bool {
	t := j.own.timing
	if j.parent != nil || t.Duration > 0 || t.EventLagPolls == 0 {
		return true
	}
	return j.own.polls > t.PendingPolls+t.WaitingPolls+t.RunningPolls+t.EventLagPolls
}

func terminal(st string) bool {
	return st == "successful" || st == "failed" || st == "error" || st == "canceled"
}

type workflowJob struct {
	id        int
	tmpl      *Workflow
	run       run
	extraVars string
	inventory int
	labels    []int
	user      int
	done      bool
	nodes     []*nodeRec
	parent    *workflowJob // set for a nested workflow job
}

// wjStatus is a workflow job's status; a nested one follows its parent until the parent finishes.
func (s *Server) wjStatus(wj *workflowJob) string {
	if wj.parent == nil {
		return s.status(&wj.run)
	}
	ps := s.wjStatus(wj.parent)
	if terminal(ps) {
		return wj.run.final
	}
	return ps
}

// wjVisible reports whether a workflow job exists yet (a nested one once its parent runs).
func (s *Server) wjVisible(wj *workflowJob) bool {
	if wj == nil {
		return false
	}
	if wj.parent == nil {
		return true
	}
	st := s.wjStatus(wj.parent)
	return st == "running" || terminal(st)
}

type job struct {
	id        int
	name      string
	jt        int
	parent    *workflowJob // nil for a job launched from a job template
	own       run          // used when parent is nil
	spec      Node
	extraVars string
	inventory int
	labels    []int
	user      int
	events    []map[string]any
}

type nodeRec struct {
	id    int
	wj    *workflowJob
	spec  Node
	job   *job         // nil when DoNotRun or nested
	child *workflowJob // a nested workflow job
	jt    int
	wft   int // the nested workflow's template
}

// jobStatus is the status of a job: standalone jobs follow their own run, node jobs their workflow.
func (s *Server) jobStatus(j *job) string {
	if j.parent == nil {
		return s.status(&j.own)
	}
	ws := s.wjStatus(j.parent)
	if terminal(ws) {
		return finalOf(j.spec.Status)
	}
	return ws
}

func finalOf(st string) string {
	if st == "" {
		return "successful"
	}
	return st
}

// visible reports whether a node's job exists yet (the workflow has left pending/waiting).
func (s *Server) visible(j *job) bool {
	if j == nil {
		return false
	}
	if j.parent == nil {
		return true
	}
	st := s.wjStatus(j.parent)
	return st == "running" || terminal(st)
}

// tick completes jobs whose final status is now due.
func (s *Server) tick() {
	now := s.now()
	for _, wj := range s.wjobs {
		st := s.wjStatus(wj)
		if wj.run.started.IsZero() && (st == "running" || terminal(st)) {
			wj.run.started = now
		}
		if !wj.done && terminal(st) {
			wj.done = true
			wj.run.finished = now
			if st == "successful" {
				for _, h := range wj.tmpl.CreatesHosts {
					if h.Inventory == 0 {
						h.Inventory = wj.inventory
					}
					h.ID = 0
					s.addHost(h)
				}
			}
		}
	}
	for _, j := range s.jobs {
		if j.parent != nil {
			continue
		}
		r := &j.own
		st := s.status(r)
		if r.started.IsZero() && (st == "running" || terminal(st)) {
			r.started = now
		}
		if r.finished.IsZero() && terminal(st) {
			r.finished = now
		}
	}
}

// launchBody is what a launch POST carries, validated against a template's prompts.
type launchTarget struct {
	kind         string // "Workflow Job Template" or "Job Template"
	extraVars    string
	inventory    int
	organization int
	askVars      bool
	askInv       bool
	askLabels    bool
	survey       []SurveyQuestion
	needsInv     bool
}

// validateLaunch checks a launch body as AWX's _accept_or_ignore_job_kwargs does.
// It returns the extra vars text, the inventory and the labels to use.
func (s *Server) validateLaunch(body any, t launchTarget) (string, int, []int, *apiError) {
	m, ok := body.(map[string]any)
	if body == nil {
		m, ok = map[string]any{}, true
	}
	if !ok {
		return "", 0, nil, badRequest(map[string]any{"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"})
	}
	errs := map[string]any{}
	inv := t.inventory
	var labels []int
	// extra_vars
	vars := map[string]any{}
	switch ev := m["extra_vars"].(type) {
	case nil:
	case string:
		if strings.TrimSpace(ev) != "" {
			p, err := parseVars(ev)
			if err != nil {
				errs["extra_vars"] = []any{"Cannot parse as JSON (error: " + err.Error() + ") or YAML (error: invalid YAML)."}
			}
			vars = p
		}
	case map[string]any:
		vars = ev
	default:
		errs["extra_vars"] = []any{"Must be a valid JSON or YAML dictionary."}
	}
	defaults, _ := parseVars(t.extraVars)
	if len(vars) > 0 && !t.askVars {
		var bad []string
		inSurvey := map[string]bool{}
		for _, q := range t.survey {
			inSurvey[q.Variable] = true
		}
		for k, v := range vars {
			if d, ok := defaults[k]; ok && jsonEqual(d, v) {
				continue
			}
			if inSurvey[k] {
				continue
			}
			bad = append(bad, k)
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			errs["extra_vars"] = []any{fmt.Sprintf("Variables %s are not allowed on launch. Check the Prompt on Launch setting on the %s to include Extra Variables.", strings.Join(bad, ", "), t.kind)}
		}
	}
	var missing []any
	for _, q := range t.survey {
		if !q.Required || q.Default != "" {
			continue
		}
		if v, ok := vars[q.Variable]; !ok || v == "" {
			missing = append(missing, fmt.Sprintf("'%s' value missing", q.Variable))
		}
	}
	if len(missing) > 0 {
		errs["variables_needed_to_start"] = missing
	}
	// inventory
	iv, has := m["inventory"]
	if !has {
		iv, has = m["inventory_id"]
	}
	if has && iv != nil {
		switch x := iv.(type) {
		case float64:
			id := int(x)
			i := s.inventory(id)
			switch {
			case i == nil || i.Hidden:
				errs["inventory"] = []any{fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", id)}
			case !t.askInv && id != t.inventory:
				errs["inventory"] = []any{"Field is not configured to prompt on launch."}
			default:
				inv = id
			}
		default:
			errs["inventory"] = []any{fmt.Sprintf("Incorrect type. Expected pk value, received %s.", pyType(x))}
		}
	}
	if t.needsInv && inv == 0 && errs["inventory"] == nil {
		errs["inventory"] = []any{"Job Template 'inventory' is missing or undefined."}
	}
	// labels
	if lv, ok := m["labels"]; ok && lv != nil {
		list, ok := lv.([]any)
		if !ok {
			errs["labels"] = []any{fmt.Sprintf("Expected a list of items but got type \"%s\".", pyType(lv))}
		}
		for _, x := range list {
			f, ok := x.(float64)
			if !ok {
				errs["labels"] = []any{fmt.Sprintf("Incorrect type. Expected pk value, received %s.", pyType(x))}
				break
			}
			if s.label(int(f)) == nil {
				errs["labels"] = []any{fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", int(f))}
				break
			}
			labels = append(labels, int(f))
		}
		if errs["labels"] == nil && len(labels) > 0 && !t.askLabels {
			errs["labels"] = []any{"Field is not configured to prompt on launch."}
		}
	}
	if len(errs) > 0 {
		return "", 0, nil, badRequest(errs)
	}
	merged := map[string]any{}
	for k, v := range defaults {
		merged[k] = v
	}
	for k, v := range vars {
		merged[k] = v
	}
	out, _ := json.Marshal(merged)
	return string(out), inv, labels, nil
}

func pyType(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case float64:
		return "int"
	}
	return "NoneType"
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// parseVars parses JSON, or a flat "key: value" YAML mapping (the only YAML the double understands).
func parseVars(text string) (map[string]any, error) {
	out := map[string]any{}
	text = strings.TrimSpace(text)
	if text == "" || text == "---" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(text), &out); err == nil {
		return out, nil
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") || line == "---" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			return nil, fmt.Errorf("unsupported YAML line %q", line)
		}
		v = strings.TrimSpace(v)
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			out[strings.TrimSpace(k)] = x
			continue
		}
		out[strings.TrimSpace(k)] = strings.Trim(v, `'`)
	}
	return out, nil
}

func (s *Server) launchWorkflow(c *call, w *Workflow) (any, int, *apiError) {
	if w.CannotStart {
		return nil, 0, errForbid
	}
	ev, inv, labels, err := s.validateLaunch(c.body, launchTarget{kind: "Workflow Job Template", extraVars: w.ExtraVars,
		inventory: w.Inventory, askVars: w.AskVariables, askInv: w.AskInventory, askLabels: w.AskLabels, survey: w.Survey})
	if err != nil {
		return nil, 0, err
	}
	wj := s.spawn(w, nil, ev, inv, labels, c.user.ID, 0)
	out := s.workflowJobJSON(wj, true)
	out["status"] = "pending"
	out["workflow_job"] = wj.id
	out["ignored_fields"] = map[string]any{}
	c.w.Header().Set("Location", s.link("workflow_jobs/%d/", wj.id))
	return out, 201, nil
}

// finalStatus is a workflow's final status: its Status, else failed when a run node does not succeed.
func (s *Server) finalStatus(w *Workflow, depth int) string {
	if w.Status != "" {
		return w.Status
	}
	for _, n := range w.Nodes {
		if n.DoNotRun {
			continue
		}
		st := finalOf(n.Status)
		if n.Workflow != 0 {
			if cw := s.workflow(n.Workflow); cw != nil && depth < maxDepth {
				st = s.finalStatus(cw, depth+1)
			}
		}
		if st != "successful" {
			return "failed"
		}
	}
	return "successful"
}

const maxDepth = 5

// spawn creates a workflow job with its nodes and their jobs (nested workflows recursively).
func (s *Server) spawn(w *Workflow, parent *workflowJob, ev string, inv int, labels []int, user, depth int) *workflowJob {
	wj := &workflowJob{id: s.id("unified_job", 0), tmpl: w, extraVars: ev, inventory: inv, labels: labels, user: user,
		parent: parent, run: run{created: s.now(), timing: w.Timing, final: s.finalStatus(w, depth)}}
	s.wjobs = append(s.wjobs, wj)
	for _, n := range w.Nodes {
		nr := &nodeRec{id: s.id("node", 0), wj: wj, spec: n, jt: s.nodeTemplate(n)}
		switch cw := s.workflow(n.Workflow); {
		case n.DoNotRun:
		case n.Workflow != 0 && cw != nil && depth < maxDepth:
			nr.jt, nr.wft = 0, cw.ID
			nr.child = s.spawn(cw, wj, ev, inv, nil, user, depth+1)
		default:
			name := n.JobName
			if name == "" {
				if jt := s.jobTemplate(nr.jt); jt != nil {
					name = jt.Name
				}
			}
			j := &job{id: s.id("unified_job", 0), name: name, jt: nr.jt, parent: wj, spec: n, extraVars: ev, inventory: inv, user: user}
			s.jobs = append(s.jobs, j)
			nr.job = j
		}
		wj.nodes = append(wj.nodes, nr)
		s.nodes = append(s.nodes, nr)
	}
	return wj
}

func (s *Server) nodeTemplate(n Node) int {
	if n.JobTemplate != 0 {
		return n.JobTemplate
	}
	for _, jt := range s.jts {
		if jt.Name == n.JobName && n.JobName != "" {
			return jt.ID
		}
	}
	return 0
}

func (s *Server) launchJob(c *call, t *JobTemplate) (any, int, *apiError) {
	if t.CannotStart {
		return nil, 0, errForbid
	}
	ev, inv, labels, err := s.validateLaunch(c.body, launchTarget{kind: "Job Template", extraVars: t.ExtraVars,
		inventory: t.Inventory, askVars: t.AskVariables, askInv: t.AskInventory, askLabels: t.AskLabels, survey: t.Survey, needsInv: true})
	if err != nil {
		return nil, 0, err
	}
	name := t.Job.JobName
	if name == "" {
		name = t.Name
	}
	j := &job{id: s.id("unified_job", 0), name: name, jt: t.ID, spec: t.Job, extraVars: ev, inventory: inv, labels: labels,
		user: c.user.ID, own: run{created: s.now(), timing: t.Timing, final: finalOf(t.Job.Status)}}
	s.jobs = append(s.jobs, j)
	out := s.jobJSON(j, true)
	out["status"] = "pending"
	out["job"] = j.id
	out["ignored_fields"] = map[string]any{}
	c.w.Header().Set("Location", s.link("jobs/%d/", j.id))
	return out, 201, nil
}

// jobEvents builds the events of a finished job: start, failed tasks, stats.
func (s *Server) jobEvents(j *job) []map[string]any {
	st := s.jobStatus(j)
	if !s.visible(j) || !terminal(st) {
		return nil
	}
	if j.events != nil {
		return j.events
	}
	created := j.created()
	line := 0
	mk := func(event string, failed bool, data map[string]any, play, task, stdout string, host string) {
		id := s.id("event", 0)
		ev := map[string]any{"id": id, "type": "job_event", "url": s.link("job_events/%d/", id),
			"related":        map[string]any{"job": s.link("jobs/%d/", j.id), "children": s.link("job_events/%d/children/", id)},
			"summary_fields": map[string]any{"job": map[string]any{"id": j.id, "name": j.name, "status": st, "failed": failedOf(st), "type": "job"}},
			"created":        ts(created), "modified": ts(created), "job": j.id, "event": event, "counter": len(j.events) + 1,
			"event_display": eventDisplay(event), "event_level": 3, "failed": failed, "changed": false,
			"uuid": fmt.Sprintf("00000000-0000-4000-8000-%012d", id), "parent_uuid": "", "host": nil, "host_name": host,
			"playbook": "site.yml", "play": play, "task": task, "role": "", "stdout": stdout,
			"start_line": line, "end_line": line + 1, "verbosity": 0, "event_data": data}
		line++
		j.events = append(j.events, ev)
	}
	j.events = []map[string]any{}
	mk("playbook_on_start", false, map[string]any{"playbook": "site.yml"}, "", "", "", "")
	for _, fe := range j.spec.FailedEvents {
		name := fe.Event
		if name == "" {
			name = "runner_on_failed"
		}
		host := fe.Host
		if host == "" {
			host = "localhost"
		}
		failed := !fe.IgnoreErrors && map[string]bool{"runner_on_failed": true, "runner_on_error": true, "runner_on_unreachable": true,
			"runner_on_async_failed": true, "runner_item_on_failed": true, "error": true}[name]
		mk(name, failed, map[string]any{"play": fe.Play, "task": fe.Task, "host": host, "ignore_errors": fe.IgnoreErrors,
			"res": map[string]any{"msg": fe.Msg, "changed": false}}, fe.Play, fe.Task, "fatal: ["+host+"]: FAILED! => "+fe.Msg, host)
	}
	mk("playbook_on_stats", st != "successful", map[string]any{"artifact_data": j.artifacts()}, "", "", "", "")
	return j.events
}

func eventDisplay(e string) string {
	switch e {
	case "runner_on_failed":
		return "Host Failed"
	case "runner_on_unreachable":
		return "Host Unreachable"
	case "playbook_on_stats":
		return "Playbook Complete"
	case "playbook_on_start":
		return "Playbook Started"
	}
	return e
}

func failedOf(st string) bool { return st == "failed" || st == "error" || st == "canceled" }

func (j *job) created() time.Time {
	if j.parent != nil {
		return j.parent.run.created
	}
	return j.own.created
}

func (j *job) artifacts() any {
	if j.spec.Artifacts == nil {
		return map[string]any{}
	}
	return j.spec.Artifacts
}

func (j *job) stdout() string {
	if j.spec.Stdout != "" {
		return j.spec.Stdout
	}
	var b strings.Builder
	b.WriteString("PLAY [all] *********\n")
	for _, e := range j.spec.FailedEvents {
		fmt.Fprintf(&b, "TASK [%s] *********\nfatal: [localhost]: FAILED! => {\"msg\": %q}\n", e.Task, e.Msg)
	}
	return b.String()
}
