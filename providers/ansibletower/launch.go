package ansibletower

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/broker-go/broker/providers"
)

// kind is a launchable template type.
type kind struct {
	key   string // broker argument: workflow, job_template
	title string // in messages: workflow, job template
	list  string // list path under P
	flag  string // the providers flag that lists them
	ui    string // UI job path segment
}

var (
	workflowKind    = kind{key: "workflow", title: "workflow", list: "workflow_job_templates/", flag: "--workflows", ui: "workflow"}
	jobTemplateKind = kind{key: "job_template", title: "job template", list: "job_templates/", flag: "--job-templates", ui: "playbook"}
)

// template is a workflow job template or job template object.
type template struct {
	kind kind
	obj  map[string]any
}

func (t template) id() int64      { n, _ := toInt(t.obj["id"]); return n }
func (t template) name() string   { return str(t.obj["name"]) }
func (t template) launch() string { return str(dig(t.obj, "related", "launch")) }

// notFound is the error for a template name no one (visible) has.
func (p *Provider) notFound(k kind, name string) error {
	return providers.UserErrorf("%s %q not found on %s (or not visible to this user): list them with broker providers %s %s",
		k.title, name, p.where(), Name, k.flag)
}

func (p *Provider) where() string {
	if p.instance == "" {
		return Name
	}
	return Name + "/" + p.instance
}

// findTemplate looks a template up by exact name; several matches (names
// are unique per organization only) give the last, as upstream.
func (p *Provider) findTemplate(ctx context.Context, k kind, name string) (template, error) {
	if strings.TrimSpace(name) == "" {
		return template{}, providers.UserErrorf("give the %s name (%s NAME)", k.title, providers.FlagName(k.key))
	}
	items, _, err := p.c.list(ctx, k.list, url.Values{"name": {name}}, 0)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return template{}, p.notFound(k, name)
		}
		return template{}, fmt.Errorf("look up %s %q: %w", k.title, name, err)
	}
	if len(items) == 0 {
		return template{}, p.notFound(k, name)
	}
	return template{kind: k, obj: items[len(items)-1]}, nil
}

// inventoryChoice is the inventory a launch uses.
type inventoryChoice struct {
	ID   int64 // 0: the template's default (not sent)
	Name string
}

// resolveInventory chooses the inventory (§4.6 step 2): an explicit
// "inventory" id argument; else tower_inventory / the inventory setting,
// by name; else the template's default, which must exist and be visible.
func (p *Provider) resolveInventory(ctx context.Context, args providers.Args, t template) (inventoryChoice, error) {
	if v, ok := args["inventory"]; ok && v != nil && str(v) != "" {
		id, ok := toInt(v)
		if !ok {
			return p.inventoryByName(ctx, str(v))
		}
		return inventoryChoice{ID: id}, nil
	}
	name := str(args["tower_inventory"])
	if name == "" {
		name = p.opts.Inventory
	}
	if name != "" {
		return p.inventoryByName(ctx, name)
	}
	def, ok := toInt(t.obj["inventory"])
	if !ok || def == 0 {
		return inventoryChoice{}, providers.UserErrorf("the %s %q has no default inventory set: give one with --tower-inventory or AnsibleTower.inventory", t.kind.title, t.name())
	}
	items, _, err := p.c.list(ctx, "inventories/", url.Values{"id": {strconv.FormatInt(def, 10)}}, 1)
	if err != nil {
		return inventoryChoice{}, fmt.Errorf("look up the default inventory of %q: %w", t.name(), err)
	}
	if len(items) == 0 {
		return inventoryChoice{}, providers.UserErrorf("you don't have access to the default inventory of the %s %q: give one with --tower-inventory or AnsibleTower.inventory", t.kind.title, t.name())
	}
	return inventoryChoice{Name: str(items[0]["name"])}, nil
}

