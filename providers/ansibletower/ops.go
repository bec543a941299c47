package ansibletower

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// Checkout launches the workflow args["workflow"] with the arguments as
// extra variables, waits for it, and builds the host from the artifacts of
// its newest job (args["strategy"]: "last", the default, or "merge").
// A workflow that makes several hosts yields the first one only.
func (p *Provider) Checkout(ctx context.Context, args providers.Args) (inventory.Host, error) {
	if str(args["workflow"]) == "" {
		return nil, providers.UserErrorf("give the workflow to check out with (--workflow NAME)")
	}
	job, _, inv, err := p.run(ctx, workflowKind, args)
	if err != nil {
		var je *JobError
		if errors.As(err, &je) && job != nil {
			p.handleDangling(ctx, job, je, inv)
		}
		return nil, err
	}
	strategy := str(args["strategy"])
	if strategy != strategyMerge {
		strategy = strategyLast
	}
	art, err := p.artifactsOf(ctx, job, strategy, 0)
	if err != nil {
		return nil, fmt.Errorf("read the artifacts of workflow job %v: %w", job["id"], err)
	}
	invName := inv.Name
	if invName == "" {
		invName = str(args["tower_inventory"])
	}
	if invName == "" {
		invName = str(dig(job, "summary_fields", "inventory", "name"))
	}
	h, err := hostFromArtifacts(art, invName)
	if err != nil {
		id, _ := toInt(job["id"])
		return nil, fmt.Errorf("workflow %q (job %d, %s): %w", str(args["workflow"]), id, p.uiURL(ctx, "workflow", id), err)
	}
	return h, nil
}

// recordInventory is the inventory a record's host lives in: the
// tower_inventory of its arguments, else of the record.
func recordInventory(h inventory.Host) string {
	if s := str(h.Args()["tower_inventory"]); s != "" {
		return s
	}
	return str(h["tower_inventory"])
}

// Checkin runs release_workflow with source_vm = the host's name, plus the
// record's _broker_args (without workflow and job_template). If the
// release fails and no controller inventory knows the host, the error
// matches providers.ErrNotFound.
func (p *Provider) Checkin(ctx context.Context, h inventory.Host) error {
	name := h.Name()
	if name == "" {
		return providers.UserErrorf("%s has no name (the VM name the release workflow needs)", h.Label())
	}
	args := providers.Args{}
	for k, v := range h.Args() {
		switch k {
		case "workflow", "job_template", "artifacts", "inventory":
			continue
		}
		args[k] = v
	}
	args["workflow"] = p.opts.ReleaseWorkflow
	args["source_vm"] = name
	if inv := str(h["tower_inventory"]); inv != "" {
		args["tower_inventory"] = inv
	}
	_, _, _, err := p.run(ctx, workflowKind, args)
	if err == nil {
		return nil
	}
	var je *JobError
	if errors.As(err, &je) {
		items, _, lerr := p.c.list(ctx, "hosts/", url.Values{"name": {name}}, 1)
		if lerr == nil && len(items) == 0 {
			return fmt.Errorf("host %s is in no controller inventory (%w), and the release failed: %w", name, providers.ErrNotFound,
				&providers.Error{Provider: Name, Instance: p.instance, Action: "checkin", Err: err})
		}
	}
	return wrapAction(p, "checkin", err)
}

// wrapAction makes launch failures provider errors (exit code 7); user and
// auth errors keep their own type.
func wrapAction(p *Provider, action string, err error) error {
	var ue *providers.UserError
	var ae *providers.AuthError
	if errors.As(err, &ue) || errors.As(err, &ae) {
		return err
	}
	return &providers.Error{Provider: Name, Instance: p.instance, Action: action, Err: err}
}

