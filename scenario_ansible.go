package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/broker-go/broker/internal/ansiblejson"
	"github.com/broker-go/broker/scenario"
	"github.com/broker-go/broker/settings"
)

// ansibleCallback is the stdout callback RunPlaybook parses.
const ansibleCallback = ansiblejson.Callback

// RunPlaybook runs ansible-playbook on the given hosts only: an inventory of
// them (the same host variables as AnsibleInventory: the docker or podman
// connection for containers, SSH otherwise) and the extra variables are
// written to a temporary directory, removed afterwards. The run's stdout is
// the ansible.posix.json callback's document, parsed into per-host stats and
// task statuses. A playbook that fails is not an error here (see Status);
// errors are runs that could not start, finish (ctx, timeout) or be parsed.
func (s *scenarioBroker) RunPlaybook(ctx context.Context, hs []scenario.Host, spec scenario.PlaybookSpec) (scenario.PlaybookResult, error) {
	var res scenario.PlaybookResult
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		return res, scenario.ErrAnsibleNotFound
	}
	if len(hs) == 0 {
		return res, errors.New("no hosts to run the playbook on")
	}
	hosts := make([]*Host, len(hs))
	for i, h := range hs {
		sh, ok := h.(*scenarioHost)
		if !ok {
			return res, fmt.Errorf("%v is not a host of this broker", h.Record()["hostname"])
		}
		hosts[i] = sh.h
	}
	dir, err := os.MkdirTemp("", "broker-ansible-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	inv, env := s.b.playbookInventory(hosts)
	invPath := filepath.Join(dir, "inventory.json")
	if err := writeAnsibleJSON(invPath, inv); err != nil {
		return res, err
	}
	args := []string{"-i", invPath}
	if len(spec.ExtraVars) > 0 {
		p := filepath.Join(dir, "extra_vars.json")
		if err := writeAnsibleJSON(p, spec.ExtraVars); err != nil {
			return res, fmt.Errorf("extra_vars: %w", err)
		}
		args = append(args, "-e", "@"+p)
	}
	args = append(args, spec.Options...)
	args = append(args, spec.Playbook)

	env["ANSIBLE_STDOUT_CALLBACK"] = ansibleCallback
	env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
	env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
	env["ANSIBLE_NOCOLOR"] = "1"
	env["ANSIBLE_LOCAL_TEMP"] = filepath.Join(dir, "tmp")
	if os.Getenv("ANSIBLE_PYTHON_INTERPRETER") == "" {
		env["ANSIBLE_PYTHON_INTERPRETER"] = "auto_silent"
	}

	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if d := filepath.Dir(spec.Playbook); ansibleIsDir(d) {
		cmd.Dir = d // an ansible.cfg beside the playbook applies
	}
	cmd.Env = ansibleEnv(os.Environ(), env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so that cancelling kills ansible's workers and
	// their docker/podman/ssh children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	s.b.log.Info("running ansible-playbook", "playbook", spec.Playbook, "hosts", len(hosts))
	start := time.Now()
	runErr := cmd.Run()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if cerr := ctx.Err(); cerr != nil {
		res.Status = -1
		if errors.Is(cerr, context.DeadlineExceeded) && spec.Timeout > 0 {
			return res, fmt.Errorf("ansible-playbook timed out after %s", spec.Timeout)
		}
		return res, fmt.Errorf("ansible-playbook: %w", cerr)
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		res.Status = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("run ansible-playbook: %w", runErr)
	}
	s.b.log.Info("ansible-playbook finished", "status", res.Status, "duration", time.Since(start).Round(time.Millisecond))
	stats, tasks, perr := parseAnsibleJSON(stdout.Bytes())
	if perr != nil {
		if res.Status != 0 {
			// e.g. a syntax error: ansible stopped before any play
			return res, nil
		}
		return res, fmt.Errorf("ansible-playbook output: %w", perr)
	}
	res.Stats, res.Tasks = stats, tasks
	return res, nil
}

// playbookInventory is an Ansible YAML-plugin inventory (as JSON) of hosts,
// named as AnsibleInventory names them (made safe as inventory names), and
// the environment their connections need: DOCKER_HOST / CONTAINER_HOST when
// all docker (podman) hosts share one engine (each host's variables name
// its engine anyway).
func (b *Broker) playbookInventory(hosts []*Host) (map[string]any, map[string]string) {
	hv := map[string]any{}
	engines := map[string]map[string]bool{}
	for _, h := range hosts {
		name := ansibleHostName(h.Label())
		if _, dup := hv[name]; dup {
			name = ansibleHostName(h.Hostname())
		}
		for i := 2; ; i++ {
			if _, dup := hv[name]; !dup {
				break
			}
			name = fmt.Sprintf("%s_%d", ansibleHostName(h.Label()), i)
		}
		vars := b.ansibleVars(h)
		vars["broker_record"] = settings.Redact(map[string]any(h.Record.Host))
		hv[name] = vars
		if c, _ := vars["ansible_connection"].(string); c != "" {
			rt, _ := h.Record.Host["runtime"].(string)
			eng, _ := h.Record.Host["container_engine"].(string)
			if engines[rt] == nil {
				engines[rt] = map[string]bool{}
			}
			engines[rt][eng] = true
		}
	}
	env := map[string]string{}
	one := func(rt string) string {
		if len(engines[rt]) != 1 {
			return ""
		}
		for e := range engines[rt] {
			return e
		}
		return ""
	}
	if e := one("docker"); e != "" {
		env["DOCKER_HOST"] = e
	}
	if e := one("podman"); e != "" {
		env["CONTAINER_HOST"] = e
	}
	return map[string]any{"all": map[string]any{"hosts": hv}}, env
}

// ansibleHostName makes a name usable as an inventory host name: the YAML
// inventory reads "host:port" and "[a:b]" as patterns.
func ansibleHostName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ':', '[', ']', ',', ' ', '\t', '\n':
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "host"
	}
	return s
}

func ansibleIsDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func writeAnsibleJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// ansibleEnv is base with the keys of over replaced.
func ansibleEnv(base []string, over map[string]string) []string {
	out := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := over[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range over {
		out = append(out, k+"="+v)
	}
	return out
}

// parseAnsibleJSON reads the callback's document (see ansiblejson.Parse).
func parseAnsibleJSON(stdout []byte) (map[string]map[string]int, map[string][]scenario.TaskStatus, error) {
	stats, tasks, err := ansiblejson.Parse(stdout)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string][]scenario.TaskStatus, len(tasks))
	for h, ts := range tasks {
		l := make([]scenario.TaskStatus, len(ts))
		for i, t := range ts {
			l[i] = scenario.TaskStatus{Task: t.Task, Status: t.Status, Msg: t.Msg}
		}
		out[h] = l
	}
	return stats, out, nil
}
