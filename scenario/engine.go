package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker/filter"
)

// Step statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)

// DefaultParallelism bounds multi-host ssh/scp/sftp and parallel loops, as
// upstream's 10 threads.
const DefaultParallelism = 10

// Runner runs scenarios. The zero value runs steps that need no broker,
// discards logs and writes output actions to os.Stdout/os.Stderr.
type Runner struct {
	Broker Broker
	Logger *slog.Logger // nil = discard
	Stdout io.Writer    // output action's "stdout" destination; nil = os.Stdout
	Stderr io.Writer    // nil = os.Stderr
	// Variables override the scenario's variables (CLI --VAR value), already
	// converted to the wanted types.
	Variables map[string]any
	// Parallelism bounds concurrent host operations and parallel loops;
	// 0 = DefaultParallelism.
	Parallelism int
	// InventoryPath, when set, is the scenario inventory file: removed at
	// the start of the run and rewritten (YAML list of records) after each
	// step. The caller picks it from Config.InventoryPath or the default.
	InventoryPath string
}

// StepResult is one step's run, in the order steps ran; steps of an
// on_error list have Recovery set to the failed step's name.
type StepResult struct {
	Index    int       `json:"index"`
	Name     string    `json:"name"`
	Action   string    `json:"action"`
	Line     int       `json:"line,omitempty"`
	Status   string    `json:"status"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration"` // seconds
	Output   any       `json:"output,omitempty"`
	Error    string    `json:"error,omitempty"`
	Recovery string    `json:"recovery_of,omitempty"`
}

// Outcome is what a run leaves behind, returned even when Run fails.
type Outcome struct {
	Steps     []StepResult
	Variables map[string]any
	// Hosts still in the scenario inventory (not checked in).
	Hosts []Host
	// Exited is set when an exit action with return code 0 ended the run.
	Exited bool
}

// StepError is a step failure that ended the scenario.
type StepError struct {
	Scenario string
	Index    int
	Name     string
	Action   string
	Line     int
	Err      error
}

func (e *StepError) Error() string {
	loc := ""
	if e.Line > 0 {
		loc = fmt.Sprintf(", line %d", e.Line)
	}
	return fmt.Sprintf("scenario %s: step %d %q (%s%s) failed: %v", e.Scenario, e.Index+1, e.Name, e.Action, loc, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// ExitError is an exit action with a non-zero return code.
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("Exit Action: %s (code: %d)", e.Message, e.Code)
}

// errExitOK is an exit action with return code 0: the run ends successfully.
var errExitOK = errors.New("scenario exited explicitly")

type memory struct {
	name   string
	output any
	status string
	// captured is the capture.as value when the step has a capture; it is
	// what a later step's input: reads.
	captured    any
	hasCaptured bool
}

func (m *memory) view() map[string]any {
	if m == nil {
		return nil
	}
	return map[string]any{"name": m.name, "output": plain(m.output), "status": m.status}
}

type state struct {
	r        *Runner
	sc       *Scenario
	log      *slog.Logger
	mu       sync.Mutex
	vars     map[string]any
	hosts    []Host
	memories map[string]*memory
	out      *Outcome
}

// Run executes the scenario's steps. The Outcome is returned in all cases.
func (r *Runner) Run(ctx context.Context, sc *Scenario) (*Outcome, error) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := &state{
		r:        r,
		sc:       sc,
		log:      log.With("scenario", sc.Path),
		vars:     map[string]any{},
		memories: map[string]*memory{},
		out:      &Outcome{},
	}
	maps.Copy(st.vars, sc.Variables)
	maps.Copy(st.vars, r.Variables)
	if r.InventoryPath != "" {
		if err := os.Remove(r.InventoryPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return st.outcome(), fmt.Errorf("scenario %s: reset inventory file: %w", sc.Path, err)
		}
	}
	err := st.runSteps(ctx, sc.Steps, "")
	if errors.Is(err, errExitOK) {
		st.out.Exited = true
		err = nil
	}
	return st.outcome(), err
}

func (st *state) outcome() *Outcome {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.out.Variables = maps.Clone(st.vars)
	st.out.Hosts = append([]Host(nil), st.hosts...)
	return st.out
}

