package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// action dispatches one run of a step's action with rendered arguments.
func (st *state) action(ctx context.Context, s *Step, args map[string]any, hosts []Host, vars map[string]any) (any, error) {
	switch s.Action {
	case "exit":
		return st.exit(args)
	case "output":
		return st.output(args, vars)
	case "assert":
		return st.assert(args, vars)
	case "run_scenarios":
		return st.runScenarios(ctx, args)
	case "checkout":
		return st.checkout(ctx, s, args)
	case "checkin":
		return st.checkin(ctx, s, args, hosts)
	case "inventory":
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		sync, _ := args["sync"].(string)
		flt, _ := args["filter"].(string)
		recs, err := st.r.Broker.Inventory(ctx, flt, sync)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(recs))
		for i, r := range recs {
			out[i] = r
		}
		return out, nil
	case "ssh":
		return st.ssh(ctx, s, args, hosts)
	case "scp", "sftp":
		return st.copy(ctx, s, args, hosts)
	case "execute":
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		return st.r.Broker.Execute(ctx, maps.Clone(args))
	case "provider_info":
		if st.r.Broker == nil {
			return nil, ErrNoBroker
		}
		p, _ := args["provider"].(string)
		if p == "" {
			return nil, errors.New("provider_info requires a 'provider' argument")
		}
		rest := maps.Clone(args)
		delete(rest, "provider")
		v, err := st.r.Broker.ProviderInfo(ctx, p, rest)
		if err != nil {
			return nil, fmt.Errorf("provider_info failed for %s: %w", p, err)
		}
		return v, nil
	case "container":
		return st.container(ctx, s, args, hosts, vars)
	case "snapshot":
		return st.snapshot(ctx, s, args, hosts)
	case "ansible":
		return st.ansible(ctx, s, args, hosts)
	case "local_exec":
		return st.localExec(ctx, s, args)
	}
	return nil, fmt.Errorf("unknown action: %s", s.Action)
}

func (st *state) exit(args map[string]any) (any, error) {
	code := 0
	if v, ok := args["return_code"]; ok && v != nil {
		switch x := v.(type) {
		case int, int64, uint64, float64:
			code = toInt(x)
		case string:
			if _, err := fmt.Sscanf(strings.TrimSpace(x), "%d", &code); err != nil {
				return nil, fmt.Errorf("exit: return_code %q is not an integer", x)
			}
		default:
			return nil, fmt.Errorf("exit: return_code must be an integer, got %T", v)
		}
	}
	msg := "Scenario exited explicitly"
	if m, ok := args["message"].(string); ok && m != "" {
		msg = m
	}
	if code == 0 {
		st.log.Info("exit action", "message", msg, "code", 0)
		return code, errExitOK
	}
	return nil, &ExitError{Code: code, Message: msg}
}

func (st *state) writer(stderr bool) io.Writer {
	if stderr {
		if st.r.Stderr != nil {
			return st.r.Stderr
		}
		return os.Stderr
	}
	if st.r.Stdout != nil {
		return st.r.Stdout
	}
	return os.Stdout
}

var outputMu sync.Mutex

