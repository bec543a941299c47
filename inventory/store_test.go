package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return New(filepath.Join(t.TempDir(), "inventory.db"), Options{})
}

func host(name string) Host {
	return Host{
		FieldName:     name,
		FieldHostname: name + ".example.com",
		FieldProvider: "TestProvider",
		FieldArgs:     map[string]any{"test_action": "release", "count": 2},
	}
}

func names(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Host.Name()
	}
	return out
}

func mustList(t *testing.T, s *Store) []Record {
	t.Helper()
	recs, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return recs
}

func mustAdd(t *testing.T, s *Store, hosts ...Host) []Record {
	t.Helper()
	recs, err := s.Add(context.Background(), hosts...)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return recs
}

func TestNewDoesNotTouchTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "dir")
	s := New(filepath.Join(dir, "inventory.db"), Options{})
	if got, want := s.Path(), filepath.Join(dir, "inventory.db"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New created %s (stat: %v)", dir, err)
	}
}

func TestListMissingFileIsEmptyAndNotCreated(t *testing.T) {
	s := newStore(t)
	recs := mustList(t, s)
	if len(recs) != 0 {
		t.Errorf("List of a missing file = %d records, want 0", len(recs))
	}
	if n, err := s.Remove(context.Background(), 1, 2); err != nil || n != 0 {
		t.Errorf("Remove on a missing file = %d, %v; want 0, nil", n, err)
	}
	if err := s.Update(context.Background(), 1, host("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update on a missing file: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading created the file (stat: %v)", err)
	}
}

func TestListEmptyFileIsEmpty(t *testing.T) {
	// A file another process has just created and not yet initialised.
	s := newStore(t)
	if err := os.WriteFile(s.Path(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if recs := mustList(t, s); len(recs) != 0 {
		t.Errorf("List of an empty file = %d records, want 0", len(recs))
	}
}

func TestAddListRoundTrip(t *testing.T) {
	s := newStore(t)
	h := Host{
		FieldName:     "box",
		FieldHostname: "box.example.com",
		FieldProvider: "Container",
		FieldInstance: nil,
		FieldArgs:     map[string]any{"container_host": "ubi8:latest", "_count": 1, "ports": []string{"22", "80"}},
		"job_id":      int64(9007199254740993), // > 2^53: must not go through float64
		"ratio":       0.5,
		"ok":          true,
		"html":        "<a & b>",
		"exposed":     map[string]string{"22": "32768"},
	}
	recs := mustAdd(t, s, h)
	want := Host{
		FieldName:     "box",
		FieldHostname: "box.example.com",
		FieldProvider: "Container",
		FieldInstance: nil,
		FieldArgs:     map[string]any{"container_host": "ubi8:latest", "_count": int64(1), "ports": []any{"22", "80"}},
		"job_id":      int64(9007199254740993),
		"ratio":       0.5,
		"ok":          true,
		"html":        "<a & b>",
		"exposed":     map[string]any{"22": "32768"},
	}
	if len(recs) != 1 || !reflect.DeepEqual(recs[0].Host, want) {
		t.Fatalf("Add returned %#v, want %#v", recs, want)
	}
	got := mustList(t, s)
	if len(got) != 1 || got[0].Key != recs[0].Key || !reflect.DeepEqual(got[0].Host, want) {
		t.Fatalf("List = %#v, want key %d and %#v", got, recs[0].Key, want)
	}
	// The caller's host is not changed by being stored.
	if _, ok := h[FieldArgs].(map[string]any)["_count"].(int); !ok {
		t.Errorf("Add changed the caller's host: %#v", h)
	}
}

func TestAddRefusesValuesJSONCannotHold(t *testing.T) {
	s := newStore(t)
	_, err := s.Add(context.Background(), host("good"), Host{FieldName: "bad", "ch": make(chan int)})
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("Add with a channel value: %v, want an error naming the host", err)
	}
	if recs := mustList(t, s); len(recs) != 0 {
		t.Errorf("a failed Add stored %d records, want none", len(recs))
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Add created the file (stat: %v)", err)
	}
}

func TestIdsArePositionsThatShiftAfterRemoval(t *testing.T) {
	s := newStore(t)
	recs := mustAdd(t, s, host("a"), host("b"), host("c"))
	mustAdd(t, s, host("d"))
	mustAdd(t, s, host("e"))
	if got, want := names(mustList(t, s)), []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	// Remove id 1 ("b"): "c" becomes id 1, as upstream.
	n, err := s.Remove(context.Background(), recs[1].Key)
	if err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v; want 1, nil", n, err)
	}
	list := mustList(t, s)
	if got, want := names(list), []string{"a", "c", "d", "e"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after removing b: %v, want %v", got, want)
	}
	if list[1].Key != recs[2].Key {
		t.Errorf("id 1 has key %d, want c's key %d", list[1].Key, recs[2].Key)
	}
	// Removing again, or a key never used, is ignored.
	n, err = s.Remove(context.Background(), recs[1].Key, 999, list[0].Key)
	if err != nil || n != 1 {
		t.Fatalf("Remove(gone, unknown, a) = %d, %v; want 1, nil", n, err)
	}
	// New records go to the end, with keys never reused.
	added := mustAdd(t, s, host("f"))
	if added[0].Key <= recs[2].Key {
		t.Errorf("new key %d is not after the old ones", added[0].Key)
	}
	if got, want := names(mustList(t, s)), []string{"c", "d", "e", "f"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after more changes: %v, want %v", got, want)
	}
}

