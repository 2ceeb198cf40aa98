// Package embedded is Quark's default durable storage.Store: a single file
// in a local folder, kept with go.etcd.io/bbolt, needing no server.
//
// Every write is durable when it returns (fsync), and concurrent writes share
// fsyncs: bbolt's Batch folds the writes of many goroutines into one
// transaction (group commit), so a thousand actors saving at once cost a
// handful of disk flushes rather than a thousand. Each record carries a
// CRC-32C checksum; a record damaged on disk reads as a Corrupt error and is
// left as it is.
//
//	st, err := embedded.Open("data/quark.db")
//	defer st.Close()
//
// bbolt was chosen over Pebble by measuring durable writes of 256-byte
// values from 1,000 concurrent writers on the same disk: this store, with its
// compare-and-set in each batched transaction, does about 150k writes/s
// (BenchmarkDurableWrites); Pebble's synced Set, with no compare-and-set
// guard yet, about 365k/s. Both are several times the 50k/s the runtime
// needs, so the smaller dependency won: bbolt is one module with no
// transitive dependencies beyond golang.org/x/sys, and its transactions give
// the ETag check for free, where Pebble would need striped locks around a
// read and a write.
//
// # Deadlines
//
// ctx is checked once, when a call starts: a call whose ctx has already
// ended fails with Canceled or Timeout and changes nothing. A call that has
// started runs to its end whatever ctx does, and reports its real outcome
// (never Canceled or Timeout for a write it committed). A read takes
// microseconds; a write waits for its group commit: up to the batch delay
// (WithBatchDelay, 1 ms by default) for others to join, then bbolt's single
// writer, then the fsync, which takes as long as the disk takes. So a slow
// or stalled disk holds a write past its deadline: bbolt cannot interrupt a
// transaction or an fsync, and the store does not abandon one whose outcome
// it would then not know. Open waits up to one second for a file another
// process holds locked.
//
// # Retries and idempotence
//
// There is no network between the store and its caller, so no reply is
// lost and nothing is retried: the outcome a call reports is the outcome
// it had, and a Conflict means nothing was changed. (bbolt's Batch may run
// a write's transaction again alone when another write in its batch fails;
// the compare-and-set is decided afresh in that run, and only one run
// commits.)
package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// MaxValueSize bounds one stored value: 64 MiB.
const MaxValueSize = 64 << 20

var bucket = []byte("quark.records")

// Store is a storage.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	closed atomic.Bool
}

var _ storage.Store = (*Store)(nil)

// Option configures Open. Each option documents its default.
type Option interface {
	applyToOpen(*options)
}

type optionFunc func(*options)

func (f optionFunc) applyToOpen(o *options) { f(o) }

type options struct {
	batchDelay time.Duration
	noSync     bool
}

// WithBatchDelay sets how long a write waits for others to share its
// fsync. Default 1ms.
func WithBatchDelay(d time.Duration) Option {
	return optionFunc(func(o *options) { o.batchDelay = d })
}

// WithSync turns fsync on or off. Off, writes survive a process crash but
// not a machine crash: for tests and benchmarks only. Default on.
func WithSync(on bool) Option { return optionFunc(func(o *options) { o.noSync = !on }) }

// lockWait is how long Open waits for the file's lock.
const lockWait = time.Second

// Open opens (creating if needed) the store file at path, creating its
// folder too. Only one Open may hold a file at a time: it fails with
// Unavailable when the file stays locked (by another process, or by another
// Open in this one that has not been closed) for more than a second, and
// with Corrupt when the file is not a store.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{batchDelay: time.Millisecond}
	for _, opt := range opts {
		opt.applyToOpen(&o)
	}
	if path == "" {
		return nil, quarkerr.New(quarkerr.InvalidArgument, "open embedded store: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "open embedded store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, NoSync: o.noSync})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		// bbolt's own text is only "timeout". Its lock is a flock on the
		// open file, so another Open of the same path in this process holds
		// it just as another process does.
		return nil, quarkerr.Errorf(quarkerr.Unavailable,
			"open embedded store %s: locked by another process or another Open in this one (waited %v): %w", path, lockWait, err)
	case errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrVersionMismatch) || errors.Is(err, bolterrors.ErrChecksum):
		return nil, quarkerr.Errorf(quarkerr.Corrupt, "open embedded store %s: %w", path, err)
	case err != nil:
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "open embedded store %s: %w", path, err)
	}
	db.MaxBatchDelay = o.batchDelay
	db.NoSync = o.noSync
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "open embedded store %s: %w", path, errors.Join(err, db.Close()))
	}
	return &Store{db: db}, nil
}