func (st *state) runSteps(ctx context.Context, steps []*Step, recovery string) error {
	var prev *memory
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scenario %s: before step %q: %w", st.sc.Path, s.Name, err)
		}
		mem := st.memory(s.Name)
		err := st.runStep(ctx, s, mem, prev, recovery)
		if werr := st.writeInventory(); werr != nil {
			st.log.Warn("write scenario inventory", "error", werr)
		}
		if err != nil {
			return err
		}
		prev = mem
	}
	return nil
}

func (st *state) memory(name string) *memory {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.memories[name]
	if m == nil {
		m = &memory{name: name, status: StatusPending}
		st.memories[name] = m
	}
	return m
}

// context builds the template variables for a step.
func (st *state) context(ctx context.Context, s *Step, mem, prev *memory) map[string]any {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := maps.Clone(st.vars)
	c["step"] = mem.view()
	if prev != nil {
		c["previous_step"] = prev.view()
	} else {
		c["previous_step"] = nil
	}
	steps := make(map[string]any, len(st.memories))
	for k, m := range st.memories {
		steps[k] = m.view()
	}
	c["steps"] = steps
	c["scenario_inventory"] = append([]Host(nil), st.hosts...)
	if st.r.Broker != nil && mentionsInventory(s) {
		st.mu.Unlock()
		recs, err := st.r.Broker.Inventory(ctx, "", "")
		st.mu.Lock()
		if err != nil {
			st.log.Warn("read inventory for templates", "step", s.Name, "error", err)
		} else {
			l := make([]any, len(recs))
			for i, r := range recs {
				l[i] = r
			}
			c["inventory"] = l
		}
	}
	return c
}

// inventoryWord finds the template variable inventory (not scenario_inventory).
var inventoryWord = regexp.MustCompile(`(^|[^\w@])inventory\b`)