func TestUpdateKeepsPosition(t *testing.T) {
	s := newStore(t)
	recs := mustAdd(t, s, host("a"), host("b"), host("c"))
	h := recs[1].Host.Clone()
	h["status"] = "extended"
	if err := s.Update(context.Background(), recs[1].Key, h); err != nil {
		t.Fatalf("Update: %v", err)
	}
	list := mustList(t, s)
	if got, want := names(list), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order after Update = %v, want %v", got, want)
	}
	if list[1].Host["status"] != "extended" || list[1].Key != recs[1].Key {
		t.Errorf("record 1 after Update = %v (key %d)", list[1].Host, list[1].Key)
	}
	if _, err := s.Remove(context.Background(), recs[1].Key); err != nil {
		t.Fatal(err)
	}
	err := s.Update(context.Background(), recs[1].Key, h)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update of a removed record: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "b.example.com") {
		t.Errorf("error %q does not name the host", err)
	}
	if got, want := names(mustList(t, s)), []string{"a", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a failed Update changed the inventory: %v", got)
	}
}

func TestCancelledContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checks := map[string]error{}
	_, checks["List"] = s.List(ctx)
	_, checks["Add"] = s.Add(ctx, host("a"))
	_, checks["Remove"] = s.Remove(ctx, 1)
	checks["Update"] = s.Update(ctx, 1, host("a"))
	_, checks["Sync"] = s.Sync(ctx, "TestProvider", "", nil)
	_, _, checks["Import"] = s.Import(ctx, []Host{host("a")})
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", op, err)
		}
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled call created the file (stat: %v)", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, host("a"))
	db, err := bolt.Open(s.Path(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyVersion, itob(schemaVersion+1))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(context.Background()); !errors.Is(err, ErrSchema) {
		t.Errorf("List of a newer schema: %v, want ErrSchema", err)
	}
	if _, err := s.Add(context.Background(), host("b")); !errors.Is(err, ErrSchema) {
		t.Errorf("Add to a newer schema: %v, want ErrSchema", err)
	}
}

func TestFileLayout(t *testing.T) {
	s := newStore(t)
	recs := mustAdd(t, s, host("a"), host("b"))
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyVersion)
		if n, ok := btoi(v); !ok || n != schemaVersion {
			t.Errorf("meta/version = %x, want %d", v, schemaVersion)
		}
		c := tx.Bucket(bucketHosts).Cursor()
		i := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if key, _ := btoi(k); key != recs[i].Key {
				t.Errorf("key %d = %d, want %d", i, key, recs[i].Key)
			}
			if !strings.HasPrefix(string(v), `{"_broker_args":`) {
				t.Errorf("value %d = %s, want a JSON object with sorted keys", i, v)
			}
			i++
		}
		if i != 2 {
			t.Errorf("%d records in the hosts bucket, want 2", i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotABoltFile(t *testing.T) {
	s := newStore(t)
	if err := os.WriteFile(s.Path(), []byte("- hostname: a\n  name: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("List of a YAML file: %v, want an error naming the file", err)
	}
}

func TestCloneKeepsStoredTypes(t *testing.T) {
	h := Host{"n": 3, "m": map[string]any{"l": []string{"x"}}}
	c := h.Clone()
	want := Host{"n": int64(3), "m": map[string]any{"l": []any{"x"}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Clone = %#v, want %#v", c, want)
	}
	c["m"].(map[string]any)["l"] = nil
	if h["m"].(map[string]any)["l"] == nil {
		t.Error("Clone shares nested maps with the original")
	}
	if Host(nil).Clone() != nil {
		t.Error("Clone of nil is not nil")
	}
}

func TestConcurrentUseInOneProcess(t *testing.T) {
	// Two Stores on one file (as two Brokers would have) and several
	// goroutines each: writes queue, reads run alongside, nothing is lost.
	path := filepath.Join(t.TempDir(), "inventory.db")
	stores := []*Store{New(path, Options{}), New(path, Options{})}
	const goroutines, adds = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[g%len(stores)]
			for i := range adds {
				recs, err := s.Add(context.Background(), host(fmt.Sprintf("g%d-%d", g, i)))
				if err != nil {
					errs <- err
					return
				}
				if i%2 == 1 {
					if _, err := s.Remove(context.Background(), recs[0].Key); err != nil {
						errs <- err
						return
					}
				}
				if _, err := s.List(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs := mustList(t, stores[0])
	if len(recs) != goroutines*adds/2 {
		t.Errorf("%d records, want %d", len(recs), goroutines*adds/2)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Host.Name()] {
			t.Errorf("duplicate %s", r.Host.Name())
		}
		seen[r.Host.Name()] = true
	}
	checkFile(t, path)
}