func (s *Store) check(ctx context.Context, op, key string) error {
	return storage.CheckCall(ctx, op, key, s.closed.Load())
}

// Record layout: a format byte (1), a CRC-32C (Castagnoli) of everything
// after it, the ETag as a uvarint length and bytes, then the value.
const format = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeRecord(etag string, value []byte) []byte {
	b := make([]byte, 5, 5+binary.MaxVarintLen64+len(etag)+len(value))
	b[0] = format
	b = binary.AppendUvarint(b, uint64(len(etag)))
	b = append(b, etag...)
	b = append(b, value...)
	binary.BigEndian.PutUint32(b[1:5], crc32.Checksum(b[5:], castagnoli))
	return b
}

// decodeRecord checks b and returns its ETag and value, the value aliasing
// b.
func decodeRecord(key string, b []byte) (string, []byte, error) {
	bad := func(why string) error {
		return quarkerr.Errorf(quarkerr.Corrupt, "read %q: stored record damaged: %s", key, why)
	}
	if len(b) < 6 || b[0] != format {
		return "", nil, bad("bad header")
	}
	if crc32.Checksum(b[5:], castagnoli) != binary.BigEndian.Uint32(b[1:5]) {
		return "", nil, bad("checksum mismatch")
	}
	n, w := binary.Uvarint(b[5:])
	if w <= 0 || n > uint64(len(b)-5-w) {
		return "", nil, bad("bad version length")
	}
	rest := b[5+w:]
	return string(rest[:n]), rest[n:], nil
}

// Read implements storage.Store.
func (s *Store) Read(ctx context.Context, key string) (storage.Record, error) {
	if err := s.check(ctx, "read", key); err != nil {
		return storage.Record{}, err
	}
	var rec storage.Record
	var rerr error
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket).Get([]byte(key))
		if b == nil {
			rerr = storage.NotFound(key)
			return nil
		}
		etag, value, err := decodeRecord(key, b)
		if err != nil {
			rerr = err
			return nil
		}
		rec = storage.Record{Value: append([]byte(nil), value...), ETag: etag}
		return nil
	})
	if err != nil {
		return storage.Record{}, quarkerr.Errorf(quarkerr.Unavailable, "read %q: %w", key, err)
	}
	return rec, rerr
}

// stored returns the ETag of the record under key, "" if none.
func stored(op, key string, b *bolt.Bucket) (string, error) {
	cur := b.Get([]byte(key))
	if cur == nil {
		return "", nil
	}
	etag, _, err := decodeRecord(key, cur)
	if err != nil {
		return "", quarkerr.Errorf(quarkerr.Corrupt, "%s %q: the stored record is damaged; it was left as it is: %w", op, key, err)
	}
	return etag, nil
}

// Write implements storage.Store. The write is on disk when it returns.
func (s *Store) Write(ctx context.Context, key string, value []byte, etag string) (string, error) {
	if err := s.check(ctx, "write", key); err != nil {
		return "", err
	}
	if len(value) > MaxValueSize {
		return "", quarkerr.Errorf(quarkerr.InvalidArgument, "write %q: %d bytes, over the %d-byte limit", key, len(value), MaxValueSize)
	}
	value = append([]byte(nil), value...)
	var next string
	var refused error
	// Batch may run this more than once (when another write in the batch
	// fails, each is retried alone); it decides afresh each time, and it
	// never returns an error for a refused write, which would make the
	// whole batch retry.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		next, refused = "", nil
		b := tx.Bucket(bucket)
		have, err := stored("write", key, b)
		if err != nil {
			refused = err
			return nil
		}
		if have != etag {
			refused = storage.Conflict("write", key, etag, have)
			return nil
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		next = strconv.FormatUint(seq, 36)
		return b.Put([]byte(key), encodeRecord(next, value))
	})
	if err != nil {
		return "", quarkerr.Errorf(quarkerr.Unavailable, "write %q: %w", key, err)
	}
	return next, refused
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string, etag string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	var refused error
	err := s.db.Batch(func(tx *bolt.Tx) error {
		refused = nil
		b := tx.Bucket(bucket)
		have, err := stored("delete", key, b)
		if err != nil {
			refused = err
			return nil
		}
		if have != etag {
			refused = storage.Conflict("delete", key, etag, have)
			return nil
		}
		if have == "" {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return quarkerr.Errorf(quarkerr.Unavailable, "delete %q: %w", key, err)
	}
	return refused
}

// Close closes the file. Calls after Close fail with Unavailable.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.db.Close()
}