// inventoryByName resolves a name with ?search= (a substring match): one
// result is it, several need an exact name, none is an error (a number
// then counts as an id).
func (p *Provider) inventoryByName(ctx context.Context, name string) (inventoryChoice, error) {
	items, count, err := p.c.list(ctx, "inventories/", url.Values{"search": {name}}, 200)
	if err != nil {
		return inventoryChoice{}, fmt.Errorf("look up inventory %q: %w", name, err)
	}
	if len(items) == 1 {
		id, _ := toInt(items[0]["id"])
		return inventoryChoice{ID: id, Name: str(items[0]["name"])}, nil
	}
	for _, it := range items {
		if str(it["name"]) == name {
			id, _ := toInt(it["id"])
			return inventoryChoice{ID: id, Name: name}, nil
		}
	}
	if len(items) == 0 {
		if id, ok := toInt(name); ok {
			return inventoryChoice{ID: id}, nil
		}
		return inventoryChoice{}, providers.UserErrorf("unknown %s inventory %q: list them with broker providers %s --inventories", p.where(), name, Name)
	}
	return inventoryChoice{}, providers.UserErrorf("ambiguous %s inventory %q: %d inventories match and none has exactly that name", p.where(), name, count)
}

// extraVars builds the launch's extra variables (§4.6 step 4): every
// argument but "inventory", JSON-looking strings parsed, plus
// _broker_extra_vars, the ones the template does not declare itself.
func extraVars(args providers.Args, templateVars map[string]any) map[string]any {
	vars := make(map[string]any, len(args)+1)
	extra := map[string]any{}
	for k, v := range args {
		if k == "inventory" {
			continue
		}
		v = jsonish(v)
		vars[k] = v
		if _, declared := templateVars[k]; !declared {
			extra[k] = v
		}
	}
	vars["_broker_extra_vars"] = extra
	return vars
}

// launchBody is the POST body of a launch.
func launchBody(vars map[string]any, inv inventoryChoice, labels []int64) (map[string]any, error) {
	ev, err := json.Marshal(vars)
	if err != nil {
		return nil, fmt.Errorf("encode the extra variables: %w", err)
	}
	body := map[string]any{"extra_vars": string(ev)}
	if inv.ID != 0 {
		body["inventory"] = inv.ID
	}
	if len(labels) > 0 {
		body["labels"] = labels
	}
	return body, nil
}

