package inventory

import (
	"bufio"
	"bytes"
	"context"
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

	bolt "go.etcd.io/bbolt"
)

// These tests run several copies of the test binary at once: the file lock
// is what separate processes contend on, so goroutines would prove nothing.
// A copy started with helperEnv set runs only TestHelperProcess, which does
// what the environment says and exits.

const (
	helperEnv     = "BROKER_INVENTORY_TEST_HELPER" // "worker" or "hold"
	helperPath    = "BROKER_INVENTORY_TEST_PATH"
	helperWorker  = "BROKER_INVENTORY_TEST_WORKER"
	helperOps     = "BROKER_INVENTORY_TEST_OPS"
	helperReadOly = "BROKER_INVENTORY_TEST_READONLY"
)

func helperCommand(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run as a helper process by other tests")
	}
	var err error
	switch mode {
	case "worker":
		err = runWorker(os.Getenv(helperPath), os.Getenv(helperWorker), os.Getenv(helperOps))
	case "hold":
		err = holdLock(os.Getenv(helperPath), os.Getenv(helperReadOly) != "")
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// holdLock opens the file as broker would, says "ready", and keeps the lock
// until its standard input closes.
func holdLock(path string, readOnly bool) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("ready")
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// Worker plan, for worker w and n operations: add host "w<w>-<i>" for each
// i; at i%4 == 3 remove host i-2; at i%10 == 0 update host i (touched:
// true); every 10 operations check its own records in a List; at the end
// sync its provider with the survivors (synced: true).

// survives says whether host i of a worker doing n operations is left.
func survives(i, n int) bool { return i%4 != 1 || i+2 >= n }

func workerHost(w string, i int) Host {
	return Host{
		FieldName:     fmt.Sprintf("w%s-%d", w, i),
		FieldHostname: fmt.Sprintf("w%s-%d.example.com", w, i),
		FieldProvider: "Worker" + w,
		FieldArgs:     map[string]any{"test_action": "release", "seq": i},
		"worker":      w,
		"seq":         i,
	}
}

// lockedRetries counts the ErrLocked failures a worker saw.
var lockedRetries int

// retry runs op until it does not fail with ErrLocked.
func retry(op func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := op()
		if !errors.Is(err, ErrLocked) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still locked after a minute of retries: %w", err)
		}
		lockedRetries++
	}
}

func runWorker(path, w, opsText string) error {
	n, err := strconv.Atoi(opsText)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// A lock timeout this short makes the processes' contention visible as
	// ErrLocked, which the worker handles by trying again.
	s := New(path, Options{Timeout: 60 * time.Millisecond})
	keys := make([]uint64, n)
	alive := map[int]bool{}
	for i := range n {
		err := retry(func() error {
			recs, err := s.Add(ctx, workerHost(w, i))
			if err == nil {
				keys[i] = recs[0].Key
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("add %d: %w", i, err)
		}
		alive[i] = true
		if i%4 == 3 {
			var removed int
			if err := retry(func() (err error) { removed, err = s.Remove(ctx, keys[i-2]); return err }); err != nil {
				return fmt.Errorf("remove %d: %w", i-2, err)
			}
			if removed != 1 {
				return fmt.Errorf("remove %d removed %d records", i-2, removed)
			}
			delete(alive, i-2)
		}
		if i%10 == 0 {
			h := workerHost(w, i)
			h["touched"] = true
			if err := retry(func() error { return s.Update(ctx, keys[i], h) }); err != nil {
				return fmt.Errorf("update %d: %w", i, err)
			}
		}
		if i%10 == 9 {
			var recs []Record
			if err := retry(func() (err error) { recs, err = s.List(ctx); return err }); err != nil {
				return fmt.Errorf("list: %w", err)
			}
			last := -1
			own := 0
			for _, r := range recs {
				if r.Host["worker"] != w {
					continue
				}
				seq := int(r.Host["seq"].(int64))
				if !alive[seq] || seq <= last {
					return fmt.Errorf("list after %d: unexpected or out-of-order record %s", i, r.Host.Name())
				}
				last = seq
				own++
			}
			if own != len(alive) {
				return fmt.Errorf("list after %d: %d own records, want %d", i, own, len(alive))
			}
		}
	}
	var fresh []Host
	for i := range n {
		if alive[i] != survives(i, n) {
			return fmt.Errorf("host %d: alive = %v, but the plan says %v", i, alive[i], survives(i, n))
		}
		if alive[i] {
			h := workerHost(w, i)
			h["synced"] = true
			fresh = append(fresh, h)
		}
	}
	var res SyncResult
	if err := retry(func() (err error) { res, err = s.Sync(ctx, "Worker"+w, "", fresh); return err }); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if len(res.Added) != 0 || len(res.Removed) != 0 || len(res.Updated) != len(fresh) {
		return fmt.Errorf("sync: %d added, %d updated, %d removed; want 0, %d, 0", len(res.Added), len(res.Updated), len(res.Removed), len(fresh))
	}
	fmt.Printf("retries %d\n", lockedRetries)
	return nil
}

func TestManyProcessesShareOneFile(t *testing.T) {
	const workers, ops = 8, 50
	path := filepath.Join(t.TempDir(), "inventory.db")
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	procs := make([]*proc, workers)
	for w := range workers {
		p := &proc{cmd: helperCommand(t, helperEnv+"=worker", helperPath+"="+path,
			helperWorker+"="+strconv.Itoa(w), helperOps+"="+strconv.Itoa(ops))}
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		procs[w] = p
	}
	for _, p := range procs { // start all before waiting for any
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for w, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("worker %d: %v\n%s%s", w, err, p.stdout.String(), p.stderr.String())
		}
	}
	if t.Failed() {
		return
	}
	for w, p := range procs {
		t.Logf("worker %d: %s", w, strings.TrimSpace(p.stdout.String()))
	}

	want := map[string]bool{}
	for w := range workers {
		for i := range ops {
			if survives(i, ops) {
				want[fmt.Sprintf("w%d-%d", w, i)] = true
			}
		}
	}
	if len(want) != workers*38 {
		t.Fatalf("test plan: %d survivors, want %d", len(want), workers*38)
	}
	recs := mustList(t, New(path, Options{}))
	if len(recs) != len(want) {
		t.Errorf("%d records, want exactly %d", len(recs), len(want))
	}
	seen := map[string]bool{}
	lastSeq := map[string]int64{}
	for _, r := range recs {
		name := r.Host.Name()
		if seen[name] {
			t.Errorf("duplicate record %s", name)
		}
		seen[name] = true
		if !want[name] {
			t.Errorf("record %s was removed or never added", name)
		}
		w, seq := r.Host["worker"].(string), r.Host["seq"].(int64)
		if last, ok := lastSeq[w]; ok && seq <= last {
			t.Errorf("worker %s: record %d listed after %d", w, seq, last)
		}
		lastSeq[w] = seq
		if touched := r.Host["touched"] == true; touched != (seq%10 == 0) {
			t.Errorf("record %s: touched = %v", name, r.Host["touched"])
		}
		if r.Host["synced"] != true {
			t.Errorf("record %s was not synced", name)
		}
	}
	checkFile(t, path)
}

// checkFile runs bbolt's consistency check on the file.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("tx.Check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// holder is a helper process holding the file's lock.
type holder struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	once   sync.Once
}

