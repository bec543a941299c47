package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/broker-go/broker/internal/awxfake"
	"github.com/broker-go/broker/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"broker": func() int { return run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ()) },
	}))
}

var update = os.Getenv("BROKER_UPDATE_SCRIPTS") == "1"

// commonSetup gives each script its own broker directory, home and user.
func commonSetup(env *testscript.Env) error {
	env.Setenv("BROKER_DIRECTORY", filepath.Join(env.WorkDir, ".broker"))
	env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
	if err := os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o755); err != nil {
		return err
	}
	env.Setenv("NO_COLOR", "1")
	env.Setenv("BROKER_NON_INTERACTIVE", "1")
	// a user name unique to this script: container names and the
	// broker.user label, so parallel scripts never see each other's hosts
	env.Setenv("USER", fmt.Sprintf("t%d", time.Now().UnixNano()%1_000_000_000))
	return nil
}

var commonCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// waitfile FILE [SECONDS]: wait until FILE exists and is not empty.
	"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 1 {
			ts.Fatalf("usage: waitfile FILE [SECONDS]")
		}
		limit := 60 * time.Second
		if len(args) > 1 {
			d, err := time.ParseDuration(args[1] + "s")
			ts.Check(err)
			limit = d
		}
		deadline := time.Now().Add(limit)
		for {
			if fi, err := os.Stat(ts.MkAbs(args[0])); err == nil && fi.Size() > 0 {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%s did not appear within %s", args[0], limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	},
	// countlines FILE N: FILE ("stdout"/"stderr" for those) has exactly N non-empty lines.
	"countlines": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: countlines FILE|stdout|stderr N")
		}
		var text string
		switch args[0] {
		case "stdout":
			text = ts.ReadFile("stdout")
		case "stderr":
			text = ts.ReadFile("stderr")
		default:
			text = ts.ReadFile(args[0])
		}
		n := 0
		for _, l := range strings.Split(text, "\n") {
			if strings.TrimSpace(l) != "" {
				n++
			}
		}
		if want := args[1]; fmt.Sprint(n) != want != neg {
			ts.Fatalf("%s has %d non-empty lines, want %s%s", args[0], n, map[bool]string{true: "not "}[neg], want)
		}
	},
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               commonSetup,
		Cmds:                commonCmds,
		UpdateScripts:       update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// TestContainerScripts runs every script of testdata/container once per
// runtime, with broker pointed at that runtime's test engine, so each
// behaviour is shown on Docker and on Podman.
func TestContainerScripts(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, eng testenv.Engine) {
		t.Parallel()
		testscript.Run(t, testscript.Params{
			Dir: "testdata/container",
			Setup: func(env *testscript.Env) error {
				if err := commonSetup(env); err != nil {
					return err
				}
				env.Setenv("RUNTIME", eng.Runtime)
				env.Setenv("ENGINE_HOST", eng.Host)
				env.Setenv("BROKER_CONTAINER__RUNTIME", eng.Runtime)
				env.Setenv("BROKER_CONTAINER__HOST", eng.Host)
				env.Setenv("BUSYBOX", testenv.BusyboxImage)
				env.Setenv("DEBIAN", testenv.DebianImage)
				user := env.Getenv("USER")
				env.Defer(func() { removeUserContainers(t, eng, user) })
				return nil
			},
			Cmds: mergeCmds(commonCmds, map[string]func(*testscript.TestScript, bool, []string){
				// waitcontainer: wait until the script's user has a container.
				"waitcontainer": func(ts *testscript.TestScript, neg bool, args []string) {
					pollContainers(ts, eng, ts.Getenv("USER"), func(ids []string, _ time.Duration) bool { return len(ids) > 0 }, "a container of "+ts.Getenv("USER")+" to appear")
				},
				// waitgone: wait until the script's user has no container left.
				"waitgone": func(ts *testscript.TestScript, neg bool, args []string) {
					pollContainers(ts, eng, ts.Getenv("USER"), func(ids []string, _ time.Duration) bool { return len(ids) == 0 }, "every container of "+ts.Getenv("USER")+" to be gone")
				},
				// waitstable: wait until the user's set of containers has not
				// changed for two seconds (requests in flight have landed).
				"waitstable": func(ts *testscript.TestScript, neg bool, args []string) {
					pollContainers(ts, eng, ts.Getenv("USER"), func(_ []string, same time.Duration) bool { return same >= 2*time.Second }, "the containers of "+ts.Getenv("USER")+" to stop changing")
				},
				// engine ARGS...: the runtime's own CLI against the test engine.
				"engine": func(ts *testscript.TestScript, neg bool, args []string) {
					out, err := engineCLI(eng, args...)
					ts.Stdout().Write(out)
					if (err != nil) != neg {
						ts.Fatalf("engine %s: %v\n%s", strings.Join(args, " "), err, out)
					}
				},
			}),
			Condition: func(cond string) (bool, error) {
				switch cond {
				case "docker", "podman":
					return cond == eng.Runtime, nil
				}
				return false, fmt.Errorf("unknown condition %q", cond)
			},
			UpdateScripts:       update,
			RequireExplicitExec: true,
			RequireUniqueNames:  true,
		})
	})
}

