package inventory

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The inventory is one bbolt file (<broker dir>/inventory.db). Its layout,
// schema version 1, is:
//
//	meta/                         bucket
//	  version -> uint64 (8 bytes, big-endian)    schema version, currently 1
//	hosts/                        bucket
//	  <key>   -> JSON object                     one Host record
//
// A host's key is the hosts bucket's NextSequence value when the record was
// added, stored as 8 big-endian bytes (itob), so byte order is insertion
// order: a cursor walks the records oldest first, and a record's position
// in that walk is upstream's local id (0, 1, 2, ...). Keys are never reused
// and never shown to users; ids shift when records are removed, as upstream.
// Update rewrites a value under its existing key, so the record keeps its
// position.
//
// Values are JSON objects as encoding/json writes them (keys sorted, no HTML
// escaping). Integers read back as int64, other numbers as float64.
//
// There is no secondary index: every operation that searches (Sync, Import)
// reads the whole bucket in the same transaction it writes in, which is what
// upstream's read-modify-write did, and cheap at inventory sizes.
//
// Migrations: a file whose version is newer than schemaVersion is refused
// (ErrSchema), never rewritten. A future version 2 would convert version-1
// data inside the first read-write transaction that sees it.
var (
	bucketMeta  = []byte("meta")
	bucketHosts = []byte("hosts")
	keyVersion  = []byte("version")
)

// schemaVersion is the layout this package reads and writes.
const schemaVersion uint64 = 1

// itob encodes a record key: 8 bytes, big-endian.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// btoi decodes a record key; ok is false if k is not 8 bytes long.
func btoi(k []byte) (uint64, bool) {
	if len(k) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// checkVersion reads the schema version of a file in a read-only
// transaction. A file without a meta bucket is a new file (version 0).
func checkVersion(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil
	}
	v := meta.Get(keyVersion)
	if v == nil {
		return nil
	}
	n, ok := btoi(v)
	switch {
	case !ok:
		return fmt.Errorf("%w: version key holds %d bytes, want 8", ErrSchema, len(v))
	case n > schemaVersion:
		return fmt.Errorf("%w: the file has schema version %d, this broker knows up to %d; use a newer broker", ErrSchema, n, schemaVersion)
	}
	return nil
}

// hostsForRead returns the hosts bucket, or nil if the file has none yet.
func hostsForRead(tx *bolt.Tx) (*bolt.Bucket, error) {
	if err := checkVersion(tx); err != nil {
		return nil, err
	}
	return tx.Bucket(bucketHosts), nil
}

// hostsForWrite creates the layout if needed (stamping the schema version)
// and returns the hosts bucket.
func hostsForWrite(tx *bolt.Tx) (*bolt.Bucket, error) {
	if err := checkVersion(tx); err != nil {
		return nil, err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	if meta.Get(keyVersion) == nil {
		if err := meta.Put(keyVersion, itob(schemaVersion)); err != nil {
			return nil, fmt.Errorf("write schema version: %w", err)
		}
	}
	hosts, err := tx.CreateBucketIfNotExists(bucketHosts)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketHosts, err)
	}
	return hosts, nil
}
