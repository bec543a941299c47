package awxfake

import (
	"fmt"
	"net/http"
	"strings"
)

var capsTemplate = map[string]any{"edit": false, "delete": false, "start": true, "schedule": false, "copy": false}

// route serves a path under P. It returns the body, the status (-1 when the handler wrote the response)
// and an error response.
func (s *Server) route(c *call) (any, int, *apiError) {
	seg := strings.Split(strings.TrimSuffix(c.path, "/"), "/")
	if !strings.HasSuffix(c.path, "/") && c.path != "" {
		c.routed = false
		return nil, 0, errNotFnd
	}
	m := c.r.Method
	get := func(f func() (any, *apiError)) (any, int, *apiError) {
		if m != http.MethodGet && m != http.MethodHead {
			return nil, 0, methodNotAllowed(m)
		}
		v, err := f()
		return v, 200, err
	}
	n := len(seg)
	id := 0
	if n >= 2 {
		var ok bool
		if id, ok = atoi(seg[1]); !ok && seg[0] != "users" {
			c.routed = false
			return nil, 0, errNotFnd
		}
	}
	switch {
	case c.path == "":
		return get(func() (any, *apiError) { return s.versionDoc(), nil })
	case c.path == "ping/":
		return get(func() (any, *apiError) { return s.ping(), nil })
	case c.path == "me/":
		return get(func() (any, *apiError) {
			return s.listOf(c, []map[string]any{s.userJSON(c.user)}, []string{"username"}, []string{"username"})
		})
	case seg[0] == "users" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(userKind), []string{"username"}, []string{"username", "first_name", "last_name", "email"})
		})
	case seg[0] == "users" && n == 2:
		return get(func() (any, *apiError) {
			u := s.userRef(seg[1])
			if u == nil {
				return nil, errNotFnd
			}
			return s.userJSON(u), nil
		})
	case seg[0] == "users" && n == 3 && seg[2] == "personal_tokens" && !s.cfg.DisableTokens:
		u := s.userRef(seg[1])
		if u == nil {
			return nil, 0, errNotFnd
		}
		if u.ID != c.user.ID && !c.user.IsSuperuser {
			return nil, 0, errForbid
		}
		switch m {
		case http.MethodGet:
			var items []map[string]any
			for _, t := range s.tokens {
				if t.user == u.ID {
					items = append(items, s.tokenJSON(t, false))
				}
			}
			v, err := s.listOf(c, items, []string{"id"}, []string{"description"})
			return v, 200, err
		case http.MethodPost:
			return s.createToken(c, u)
		}
		return nil, 0, methodNotAllowed(m)
	case seg[0] == "tokens" && !s.cfg.DisableTokens && n == 1:
		return get(func() (any, *apiError) {
			var items []map[string]any
			for _, t := range s.tokens {
				if t.user == c.user.ID || c.user.IsSuperuser {
					items = append(items, s.tokenJSON(t, false))
				}
			}
			return s.listOf(c, items, []string{"id"}, []string{"description"})
		})
	case seg[0] == "tokens" && !s.cfg.DisableTokens && n == 2:
		for i, t := range s.tokens {
			if t.id != id || (t.user != c.user.ID && !c.user.IsSuperuser) {
				continue
			}
			switch m {
			case http.MethodGet:
				return s.tokenJSON(t, false), 200, nil
			case http.MethodDelete:
				s.tokens = append(s.tokens[:i], s.tokens[i+1:]...)
				return nil, http.StatusNoContent, nil
			}
			return nil, 0, methodNotAllowed(m)
		}
		return nil, 0, errNotFnd
	case seg[0] == "organizations" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(orgKind), []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "organizations" && n == 2:
		return get(func() (any, *apiError) { return s.one(orgKind, id) })
	case seg[0] == "inventories" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(invKind), []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "inventories" && n == 2:
		return get(func() (any, *apiError) { return s.one(invKind, id) })
	case seg[0] == "inventories" && n == 3 && seg[2] == "hosts":
		return get(func() (any, *apiError) {
			if i := s.inventory(id); i == nil || i.Hidden {
				return nil, errNotFnd
			}
			var items []map[string]any
			for _, h := range s.hosts {
				if h.Inventory == id {
					items = append(items, s.hostJSON(h))
				}
			}
			return s.listOf(c, items, []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "hosts" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(hostKind), []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "hosts" && n == 2:
		return get(func() (any, *apiError) { return s.one(hostKind, id) })
	case seg[0] == "hosts" && n == 3 && (seg[2] == "ansible_facts" || seg[2] == "variable_data"):
		return get(func() (any, *apiError) {
			h := s.host(id)
			if h == nil {
				return nil, errNotFnd
			}
			if seg[2] == "variable_data" {
				v, _ := parseVars(h.Variables)
				return v, nil
			}
			if h.Facts == nil {
				return map[string]any{}, nil
			}
			return h.Facts, nil
		})
	case seg[0] == "labels" && n == 1:
		switch m {
		case http.MethodGet:
			v, err := s.listOf(c, s.all(labelKind), []string{"organization", "name"}, []string{"name"})
			return v, 200, err
		case http.MethodPost:
			return s.createLabel(c)
		}
		return nil, 0, methodNotAllowed(m)
	case seg[0] == "labels" && n == 2:
		return get(func() (any, *apiError) { return s.one(labelKind, id) })
	case seg[0] == "workflow_job_templates" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(wftKind), []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "workflow_job_templates" && n >= 2:
		w := s.workflow(id)
		if w == nil {
			return nil, 0, errNotFnd
		}
		switch {
		case n == 2:
			return get(func() (any, *apiError) { return s.wftJSON(w), nil })
		case n == 3 && seg[2] == "launch":
			if m == http.MethodPost {
				return s.launchWorkflow(c, w)
			}
			return get(func() (any, *apiError) {
				return s.launchDoc(w.Name, w.ID, w.ExtraVars, w.Inventory, w.AskVariables, w.AskInventory, w.AskLabels, w.Survey, "workflow_job_template_data"), nil
			})
		case n == 3 && seg[2] == "workflow_jobs":
			return get(func() (any, *apiError) {
				var items []map[string]any
				for _, wj := range s.wjobs {
					if wj.tmpl == w && s.wjVisible(wj) {
						items = append(items, s.workflowJobJSON(wj, false))
					}
				}
				return s.listOf(c, items, []string{"id"}, []string{"name", "description"})
			})
		case n == 3 && seg[2] == "survey_spec":
			return get(func() (any, *apiError) { return surveyJSON(w.Name, w.Survey), nil })
		}
	case seg[0] == "job_templates" && n == 1:
		return get(func() (any, *apiError) {
			return s.listOf(c, s.all(jtKind), []string{"name"}, []string{"name", "description"})
		})
	case seg[0] == "job_templates" && n >= 2:
		t := s.jobTemplate(id)
		if t == nil {
			return nil, 0, errNotFnd
		}
		switch {
		case n == 2:
			return get(func() (any, *apiError) { return s.jtJSON(t), nil })
		case n == 3 && seg[2] == "launch":
			if m == http.MethodPost {
				return s.launchJob(c, t)
			}
			return get(func() (any, *apiError) {
				return s.launchDoc(t.Name, t.ID, t.ExtraVars, t.Inventory, t.AskVariables, t.AskInventory, t.AskLabels, t.Survey, "job_template_data"), nil
			})
		case n == 3 && seg[2] == "jobs":
			return get(func() (any, *apiError) {
				var items []map[string]any
				for _, j := range s.jobs {
					if j.jt == t.ID && s.visible(j) {
						items = append(items, s.jobJSON(j, false))
					}
				}
				return s.listOf(c, items, []string{"id"}, []string{"name", "description"})
			})
		case n == 3 && seg[2] == "survey_spec":
			return get(func() (any, *apiError) { return surveyJSON(t.Name, t.Survey), nil })
		}
	case seg[0] == "workflow_jobs" && n == 1:
		return get(func() (any, *apiError) {
			var items []map[string]any
			for _, wj := range s.wjobs {
				if s.wjVisible(wj) {
					items = append(items, s.workflowJobJSON(wj, false))
				}
			}
			return s.listOf(c, items, []string{"id"}, []string{"name", "description"})
		})
	case seg[0] == "workflow_jobs" && n >= 2:
		wj := s.workflowJob(id)
		if wj == nil || !s.wjVisible(wj) {
			return nil, 0, errNotFnd
		}
		switch {
		case n == 2:
			return get(func() (any, *apiError) {
				wj.run.polls++
				s.tick()
				return s.workflowJobJSON(wj, true), nil
			})
		case n == 3 && seg[2] == "workflow_nodes":
			return get(func() (any, *apiError) {
				var items []map[string]any
				for _, nr := range wj.nodes {
					items = append(items, s.nodeJSON(nr))
				}
				return s.listOf(c, items, []string{"id"}, nil)
			})
		}
	case seg[0] == "workflow_job_nodes" && n == 1:
		return get(func() (any, *apiError) {
			var items []map[string]any
			for _, nr := range s.nodes {
				items = append(items, s.nodeJSON(nr))
			}
			return s.listOf(c, items, []string{"id"}, nil)
		})
	case seg[0] == "workflow_job_nodes" && n == 2:
		return get(func() (any, *apiError) {
			for _, nr := range s.nodes {
				if nr.id == id {
					return s.nodeJSON(nr), nil
				}
			}
			return nil, errNotFnd
		})
	case seg[0] == "jobs" && n == 1:
		return get(func() (any, *apiError) {
			var items []map[string]any
			for _, j := range s.jobs {
				if s.visible(j) {
					items = append(items, s.jobJSON(j, false))
				}
			}
			return s.listOf(c, items, []string{"id"}, []string{"name", "description"})
		})
	case seg[0] == "jobs" && n >= 2:
		j := s.job(id)
		if j == nil || !s.visible(j) {
			return nil, 0, errNotFnd
		}
		switch {
		case n == 2:
			return get(func() (any, *apiError) {
				j.own.polls++
				s.tick()
				return s.jobJSON(j, true), nil
			})
		case n == 3 && seg[2] == "job_events":
			return get(func() (any, *apiError) {
				return s.listOf(c, s.jobEvents(j), []string{"start_line"}, []string{"stdout"})
			})
		case n == 3 && seg[2] == "stdout":
			if m != http.MethodGet {
				return nil, 0, methodNotAllowed(m)
			}
			return s.stdout(c, j)
		}
	}
	// Token endpoints of controllers without OAuth2 are known, deliberate 404s (the client falls back).
	c.routed = s.cfg.DisableTokens && (seg[0] == "tokens" || (seg[0] == "users" && n == 3 && seg[2] == "personal_tokens"))
	return nil, 0, errNotFnd
}

func (s *Server) versionDoc() map[string]any {
	d := map[string]any{}
	for k, v := range map[string]string{"ping": "ping/", "me": "me/", "users": "users/", "organizations": "organizations/",
		"inventory": "inventories/", "hosts": "hosts/", "job_templates": "job_templates/", "jobs": "jobs/",
		"job_events": "job_events/", "workflow_job_templates": "workflow_job_templates/", "workflow_jobs": "workflow_jobs/",
		"workflow_job_nodes": "workflow_job_nodes/", "labels": "labels/", "config": "config/"} {
		d[k] = s.prefix + v
	}
	if !s.cfg.DisableTokens {
		d["tokens"] = s.prefix + "tokens/"
	}
	return d
}

func (s *Server) ping() map[string]any {
	return map[string]any{"ha": false, "version": s.cfg.Version, "active_node": "ctrl-1",
		"install_uuid": "3b6f0000-0000-4000-8000-000000000001",
		"instances": []any{map[string]any{"node": "ctrl-1", "node_type": "hybrid", "uuid": "3b6f0000-0000-4000-8000-000000000002",
			"heartbeat": ts(s.now()), "capacity": 57, "version": s.cfg.Version}},
		"instance_groups": []any{map[string]any{"name": "default", "capacity": 57, "instances": []any{"ctrl-1"}}}}
}

func (s *Server) stdout(c *call, j *job) (any, int, *apiError) {
	text := j.stdout()
	switch f := c.query.Get("format"); f {
	case "json":
		return map[string]any{"range": map[string]any{"start": 0, "end": strings.Count(text, "\n"), "absolute_end": strings.Count(text, "\n")},
			"content": text}, 200, nil
	case "txt", "ansi", "txt_download", "ansi_download":
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if strings.HasSuffix(f, "_download") {
			c.w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"job_%d.txt\"", j.id))
		}
		c.w.WriteHeader(200)
		_, _ = c.w.Write([]byte(text))
		return nil, -1, nil
	default:
		c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		c.w.WriteHeader(200)
		_, _ = fmt.Fprintf(c.w, "<html><body><pre>%s</pre></body></html>", text)
		return nil, -1, nil
	}
}

