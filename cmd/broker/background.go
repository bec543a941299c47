package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker/settings"
)

// backgroundEnv marks the detached child of "-b/--background": it ignores
// the flag and does the work.
const backgroundEnv = "BROKER_BACKGROUND_CHILD"

// goBackground re-runs this same command line in a detached process (its own
// session, no terminal), whose output and logs go to a log file, prints the
// child's pid and that file, and returns at once. Go has no safe fork, so
// this re-executes the binary; the child writes --output-file when it ends.
func (e *env) goBackground(c *cli.Context) error {
	if e.background {
		return nil // unreachable: the child never asks again
	}
	dir, err := settings.Dir(e.getenv)
	if err != nil {
		return err
	}
	logDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(logDir, fmt.Sprintf("background-%s-%d.log", time.Now().Format("20060102-150405"), os.Getpid()))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	exe, err := selfPath()
	if err != nil {
		return err
	}
	child := exec.Command(exe, os.Args[1:]...)
	child.Env = append(append([]string(nil), e.environ...), backgroundEnv+"=1", "NO_COLOR=1")
	child.Stdin = nil
	child.Stdout = f
	child.Stderr = f
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return fmt.Errorf("start the background process: %w", err)
	}
	pid := child.Process.Pid
	_ = child.Process.Release()
	e.skipOut = true // the child writes --output-file when it finishes
	fmt.Fprintf(e.stdout, "broker is running %s in the background: pid %d, log %s\n", c.Command.FullName(), pid, logPath)
	return nil
}

// selfPath is the program to re-run: the command this process was started
// as (looked up in PATH when bare), else the running executable.
func selfPath() (string, error) {
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		return filepath.Abs(p)
	}
	return os.Executable()
}