func (st *state) output(args map[string]any, vars map[string]any) (any, error) {
	content, ok := args["content"]
	if !ok {
		return nil, errors.New("output requires a 'content' argument")
	}
	if name, ok := content.(string); ok {
		if v, ok := vars[name]; ok {
			content = v
		}
	}
	content = plain(content)
	dest, _ := args["destination"].(string)
	if dest == "" {
		dest = "stdout"
	}
	mode, _ := args["mode"].(string)
	if mode == "" {
		mode = "overwrite"
	}
	if mode != "overwrite" && mode != "append" {
		return nil, fmt.Errorf("output: mode must be overwrite or append, got %q", mode)
	}
	outputMu.Lock()
	defer outputMu.Unlock()
	if dest == "stdout" || dest == "stderr" {
		text, err := textForm(content)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(st.writer(dest == "stderr"), ensureNL(text)); err != nil {
			return nil, fmt.Errorf("output to %s: %w", dest, err)
		}
		return content, nil
	}
	var data []byte
	switch strings.ToLower(filepath.Ext(dest)) {
	case ".json":
		v := content
		if s, ok := v.(string); ok {
			var parsed any
			if json.Unmarshal([]byte(s), &parsed) == nil {
				v = parsed
			}
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("output: encode JSON: %w", err)
		}
		data = b
	case ".yaml", ".yml":
		v := content
		if s, ok := v.(string); ok {
			var parsed any
			if yaml.Unmarshal([]byte(s), &parsed) == nil && parsed != nil {
				v = parsed
			}
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("output: encode YAML: %w", err)
		}
		data = b
	default:
		text, err := textForm(content)
		if err != nil {
			return nil, err
		}
		data = []byte(text)
	}
	data = []byte(ensureNL(string(data)))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if mode == "append" {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(dest, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("output: write %s: %w", dest, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("output: write %s: %w", dest, err)
	}
	return content, nil
}

// textForm prints strings as-is and anything else as YAML.
func textForm(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("output: encode YAML: %w", err)
	}
	return string(b), nil
}

func ensureNL(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func (st *state) assert(args map[string]any, vars map[string]any) (any, error) {
	that, ok := args["that"]
	if !ok {
		return nil, errors.New("assert requires a 'that' argument")
	}
	msg := "Assertion failed"
	if m, ok := args["fail_msg"].(string); ok && m != "" {
		msg = m
	}
	ctx := map[string]any{}
	st.mu.Lock()
	maps.Copy(ctx, st.vars)
	st.mu.Unlock()
	for _, k := range []string{"scenario_inventory", "steps"} {
		ctx[k] = vars[k]
	}
	check := func(c any) (bool, string, error) {
		switch x := c.(type) {
		case bool:
			return x, fmt.Sprint(x), nil
		case string:
			ok, err := Truthy(x, ctx)
			return ok, x, err
		case nil:
			return false, "None", nil
		}
		return truthValue(c), fmt.Sprint(c), nil
	}
	list, isList := that.([]any)
	if !isList {
		ok, text, err := check(that)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", msg, text, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s: %s", msg, text)
		}
		return true, nil
	}
	for i, c := range list {
		ok, text, err := check(c)
		if err != nil {
			return nil, fmt.Errorf("%s: (condition #%d): %s: %w", msg, i+1, text, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s: (condition #%d): %s", msg, i+1, text)
		}
	}
	return true, nil
}

func (st *state) runScenarios(ctx context.Context, args map[string]any) (any, error) {
	paths, ok := args["paths"].([]any)
	if !ok {
		return nil, errors.New("run_scenarios requires a 'paths' list")
	}
	var out []any
	for _, p := range paths {
		path, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf("run_scenarios: path %v is not a string", p)
		}
		sc, err := Load(path)
		if err != nil {
			return nil, err
		}
		sub := *st.r
		sub.InventoryPath = "" // the child's hosts are its own
		if _, err := sub.Run(ctx, sc); err != nil {
			return nil, fmt.Errorf("run_scenarios %s: %w", path, err)
		}
		out = append(out, map[string]any{"path": path, "success": true})
	}
	return out, nil
}

func (st *state) checkout(ctx context.Context, s *Step, args map[string]any) (any, error) {
	if st.r.Broker == nil {
		return nil, ErrNoBroker
	}
	a := maps.Clone(args)
	if c, ok := a["count"]; ok {
		a["_count"] = c
		delete(a, "count")
	}
	if _, ok := a["_broker_origin"]; !ok {
		a["_broker_origin"] = "scenario:" + s.Name
	}
	hosts, err := st.r.Broker.Checkout(ctx, a)
	if len(hosts) > 0 {
		// Partial successes are kept so they are checked in later.
		st.mu.Lock()
		st.hosts = append(st.hosts, hosts...)
		st.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	return hosts, nil
}

func (st *state) checkin(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	if st.r.Broker == nil {
		return nil, ErrNoBroker
	}
	st.mu.Lock()
	scen := append([]Host(nil), st.hosts...)
	st.mu.Unlock()
	target := hosts
	if s.Hosts == "" {
		switch h := args["hosts"].(type) {
		case nil:
			target = scen
		case []Host:
			target = h
		case Host:
			target = []Host{h}
		case []any:
			for _, e := range h {
				m, ok := st.matchHost(e, scen)
				if !ok {
					return nil, fmt.Errorf("checkin: %v is not a scenario host", jsonable(e))
				}
				target = append(target, m)
			}
		case map[string]any:
			m, ok := st.matchHost(h, scen)
			if !ok {
				return nil, fmt.Errorf("checkin: %v is not a scenario host", jsonable(h))
			}
			target = []Host{m}
		default:
			return nil, fmt.Errorf("checkin: hosts must be a list of hosts, got %T", h)
		}
	}
	if len(target) == 0 {
		return true, nil
	}
	err := st.r.Broker.Checkin(ctx, target)
	// Hosts are removed even on a partial failure only when the whole batch
	// succeeded; on error the caller's error says which failed, and keeping
	// them lets a later checkin or the final table show them.
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	kept := st.hosts[:0:0]
	for _, h := range st.hosts {
		if !containsHost(target, h) {
			kept = append(kept, h)
		}
	}
	st.hosts = kept
	st.mu.Unlock()
	return true, nil
}

func sameHost(a, b Host) (same bool) {
	defer func() {
		if recover() != nil { // uncomparable dynamic types
			same = false
		}
	}()
	return a == b
}

func containsHost(list []Host, h Host) bool {
	for _, x := range list {
		if sameHost(x, h) {
			return true
		}
	}
	return false
}

// forHosts runs fn on each host, concurrently (bounded) unless the step has
// parallel: false, and returns results in host order.
func (st *state) forHosts(ctx context.Context, s *Step, hosts []Host, fn func(context.Context, Host) (Result, error)) ([]Result, error) {
	results := make([]Result, len(hosts))
	if !s.Parallel || len(hosts) == 1 {
		for i, h := range hosts {
			r, err := fn(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", hostName(h), err)
			}
			results[i] = r
		}
		return results, nil
	}
	var g errgroup.Group
	g.SetLimit(st.r.parallelism())
	errs := make([]error, len(hosts))
	for i, h := range hosts {
		g.Go(func() error {
			r, err := fn(ctx, h)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", hostName(h), err)
			}
			results[i] = r
			return nil
		})
	}
	_ = g.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

func hostOutput(hosts []Host, results []Result) any {
	if len(hosts) == 1 {
		return results[0].Map()
	}
	out := make(map[string]any, len(hosts))
	for i, h := range hosts {
		out[hostName(h)] = results[i].Map()
	}
	return out
}

func (st *state) ssh(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	if s.Hosts == "" {
		return nil, errors.New("ssh action requires target hosts (with.hosts)")
	}
	if len(hosts) == 0 {
		return nil, errors.New("ssh action: with.hosts selected no hosts")
	}
	cmd, ok := args["command"].(string)
	if !ok || cmd == "" {
		return nil, errors.New("ssh action requires a 'command' argument")
	}
	timeout := parseDuration(args["timeout"])
	res, err := st.forHosts(ctx, s, hosts, func(ctx context.Context, h Host) (Result, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return st.runOn(ctx, s, h, cmd)
	})
	if err != nil {
		return nil, err
	}
	return hostOutput(hosts, res), nil
}

func (st *state) copy(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	if s.Hosts == "" {
		return nil, fmt.Errorf("%s action requires target hosts (with.hosts)", s.Action)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s action: with.hosts selected no hosts", s.Action)
	}
	src, _ := args["source"].(string)
	dst, _ := args["destination"].(string)
	if src == "" || dst == "" {
		return nil, fmt.Errorf("%s action requires 'source' and 'destination' arguments", s.Action)
	}
	upload := true
	if s.Action == "sftp" {
		if d, ok := args["direction"].(string); ok && d != "" && d != "upload" {
			upload = false
		}
	}
	res, err := st.forHosts(ctx, s, hosts, func(ctx context.Context, h Host) (Result, error) {
		if upload {
			if err := h.Put(ctx, src, dst); err != nil {
				return Result{}, err
			}
			if s.Action == "scp" {
				return Result{Stdout: fmt.Sprintf("Copied %s to %s", src, dst)}, nil
			}
			return Result{Stdout: fmt.Sprintf("Uploaded %s to %s", src, dst)}, nil
		}
		if err := h.Get(ctx, src, dst); err != nil {
			return Result{}, err
		}
		return Result{Stdout: fmt.Sprintf("Downloaded %s to %s", src, dst)}, nil
	})
	if err != nil {
		return nil, err
	}
	return hostOutput(hosts, res), nil
}