func (s *Server) createToken(c *call, u *User) (any, int, *apiError) {
	m, _ := c.body.(map[string]any)
	desc, _ := m["description"].(string)
	scope, _ := m["scope"].(string)
	if scope == "" {
		scope = "write"
	}
	if scope != "read" && scope != "write" {
		return nil, 0, badRequest(map[string]any{"scope": []any{"Must be a simple space-separated string with allowed scopes ['read', 'write']."}})
	}
	t := &token{id: s.id("token", 0), user: u.ID, description: desc, scope: scope, created: s.now()}
	t.value = fmt.Sprintf("faketoken%dx%020d", t.id, t.created.UnixNano())
	s.tokens = append(s.tokens, t)
	return s.tokenJSON(t, true), 201, nil
}

func (s *Server) createLabel(c *call) (any, int, *apiError) {
	m, ok := c.body.(map[string]any)
	if !ok {
		return nil, 0, badRequest(map[string]any{"name": []any{"This field is required."}, "organization": []any{"This field is required."}})
	}
	errs := map[string]any{}
	name, _ := m["name"].(string)
	if name == "" {
		errs["name"] = []any{"This field is required."}
	}
	org := 0
	switch o := m["organization"].(type) {
	case nil:
		errs["organization"] = []any{"This field is required."}
	case float64:
		org = int(o)
		if s.organization(org) == nil {
			errs["organization"] = []any{fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", org)}
		}
	default:
		errs["organization"] = []any{fmt.Sprintf("Incorrect type. Expected pk value, received %s.", pyType(o))}
	}
	if len(errs) > 0 {
		return nil, 0, badRequest(errs)
	}
	for _, l := range s.labels {
		if l.Name == name && l.Organization == org {
			return nil, 0, badRequest(map[string]any{"__all__": []any{"Label with this Name and Organization already exists."}})
		}
	}
	l := &Label{ID: s.id("label", 0), Name: name, Organization: org}
	s.labels = append(s.labels, l)
	return s.labelJSON(l), 201, nil
}

func (s *Server) launchDoc(name string, id int, extraVars string, inv int, askVars, askInv, askLabels bool, survey []SurveyQuestion, dataKey string) map[string]any {
	var needed []any
	for _, q := range survey {
		if q.Required && q.Default == "" {
			needed = append(needed, q.Variable)
		}
	}
	if needed == nil {
		needed = []any{}
	}
	defaults := map[string]any{"extra_vars": extraVars, "inventory": map[string]any{"name": nil, "id": nil}}
	if i := s.inventory(inv); i != nil {
		defaults["inventory"] = map[string]any{"name": i.Name, "id": i.ID}
	}
	d := map[string]any{"can_start_without_user_input": len(needed) == 0, "variables_needed_to_start": needed,
		"survey_enabled": len(survey) > 0, "ask_variables_on_launch": askVars, "ask_inventory_on_launch": askInv,
		"ask_labels_on_launch": askLabels, "defaults": defaults,
		dataKey: map[string]any{"name": name, "id": id, "description": ""}}
	if dataKey == "workflow_job_template_data" {
		d["node_templates_missing"] = []any{}
		d["node_prompts_rejected"] = []any{}
	} else {
		d["passwords_needed_to_start"] = []any{}
		d["inventory_needed_to_start"] = inv == 0 && !askInv
	}
	return d
}

func surveyJSON(name string, qs []SurveyQuestion) map[string]any {
	if len(qs) == 0 {
		return map[string]any{}
	}
	var spec []any
	for _, q := range qs {
		spec = append(spec, map[string]any{"question_name": q.Variable, "question_description": "", "variable": q.Variable,
			"type": "text", "default": q.Default, "required": q.Required, "min": 0, "max": 1024, "choices": ""})
	}
	return map[string]any{"name": name, "description": "", "spec": spec}
}

func (s *Server) userRef(ref string) *User {
	if id, ok := atoi(ref); ok {
		return s.userByID(id)
	}
	return s.userByName(ref)
}
