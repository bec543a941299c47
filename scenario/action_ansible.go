package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrAnsibleNotFound is wrapped by an AnsibleRunner when ansible-playbook is
// not installed.
var ErrAnsibleNotFound = errors.New("ansible-playbook not found in PATH: install ansible-core (Debian/Ubuntu package `ansible`, or `pip install ansible-core`)")

// ansibleStderrTail bounds the part of ansible-playbook's stderr kept in the output.
const ansibleStderrTail = 4096

// PlaybookError is an ansible-playbook run that exited non-zero. Its message
// names each failed host with its failed task and message; Output is the
// step output the run would have had (the same map as on success).
type PlaybookError struct {
	Playbook string
	Result   PlaybookResult
	// Failed maps each failed or unreachable host to its last failed task.
	Failed map[string]TaskStatus
	output map[string]any
}

func (e *PlaybookError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "playbook %s failed (ansible-playbook exit status %d)", filepath.Base(e.Playbook), e.Result.Status)
	if len(e.Failed) == 0 {
		if t := ansibleLastLines(e.Result.Stderr, 5); t != "" {
			b.WriteString(": " + t)
		}
		return b.String()
	}
	names := make([]string, 0, len(e.Failed))
	for h := range e.Failed {
		names = append(names, h)
	}
	sort.Strings(names)
	b.WriteString(": ")
	for i, h := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		t := e.Failed[h]
		what := "failed"
		if t.Status == "unreachable" {
			what = "unreachable"
		}
		if t.Task == "" {
			fmt.Fprintf(&b, "host %s %s", h, what)
		} else {
			fmt.Fprintf(&b, "host %s %s at task %q", h, what, t.Task)
		}
		if t.Msg != "" {
			b.WriteString(": " + t.Msg)
		}
	}
	return b.String()
}

// Output is the step output of the failed run (status, stats, tasks, stderr).
func (e *PlaybookError) Output() any { return e.output }

// ansible runs ansible-playbook on the step's hosts (with.hosts, required)
// through the Broker's AnsibleRunner. Arguments: playbook (required; a path
// relative to the scenario file's directory), extra_vars (a map, given to
// ansible as one JSON file), options (extra ansible-playbook arguments: a
// list, or one string split on blanks), timeout (seconds or 30s/5m/1h).
// The output maps status (ansible-playbook's exit status), stats (host →
// ok/changed/failures/unreachable/skipped/rescued/ignored), tasks (host →
// list of {task, status: ok|changed|failed|skipped|unreachable, msg for
// failures}) and stderr (its last 4 KiB). Hosts are named as in the
// inventory ansible saw: the record's name (a container's name), else its
// hostname. A non-zero exit status fails the step with a *PlaybookError
// naming each failed host, its failed task and the message.
func (st *state) ansible(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	if s.Hosts == "" {
		return nil, errors.New("ansible action requires target hosts (with.hosts)")
	}
	if len(hosts) == 0 {
		return nil, errors.New("ansible action: with.hosts selected no hosts")
	}
	spec, err := st.playbookSpec(args)
	if err != nil {
		return nil, err
	}
	if st.r.Broker == nil {
		return nil, ErrNoBroker
	}
	ar, ok := st.r.Broker.(AnsibleRunner)
	if !ok {
		return nil, fmt.Errorf("ansible action: this broker cannot run playbooks: %w", ErrNotImplemented)
	}
	res, err := ar.RunPlaybook(ctx, hosts, spec)
	if err != nil {
		return nil, fmt.Errorf("ansible %s: %w", filepath.Base(spec.Playbook), err)
	}
	out := playbookOutput(res)
	if res.Status != 0 {
		return out, &PlaybookError{Playbook: spec.Playbook, Result: res, Failed: playbookFailedHosts(res), output: out}
	}
	return out, nil
}

