package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

// localExec runs a command on this machine through sh -c (upstream's
// local_exec, format v3): cwd, env (merged over the current environment),
// timeout (the whole process group is killed; status -1 with the output so
// far), stream (tee to the terminal), and the step's input: on stdin.
func (st *state) localExec(ctx context.Context, s *Step, args map[string]any) (any, error) {
	cmdText, ok := args["command"].(string)
	if !ok || cmdText == "" {
		return nil, errors.New("local_exec action requires a 'command' argument (a shell command string)")
	}
	var timeout time.Duration
	if v, ok := args["timeout"]; ok && v != nil {
		if timeout = parseDuration(v); timeout <= 0 {
			return nil, fmt.Errorf("local_exec: timeout %v: want seconds (a number) or a duration like 30s, 5m", v)
		}
	}
	cmd := exec.Command("sh", "-c", cmdText)
	if v, ok := args["cwd"]; ok && v != nil {
		dir, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("local_exec: cwd must be a string, not %T", v)
		}
		cmd.Dir = dir
	}
	cmd.Env = os.Environ()
	if v, ok := args["env"]; ok && v != nil {
		env, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("local_exec: env must be a map of NAME: value, not %T", v)
		}
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cmd.Env = append(cmd.Env, k+"="+stringify(env[k]))
		}
	}
	stream, _ := args["stream"].(bool)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stream {
		cmd.Stdout = io.MultiWriter(&stdout, lockedWriter{st.writer(false)})
		cmd.Stderr = io.MultiWriter(&stderr, lockedWriter{st.writer(true)})
	}
	in, err := st.inputReader(s)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = in
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("local_exec: start %q: %w", cmdText, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	kill := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	select {
	case err := <-done:
		res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
		var xe *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &xe):
			res.Status = xe.ExitCode()
		default:
			return nil, fmt.Errorf("local_exec %q: %w", cmdText, err)
		}
		return res.Map(), nil
	case <-timer:
		kill()
		st.log.Warn("local_exec timed out; its process group was killed", "step", s.Name, "timeout", timeout)
		return Result{Status: -1, Stdout: stdout.String(), Stderr: stderr.String()}.Map(), nil
	case <-ctx.Done():
		kill()
		return nil, fmt.Errorf("local_exec %q: %w", cmdText, ctx.Err())
	}
}

// lockedWriter serialises streamed writes with the output action's.
type lockedWriter struct{ w io.Writer }

func (l lockedWriter) Write(p []byte) (int, error) {
	outputMu.Lock()
	defer outputMu.Unlock()
	return l.w.Write(p)
}
