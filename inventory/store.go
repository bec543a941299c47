package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	// ErrLocked means another process held the inventory file for longer
	// than Options.Timeout. The error returned wraps it and names the file.
	ErrLocked = errors.New("inventory is locked")
	// ErrNotFound means the record's key is not (or no longer) in the
	// inventory.
	ErrNotFound = errors.New("inventory record not found")
	// ErrSchema means the file was written with a layout this package does
	// not know (a newer broker), or its layout is damaged.
	ErrSchema = errors.New("unsupported inventory schema")
)

// DefaultTimeout is how long an operation waits for another process's lock
// when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options configure a Store.
type Options struct {
	// Timeout is how long an operation waits for the file lock held by
	// another broker process before it fails with ErrLocked (0 = 10 s).
	Timeout time.Duration
}

// Store is the local inventory: an ordered list of host records kept in one
// bbolt file (see layout.go). It holds no open file between calls: every
// method opens the file, takes the lock (shared for List, exclusive for
// writes, waiting up to Options.Timeout), runs one short transaction and
// closes it, so any number of broker processes can share the file, and
// none holds it while talking to a provider. A Store is safe for concurrent
// use: its writes queue for each other in the process (the file lock then
// orders them with other processes), and its reads run side by side.
type Store struct {
	path    string
	timeout time.Duration
	writing chan struct{} // holds a token while one of this Store's writes runs
}

// Record is one inventory entry. Key identifies it for Remove and Update
// while it exists; it is internal and never shown to users (they see
// positions: a record's local id is its index in List's result, or in a
// filtered view of it).
type Record struct {
	Key  uint64
	Host Host
}

// New returns the store kept in the file at path. It does not open or
// create the file: reads of a missing file see an empty inventory, and the
// first write creates it (and its directory).
func New(path string, opts Options) *Store {
	t := opts.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return &Store{path: path, timeout: t, writing: make(chan struct{}, 1)}
}

// Path is the inventory file's path.
func (s *Store) Path() string { return s.path }

// lockPoll is the longest single wait for the file lock; between waits the
// context is checked, so cancelling a caller stuck behind another process's
// lock takes effect within this time.
const lockPoll = 200 * time.Millisecond

// boltOptions are the bbolt options for every open. The freelist is synced
// (the default, so bbolt's own tools read the file unchanged); the hash-map
// freelist is faster to build for writers.
func boltOptions(readOnly bool, wait time.Duration) *bolt.Options {
	return &bolt.Options{
		Timeout:      wait,
		ReadOnly:     readOnly,
		FreelistType: bolt.FreelistMapType,
	}
}

// open opens the file, waiting for the lock until the store's timeout has
// passed since start. A read-only open takes a shared lock and never
// creates the file; the caller has checked that it exists and is not empty
// (bbolt issue 98).
func (s *Store) open(ctx context.Context, readOnly bool, start time.Time) (*bolt.DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
			return nil, fmt.Errorf("inventory %s: %w", s.path, err)
		}
	}
	deadline := start.Add(s.timeout)
	for {
		wait := min(time.Until(deadline), lockPoll)
		if wait < time.Millisecond {
			wait = time.Millisecond // never 0: to bbolt that means forever
		}
		db, err := bolt.Open(s.path, 0o600, boltOptions(readOnly, wait))
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open inventory %s: %w", s.path, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("inventory %s: gave up waiting for the lock: %w", s.path, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: %s: waited %s for the file lock; another broker process holds it; retry, or raise the timeout",
				ErrLocked, s.path, time.Since(start).Round(time.Millisecond))
		}
	}
}