// playbookSpec reads the action's arguments: playbook (relative to the
// scenario file's directory), extra_vars (a map), options (a list of
// ansible-playbook arguments, or one string split on blanks), timeout.
func (st *state) playbookSpec(args map[string]any) (PlaybookSpec, error) {
	var spec PlaybookSpec
	for k := range args {
		switch k {
		case "playbook", "extra_vars", "options", "timeout":
		default:
			return spec, fmt.Errorf("ansible action: unknown argument %q (playbook, extra_vars, options, timeout)", k)
		}
	}
	pb, _ := args["playbook"].(string)
	if strings.TrimSpace(pb) == "" {
		return spec, errors.New("ansible action requires a 'playbook' argument (a path relative to the scenario file)")
	}
	if !filepath.IsAbs(pb) {
		dir := "."
		if st.sc != nil && st.sc.Path != "" {
			dir = filepath.Dir(st.sc.Path)
		}
		pb = filepath.Join(dir, pb)
	}
	if abs, err := filepath.Abs(pb); err == nil {
		pb = abs
	}
	if fi, err := os.Stat(pb); err != nil {
		return spec, fmt.Errorf("ansible action: playbook: %w", err)
	} else if fi.IsDir() {
		return spec, fmt.Errorf("ansible action: playbook %s is a directory", pb)
	}
	spec.Playbook = pb
	switch ev := args["extra_vars"].(type) {
	case nil:
	case map[string]any:
		spec.ExtraVars = plainVars(ev)
	default:
		return spec, fmt.Errorf("ansible action: extra_vars must be a map, got %T", ev)
	}
	switch o := args["options"].(type) {
	case nil:
	case string:
		spec.Options = strings.Fields(o)
	case []any:
		for _, e := range o {
			switch x := e.(type) {
			case string:
				spec.Options = append(spec.Options, x)
			case int, int64, uint64, float64, bool:
				spec.Options = append(spec.Options, fmt.Sprint(x))
			default:
				return spec, fmt.Errorf("ansible action: options must be a list of strings, got an item of type %T", e)
			}
		}
	default:
		return spec, fmt.Errorf("ansible action: options must be a list of strings, got %T", o)
	}
	if t, ok := args["timeout"]; ok && t != nil {
		spec.Timeout = parseDuration(t)
		if spec.Timeout <= 0 {
			return spec, fmt.Errorf("ansible action: timeout %v is not a duration (seconds, or 30s, 5m, 1h)", t)
		}
	}
	return spec, nil
}

// playbookOutput is a PlaybookResult as templates see it: status, stats
// (host → counter → n), tasks (host → list of {task, status[, msg]}) and the
// end of stderr.
func playbookOutput(r PlaybookResult) map[string]any {
	stats := make(map[string]any, len(r.Stats))
	for h, m := range r.Stats {
		hm := make(map[string]any, len(m))
		for k, v := range m {
			hm[k] = v
		}
		stats[h] = hm
	}
	tasks := make(map[string]any, len(r.Tasks))
	for h, ts := range r.Tasks {
		l := make([]any, len(ts))
		for i, t := range ts {
			m := map[string]any{"task": t.Task, "status": t.Status}
			if t.Msg != "" {
				m["msg"] = t.Msg
			}
			l[i] = m
		}
		tasks[h] = l
	}
	return map[string]any{
		"status": r.Status,
		"stats":  stats,
		"tasks":  tasks,
		"stderr": ansibleTail(r.Stderr, ansibleStderrTail),
	}
}

// playbookFailedHosts: each host whose stats count failures or unreachable, with
// its last failed (or unreachable) task: a failure that ends a host is its
// last one, earlier ones were ignored or rescued.
func playbookFailedHosts(r PlaybookResult) map[string]TaskStatus {
	out := map[string]TaskStatus{}
	for h, st := range r.Stats {
		if st["failures"] == 0 && st["unreachable"] == 0 {
			continue
		}
		var last TaskStatus
		for _, t := range r.Tasks[h] {
			if t.Status == "failed" || t.Status == "unreachable" {
				last = t
			}
		}
		if last.Status == "" {
			last.Status = "failed"
			if st["unreachable"] > 0 {
				last.Status = "unreachable"
			}
		}
		out[h] = last
	}
	return out
}

// ansibleTail is the end of s, at most n bytes, cut at a line start when possible.
func ansibleTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return s
}

// ansibleLastLines joins the last n non-empty lines of s with " | ".
func ansibleLastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
