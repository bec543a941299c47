package awxfake

type kind int

const (
	userKind kind = iota
	orgKind
	invKind
	hostKind
	labelKind
	wftKind
	jtKind
)

func (s *Server) all(k kind) []map[string]any {
	var out []map[string]any
	switch k {
	case userKind:
		for _, u := range s.users {
			out = append(out, s.userJSON(u))
		}
	case orgKind:
		for _, o := range s.orgs {
			out = append(out, s.orgJSON(o))
		}
	case invKind:
		for _, i := range s.invs {
			if !i.Hidden {
				out = append(out, s.invJSON(i))
			}
		}
	case hostKind:
		for _, h := range s.hosts {
			if i := s.inventory(h.Inventory); i == nil || !i.Hidden {
				out = append(out, s.hostJSON(h))
			}
		}
	case labelKind:
		for _, l := range s.labels {
			out = append(out, s.labelJSON(l))
		}
	case wftKind:
		for _, w := range s.wfts {
			out = append(out, s.wftJSON(w))
		}
	case jtKind:
		for _, t := range s.jts {
			out = append(out, s.jtJSON(t))
		}
	}
	return out
}

func (s *Server) one(k kind, id int) (any, *apiError) {
	for _, it := range s.all(k) {
		if it["id"] == id {
			return it, nil
		}
	}
	return nil, errNotFnd
}

