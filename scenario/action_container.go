package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// reservedVars are template variables that are not scenario variables, so
// never part of a container's environment.
var reservedVars = map[string]bool{
	"step": true, "steps": true, "previous_step": true,
	"scenario_inventory": true, "inventory": true, "retry": true,
}

// stderrTail is how much of a failed container's stderr its error shows.
const stderrTail = 500

// container runs the step in a fresh container: on the engine of each
// with.hosts host (one container per host), or without with.hosts on the
// default Container instance's engine.
func (st *state) container(ctx context.Context, s *Step, args map[string]any, hosts []Host, vars map[string]any) (any, error) {
	cr, ok := st.r.Broker.(ContainerRunner)
	if st.r.Broker == nil {
		return nil, ErrNoBroker
	}
	if !ok {
		return nil, fmt.Errorf("action container: this broker cannot run containers: %w", ErrNotImplemented)
	}
	spec, err := st.containerSpec(s, args, vars)
	if err != nil {
		return nil, err
	}
	if s.Hosts != "" && len(hosts) == 0 {
		return nil, errors.New("container action: with.hosts selected no hosts")
	}
	run := func(ctx context.Context, h Host) (Result, error) {
		sp := spec
		sp.Host = h
		in, err := st.inputReader(s)
		if err != nil {
			return Result{}, err
		}
		sp.Stdin = in
		return cr.RunContainer(ctx, sp)
	}
	if s.Hosts == "" {
		res, err := run(ctx, nil)
		if err != nil {
			return nil, err
		}
		out := res.Map()
		if res.Status != 0 {
			return out, &resultError{err: containerFailed(spec.Image, res), output: out}
		}
		return out, nil
	}
	results, err := st.forHosts(ctx, s, hosts, run)
	if err != nil {
		return nil, err
	}
	out := hostOutput(hosts, results)
	var errs []error
	for i, r := range results {
		if r.Status != 0 {
			err := containerFailed(spec.Image, r)
			if len(hosts) > 1 {
				err = fmt.Errorf("%s: %w", hostName(hosts[i]), err)
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return out, &resultError{err: errors.Join(errs...), output: out}
	}
	return out, nil
}

// resultError is a failed step that still has a result: the engine keeps
// it as the step's output in the run's results.
type resultError struct {
	err    error
	output any
}

func (e *resultError) Error() string { return e.err.Error() }
func (e *resultError) Unwrap() error { return e.err }
func (e *resultError) Output() any   { return e.output }

// containerFailed is the error of a container that exited non-zero: the
// image, the status and the end of its stderr.
func containerFailed(image string, r Result) error {
	msg := fmt.Sprintf("container %s exited with status %d", image, r.Status)
	tail := strings.TrimSpace(r.Stderr)
	if len(tail) > stderrTail {
		tail = "..." + tail[len(tail)-stderrTail:]
	}
	if tail != "" {
		msg += ": " + tail
	} else {
		msg += " (no stderr)"
	}
	return errors.New(msg)
}

// containerSpec reads the container action's arguments (Host and Stdin
// are set per run).
func (st *state) containerSpec(s *Step, args map[string]any, vars map[string]any) (ContainerSpec, error) {
	var spec ContainerSpec
	img, ok := args["image"].(string)
	if !ok || strings.TrimSpace(img) == "" {
		return spec, errors.New("container action requires an 'image' argument")
	}
	spec.Image = strings.TrimSpace(img)
	spec.Name = s.Name
	switch c := args["command"].(type) {
	case nil:
	case string:
		if strings.TrimSpace(c) == "" {
			return spec, errors.New("container action: 'command' is empty")
		}
		spec.Shell = c
	case []any:
		if len(c) == 0 {
			return spec, errors.New("container action: 'command' is an empty list")
		}
		for _, w := range c {
			switch w.(type) {
			case map[string]any, []any, nil:
				return spec, fmt.Errorf("container action: command word %v is not a string", jsonable(w))
			}
			spec.Command = append(spec.Command, scalarString(w))
		}
	default:
		return spec, fmt.Errorf("container action: 'command' must be a string (run with sh -c) or a list of words, got %T", c)
	}
	env, err := containerEnv(s, args["environment"], vars)
	if err != nil {
		return spec, err
	}
	spec.Env = env
	if w, ok := args["workdir"]; ok && w != nil {
		ws, ok := w.(string)
		if !ok || !path.IsAbs(ws) {
			return spec, fmt.Errorf("container action: 'workdir' must be an absolute path in the container, got %v", jsonable(w))
		}
		spec.Workdir = ws
	}
	if spec.Volumes, err = st.containerVolumes(args["volumes"]); err != nil {
		return spec, err
	}
	spec.Output = "stdout"
	if o, ok := args["output"]; ok && o != nil {
		out, _ := o.(string)
		switch {
		case out == "stdout" || out == "stderr":
			spec.Output = out
		case path.IsAbs(out):
			spec.Output = path.Clean(out)
		default:
			return spec, fmt.Errorf("container action: 'output' must be stdout, stderr or an absolute path in the container, got %v", jsonable(o))
		}
	}
	if t, ok := args["timeout"]; ok && t != nil {
		spec.Timeout = parseDuration(t)
		if spec.Timeout <= 0 {
			return spec, fmt.Errorf("container action: invalid timeout %v: give seconds or a number with s, m, h or d", jsonable(t))
		}
	}
	return spec, nil
}

// containerEnv layers the container's environment: the scalar scenario
// variables, then the step's own variables (already rendered into vars;
// lists and maps as JSON), then the environment argument.
func containerEnv(s *Step, envArg any, vars map[string]any) (map[string]string, error) {
	env := map[string]string{}
	for k, v := range vars {
		if reservedVars[k] || !validEnvName(k) {
			continue
		}
		if isScalar(v) {
			env[k] = scalarString(v)
		}
	}
	for k := range s.Variables {
		v, ok := vars[k]
		if !ok || reservedVars[k] || !validEnvName(k) {
			continue
		}
		str, err := envValue(v)
		if err != nil {
			return nil, fmt.Errorf("container action: step variable %s: %w", k, err)
		}
		env[k] = str
	}
	switch e := envArg.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			if !validEnvName(k) {
				return nil, fmt.Errorf("container action: invalid environment variable name %q", k)
			}
			str, err := envValue(v)
			if err != nil {
				return nil, fmt.Errorf("container action: environment %s: %w", k, err)
			}
			env[k] = str
		}
	case []any:
		for _, item := range e {
			is, ok := item.(string)
			k, v, found := strings.Cut(is, "=")
			if !ok || !found || !validEnvName(k) {
				return nil, fmt.Errorf("container action: environment item %v is not NAME=VALUE", jsonable(item))
			}
			env[k] = v
		}
	default:
		return nil, fmt.Errorf("container action: 'environment' must be a map of names to values, got %T", envArg)
	}
	return env, nil
}