// Extend runs extend_workflow with target_vm = the host's name and
// new_expire_time (the argument, else the setting).
func (p *Provider) Extend(ctx context.Context, h inventory.Host, args providers.Args) error {
	name := h.Name()
	if name == "" {
		return providers.UserErrorf("%s has no name (the VM name the extend workflow needs)", h.Label())
	}
	a := providers.Args{}
	for k, v := range args {
		a[k] = v
	}
	a["workflow"] = p.opts.ExtendWorkflow
	a["target_vm"] = name
	if str(a["new_expire_time"]) == "" {
		a["new_expire_time"] = p.opts.NewExpireTime
	}
	if str(a["tower_inventory"]) == "" {
		if inv := recordInventory(h); inv != "" {
			a["tower_inventory"] = inv
		}
	}
	if _, _, _, err := p.run(ctx, workflowKind, a); err != nil {
		return wrapAction(p, "extend", err)
	}
	return nil
}

// Execute launches args["workflow"] or args["job_template"] and waits for
// it. Output is the finished job object, or with args["artifacts"] ("last"
// or "merge") the artifacts gathered with that strategy.
func (p *Provider) Execute(ctx context.Context, args providers.Args, opts providers.ExecOptions) (providers.ExecResult, error) {
	k := workflowKind
	switch {
	case str(args["workflow"]) != "":
	case str(args["job_template"]) != "":
		k = jobTemplateKind
	default:
		return providers.ExecResult{}, providers.UserErrorf("no workflow or job template given (--workflow NAME or --job-template NAME)")
	}
	strategy := str(args["artifacts"])
	switch strategy {
	case "", strategyLast, strategyMerge:
	default:
		return providers.ExecResult{}, providers.UserErrorf("artifacts %q: choose last or merge", strategy)
	}
	job, _, inv, err := p.run(ctx, k, args)
	if err != nil {
		var je *JobError
		if errors.As(err, &je) && job != nil {
			p.handleDangling(ctx, job, je, inv)
		}
		return providers.ExecResult{}, err
	}
	if strategy == "" {
		return providers.ExecResult{Output: job}, nil
	}
	art, err := p.artifactsOf(ctx, job, strategy, 0)
	if err != nil {
		return providers.ExecResult{}, fmt.Errorf("read the artifacts of job %v: %w", job["id"], err)
	}
	return providers.ExecResult{Output: art}, nil
}

// username is the user inventory --sync looks for: the setting, else the
// token's owner (GET me/).
func (p *Provider) username(ctx context.Context) (string, error) {
	if p.opts.Username != "" {
		return p.opts.Username, nil
	}
	var me map[string]any
	if err := p.c.call(ctx, http.MethodGet, "me/", nil, nil, &me); err != nil {
		return "", fmt.Errorf("find the token's user: %w", err)
	}
	if l := asList(me["results"]); len(l) > 0 {
		if u := str(asMap(l[0])["username"]); u != "" {
			return u, nil
		}
	}
	if u := str(me["username"]); u != "" {
		return u, nil
	}
	return "", errors.New("find the token's user: me/ named no user")
}

// syncWorkers bounds the fact requests of a sync.
const syncWorkers = 8