func holdInOtherProcess(t *testing.T, path string, readOnly bool) *holder {
	t.Helper()
	env := []string{helperEnv + "=hold", helperPath + "=" + path}
	if readOnly {
		env = append(env, helperReadOly+"=1")
	}
	h := &holder{cmd: helperCommand(t, env...)}
	h.cmd.Stderr = &h.stderr
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.release(t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("lock holder did not start: %q, %v\n%s", line, err, h.stderr.String())
	}
	return h
}

func (h *holder) release(t *testing.T) {
	h.once.Do(func() {
		h.stdin.Close()
		if err := h.cmd.Wait(); err != nil {
			t.Errorf("lock holder: %v\n%s", err, h.stderr.String())
		}
	})
}

func TestWriterHoldingTheLockMakesOthersFailWithErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.db")
	s := New(path, Options{Timeout: 300 * time.Millisecond})
	mustAdd(t, s, host("a"))
	h := holdInOtherProcess(t, path, false)

	_, err := s.Add(context.Background(), host("b"))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Add while another process writes: %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "another broker process holds it", "raise the timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := s.List(context.Background()); !errors.Is(err, ErrLocked) {
		t.Errorf("List while another process writes: %v, want ErrLocked", err)
	}

	// Cancelling a caller that waits for the lock ends the wait with the
	// context's error, not ErrLocked.
	patient := New(path, Options{Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := patient.Add(ctx, host("c")); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrLocked) {
		t.Errorf("Add cancelled while waiting for the lock: %v, want context.DeadlineExceeded", err)
	}

	h.release(t)
	mustAdd(t, s, host("d"))
	if got, want := names(mustList(t, s)), []string{"a", "d"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("after the lock is released: %v, want %v", got, want)
	}
}

func TestReadersDoNotBlockReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.db")
	s := New(path, Options{Timeout: 300 * time.Millisecond})
	mustAdd(t, s, host("a"), host("b"))
	h1 := holdInOtherProcess(t, path, true)
	h2 := holdInOtherProcess(t, path, true)

	recs, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List while two other processes read: %v", err)
	}
	if len(recs) != 2 {
		t.Errorf("List = %d records, want 2", len(recs))
	}
	// A writer waits for the readers.
	if _, err := s.Add(context.Background(), host("c")); !errors.Is(err, ErrLocked) {
		t.Errorf("Add while other processes read: %v, want ErrLocked", err)
	}
	h1.release(t)
	h2.release(t)
	mustAdd(t, s, host("c"))
}
