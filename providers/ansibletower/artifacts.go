package ansibletower

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/broker-go/broker/inventory"
)

// Artifact strategies (the "artifacts" execute argument and the
// "strategy" checkout argument).
const (
	strategyLast  = "last"
	strategyMerge = "merge"
)

// maxNesting bounds the recursion into nested workflow jobs.
const maxNesting = 8

// node is a workflow job node that ran a job.
type node struct {
	JobID   int64
	JobName string
	JobType string
	Failed  bool
	Status  string
	JobLink string // related.job
}

// nodes lists the nodes of a workflow job that spawned a job, in job id
// order.
func (p *Provider) nodes(ctx context.Context, job map[string]any) ([]node, error) {
	link := str(dig(job, "related", "workflow_nodes"))
	if link == "" {
		return nil, nil
	}
	items, _, err := p.c.list(ctx, link, url.Values{"page_size": {"200"}}, 0)
	if err != nil {
		return nil, fmt.Errorf("read the nodes of workflow job %v: %w", job["id"], err)
	}
	return jobNodes(items), nil
}

// jobNodes keeps the nodes that have a job, sorted by job id.
func jobNodes(items []map[string]any) []node {
	var out []node
	for _, it := range items {
		sj := asMap(dig(it, "summary_fields", "job"))
		if sj == nil {
			continue
		}
		id, ok := toInt(sj["id"])
		if !ok {
			continue
		}
		n := node{JobID: id, JobName: str(sj["name"]), JobType: str(sj["type"]), Status: str(sj["status"]),
			JobLink: str(dig(it, "related", "job"))}
		n.Failed, _ = sj["failed"].(bool)
		if n.JobLink == "" {
			n.JobLink = fmt.Sprintf("jobs/%d/", id)
			if n.JobType == "workflow_job" {
				n.JobLink = fmt.Sprintf("workflow_jobs/%d/", id)
			}
		}
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].JobID < out[j].JobID })
	return out
}

// combine adds one job's artifacts to what was gathered: merge deep-merges
// (later wins), last replaces.
func combine(acc, next map[string]any, strategy string) map[string]any {
	if strategy == strategyMerge {
		return deepMerge(acc, next)
	}
	if next == nil {
		return acc
	}
	return deepMerge(nil, next)
}

// artifactsOf gathers a finished job's artifacts (§4.3): a playbook job's
// own; for a workflow job, its child jobs' in job id order (only the
// newest under "last"), recursively into nested workflows.
func (p *Provider) artifactsOf(ctx context.Context, job map[string]any, strategy string, depth int) (map[string]any, error) {
	acc := map[string]any{}
	if a := asMap(job["artifacts"]); a != nil {
		acc = combine(acc, a, strategy)
	}
	if !isWorkflowJob(job) {
		return acc, nil
	}
	if depth >= maxNesting {
		return nil, errors.New("workflows nested too deep")
	}
	nodes, err := p.nodes(ctx, job)
	if err != nil {
		return nil, err
	}
	if strategy != strategyMerge && len(nodes) > 1 {
		nodes = nodes[len(nodes)-1:]
	}
	for _, n := range nodes {
		var child map[string]any
		if err := p.c.call(ctx, http.MethodGet, n.JobLink, nil, nil, &child); err != nil {
			return nil, fmt.Errorf("read job %d (%s): %w", n.JobID, n.JobName, err)
		}
		a, err := p.artifactsOf(ctx, child, strategy, depth+1)
		if err != nil {
			return nil, err
		}
		acc = combine(acc, a, strategy)
	}
	return acc, nil
}

// hostFromArtifacts builds the inventory record of a checked-out host from
// the artifacts the workflow published with set_stats (§4.3 step 3).
// hostname is the "fqdn" fact, else the alphabetically first fact ending
// in "fqdn"; name is the "name" or "vm_provisioned" fact. Every non-empty
// fact is kept as a field. If the facts name several hosts (list values),
// the first one is used.
func hostFromArtifacts(art map[string]any, towerInventory string) (inventory.Host, error) {
	facts, ok := art["_broker_facts"].(map[string]any)
	if !ok {
		if len(art) == 0 {
			return nil, errors.New("the workflow published no artifacts (no set_stats with _broker_facts): cannot tell which host it made")
		}
		keys := make([]string, 0, len(art))
		for k := range art {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("the workflow published no _broker_facts (artifacts had %s): cannot tell which host it made", strings.Join(keys, ", "))
	}
	h := inventory.Host{}
	keys := make([]string, 0, len(facts))
	for k := range facts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if truthy(facts[k]) {
			h[k] = facts[k]
		}
	}
	hostname := str(firstOf(facts["fqdn"]))
	if hostname == "" {
		for _, k := range keys {
			if strings.HasSuffix(k, "fqdn") {
				if hostname = str(firstOf(facts[k])); hostname != "" {
					break
				}
			}
		}
	}
	name := str(firstOf(facts["name"]))
	if name == "" {
		name = str(firstOf(facts["vm_provisioned"]))
	}
	if hostname == "" {
		hostname = str(firstOf(facts["ip"]))
	}
	if hostname == "" {
		return nil, fmt.Errorf("the workflow's _broker_facts name no host (no fact ending in fqdn, nor ip); facts: %s", strings.Join(keys, ", "))
	}
	h[inventory.FieldHostname] = hostname
	h[inventory.FieldName] = nil
	if name != "" {
		h[inventory.FieldName] = name
	}
	h["type"] = "host"
	if towerInventory != "" {
		h["tower_inventory"] = towerInventory
	}
	args := map[string]any{}
	for k, v := range asMap(art["_broker_args"]) {
		if truthy(v) {
			args[k] = v
		}
	}
	h[inventory.FieldArgs] = args
	return h, nil
}
