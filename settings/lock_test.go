//go:build unix

package settings

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run copies of the test binary: the flock is what separate
// brokers contend on. A copy started with helperEnv set runs only
// TestHelperProcess, which does what the environment says and exits.

const (
	helperEnv    = "BROKER_SETTINGS_TEST_HELPER" // "set" or "hold"
	helperFile   = "BROKER_SETTINGS_TEST_FILE"
	helperWorker = "BROKER_SETTINGS_TEST_WORKER"
	helperOps    = "BROKER_SETTINGS_TEST_OPS"
)

func helperCommand(env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run as a helper process by other tests")
	}
	file := os.Getenv(helperFile)
	var err error
	switch mode {
	case "set":
		n, _ := strconv.Atoi(os.Getenv(helperOps))
		w := os.Getenv(helperWorker)
		for i := 0; i < n && err == nil; i++ {
			err = SetChunk(file, fmt.Sprintf("nicks.w%s_%d.container_host", w, i), "image")
		}
	case "load":
		var s *Settings
		if s, err = Load(LoadOptions{Dir: filepath.Dir(file), Example: []byte("# example\nthread_limit: 3\n")}); err == nil {
			fmt.Println(s.Created, s.ThreadLimit())
		}
	case "hold":
		var unlock func()
		if unlock, err = lock(LockFile(file), time.Second); err == nil {
			fmt.Println("ready")
			_, err = io.Copy(io.Discard, os.Stdin)
			unlock()
		}
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestParallelSetChunk: brokers setting keys at once lose none of them.
func TestParallelSetChunk(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(file, []byte("# shared\nnicks: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const workers, ops = 6, 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	outs := make([][]byte, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cmd := helperCommand(helperEnv+"=set", helperFile+"="+file,
				helperWorker+"="+strconv.Itoa(w), helperOps+"="+strconv.Itoa(ops))
			outs[w], errs[w] = cmd.CombinedOutput()
		}(w)
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v\n%s", w, err, outs[w])
		}
	}
	s, err := Load(LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Nicks()); got != workers*ops {
		t.Fatalf("%d nicks after %d parallel sets, want %d: %v", got, workers*ops, workers*ops, s.Nicks())
	}
	for w := 0; w < workers; w++ {
		for i := 0; i < ops; i++ {
			if _, err := s.Nick(fmt.Sprintf("w%d_%d", w, i)); err != nil {
				t.Error(err)
			}
		}
	}
	if data, _ := os.ReadFile(file); !strings.HasPrefix(string(data), "# shared") {
		t.Errorf("comment lost:\n%s", data)
	}
}

// TestLockTimeout: a writer gives up on a lock another process holds, with
// an error naming the lock file, and succeeds once it is released.
func TestLockTimeout(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileName)
	cmd := helperCommand(helperEnv+"=hold", helperFile+"="+file)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper said %q: %v", line, err)
	}

	_, err = lock(LockFile(file), 100*time.Millisecond)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("lock while held = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), LockFile(file)) {
		t.Errorf("error does not name the lock file: %v", err)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	unlock, err := lock(LockFile(file), time.Second)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock()
}

// TestLockExcludesGoroutines: flock locks belong to open files, so two
// lockers in one process exclude each other too.
func TestLockExcludesGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lock(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock = %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := lock(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

// TestParallelFirstRun: brokers starting together on a fresh directory write
// the example once, and all read it.
func TestParallelFirstRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fresh", FileName)
	const workers = 6
	var wg sync.WaitGroup
	outs := make([]string, workers)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			out, err := helperCommand(helperEnv+"=load", helperFile+"="+file).CombinedOutput()
			outs[w], errs[w] = string(out), err
		}(w)
	}
	wg.Wait()
	created := 0
	for w := range outs {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v\n%s", w, errs[w], outs[w])
		}
		switch outs[w] {
		case "true 3\n":
			created++
		case "false 3\n":
		default:
			t.Errorf("worker %d said %q", w, outs[w])
		}
	}
	if created != 1 {
		t.Errorf("%d brokers wrote the example file, want 1", created)
	}
}