func validEnvName(k string) bool {
	return k != "" && !strings.ContainsAny(k, "= \t\r\n\x00")
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func scalarString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// envValue is a value as an environment variable: scalars as text, null
// as "", lists and maps as JSON.
func envValue(v any) (string, error) {
	if v == nil || isScalar(v) {
		return scalarString(v), nil
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// containerVolumes reads the volumes argument: "src:dst[:ro|rw]" strings
// or {source, target, rw} maps. Relative sources are relative to the
// scenario file's directory.
func (st *state) containerVolumes(v any) ([]Volume, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("container action: 'volumes' must be a list, got %T", v)
	}
	out := make([]Volume, 0, len(list))
	for _, item := range list {
		var vol Volume
		switch x := item.(type) {
		case string:
			parts := strings.Split(x, ":")
			if len(parts) < 2 || len(parts) > 3 {
				return nil, fmt.Errorf("container action: volume %q: want SOURCE:TARGET or SOURCE:TARGET:rw", x)
			}
			vol.Source, vol.Target = parts[0], parts[1]
			if len(parts) == 3 {
				switch parts[2] {
				case "rw":
					vol.RW = true
				case "ro":
				default:
					return nil, fmt.Errorf("container action: volume %q: mode must be ro or rw, got %q", x, parts[2])
				}
			}
		case map[string]any:
			for k := range x {
				if k != "source" && k != "target" && k != "rw" {
					return nil, fmt.Errorf("container action: volume %v: unknown key %q (want source, target, rw)", jsonable(x), k)
				}
			}
			vol.Source, _ = x["source"].(string)
			vol.Target, _ = x["target"].(string)
			if rw, ok := x["rw"]; ok && rw != nil {
				b, ok := rw.(bool)
				if !ok {
					return nil, fmt.Errorf("container action: volume %v: rw must be true or false", jsonable(x))
				}
				vol.RW = b
			}
		default:
			return nil, fmt.Errorf("container action: volume %v: want a SOURCE:TARGET string or a {source, target, rw} map", jsonable(item))
		}
		if vol.Source == "" || vol.Target == "" {
			return nil, fmt.Errorf("container action: volume %v needs a source and a target", jsonable(item))
		}
		if !path.IsAbs(vol.Target) {
			return nil, fmt.Errorf("container action: volume target %q must be an absolute path in the container", vol.Target)
		}
		if !filepath.IsAbs(vol.Source) {
			// A path next to the scenario file: local, so it is checked
			// here, and a missing rw directory is made (as docker does,
			// podman does not).
			vol.Source = filepath.Join(st.scenarioDir(), vol.Source)
			if _, err := os.Stat(vol.Source); errors.Is(err, fs.ErrNotExist) {
				if !vol.RW {
					return nil, fmt.Errorf("container action: volume source %s does not exist", vol.Source)
				}
				if err := os.MkdirAll(vol.Source, 0o755); err != nil {
					return nil, fmt.Errorf("container action: make volume source: %w", err)
				}
			}
		}
		vol.Source = filepath.Clean(vol.Source)
		out = append(out, vol)
	}
	return out, nil
}

// scenarioDir is the absolute directory of the scenario file.
func (st *state) scenarioDir() string {
	dir := filepath.Dir(st.sc.Path)
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// snapshot commits each selected container host to a local image.
func (st *state) snapshot(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	if st.r.Broker == nil {
		return nil, ErrNoBroker
	}
	if s.Hosts == "" {
		return nil, errors.New("snapshot action requires target hosts (with.hosts)")
	}
	if len(hosts) == 0 {
		return nil, errors.New("snapshot action: with.hosts selected no hosts")
	}
	sn, ok := st.r.Broker.(Snapshotter)
	if !ok {
		return nil, fmt.Errorf("action snapshot: this broker cannot snapshot hosts: %w", ErrNotImplemented)
	}
	for _, h := range hosts {
		if p, ok := hostRecord(h)["_broker_provider"].(string); ok && p != "" && p != "Container" {
			return nil, fmt.Errorf("snapshot: host %s is not a container host (provider %s): snapshot needs container hosts", hostName(h), p)
		}
	}
	repo, tag, err := st.snapshotRef(s, args)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(hosts))
	var one map[string]any
	for _, h := range hosts {
		t := tag
		if len(hosts) > 1 {
			t = slugTag(tag + "-" + hostName(h))
		}
		ref := repo + ":" + t
		id, err := sn.Snapshot(ctx, h, ref)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", hostName(h), err)
		}
		one = map[string]any{"image": ref, "id": id}
		out[hostName(h)] = one
	}
	if len(hosts) == 1 {
		return one, nil
	}
	return out, nil
}

// snapshotRef is the image the snapshot makes: the tag argument split into
// repository and tag as docker does ("repo" alone is repo:latest), or with
// a repository argument, repository:tag; by default
// broker-snapshot/<scenario file stem>:<step name slug>.
func (st *state) snapshotRef(s *Step, args map[string]any) (repo, tag string, err error) {
	tagArg, _ := args["tag"].(string)
	repoArg, _ := args["repository"].(string)
	if v, ok := args["tag"]; ok && v != nil && tagArg == "" {
		if _, isStr := v.(string); !isStr {
			return "", "", fmt.Errorf("snapshot: tag must be a string, got %T", v)
		}
	}
	tagArg, repoArg = strings.TrimSpace(tagArg), strings.TrimSpace(repoArg)
	switch {
	case repoArg != "":
		repo = repoArg
		tag = tagArg
		if tag == "" {
			tag = slugTag(s.Name)
		}
	case tagArg != "":
		repo, tag = tagArg, "latest"
		if i := strings.LastIndex(tagArg, ":"); i > strings.LastIndex(tagArg, "/") {
			repo, tag = tagArg[:i], tagArg[i+1:]
		}
	default:
		stem := filepath.Base(st.sc.Path)
		stem = strings.TrimSuffix(stem, filepath.Ext(stem))
		repo = "broker-snapshot/" + slugRepo(stem)
		tag = slugTag(s.Name)
	}
	if repo == "" || tag == "" || strings.Contains(repo, "@") {
		return "", "", fmt.Errorf("snapshot: invalid image reference %q: want repository[:tag]", repo+":"+tag)
	}
	return repo, tag, nil
}

// slugTag makes s an image tag: lowercase [a-z0-9_.-], other characters
// '-', not starting with '.' or '-', at most 128 characters.
func slugTag(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	out := strings.TrimLeft(string(b), ".-")
	if len(out) > 128 {
		out = out[:128]
	}
	if out == "" {
		return "latest"
	}
	return out
}

// slugRepo makes s one repository path component: lowercase [a-z0-9]
// joined by '-'.
func slugRepo(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	out := strings.Trim(string(b), "-")
	if out == "" {
		return "scenario"
	}
	return out
}