// acquire waits for this Store's other writes to finish, within the same
// time budget as the file lock.
func (s *Store) acquire(ctx context.Context, start time.Time) error {
	select {
	case s.writing <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(time.Until(start.Add(s.timeout)))
	defer timer.Stop()
	select {
	case s.writing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("inventory %s: gave up waiting for the lock: %w", s.path, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("%w: %s: waited %s for the other writes of this process; retry, or raise the timeout",
			ErrLocked, s.path, time.Since(start).Round(time.Millisecond))
	}
}

// exists reports whether the file holds a database. A missing or empty file
// (one another process has just created and not yet initialised) is an
// empty inventory, and must not be opened read-only.
func (s *Store) exists() (bool, error) {
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inventory %s: %w", s.path, err)
	case fi.IsDir():
		return false, fmt.Errorf("inventory %s: is a directory", s.path)
	}
	return fi.Size() > 0, nil
}

// view runs fn in a read-only transaction; it does not run fn when there is
// no file yet.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if ok, err := s.exists(); !ok || err != nil {
		return err
	}
	db, err := s.open(ctx, true, time.Now())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.View(fn); err != nil {
		return fmt.Errorf("inventory %s: %w", s.path, err)
	}
	return nil
}

// update runs fn in one read-write transaction, creating the file and its
// layout if needed. fn receives the hosts bucket.
func (s *Store) update(ctx context.Context, fn func(hosts *bolt.Bucket) error) error {
	start := time.Now()
	if err := s.acquire(ctx, start); err != nil {
		return err
	}
	defer func() { <-s.writing }()
	db, err := s.open(ctx, false, start)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		hosts, err := hostsForWrite(tx)
		if err != nil {
			return err
		}
		return fn(hosts)
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("inventory %s: %w", s.path, err)
	}
	return nil
}