// List returns the hosts of the inventories whose name contains the user
// (arg, else the username setting, else the token's user; "@ll": every
// inventory), as inventory --sync wants them (§4.7).
func (p *Provider) List(ctx context.Context, arg string) ([]inventory.Host, error) {
	user := arg
	if user == "" {
		var err error
		if user, err = p.username(ctx); err != nil {
			return nil, err
		}
	}
	invs, _, err := p.c.list(ctx, "inventories/", url.Values{"page_size": {"200"}}, 0)
	if err != nil {
		return nil, fmt.Errorf("list inventories: %w", err)
	}
	type hostRef struct {
		obj     map[string]any
		invName string
	}
	var refs []hostRef
	for _, inv := range invs {
		name := str(inv["name"])
		if user != "@ll" && !strings.Contains(name, user) {
			continue
		}
		link := str(dig(inv, "related", "hosts"))
		if link == "" {
			id, _ := toInt(inv["id"])
			link = fmt.Sprintf("inventories/%d/hosts/", id)
		}
		hosts, _, err := p.c.list(ctx, link, url.Values{"page_size": {"200"}}, 0)
		if err != nil {
			return nil, fmt.Errorf("list the hosts of inventory %q: %w", name, err)
		}
		for _, h := range hosts {
			refs = append(refs, hostRef{h, name})
		}
	}
	out := make([]inventory.Host, len(refs))
	errs := make([]error, len(refs))
	sem := make(chan struct{}, syncWorkers)
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			facts, err := p.facts(ctx, r.obj)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = syncRecord(r.obj, facts, r.invName)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// facts reads a host's ansible facts; 403 and 404 count as none.
func (p *Provider) facts(ctx context.Context, host map[string]any) (map[string]any, error) {
	link := str(dig(host, "related", "ansible_facts"))
	if link == "" {
		return map[string]any{}, nil
	}
	var facts map[string]any
	err := p.c.call(ctx, http.MethodGet, link, nil, nil, &facts)
	if st := statusOf(err); st == http.StatusNotFound || st == http.StatusForbidden {
		p.log.Warn("facts not readable; using none", "host", host["name"], "error", err)
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the facts of host %q: %w", str(host["name"]), err)
	}
	return facts, nil
}

// syncRecord builds the record of a controller host (§4.7 step 4).
func syncRecord(host, facts map[string]any, invName string) inventory.Host {
	h := inventory.Host{}
	for k, v := range asMap(facts["_broker_facts"]) {
		if truthy(v) {
			h[k] = v
		}
	}
	vars := parseVars(str(host["variables"]))
	h[inventory.FieldName] = str(host["name"])
	h["type"] = "host"
	hostname := str(vars["fqdn"])
	if hostname == "" {
		hostname = str(facts["ansible_fqdn"])
	}
	if hostname == "" {
		hostname = str(dig(vars, "openstack", "metadata", "fqdn"))
	}
	h[inventory.FieldHostname] = hostname
	if ip := str(vars["ansible_host"]); ip != "" {
		h["ip"] = ip
	}
	h["tower_inventory"] = invName
	args := map[string]any{}
	for k, v := range asMap(facts["_broker_args"]) {
		if truthy(v) {
			args[k] = v
		}
	}
	h[inventory.FieldArgs] = args
	if v := str(facts["ansible_distribution"]); v != "" {
		h["os_distribution"] = v
	}
	if v := str(facts["ansible_distribution_version"]); v != "" {
		h["os_distribution_version"] = v
	}
	if nics, ok := facts["ansible_interfaces"]; ok && nics != nil {
		h["reported_devices"] = map[string]any{"nics": nics}
	}
	return h
}

// Info answers the provider listings: workflows, workflow NAME,
// job_templates, job_template NAME, inventories, inventory NAME and
// templates (the list-templates workflow's data_out.list_templates).
func (p *Provider) Info(ctx context.Context, q providers.InfoQuery) (providers.InfoResult, error) {
	value := q.Value
	if value == "true" || value == "True" {
		value = ""
	}
	switch q.Name {
	case "workflows":
		return p.listTemplates(ctx, workflowKind, "Available Workflows")
	case "job_templates":
		return p.listTemplates(ctx, jobTemplateKind, "Available Job Templates")
	case "workflow":
		if value == "" {
			return p.listTemplates(ctx, workflowKind, "Available Workflows")
		}
		return p.showTemplate(ctx, workflowKind, value)
	case "job_template":
		if value == "" {
			return p.listTemplates(ctx, jobTemplateKind, "Available Job Templates")
		}
		return p.showTemplate(ctx, jobTemplateKind, value)
	case "inventories":
		return p.listInventories(ctx)
	case "inventory":
		if value == "" {
			return p.listInventories(ctx)
		}
		return p.showInventory(ctx, value)
	case "templates":
		return p.vmTemplates(ctx, q.Args)
	}
	return providers.InfoResult{}, &providers.UnsupportedError{Provider: Name, Action: "the listing " + strconv.Quote(q.Name),
		Hint: "use --workflows, --workflow NAME, --job-templates, --job-template NAME, --templates, --inventories or --inventory NAME"}
}

// listTemplates names the templates the user may start, in name order.
func (p *Provider) listTemplates(ctx context.Context, k kind, title string) (providers.InfoResult, error) {
	items, _, err := p.c.list(ctx, k.list, url.Values{"page_size": {"200"}}, 0)
	if err != nil {
		return providers.InfoResult{}, fmt.Errorf("list %ss: %w", k.title, err)
	}
	res := providers.InfoResult{Title: title, Items: []any{}}
	for _, it := range items {
		if truthy(dig(it, "summary_fields", "user_capabilities", "start")) {
			res.Items = append(res.Items, str(it["name"]))
		}
	}
	return res, nil
}

// showTemplate describes one template: {name, description, inventory,
// extra_vars}.
func (p *Provider) showTemplate(ctx context.Context, k kind, name string) (providers.InfoResult, error) {
	t, err := p.findTemplate(ctx, k, name)
	if err != nil {
		return providers.InfoResult{}, err
	}
	invName := str(dig(t.obj, "summary_fields", "inventory", "name"))
	if id, ok := toInt(t.obj["inventory"]); ok && id != 0 && invName == "" {
		items, _, err := p.c.list(ctx, "inventories/", url.Values{"id": {strconv.FormatInt(id, 10)}}, 1)
		if err != nil {
			return providers.InfoResult{}, fmt.Errorf("look up the inventory of %q: %w", name, err)
		}
		if len(items) > 0 {
			invName = str(items[0]["name"])
		}
	}
	vars := parseVars(str(t.obj["extra_vars"]))
	if vars == nil {
		vars = map[string]any{}
	}
	item := map[string]any{"name": t.name(), "description": str(t.obj["description"]), "inventory": invName, "extra_vars": vars}
	return providers.InfoResult{Title: fmt.Sprintf("%s %s", strings.ToUpper(k.title[:1])+k.title[1:], t.name()), Items: []any{item}}, nil
}

func (p *Provider) listInventories(ctx context.Context) (providers.InfoResult, error) {
	items, _, err := p.c.list(ctx, "inventories/", url.Values{"kind": {""}, "page_size": {"200"}}, 0)
	if err != nil {
		return providers.InfoResult{}, fmt.Errorf("list inventories: %w", err)
	}
	res := providers.InfoResult{Title: "Available Inventories", Items: []any{}}
	for _, it := range items {
		res.Items = append(res.Items, str(it["name"]))
	}
	return res, nil
}

func (p *Provider) showInventory(ctx context.Context, name string) (providers.InfoResult, error) {
	items, _, err := p.c.list(ctx, "inventories/", url.Values{"name": {name}, "kind": {""}}, 0)
	if err != nil {
		return providers.InfoResult{}, fmt.Errorf("look up inventory %q: %w", name, err)
	}
	if len(items) == 0 {
		return providers.InfoResult{}, providers.UserErrorf("inventory %q not found on %s: list them with broker providers %s --inventories", name, p.where(), Name)
	}
	it := items[len(items)-1]
	return providers.InfoResult{Title: "Inventory " + name, Items: []any{map[string]any{
		"id": it["id"], "name": it["name"], "description": str(it["description"])}}}, nil
}

// vmTemplates runs the list-templates workflow and lists its
// data_out.list_templates artifact, de-duplicated, sorted descending.
func (p *Provider) vmTemplates(ctx context.Context, extra providers.Args) (providers.InfoResult, error) {
	args := providers.Args{"workflow": "list-templates", "artifacts": strategyLast}
	if inv := str(extra["tower_inventory"]); inv != "" {
		args["tower_inventory"] = inv
	}
	res, err := p.Execute(ctx, args, providers.ExecOptions{})
	if err != nil {
		return providers.InfoResult{}, err
	}
	seen := map[string]bool{}
	var names []string
	for _, v := range asList(dig(res.Output, "data_out", "list_templates")) {
		s := str(v)
		if s != "" && !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	out := providers.InfoResult{Title: "Available Templates", Items: []any{}}
	for _, n := range names {
		out.Items = append(out.Items, n)
	}
	return out, nil
}