// mentionsInventory reports whether a step's templates use `inventory`, so
// the main inventory is read only for the steps that need it.
func mentionsInventory(s *Step) bool {
	texts := []string{s.When}
	if s.Loop != nil {
		texts = append(texts, s.Loop.Iterable)
	}
	if s.Capture != nil {
		texts = append(texts, s.Capture.Transform, s.Capture.Key)
	}
	if s.Hosts != "inventory" {
		texts = append(texts, s.Hosts)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			texts = append(texts, x)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(s.Arguments)
	for _, t := range texts {
		if strings.Contains(t, "{") && inventoryWord.MatchString(t) {
			return true
		}
	}
	return false
}

func (st *state) runStep(ctx context.Context, s *Step, mem, prev *memory, recovery string) error {
	start := time.Now()
	log := st.log.With("step", s.Name, "index", s.Index, "action", s.Action)
	log.Info("step started")
	mem.status = StatusRunning
	res := StepResult{Index: s.Index, Name: s.Name, Action: s.Action, Line: s.Line, Start: start, Recovery: recovery}
	finish := func(status string, output any, err error) {
		mem.status = status
		res.Status = status
		res.End = time.Now()
		res.Duration = res.End.Sub(start).Seconds()
		res.Output = jsonable(output)
		if err != nil {
			res.Error = err.Error()
		}
		st.mu.Lock()
		st.out.Steps = append(st.out.Steps, res)
		st.mu.Unlock()
		attrs := []any{"status", status, "duration", res.End.Sub(start)}
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		log.Info("step finished", attrs...)
	}

	vars := st.context(ctx, s, mem, prev)
	varErr := stepVariables(s, vars)
	if varErr == nil && s.Loop == nil && strings.TrimSpace(s.When) != "" {
		ok, err := Truthy(s.When, vars)
		if err != nil {
			log.Warn("when condition failed to evaluate; skipping step", "when", s.When, "error", err)
		}
		if err != nil || !ok {
			finish(StatusSkipped, nil, nil)
			return nil
		}
	}

	var out any
	var err error
	count := max(s.Retry.Count, 1)
	if varErr != nil {
		err, count = varErr, 0
	}
	for attempt := 1; attempt <= count; attempt++ {
		vars["retry"] = map[string]any{"attempt": attempt, "max_attempts": count}
		out, err = st.attempt(ctx, s, vars)
		if err == nil || errors.Is(err, errExitOK) || ctx.Err() != nil {
			break
		}
		if attempt < count {
			log.Warn("step attempt failed; retrying", "attempt", attempt, "error", err, "delay", s.Retry.Delay)
			if werr := sleep(ctx, s.Retry.Delay); werr != nil {
				break
			}
		}
	}
	if errors.Is(err, errExitOK) {
		mem.output = out
		finish(StatusCompleted, out, nil)
		return err
	}
	if err == nil {
		mem.output = out
		if s.Capture != nil {
			val := out
			if s.Capture.Transform != "" {
				cv := maps.Clone(vars)
				cv["step"] = map[string]any{"name": s.Name, "output": plain(out), "status": StatusCompleted}
				val, err = Render(s.Capture.Transform, cv)
				if err != nil {
					err = fmt.Errorf("capture transform: %w", err)
				}
			}
			if err == nil {
				st.mu.Lock()
				st.vars[s.Capture.As] = val
				mem.captured, mem.hasCaptured = val, true
				st.mu.Unlock()
			}
		}
		if err == nil {
			finish(StatusCompleted, out, nil)
			return nil
		}
	}
	// Failure. Templates see the error text as the step's output, as
	// upstream; the run's results (--output-file) keep the action's own
	// result when its error carries one (a failed playbook, a container
	// that exited non-zero).
	mem.output = err.Error()
	var withOut interface{ Output() any }
	if errors.As(err, &withOut) && withOut.Output() != nil {
		finish(StatusFailed, withOut.Output(), err)
	} else {
		finish(StatusFailed, err.Error(), err)
	}
	if ctx.Err() != nil {
		return &StepError{Scenario: st.sc.Path, Index: s.Index, Name: s.Name, Action: s.Action, Line: s.Line, Err: err}
	}
	switch {
	case s.OnErrorContinue:
		log.Warn("step failed; continuing (on_error: continue)", "error", err)
		return nil
	case len(s.OnError) > 0:
		log.Warn("step failed; running its on_error steps", "error", err)
		return st.runSteps(ctx, s.OnError, s.Name)
	case s.ExitOnError:
		return &StepError{Scenario: st.sc.Path, Index: s.Index, Name: s.Name, Action: s.Action, Line: s.Line, Err: err}
	default:
		log.Warn("step failed; continuing (exit_on_error: false)", "error", err)
		return nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt resolves with.hosts and runs the loop or the single action, under
// the step's timeout when set (the work is abandoned, its context cancelled).
func (st *state) attempt(ctx context.Context, s *Step, vars map[string]any) (any, error) {
	run := func(ctx context.Context) (any, error) {
		var hosts []Host
		if s.Hosts != "" {
			var err error
			if hosts, err = st.resolveHosts(ctx, s.Hosts, vars); err != nil {
				return nil, fmt.Errorf("resolve with.hosts %q: %w", s.Hosts, err)
			}
		}
		if s.Loop != nil {
			return st.runLoop(ctx, s, vars, hosts)
		}
		args, err := Render(s.Arguments, vars)
		if err != nil {
			return nil, fmt.Errorf("render arguments: %w", err)
		}
		return st.action(ctx, s, args.(map[string]any), hosts, vars)
	}
	if s.Timeout <= 0 {
		return run(ctx)
	}
	tctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	type ret struct {
		v   any
		err error
	}
	ch := make(chan ret, 1)
	go func() {
		v, err := run(tctx)
		ch <- ret{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-tctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("step %q timed out after %s", s.Name, s.Timeout)
	}
}

// runLoop runs a looped step; the output maps each item's key to its result.
func (st *state) runLoop(ctx context.Context, s *Step, vars map[string]any, hosts []Host) (any, error) {
	items, err := st.iterable(ctx, s.Loop.Iterable, vars)
	if err != nil {
		return nil, fmt.Errorf("loop iterable %q: %w", s.Loop.Iterable, err)
	}
	type itemResult struct {
		key  string
		val  any
		skip bool
		err  error
	}
	results := make([]itemResult, len(items))
	one := func(ctx context.Context, i int) error {
		item := items[i]
		iv := maps.Clone(vars)
		names := s.Loop.IterVar
		first := item
		if len(names) == 1 {
			iv[names[0]] = item
		} else {
			parts, ok := unpack(item, len(names))
			if !ok {
				return fmt.Errorf("loop item cannot be unpacked into %d variables (%s): %v", len(names), strings.Join(names, ", "), jsonable(item))
			}
			for j, n := range names {
				iv[n] = parts[j]
			}
			first = parts[0]
		}
		if strings.TrimSpace(s.When) != "" {
			ok, err := Truthy(s.When, iv)
			if err != nil || !ok {
				results[i].skip = true
				return nil
			}
		}
		val, err := func() (any, error) {
			args, err := Render(s.Arguments, iv)
			if err != nil {
				return nil, fmt.Errorf("render arguments: %w", err)
			}
			return st.action(ctx, s, args.(map[string]any), hosts, iv)
		}()
		key := stringify(first)
		if s.Capture != nil && s.Capture.Key != "" {
			kv := maps.Clone(iv)
			kv["result"] = plain(val)
			var k any
			var kerr error
			if strings.Contains(s.Capture.Key, "{{") || strings.Contains(s.Capture.Key, "{%") {
				k, kerr = Render(s.Capture.Key, kv)
			} else { // upstream: key is an expression
				k, kerr = Eval(s.Capture.Key, kv)
			}
			if kerr == nil {
				key = stringify(k)
			} else {
				st.log.Warn("capture key failed; using the item", "step", s.Name, "key", s.Capture.Key, "error", kerr)
			}
		}
		results[i].key = key
		if err != nil {
			if s.Loop.Continue && !errors.Is(err, errExitOK) {
				st.log.Warn("loop item failed; continuing", "step", s.Name, "item", key, "error", err)
				results[i].val = map[string]any{"error": err.Error()}
				return nil
			}
			return fmt.Errorf("loop item %s: %w", key, err)
		}
		results[i].val = val
		return nil
	}
	if s.ParallelSet && s.Parallel && s.Action != "exit" && len(items) > 1 {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(st.r.parallelism())
		for i := range items {
			g.Go(func() error { return one(gctx, i) })
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	} else {
		for i := range items {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := one(ctx, i); err != nil {
				return nil, err
			}
		}
	}
	out := map[string]any{}
	for _, r := range results {
		if !r.skip {
			out[r.key] = r.val
		}
	}
	return out, nil
}

func unpack(item any, n int) ([]any, bool) {
	l, ok := item.([]any)
	if !ok || len(l) != n {
		return nil, false
	}
	return l, true
}

func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case Host:
		return hostName(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(jsonable(v))
}

// iterable evaluates a loop's iterable to a list of items.
func (st *state) iterable(ctx context.Context, src string, vars map[string]any) ([]any, error) {
	var hosts []Host
	var err error
	switch {
	case strings.Contains(src, "@scenario_inv"):
		hosts, err = st.filterScenarioHosts(src)
	case strings.Contains(src, "@inv"):
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		hosts, err = st.r.Broker.InventoryHosts(ctx, src)
	default:
		expr := strings.TrimSpace(src)
		if m := singleExpr.FindStringSubmatch(expr); m != nil {
			expr = m[1]
		}
		v, err := Eval(expr, vars)
		if err != nil {
			return nil, err
		}
		return loopItems(v), nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, len(hosts))
	for i, h := range hosts {
		out[i] = h
	}
	return out, nil
}

// loopItems: a map iterates as [key, value] pairs (sorted keys), a list as
// itself, a Host list as its Hosts, a scalar as a one-item list.
func loopItems(v any) []any {
	switch x := v.(type) {
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, []any{k, x[k]})
		}
		return out
	case []any:
		return x
	case []Host:
		out := make([]any, len(x))
		for i, h := range x {
			out[i] = h
		}
		return out
	case nil:
		return nil
	}
	return []any{v}
}

// indexSpec is with.hosts given as an index ("0", "-1") or a slice ("0:2").
var indexSpec = regexp.MustCompile(`^\s*(-?\d+)?\s*(:)?\s*(-?\d+)?\s*$`)

// resolveHosts implements with.hosts.
func (st *state) resolveHosts(ctx context.Context, spec string, vars map[string]any) ([]Host, error) {
	st.mu.Lock()
	scen := append([]Host(nil), st.hosts...)
	st.mu.Unlock()
	s := strings.TrimSpace(spec)
	switch {
	case s == "scenario_inventory":
		return scen, nil
	case s == "inventory":
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		return st.r.Broker.InventoryHosts(ctx, "")
	case strings.Contains(s, "@scenario_inv"):
		return st.filterScenarioHosts(s)
	case strings.Contains(s, "@inv"):
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		return st.r.Broker.InventoryHosts(ctx, s)
	}
	if m := indexSpec.FindStringSubmatch(s); m != nil && (m[1] != "" || m[3] != "") {
		return sliceHosts(scen, m[1], m[2] != "", m[3])
	}
	v, err := Render(s, vars)
	if err != nil {
		return nil, err
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case []Host:
		return x, nil
	case Host:
		return []Host{x}, nil
	case map[string]any:
		list = []any{x} // one host, e.g. {{ scenario_inventory[0] }}
	default:
		st.log.Warn("with.hosts did not yield a list of hosts; no hosts selected", "hosts", spec)
		return nil, nil
	}
	out := make([]Host, 0, len(list))
	for _, e := range list {
		h, ok := st.matchHost(e, scen)
		if !ok {
			return nil, fmt.Errorf("with.hosts item is not a scenario host: %v", jsonable(e))
		}
		out = append(out, h)
	}
	return out, nil
}

func sliceHosts(hosts []Host, a string, isSlice bool, b string) ([]Host, error) {
	n := len(hosts)
	norm := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return 0, err
		}
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n), nil
	}
	if !isSlice {
		i, err := strconv.Atoi(a)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, fmt.Errorf("host index %s out of range (%d scenario hosts)", a, n)
		}
		return []Host{hosts[i]}, nil
	}
	lo, err := norm(a, 0)
	if err != nil {
		return nil, err
	}
	hi, err := norm(b, n)
	if err != nil {
		return nil, err
	}
	if lo >= hi {
		return nil, nil
	}
	return append([]Host(nil), hosts[lo:hi]...), nil
}