// List returns every record, oldest first. A missing file is an empty
// inventory (and is not created).
func (s *Store) List(ctx context.Context) ([]Record, error) {
	var (
		keys  []uint64
		ends  []int
		arena []byte
	)
	// Copy the raw values out under the shared lock, and decode them after
	// closing the file, so that writers wait for a memcpy, not for parsing.
	err := s.view(ctx, func(tx *bolt.Tx) error {
		hosts, err := hostsForRead(tx)
		if err != nil || hosts == nil {
			return err
		}
		st := hosts.Stats() // a walk of the tree's pages, not of the values
		keys = make([]uint64, 0, st.KeyN)
		ends = make([]int, 0, st.KeyN)
		arena = make([]byte, 0, st.LeafInuse+st.InlineBucketInuse)
		return hosts.ForEach(func(k, v []byte) error {
			key, ok := btoi(k)
			if !ok || v == nil {
				return fmt.Errorf("%w: unexpected key %x in bucket %s", ErrSchema, k, bucketHosts)
			}
			keys = append(keys, key)
			arena = append(arena, v...)
			ends = append(ends, len(arena))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(keys))
	in := newInterner()
	start := 0
	for i, key := range keys {
		h, err := decodeHost(arena[start:ends[i]], in)
		if err != nil {
			return nil, fmt.Errorf("inventory %s: record %d (key %d): %w", s.path, i, key, err)
		}
		recs[i] = Record{Key: key, Host: h}
		start = ends[i]
	}
	return recs, nil
}

// encoded is a host in stored form, prepared before the lock is taken.
type encoded struct {
	data []byte
	host Host // decoded back from data: what List will return
}

func encodeAll(hosts []Host) ([]encoded, error) {
	out := make([]encoded, len(hosts))
	in := newInterner()
	for i, h := range hosts {
		b, err := encodeHost(h)
		if err != nil {
			return nil, fmt.Errorf("host %d (%s): cannot store it as JSON: %w", i, h.Label(), err)
		}
		dh, err := decodeHost(b, in)
		if err != nil {
			return nil, fmt.Errorf("host %d (%s): %w", i, h.Label(), err)
		}
		out[i] = encoded{data: b, host: dh}
	}
	return out, nil
}

// Add appends hosts to the inventory, in order, in one transaction, and
// returns their records. The records hold the hosts as List will return
// them (JSON types: map[string]any, []any, int64, float64, string, bool,
// nil). Nothing is written if any host cannot be stored.
func (s *Store) Add(ctx context.Context, hosts ...Host) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	enc, err := encodeAll(hosts)
	if err != nil {
		return nil, fmt.Errorf("add to inventory: %w", err)
	}
	var recs []Record
	err = s.update(ctx, func(b *bolt.Bucket) error {
		recs = make([]Record, 0, len(enc)) // fresh on each attempt
		for _, e := range enc {
			key, err := put(b, e.data)
			if err != nil {
				return err
			}
			recs = append(recs, Record{Key: key, Host: e.host})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// put appends one value under the bucket's next sequence number.
func put(b *bolt.Bucket, data []byte) (uint64, error) {
	key, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return key, b.Put(itob(key), data)
}

// Remove deletes the records with these keys in one transaction and
// returns how many it deleted. Keys that are already gone are ignored, so
// removing twice is harmless. A missing file is not created.
func (s *Store) Remove(ctx context.Context, keys ...uint64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if ok, err := s.exists(); !ok || err != nil {
		return 0, err
	}
	n := 0
	err := s.update(ctx, func(b *bolt.Bucket) error {
		n = 0
		for _, key := range keys {
			k := itob(key)
			if b.Get(k) == nil {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Update replaces the record with this key by h, keeping its key and so its
// position. It fails with an error wrapping ErrNotFound if the record is
// gone (another process removed it).
func (s *Store) Update(ctx context.Context, key uint64, h Host) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inventory %s: %w", s.path, err)
	}
	enc, err := encodeAll([]Host{h})
	if err != nil {
		return fmt.Errorf("update inventory: %w", err)
	}
	notFound := fmt.Errorf("inventory %s: record %d (%s): %w", s.path, key, h.Label(), ErrNotFound)
	if ok, err := s.exists(); err != nil {
		return err
	} else if !ok {
		return notFound
	}
	var missing bool
	err = s.update(ctx, func(b *bolt.Bucket) error {
		k := itob(key)
		if missing = b.Get(k) == nil; missing {
			return nil
		}
		return b.Put(k, enc[0].data)
	})
	if err != nil {
		return err
	}
	if missing {
		return notFound
	}
	return nil
}

// readAll decodes every record of the bucket (inside its transaction).
func readAll(b *bolt.Bucket) ([]Record, error) {
	var recs []Record
	in := newInterner()
	err := b.ForEach(func(k, v []byte) error {
		key, ok := btoi(k)
		if !ok || v == nil {
			return fmt.Errorf("%w: unexpected key %x in bucket %s", ErrSchema, k, bucketHosts)
		}
		h, err := decodeHost(v, in)
		if err != nil {
			return fmt.Errorf("record %d (key %d): %w", len(recs), key, err)
		}
		recs = append(recs, Record{Key: key, Host: h})
		return nil
	})
	return recs, err
}

// Import appends hosts read from an upstream inventory.yaml (see ReadYAML),
// in order, in one transaction. A host is skipped when a record that was
// already in the inventory before this call has the same _broker_provider,
// name and hostname, so importing the same file twice adds nothing.
func (s *Store) Import(ctx context.Context, hosts []Host) (added, skipped int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("inventory %s: %w", s.path, err)
	}
	if len(hosts) == 0 {
		return 0, 0, nil
	}
	enc, err := encodeAll(hosts)
	if err != nil {
		return 0, 0, fmt.Errorf("import into inventory: %w", err)
	}
	type identity struct{ provider, name, hostname string }
	id := func(h Host) identity { return identity{h.Provider(), h.Name(), h.Hostname()} }
	err = s.update(ctx, func(b *bolt.Bucket) error {
		added, skipped = 0, 0
		existing, err := readAll(b)
		if err != nil {
			return err
		}
		present := make(map[identity]bool, len(existing))
		for _, r := range existing {
			present[id(r.Host)] = true
		}
		for _, e := range enc {
			if present[id(e.host)] {
				skipped++
				continue
			}
			if _, err := put(b, e.data); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return added, skipped, nil
}
