package ansibletower

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/broker-go/broker/providers"
)

// stdoutLines is how much of a failed job's stdout a report shows.
const (
	stdoutLines = 15
	stdoutBytes = 2000
)

// JobError is a launched workflow or job template that did not succeed.
// Reasons hold the failed jobs, newest first (only the newest unless
// error_scope is "all").
type JobError struct {
	Kind     string // "workflow" or "job template"
	Template string
	JobID    int64
	Status   string // failed, error, canceled
	URL      string // the UI page of the job
	Reasons  []Reason
	// Dangling are the VMs that successful jobs of the failed workflow
	// made (their vm_name artifacts), and what became of them.
	Dangling []Dangling
}

// Dangling is a VM left by a failed workflow.
type Dangling struct {
	Name      string
	CheckedIn bool
	Err       error // the release failed (CheckedIn false)
	Behavior  string
}

// Reason is why one job failed.
type Reason struct {
	Job    string // job (template) name, the workflow node
	JobID  int64
	Status string
	Task   string // upstream puts the play name here
	Reason string // failed task's message, the traceback, or the explanation
	Stdout string // the end of the job's stdout
	URL    string // the job's UI page
}

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q (job %d) ended with status %s; open %s", e.Kind, e.Template, e.JobID, e.Status, e.URL)
	for _, r := range e.Reasons {
		b.WriteString("\n")
		if r.JobID != 0 {
			fmt.Fprintf(&b, "  failed node %q: job %d, status %s", r.Job, r.JobID, r.Status)
			if r.URL != "" {
				fmt.Fprintf(&b, " (%s)", r.URL)
			}
			b.WriteString("\n")
		}
		if r.Reason != "" {
			if r.Task != "" {
				fmt.Fprintf(&b, "    %s: %s\n", r.Task, r.Reason)
			} else {
				fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(strings.TrimSpace(r.Reason), "\n", "\n    "))
			}
		}
		if r.Stdout != "" {
			b.WriteString("    end of stdout:\n      ")
			b.WriteString(strings.ReplaceAll(r.Stdout, "\n", "\n      "))
			b.WriteString("\n")
		}
	}
	for _, d := range e.Dangling {
		b.WriteString("\n")
		switch {
		case d.CheckedIn:
			fmt.Fprintf(&b, "  dangling host %s: checked in", d.Name)
		case d.Err != nil:
			fmt.Fprintf(&b, "  dangling host %s: checking it in failed: %v", d.Name, d.Err)
		default:
			fmt.Fprintf(&b, "  dangling host %s: left as it is (dangling_behavior %s is not supported; only checkin is): release it by hand", d.Name, d.Behavior)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// handleDangling finds the VMs a failed workflow made in its successful
// jobs and, with dangling_behavior checkin (the default), releases them
// (§4.8 step 2). Nothing is done when a reason says the host "was
// automatically checked-in".
func (p *Provider) handleDangling(ctx context.Context, job map[string]any, je *JobError, inv inventoryChoice) {
	if !isWorkflowJob(job) {
		return
	}
	for _, r := range je.Reasons {
		if strings.Contains(r.Reason, "was automatically checked-in") {
			return
		}
	}
	nodes, err := p.nodes(ctx, job)
	if err != nil {
		p.log.Warn("could not look for dangling hosts", "error", err)
		return
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if n.Failed {
			continue
		}
		var child map[string]any
		if err := p.c.call(ctx, http.MethodGet, n.JobLink, nil, nil, &child); err != nil {
			p.log.Warn("could not look for dangling hosts", "job", n.JobID, "error", err)
			continue
		}
		vm := str(firstOf(dig(child, "artifacts", "vm_name")))
		if vm == "" || seen[vm] {
			continue
		}
		seen[vm] = true
		d := Dangling{Name: vm, Behavior: p.opts.DanglingBehavior}
		if p.opts.DanglingBehavior == "checkin" {
			args := providers.Args{"workflow": p.opts.ReleaseWorkflow, "source_vm": vm}
			if inv.Name != "" {
				args["tower_inventory"] = inv.Name
			} else if inv.ID != 0 {
				args["inventory"] = inv.ID
			}
			p.log.Info("checking in a dangling host", "vm", vm)
			if _, _, _, err := p.run(ctx, workflowKind, args); err != nil {
				d.Err = err
			} else {
				d.CheckedIn = true
			}
		}
		je.Dangling = append(je.Dangling, d)
	}
}

// failure builds the report of a job that did not succeed (§4.8).
func (p *Provider) failure(ctx context.Context, k kind, name string, job map[string]any, ui string) error {
	id, _ := toInt(job["id"])
	e := &JobError{Kind: k.title, Template: name, JobID: id, Status: str(job["status"]), URL: ui}
	var err error
	if isWorkflowJob(job) {
		e.Reasons, err = p.workflowReasons(ctx, job, 0)
	} else {
		var r Reason
		r, err = p.jobReason(ctx, job, name, id)
		e.Reasons = []Reason{r}
	}
	if err != nil {
		p.log.Warn("could not read why the job failed", "job", id, "error", err)
	}
	if len(e.Reasons) == 0 {
		e.Reasons = []Reason{{Reason: fmt.Sprintf("Unable to determine failure cause for %s at %s", name, ui)}}
	}
	if p.opts.ErrorScope == "last" && len(e.Reasons) > 1 {
		e.Reasons = e.Reasons[:1]
	}
	return e
}

// workflowReasons reads the failed nodes of a workflow job, newest first.
func (p *Provider) workflowReasons(ctx context.Context, job map[string]any, depth int) ([]Reason, error) {
	nodes, err := p.nodes(ctx, job)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].JobID > nodes[j].JobID })
	var out []Reason
	for _, n := range nodes {
		if !n.Failed {
			continue
		}
		if p.opts.ErrorScope == "last" && len(out) > 0 {
			break
		}
		var child map[string]any
		if err := p.c.call(ctx, http.MethodGet, n.JobLink, nil, nil, &child); err != nil {
			out = append(out, Reason{Job: n.JobName, JobID: n.JobID, Status: n.Status, Reason: fmt.Sprintf("(could not read the job: %v)", err)})
			continue
		}
		if isWorkflowJob(child) && depth < maxNesting {
			sub, err := p.workflowReasons(ctx, child, depth+1)
			if err != nil {
				return out, err
			}
			out = append(out, sub...)
			continue
		}
		r, err := p.jobReason(ctx, child, n.JobName, n.JobID)
		if err != nil {
			p.log.Warn("could not read why a job failed", "job", n.JobID, "error", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// jobReason explains one failed playbook job: its traceback when it
// errored, else the messages of its failed events; plus its stdout's end.
func (p *Provider) jobReason(ctx context.Context, job map[string]any, name string, id int64) (Reason, error) {
	if n := str(job["name"]); n != "" {
		name = n
	}
	r := Reason{Job: name, JobID: id, Status: str(job["status"]), URL: p.uiURL(ctx, "playbook", id)}
	var firstErr error
	if r.Status == "error" {
		if tb, ok := job["result_traceback"]; ok {
			r.Reason = tail(str(tb), stdoutLines, stdoutBytes)
		}
		if r.Reason == "" {
			r.Reason = str(job["job_explanation"])
		}
	} else if link := str(dig(job, "related", "job_events")); link != "" {
		events, _, err := p.c.list(ctx, link, url.Values{"page_size": {"200"}}, 0)
		if err != nil {
			firstErr = err
		}
		var msgs []string
		for _, ev := range events {
			if ev["failed"] != true {
				continue
			}
			msg := str(dig(ev, "event_data", "res", "msg"))
			if msg == "" {
				continue
			}
			task := str(dig(ev, "event_data", "task"))
			if task == "" {
				task = str(ev["task"])
			}
			if r.Task == "" {
				r.Task = fmt.Sprintf("task %q", task)
				if play := str(dig(ev, "event_data", "play")); play != "" {
					r.Task += fmt.Sprintf(" (play %q)", play)
				}
			}
			msgs = append(msgs, msg)
		}
		r.Reason = strings.Join(msgs, "; ")
		if r.Reason == "" {
			r.Reason = str(job["job_explanation"])
		}
	}
	if link := str(dig(job, "related", "stdout")); link != "" {
		out, err := p.c.text(ctx, link, url.Values{"format": {"txt_download"}})
		if err != nil && firstErr == nil {
			firstErr = err
		}
		r.Stdout = tail(out, stdoutLines, stdoutBytes)
	}
	return r, firstErr
}