// matchHost maps a template value back to a Host: a Host itself, or a record
// map equal to a scenario host's record.
func (st *state) matchHost(v any, scen []Host) (Host, bool) {
	switch x := v.(type) {
	case Host:
		return x, true
	case map[string]any:
		for _, h := range scen {
			if reflect.DeepEqual(jsonable(hostRecord(h)), jsonable(x)) {
				return h, true
			}
		}
	}
	return nil, false
}

func (st *state) filterScenarioHosts(src string) ([]Host, error) {
	f, err := filter.Compile(src, "scenario_inv")
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	scen := append([]Host(nil), st.hosts...)
	st.mu.Unlock()
	recs := make([]any, len(scen))
	for i, h := range scen {
		recs[i] = hostRecord(h)
	}
	idx, err := f.Apply(recs)
	if err != nil {
		return nil, err
	}
	out := make([]Host, len(idx))
	for i, j := range idx {
		out[i] = scen[j]
	}
	return out, nil
}

func (r *Runner) parallelism() int {
	if r.Parallelism > 0 {
		return r.Parallelism
	}
	return DefaultParallelism
}

func (st *state) writeInventory() error {
	if st.r.InventoryPath == "" {
		return nil
	}
	st.mu.Lock()
	recs := make([]map[string]any, len(st.hosts))
	for i, h := range st.hosts {
		recs[i] = hostRecord(h)
	}
	st.mu.Unlock()
	data, err := yaml.Marshal(recs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(st.r.InventoryPath), 0o755); err != nil {
		return err
	}
	tmp := st.r.InventoryPath + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, st.r.InventoryPath)
}

// jsonable converts values for results and logs: Hosts become records,
// Results maps.
func jsonable(v any) any { return plain(v) }