// TestAWXScripts runs testdata/awx against two in-process AWX doubles (the
// boundary that cannot run here): $AWX_URL (AWX, /api/v2/) and $AWX2_URL
// (AAP 2.5 paths), both with the fixture world (user jdoe, password
// "password", token "fixture-token") plus a workflow whose deploy fails.
func TestAWXScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/awx",
		Setup: func(env *testscript.Env) error {
			if err := commonSetup(env); err != nil {
				return err
			}
			servers := map[string]*awxfake.Server{}
			for name, aap := range map[string]bool{"a": false, "b": true} {
				cfg := awxfake.Fixture()
				cfg.AAP25 = aap
				cfg.Workflows = append(cfg.Workflows, awxfake.Workflow{ID: 90, Name: "deploy-broken", Organization: 3, Inventory: 7,
					AskVariables: true, AskInventory: true, AskLabels: true,
					Nodes: []awxfake.Node{{JobTemplate: 70, JobName: "deploy-baserhel-from-rhvm", Status: "failed",
						Stdout:       "TASK [create vm]\nfatal: [localhost]: FAILED! => quota exceeded\n",
						FailedEvents: []awxfake.Event{{Play: "deploy", Task: "create vm", Msg: "quota exceeded"}}}}})
				s := awxfake.New(cfg)
				servers[name] = s
				env.Defer(s.Close)
			}
			env.Setenv("AWX_URL", servers["a"].URL)
			env.Setenv("AWX2_URL", servers["b"].URL)
			env.Values["awx"] = servers
			return nil
		},
		Cmds: mergeCmds(commonCmds, map[string]func(*testscript.TestScript, bool, []string){
			// awxcount a|b PATH-PREFIX: how many requests that double got under the prefix.
			"awxcount": func(ts *testscript.TestScript, neg bool, args []string) {
				servers := ts.Value("awx").(map[string]*awxfake.Server)
				if len(args) != 2 || servers[args[0]] == nil {
					ts.Fatalf("usage: awxcount a|b PATH-PREFIX")
				}
				fmt.Fprintf(ts.Stdout(), "%d\n", servers[args[0]].Count(args[1]))
			},
		}),
		UpdateScripts:       update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

func mergeCmds(maps ...map[string]func(*testscript.TestScript, bool, []string)) map[string]func(*testscript.TestScript, bool, []string) {
	out := map[string]func(*testscript.TestScript, bool, []string){}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func engineCLI(eng testenv.Engine, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if eng.Runtime == "docker" {
		cmd = exec.Command("docker", append([]string{"-H", eng.Host}, args...)...)
	} else {
		cmd = exec.Command("podman", append([]string{"--url", eng.Host}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// removeUserContainers force-removes what a script left behind (found by the
// broker.user label of its unique user), so a failing script leaks nothing.
func removeUserContainers(t *testing.T, eng testenv.Engine, user string) {
	out, err := engineCLI(eng, "ps", "-aq", "--filter", "label=broker.user="+user)
	if err != nil {
		t.Logf("cleanup: list containers of %s: %v", user, err)
		return
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return
	}
	if out, err := engineCLI(eng, append([]string{"rm", "-f"}, ids...)...); err != nil {
		t.Logf("cleanup: remove %v: %v\n%s", ids, err, out)
	}
}

// pollContainers polls the user's containers until done says so, for at most
// a minute. same is how long the set of ids has been unchanged.
func pollContainers(ts *testscript.TestScript, eng testenv.Engine, user string, done func(ids []string, same time.Duration) bool, what string) {
	deadline := time.Now().Add(time.Minute)
	var last string
	since := time.Now()
	for {
		out, err := engineCLI(eng, "ps", "-aq", "--no-trunc", "--filter", "label=broker.user="+user)
		if err != nil {
			ts.Fatalf("list containers: %v\n%s", err, out)
		}
		ids := strings.Fields(string(out))
		key := strings.Join(ids, ",")
		if key != last {
			last, since = key, time.Now()
		}
		if done(ids, time.Since(since)) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("timed out waiting for %s (now: %v)", what, ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