// labelIDs creates (or finds) the AWX labels for the launch in the
// template's organization.
func (p *Provider) labelIDs(ctx context.Context, t template, args providers.Args) ([]int64, error) {
	labels := map[string]string{}
	for k, v := range p.opts.Labels {
		labels[k] = v
	}
	for k, v := range labelMap(args["provider_labels"]) {
		labels[k] = v
	}
	if len(labels) == 0 {
		return nil, nil
	}
	org, _ := toInt(dig(t.obj, "summary_fields", "organization", "id"))
	if org == 0 {
		org, _ = toInt(t.obj["organization"])
	}
	var ids []int64
	for _, name := range labelNames(labels) {
		var lab map[string]any
		err := p.c.call(ctx, http.MethodPost, "labels/", nil, map[string]any{"name": name, "organization": org}, &lab)
		if statusOf(err) == http.StatusBadRequest {
			items, _, lerr := p.c.list(ctx, "labels/", url.Values{"name": {name}}, 0)
			if lerr != nil {
				return nil, fmt.Errorf("look up label %q: %w", name, lerr)
			}
			for _, it := range items {
				if o, _ := toInt(it["organization"]); o == org || len(items) == 1 {
					lab, err = it, nil
					break
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("create label %q: %w", name, err)
		}
		id, ok := toInt(lab["id"])
		if !ok {
			return nil, fmt.Errorf("label %q: no id in the answer", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// run is what checkout, checkin, extend and execute share: find the
// template, launch it with args, wait for it. A job that does not succeed
// is a *JobError.
func (p *Provider) run(ctx context.Context, k kind, args providers.Args) (map[string]any, template, inventoryChoice, error) {
	name := str(args[k.key])
	t, err := p.findTemplate(ctx, k, name)
	if err != nil {
		return nil, t, inventoryChoice{}, err
	}
	inv, err := p.resolveInventory(ctx, args, t)
	if err != nil {
		return nil, t, inv, err
	}
	if inv.Name == "" && inv.ID == 0 {
		inv.Name = str(dig(t.obj, "summary_fields", "inventory", "name"))
	}
	labels, err := p.labelIDs(ctx, t, args)
	if err != nil {
		return nil, t, inv, err
	}
	body, err := launchBody(extraVars(args, parseVars(str(t.obj["extra_vars"]))), inv, labels)
	if err != nil {
		return nil, t, inv, err
	}
	launch := t.launch()
	if launch == "" {
		launch = fmt.Sprintf("%s%d/launch/", k.list, t.id())
	}
	var started map[string]any
	if err := p.c.call(ctx, http.MethodPost, launch, nil, body, &started); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return nil, t, inv, p.notFound(k, name)
		}
		return nil, t, inv, fmt.Errorf("launch %s %q: %w", k.title, name, err)
	}
	jobID, ok := toInt(started["workflow_job"])
	if !ok {
		jobID, ok = toInt(started["job"])
	}
	if !ok {
		jobID, ok = toInt(started["id"])
	}
	if !ok {
		return nil, t, inv, fmt.Errorf("launch %s %q: the answer names no job", k.title, name)
	}
	jobURL := str(started["url"])
	if jobURL == "" {
		jobURL = fmt.Sprintf("jobs/%d/", jobID)
		if str(started["type"]) == "workflow_job" || k == workflowKind {
			jobURL = fmt.Sprintf("workflow_jobs/%d/", jobID)
		}
	}
	ui := p.uiURL(ctx, uiKind(started, k), jobID)
	p.log.Info("launched", "template", name, "job", jobID, "ui_url", ui)
	job, err := p.wait(ctx, jobURL, k.title, name, jobID, ui)
	if err != nil {
		return nil, t, inv, err
	}
	if str(job["status"]) != "successful" {
		return job, t, inv, p.failure(ctx, k, name, job, ui)
	}
	return job, t, inv, nil
}

func uiKind(job map[string]any, k kind) string {
	switch str(job["type"]) {
	case "workflow_job":
		return "workflow"
	case "job":
		return "playbook"
	}
	return k.ui
}

// uiURL is the page a person opens for a job.
func (p *Provider) uiURL(ctx context.Context, ui string, id int64) string {
	if p.c.gateway(ctx) {
		return fmt.Sprintf("%s/execution/jobs/%s/%d/output", p.opts.BaseURL, ui, id)
	}
	return fmt.Sprintf("%s/#/jobs/%s/%d/output", p.opts.BaseURL, ui, id)
}

func terminal(status string) bool {
	switch status {
	case "successful", "failed", "error", "canceled":
		return true
	}
	return false
}

// isWorkflowJob tells a workflow job from a playbook job: only workflow
// jobs have related.workflow_nodes.
func isWorkflowJob(job map[string]any) bool {
	return dig(job, "related", "workflow_nodes") != nil || str(job["type"]) == "workflow_job"
}

// wait polls a job until it ends (and, for a playbook job, its events are
// processed) or workflow_timeout passes (0: no limit).
func (p *Provider) wait(ctx context.Context, jobURL, title, name string, id int64, ui string) (map[string]any, error) {
	deadline := time.Now().Add(p.opts.WorkflowTimeout)
	for {
		var job map[string]any
		if err := p.c.call(ctx, http.MethodGet, jobURL, nil, nil, &job); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("stopped waiting for %s %q (job %d, left running: %s): %w", title, name, id, ui, ctx.Err())
			}
			return nil, fmt.Errorf("wait for %s %q (job %d, %s): %w", title, name, id, ui, err)
		}
		status := str(job["status"])
		if terminal(status) && (isWorkflowJob(job) || job["event_processing_finished"] != false) {
			return job, nil
		}
		if p.opts.WorkflowTimeout > 0 && time.Now().After(deadline) {
			return nil, fmt.Errorf("%s %q (job %d) is still %s after %s (AnsibleTower.workflow_timeout); it was left running: %s",
				title, name, id, status, p.opts.WorkflowTimeout, ui)
		}
		t := time.NewTimer(p.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("stopped waiting for %s %q (job %d, left running: %s): %w", title, name, id, ui, ctx.Err())
		case <-t.C:
		}
	}
}