func (s *Server) organization(id int) *Organization {
	for _, o := range s.orgs {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (s *Server) inventory(id int) *Inventory {
	for _, i := range s.invs {
		if i.ID == id {
			return i
		}
	}
	return nil
}

func (s *Server) host(id int) *Host {
	for _, h := range s.hosts {
		if h.ID == id {
			if i := s.inventory(h.Inventory); i != nil && i.Hidden {
				return nil
			}
			return h
		}
	}
	return nil
}

func (s *Server) label(id int) *Label {
	for _, l := range s.labels {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func (s *Server) workflow(id int) *Workflow {
	for _, w := range s.wfts {
		if w.ID == id {
			return w
		}
	}
	return nil
}

func (s *Server) jobTemplate(id int) *JobTemplate {
	for _, t := range s.jts {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Server) workflowJob(id int) *workflowJob {
	for _, wj := range s.wjobs {
		if wj.id == id {
			return wj
		}
	}
	return nil
}

func (s *Server) job(id int) *job {
	for _, j := range s.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

func (s *Server) stamp() string { return ts(s.created) }

func (s *Server) userSummary(id int) map[string]any {
	u := s.userByID(id)
	if u == nil {
		return nil
	}
	return map[string]any{"id": u.ID, "username": u.Username, "first_name": u.FirstName, "last_name": u.LastName}
}

func (s *Server) orgSummary(id int) any {
	o := s.organization(id)
	if o == nil {
		return nil
	}
	return map[string]any{"id": o.ID, "name": o.Name, "description": o.Description}
}

func (s *Server) invSummary(id int) any {
	i := s.inventory(id)
	if i == nil {
		return nil
	}
	return map[string]any{"id": i.ID, "name": i.Name, "description": i.Description, "kind": i.Kind, "total_hosts": s.hostCount(id)}
}

func (s *Server) hostCount(inv int) int {
	n := 0
	for _, h := range s.hosts {
		if h.Inventory == inv {
			n++
		}
	}
	return n
}

func (s *Server) labelsSummary(ids []int) map[string]any {
	res := []any{}
	for _, id := range ids {
		if l := s.label(id); l != nil {
			res = append(res, map[string]any{"id": l.ID, "name": l.Name})
		}
	}
	return map[string]any{"count": len(res), "results": res}
}

func (s *Server) userJSON(u *User) map[string]any {
	return map[string]any{"id": u.ID, "type": "user", "url": s.link("users/%d/", u.ID),
		"related": map[string]any{"teams": s.link("users/%d/teams/", u.ID), "organizations": s.link("users/%d/organizations/", u.ID),
			"personal_tokens": s.link("users/%d/personal_tokens/", u.ID), "tokens": s.link("users/%d/tokens/", u.ID)},
		"summary_fields": map[string]any{"user_capabilities": map[string]any{"edit": true, "delete": false}},
		"created":        s.stamp(), "modified": s.stamp(), "username": u.Username, "first_name": u.FirstName,
		"last_name": u.LastName, "email": u.Email, "is_superuser": u.IsSuperuser, "is_system_auditor": false,
		"password": "$encrypted$", "last_login": s.stamp(), "ldap_dn": "", "last_login_ip": nil, "external_account": nil}
}

func (s *Server) tokenJSON(t *token, reveal bool) map[string]any {
	value := "************"
	if reveal {
		value = t.value
	}
	return map[string]any{"id": t.id, "type": "o_auth2_access_token", "url": s.link("tokens/%d/", t.id),
		"related":        map[string]any{"user": s.link("users/%d/", t.user), "activity_stream": s.link("tokens/%d/activity_stream/", t.id)},
		"summary_fields": map[string]any{"user": s.userSummary(t.user)},
		"created":        ts(t.created), "modified": ts(t.created), "description": t.description, "user": t.user,
		"token": value, "refresh_token": nil, "application": nil,
		"expires": ts(t.created.AddDate(1000, 0, 0)), "scope": t.scope}
}

func (s *Server) orgJSON(o *Organization) map[string]any {
	return map[string]any{"id": o.ID, "type": "organization", "url": s.link("organizations/%d/", o.ID),
		"related":        map[string]any{"inventories": s.link("organizations/%d/inventories/", o.ID)},
		"summary_fields": map[string]any{"user_capabilities": map[string]any{"edit": false, "delete": false}},
		"created":        s.stamp(), "modified": s.stamp(), "name": o.Name, "description": o.Description,
		"max_hosts": 0, "custom_virtualenv": nil, "default_environment": nil}
}

func (s *Server) invJSON(i *Inventory) map[string]any {
	var hostFilter any
	return map[string]any{"id": i.ID, "type": "inventory", "url": s.link("inventories/%d/", i.ID),
		"related": map[string]any{"hosts": s.link("inventories/%d/hosts/", i.ID), "groups": s.link("inventories/%d/groups/", i.ID),
			"organization": s.link("organizations/%d/", i.Organization), "variable_data": s.link("inventories/%d/variable_data/", i.ID),
			"job_templates": s.link("inventories/%d/job_templates/", i.ID)},
		"summary_fields": map[string]any{"organization": s.orgSummary(i.Organization),
			"user_capabilities": map[string]any{"edit": false, "delete": false, "adhoc": false, "copy": false}},
		"created": s.stamp(), "modified": s.stamp(), "name": i.Name, "description": i.Description,
		"organization": i.Organization, "kind": i.Kind, "host_filter": hostFilter, "variables": i.Variables,
		"has_active_failures": false, "total_hosts": s.hostCount(i.ID), "hosts_with_active_failures": 0,
		"total_groups": 0, "has_inventory_sources": false, "total_inventory_sources": 0,
		"inventory_sources_with_failures": 0, "pending_deletion": false, "prevent_instance_group_fallback": false}
}

func (s *Server) hostJSON(h *Host) map[string]any {
	var invSum any = s.invSummary(h.Inventory)
	if m, ok := invSum.(map[string]any); ok {
		delete(m, "total_hosts")
	}
	return map[string]any{"id": h.ID, "type": "host", "url": s.link("hosts/%d/", h.ID),
		"related": map[string]any{"ansible_facts": s.link("hosts/%d/ansible_facts/", h.ID), "inventory": s.link("inventories/%d/", h.Inventory),
			"variable_data": s.link("hosts/%d/variable_data/", h.ID), "groups": s.link("hosts/%d/groups/", h.ID),
			"job_events": s.link("hosts/%d/job_events/", h.ID)},
		"summary_fields": map[string]any{"inventory": invSum, "groups": map[string]any{"count": 0, "results": []any{}}, "recent_jobs": []any{}},
		"created":        s.stamp(), "modified": s.stamp(), "name": h.Name, "description": h.Description,
		"inventory": h.Inventory, "enabled": !h.Disabled, "instance_id": "", "variables": h.Variables,
		"has_active_failures": false, "has_inventory_sources": false, "last_job": nil,
		"last_job_host_summary": nil, "ansible_facts_modified": s.stamp()}
}

func (s *Server) labelJSON(l *Label) map[string]any {
	return map[string]any{"id": l.ID, "type": "label", "url": s.link("labels/%d/", l.ID),
		"related":        map[string]any{"organization": s.link("organizations/%d/", l.Organization)},
		"summary_fields": map[string]any{"organization": s.orgSummary(l.Organization)},
		"created":        s.stamp(), "modified": s.stamp(), "name": l.Name, "organization": l.Organization}
}

func caps(cannotStart bool) map[string]any {
	c := map[string]any{}
	for k, v := range capsTemplate {
		c[k] = v
	}
	c["start"] = !cannotStart
	return c
}

func (s *Server) lastRun(match func(int) bool) (any, bool, string) {
	for i := len(s.wjobs) - 1; i >= 0; i-- {
		if wj := s.wjobs[i]; match(wj.tmpl.ID) {
			st := s.wjStatus(wj)
			return tsOrNil(wj.run.finished), failedOf(st), st
		}
	}
	return nil, false, "never updated"
}

func (s *Server) wftJSON(w *Workflow) map[string]any {
	last, lastFailed, st := s.lastRun(func(id int) bool { return id == w.ID })
	rel := map[string]any{"launch": s.link("workflow_job_templates/%d/launch/", w.ID),
		"workflow_jobs":  s.link("workflow_job_templates/%d/workflow_jobs/", w.ID),
		"workflow_nodes": s.link("workflow_job_templates/%d/workflow_nodes/", w.ID),
		"survey_spec":    s.link("workflow_job_templates/%d/survey_spec/", w.ID),
		"labels":         s.link("workflow_job_templates/%d/labels/", w.ID),
		"organization":   s.link("organizations/%d/", w.Organization)}
	sf := map[string]any{"organization": s.orgSummary(w.Organization), "user_capabilities": caps(w.CannotStart),
		"labels": map[string]any{"count": 0, "results": []any{}}, "recent_jobs": []any{}}
	if w.Inventory != 0 {
		rel["inventory"] = s.link("inventories/%d/", w.Inventory)
		sf["inventory"] = s.invSummary(w.Inventory)
	}
	return map[string]any{"id": w.ID, "type": "workflow_job_template", "url": s.link("workflow_job_templates/%d/", w.ID),
		"related": rel, "summary_fields": sf, "created": s.stamp(), "modified": s.stamp(), "name": w.Name,
		"description": w.Description, "last_job_run": last, "last_job_failed": lastFailed, "status": st,
		"extra_vars": w.ExtraVars, "organization": w.Organization, "survey_enabled": len(w.Survey) > 0,
		"allow_simultaneous": true, "ask_variables_on_launch": w.AskVariables, "inventory": idOrNil(w.Inventory),
		"limit": nil, "scm_branch": nil, "ask_inventory_on_launch": w.AskInventory, "ask_scm_branch_on_launch": false,
		"ask_limit_on_launch": false, "ask_labels_on_launch": w.AskLabels, "ask_tags_on_launch": false,
		"ask_skip_tags_on_launch": false, "webhook_service": "", "webhook_credential": nil}
}

func (s *Server) jtJSON(t *JobTemplate) map[string]any {
	st, last, lastFailed := "never updated", any(nil), false
	for i := len(s.jobs) - 1; i >= 0; i-- {
		if j := s.jobs[i]; j.jt == t.ID && j.parent == nil {
			st = s.jobStatus(j)
			last, lastFailed = tsOrNil(j.own.finished), failedOf(st)
			break
		}
	}
	rel := map[string]any{"launch": s.link("job_templates/%d/launch/", t.ID), "jobs": s.link("job_templates/%d/jobs/", t.ID),
		"slice_workflow_jobs": s.link("job_templates/%d/slice_workflow_jobs/", t.ID),
		"survey_spec":         s.link("job_templates/%d/survey_spec/", t.ID),
		"organization":        s.link("organizations/%d/", t.Organization)}
	sf := map[string]any{"organization": s.orgSummary(t.Organization), "user_capabilities": caps(t.CannotStart),
		"labels": map[string]any{"count": 0, "results": []any{}}, "recent_jobs": []any{}, "credentials": []any{}}
	if t.Inventory != 0 {
		rel["inventory"] = s.link("inventories/%d/", t.Inventory)
		sf["inventory"] = s.invSummary(t.Inventory)
	}
	return map[string]any{"id": t.ID, "type": "job_template", "url": s.link("job_templates/%d/", t.ID),
		"related": rel, "summary_fields": sf, "created": s.stamp(), "modified": s.stamp(), "name": t.Name,
		"description": t.Description, "job_type": "run", "inventory": idOrNil(t.Inventory), "project": 12,
		"playbook": t.Playbook, "scm_branch": "", "forks": 0, "limit": "", "verbosity": 0, "extra_vars": t.ExtraVars,
		"job_tags": "", "force_handlers": false, "skip_tags": "", "start_at_task": "", "timeout": 0,
		"use_fact_cache": false, "organization": t.Organization, "last_job_run": last, "last_job_failed": lastFailed,
		"status": st, "ask_variables_on_launch": t.AskVariables, "ask_inventory_on_launch": t.AskInventory,
		"ask_labels_on_launch": t.AskLabels, "ask_limit_on_launch": false, "ask_tags_on_launch": false,
		"ask_skip_tags_on_launch": false, "ask_credential_on_launch": false, "ask_job_type_on_launch": false,
		"ask_verbosity_on_launch": false, "survey_enabled": len(t.Survey) > 0, "allow_simultaneous": true,
		"job_slice_count": 1, "become_enabled": false, "diff_mode": false, "host_config_key": "",
		"webhook_service": "", "webhook_credential": nil, "prevent_instance_group_fallback": false}
}

func (s *Server) elapsed(r *run, st string) float64 {
	if r.started.IsZero() {
		return 0
	}
	end := s.now()
	if terminal(st) && !r.finished.IsZero() {
		end = r.finished
	}
	return float64(end.Sub(r.started).Milliseconds()) / 1000
}

func (s *Server) workflowJobJSON(wj *workflowJob, detail bool) map[string]any {
	st := s.wjStatus(wj)
	w := wj.tmpl
	out := map[string]any{"id": wj.id, "type": "workflow_job", "url": s.link("workflow_jobs/%d/", wj.id),
		"related": map[string]any{"workflow_nodes": s.link("workflow_jobs/%d/workflow_nodes/", wj.id),
			"workflow_job_template": s.link("workflow_job_templates/%d/", w.ID),
			"unified_job_template":  s.link("workflow_job_templates/%d/", w.ID),
			"labels":                s.link("workflow_jobs/%d/labels/", wj.id), "relaunch": s.link("workflow_jobs/%d/relaunch/", wj.id),
			"cancel": s.link("workflow_jobs/%d/cancel/", wj.id), "created_by": s.link("users/%d/", wj.user),
			"activity_stream": s.link("workflow_jobs/%d/activity_stream/", wj.id)},
		"summary_fields": map[string]any{"workflow_job_template": map[string]any{"id": w.ID, "name": w.Name, "description": w.Description},
			"unified_job_template": map[string]any{"id": w.ID, "name": w.Name, "description": w.Description, "unified_job_type": "workflow_job"},
			"created_by":           s.userSummary(wj.user), "user_capabilities": map[string]any{"delete": false, "start": true},
			"labels": s.labelsSummary(wj.labels)},
		"created": ts(wj.run.created), "modified": ts(wj.run.created), "name": w.Name, "description": w.Description,
		"unified_job_template": w.ID, "launch_type": "manual", "status": st, "failed": failedOf(st),
		"started": tsOrNil(wj.run.started), "finished": tsOrNil(wj.run.finished), "canceled_on": nil,
		"elapsed": s.elapsed(&wj.run, st), "job_explanation": "",
		"launched_by":  map[string]any{"id": wj.user, "name": s.userByID(wj.user).Username, "type": "user", "url": s.link("users/%d/", wj.user)},
		"work_unit_id": nil, "workflow_job_template": w.ID, "extra_vars": wj.extraVars, "allow_simultaneous": true,
		"job_template": nil, "is_sliced_job": false, "inventory": idOrNil(wj.inventory), "limit": nil, "scm_branch": nil,
		"webhook_service": "", "webhook_credential": nil, "webhook_guid": ""}
	if wj.parent != nil {
		out["launch_type"] = "workflow"
		out["related"].(map[string]any)["source_workflow_job"] = s.link("workflow_jobs/%d/", wj.parent.id)
	}
	if wj.inventory != 0 {
		out["related"].(map[string]any)["inventory"] = s.link("inventories/%d/", wj.inventory)
		out["summary_fields"].(map[string]any)["inventory"] = s.invSummary(wj.inventory)
	}
	if detail {
		out["result_traceback"] = ""
		out["job_args"] = ""
		out["job_cwd"] = ""
		out["job_env"] = map[string]any{}
	}
	return out
}

func (s *Server) jobJSON(j *job, detail bool) map[string]any {
	st := s.jobStatus(j)
	r := &j.own
	if j.parent != nil {
		r = &j.parent.run
	}
	rel := map[string]any{"job_events": s.link("jobs/%d/job_events/", j.id), "stdout": s.link("jobs/%d/stdout/", j.id),
		"cancel": s.link("jobs/%d/cancel/", j.id), "relaunch": s.link("jobs/%d/relaunch/", j.id),
		"labels": s.link("jobs/%d/labels/", j.id), "credentials": s.link("jobs/%d/credentials/", j.id),
		"created_by": s.link("users/%d/", j.user)}
	sf := map[string]any{"credentials": []any{}, "labels": s.labelsSummary(j.labels),
		"user_capabilities": map[string]any{"delete": false, "start": true}, "created_by": s.userSummary(j.user)}
	launchType := "manual"
	if j.parent != nil {
		launchType = "workflow"
		pst := s.wjStatus(j.parent)
		rel["source_workflow_job"] = s.link("workflow_jobs/%d/", j.parent.id)
		sf["source_workflow_job"] = map[string]any{"id": j.parent.id, "name": j.parent.tmpl.Name, "description": j.parent.tmpl.Description,
			"status": pst, "failed": failedOf(pst), "elapsed": s.elapsed(&j.parent.run, pst)}
	}
	if t := s.jobTemplate(j.jt); t != nil {
		rel["job_template"] = s.link("job_templates/%d/", t.ID)
		rel["unified_job_template"] = s.link("job_templates/%d/", t.ID)
		sf["job_template"] = map[string]any{"id": t.ID, "name": t.Name, "description": t.Description}
	}
	if j.inventory != 0 {
		rel["inventory"] = s.link("inventories/%d/", j.inventory)
		if m, ok := s.invSummary(j.inventory).(map[string]any); ok {
			delete(m, "total_hosts")
			sf["inventory"] = m
		}
	}
	started, finished := tsOrNil(r.started), any(nil)
	if terminal(st) {
		finished = tsOrNil(r.finished)
	}
	explanation, traceback := "", ""
	if terminal(st) {
		explanation, traceback = j.spec.JobExplanation, j.spec.ResultTraceback
	}
	out := map[string]any{"id": j.id, "type": "job", "url": s.link("jobs/%d/", j.id), "related": rel, "summary_fields": sf,
		"created": ts(j.created()), "modified": ts(j.created()), "name": j.name, "description": "", "job_type": "run",
		"inventory": idOrNil(j.inventory), "project": 12, "playbook": "site.yml", "scm_branch": "", "forks": 0, "limit": "",
		"verbosity": 0, "extra_vars": j.extraVars, "job_tags": "", "force_handlers": false, "skip_tags": "",
		"start_at_task": "", "timeout": 0, "use_fact_cache": false, "organization": nil,
		"unified_job_template": idOrNil(j.jt), "launch_type": launchType, "status": st, "failed": failedOf(st),
		"started": started, "finished": finished, "canceled_on": nil, "elapsed": s.elapsed(r, st),
		"job_explanation": explanation, "execution_node": "ctrl-1", "controller_node": "ctrl-1",
		"launched_by":  map[string]any{"id": j.user, "name": s.userByID(j.user).Username, "type": "user", "url": s.link("users/%d/", j.user)},
		"work_unit_id": nil, "job_template": idOrNil(j.jt), "passwords_needed_to_start": []any{},
		"allow_simultaneous": false, "artifacts": j.artifacts(), "scm_revision": "", "instance_group": 1,
		"diff_mode": false, "job_slice_number": 0, "job_slice_count": 1, "webhook_service": "",
		"webhook_credential": nil, "webhook_guid": ""}
	if !terminal(st) {
		out["artifacts"] = map[string]any{}
	}
	if detail {
		out["result_traceback"] = traceback
		out["event_processing_finished"] = terminal(st) && s.eventsDone(j)
		out["job_args"] = ""
		out["job_cwd"] = "/runner/project"
		out["job_env"] = map[string]any{}
		out["host_status_counts"] = map[string]any{}
		out["playbook_counts"] = map[string]any{"play_count": 1, "task_count": len(j.spec.FailedEvents) + 1}
		out["custom_virtualenv"] = nil
	}
	return out
}

func (s *Server) nodeJSON(nr *nodeRec) map[string]any {
	wj := nr.wj
	rel := map[string]any{"workflow_job": s.link("workflow_jobs/%d/", wj.id),
		"success_nodes": s.link("workflow_job_nodes/%d/success_nodes/", nr.id),
		"failure_nodes": s.link("workflow_job_nodes/%d/failure_nodes/", nr.id),
		"always_nodes":  s.link("workflow_job_nodes/%d/always_nodes/", nr.id),
		"credentials":   s.link("workflow_job_nodes/%d/credentials/", nr.id)}
	sf := map[string]any{"workflow_job": map[string]any{"id": wj.id, "name": wj.tmpl.Name, "description": wj.tmpl.Description}}
	if t := s.jobTemplate(nr.jt); t != nil {
		rel["unified_job_template"] = s.link("job_templates/%d/", t.ID)
		sf["unified_job_template"] = map[string]any{"id": t.ID, "name": t.Name, "description": t.Description, "unified_job_type": "job"}
	}
	var jobID any
	if cw := s.workflow(nr.wft); cw != nil {
		rel["unified_job_template"] = s.link("workflow_job_templates/%d/", cw.ID)
		sf["unified_job_template"] = map[string]any{"id": cw.ID, "name": cw.Name, "description": cw.Description, "unified_job_type": "workflow_job"}
	}
	if child := nr.child; s.wjVisible(child) {
		jobID = child.id
		st := s.wjStatus(child)
		rel["job"] = s.link("workflow_jobs/%d/", child.id)
		sf["job"] = map[string]any{"id": child.id, "name": child.tmpl.Name, "description": child.tmpl.Description, "status": st,
			"failed": failedOf(st), "elapsed": s.elapsed(&child.run, st), "type": "workflow_job"}
	}
	if s.visible(nr.job) {
		j := nr.job
		jobID = j.id
		st := s.jobStatus(j)
		rel["job"] = s.link("jobs/%d/", j.id)
		sf["job"] = map[string]any{"id": j.id, "name": j.name, "description": "", "status": st, "failed": failedOf(st),
			"elapsed": s.elapsed(&wj.run, st), "type": "job"}
	}
	success := []any{}
	for i, other := range wj.nodes {
		if other == nr && i+1 < len(wj.nodes) {
			success = append(success, wj.nodes[i+1].id)
		}
	}
	return map[string]any{"id": nr.id, "type": "workflow_job_node", "url": s.link("workflow_job_nodes/%d/", nr.id),
		"related": rel, "summary_fields": sf, "created": ts(wj.run.created), "modified": ts(wj.run.created),
		"job": jobID, "workflow_job": wj.id, "unified_job_template": idOrNil(max(nr.jt, nr.wft)), "success_nodes": success,
		"failure_nodes": []any{}, "always_nodes": []any{}, "do_not_run": nr.spec.DoNotRun && terminal(s.wjStatus(wj)),
		"all_parents_must_converge": false, "identifier": "00000000-0000-4000-8000-" + pad12(nr.id),
		"extra_data": map[string]any{}, "inventory": nil, "limit": nil, "scm_branch": nil, "job_type": nil,
		"job_tags": nil, "skip_tags": nil, "diff_mode": nil, "verbosity": nil}
}

func pad12(n int) string {
	s := "000000000000" + itoa(n)
	return s[len(s)-12:]
}
