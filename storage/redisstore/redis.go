// Package redisstore is a storage.Store kept in Redis, through
// github.com/redis/go-redis/v9.
//
// Each record lives under prefix+key as a Redis hash with three fields: the
// value ("v"), its ETag ("e") and a CRC-32C (Castagnoli) of the value ("c",
// eight hex digits). Write and Delete are Lua scripts, so comparing the
// stored ETag with the expected one and changing the record is one atomic
// step on the server; the store sends them with EVALSHA and falls back to
// EVAL when the server does not have the script cached. A new ETag is a
// random 128-bit value generated in the client, as 32 hex digits, so no
// counter key is shared between writers. Read verifies the checksum and
// reports a damaged record as a Corrupt error, leaving it as it is.
//
//	st, err := redisstore.Open(ctx, "127.0.0.1:6379", "quark:")
//	defer st.Close()
//
// Durability is the server's: a write is acknowledged once Redis holds it
// in memory, and survives a server restart only as far as its persistence
// (AOF or RDB) is configured to keep it.
//
// # Group commit
//
// Read, Write and Delete share pipelines: each call is queued for one of a
// few sender goroutines the store runs (four), and a sender sends every call
// waiting (up to 512) as one pipeline, one round trip, then completes each.
// A call that finds a sender idle is sent at once; calls made while every
// sender has a pipeline in flight go out together in the next one. There is
// no batch delay. So a thousand actors saving at once cost a handful of
// round trips rather than a thousand (BenchmarkSaturation,
// BenchmarkArrival). New and Open start the senders; Close stops them. The
// reminder calls do not go through the senders.
//
// # Deadlines
//
// Read, Write, Delete and the reminder calls end when ctx ends (deadline or
// cancellation), with a Timeout or Canceled error, whatever client they
// use. A call still waiting for a sender when ctx ends returns at once and
// is never sent; one whose pipeline is in flight returns at once too, and
// the pipeline goes on without it. A pipeline is sent with the latest
// deadline of its calls (none if one of them has none), so a pipeline on a
// stalled server ends at that deadline when the client has
// ContextTimeoutEnabled (the client Open builds sets it), else at the
// client's ReadTimeout (5 s by default), and never for a client whose
// ReadTimeout is -1; meanwhile its sender sends nothing else, and later
// calls go to the other senders or wait. go-redis watches only deadlines,
// and only with ContextTimeoutEnabled, so the reminder calls run their
// commands on a goroutine of their own and return when ctx ends, leaving
// the command to the same socket timeouts. A write or delete that returns
// Timeout or Canceled has an unknown outcome: the server may still run it.
// Open uses the client directly, so it ends at ctx's deadline (its client
// has ContextTimeoutEnabled). Pipelines are sent with a context of their
// own, so client hooks do not see the callers' context values.
//
// # Retries and idempotence
//
// Write and Delete are sent at most once, whatever the client's
// MaxRetries: go-redis would otherwise send a script again after a lost
// reply, and the second run, finding the version the first one stored,
// would report a Conflict for a write that happened (and a caller retrying
// on Conflict would apply its change twice). A write or delete whose reply
// is lost therefore fails with Unavailable, meaning the outcome is unknown:
// read the record to learn it; every write and delete in a pipeline whose
// reply is lost fails so. A Conflict always means nothing was changed. The
// only command sent twice is a script the server answered NOSCRIPT (it ran
// nothing): EVAL of its source follows. Read, which changes nothing, is
// retried as the client is configured (three times by default): a read
// whose pipeline, holding writes, lost its connection is sent again in a
// pipeline of reads alone, which the client retries.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/redis/go-redis/v9"
)

// MaxValueSize bounds one stored value: 64 MiB.
const MaxValueSize = 64 << 20

// Hash fields of a record.
const (
	fieldValue = "v"
	fieldETag  = "e"
	fieldCRC   = "c"
)

// The scripts return {1, etag} on success, {0, have} when the stored ETag
// (have, "" for none) is not the expected one, and {2} when the key holds a
// hash without an ETag, which is left as it is.
//
// KEYS[1] record key; ARGV[1] expected ETag, ARGV[2] value, ARGV[3] new
// ETag, ARGV[4] checksum.
const writeSource = `
local have = redis.call('HGET', KEYS[1], 'e')
if not have then
	if redis.call('EXISTS', KEYS[1]) == 1 then return {2} end
	have = ''
end
if have ~= ARGV[1] then return {0, have} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], 'c', ARGV[4])
return {1, ARGV[3]}
`

var writeScript = redis.NewScript(writeSource)

// KEYS[1] record key; ARGV[1] expected ETag.
const deleteSource = `
local have = redis.call('HGET', KEYS[1], 'e')
if not have then
	if redis.call('EXISTS', KEYS[1]) == 1 then return {2} end
	have = ''
end
if have ~= ARGV[1] then return {0, have} end
if have ~= '' then redis.call('DEL', KEYS[1]) end
return {1, ''}
`

var deleteScript = redis.NewScript(deleteSource)

// sentOnce is a command go-redis sends at most once: its NoRetry tells the
// client not to send it again after a failure that may have come after the
// server ran it (a lost reply, a read timeout). The scripts go out this way
// because running one twice is not harmless: the second run would find the
// version the first one stored and report a Conflict for a write that
// happened.
type sentOnce struct{ *redis.Cmd }

func (sentOnce) NoRetry() bool { return true }

// script runs script on key with args through the group commit: EVALSHA,
// sent at most once, then EVAL of src only if the server answered
// NOSCRIPT (it ran nothing).
func (s *Store) script(ctx context.Context, script *redis.Script, src, key string, args ...any) (any, error) {
	head := make([]any, 0, 4+len(args))
	head = append(head, "evalsha", script.Hash(), 1, key)
	head = append(head, args...)
	o := &op{cmd: sentOnce{redis.NewCmd(ctx, head...)}, src: src}
	if err := s.do(ctx, o); err != nil {
		return nil, err
	}
	return o.cmd.(sentOnce).Result()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(value []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(value, castagnoli))
}

// Store is a storage.Store in Redis. It is safe for concurrent use.
type Store struct {
	client     redis.UniversalClient
	prefix     string
	ownsClient bool
	closed     atomic.Bool

	// The group commit (batch.go): ops waiting for a sender, closed by
	// Close to stop the senders, closed by the last sender out.
	queue   chan *op
	quit    chan struct{}
	stopped chan struct{}
	running atomic.Int32
}

var _ storage.Store = (*Store)(nil)

// New returns a store keeping its records in client under keys that start
// with prefix. The caller owns client: Close does not close it, and several
// stores may share one client. Read, Write and Delete end when ctx ends
// with any client; one built with ContextTimeoutEnabled also frees a
// connection held by a stalled pipeline at the latest deadline of the calls
// in it (see the package doc). Writes and deletes are sent at most once
// whatever client's MaxRetries. New starts the store's sender goroutines
// (see the package doc): call Close when done with the store, which stops
// them.
func New(client redis.UniversalClient, prefix string) *Store {
	s := &Store{client: client, prefix: prefix}
	s.start()
	return s
}

// bound runs call and returns its error, or ctx's error if ctx ends first
// (the reminder calls, which are not pipelined, run under it).
// go-redis ends socket reads and writes at ctx's deadline only when the
// client has ContextTimeoutEnabled, and never watches cancellation, so
// unless ctx never ends call runs on a goroutine of its own, which ctx's
// end leaves behind: it ends at the client's read and write timeouts (or
// ctx's deadline, with ContextTimeoutEnabled) and its result is dropped;
// the caller has ctx's error, meaning the outcome is unknown. call must not
// touch anything the caller reads after an early return. The goroutine
// costs about a microsecond, lost in a round trip to the server.
func (s *Store) bound(ctx context.Context, call func() error) error {
	if ctx.Done() == nil {
		return call()
	}
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished too: its outcome is known
			return err
		default:
			return ctx.Err()
		}
	}
}

// Open connects to the Redis server at addr (host:port, no password),
// checks it answers, and returns a store keeping its records under keys that
// start with prefix. The store owns its client: Close closes it. Open fails
// with Unavailable when the server cannot be reached.
func Open(ctx context.Context, addr, prefix string) (*Store, error) {
	if addr == "" {
		return nil, quarkerr.New(quarkerr.InvalidArgument, "open redis store: empty address")
	}
	client := redis.NewClient(&redis.Options{
		Addr: addr,
		// Socket deadlines follow ctx's deadline, so a stalled server
		// holds a call no longer than its caller allows (without this,
		// go-redis waits for ReadTimeout, 5 s, whatever ctx says).
		ContextTimeoutEnabled: true,
	})
	if err := client.Ping(ctx).Err(); err != nil {
		// The ping's error is the one to report; closing a client that
		// never reached the server only releases its pool.
		_ = client.Close()
		code := quarkerr.Unavailable
		if c := quarkerr.CodeOf(err); c == quarkerr.Canceled || c == quarkerr.Timeout {
			code = c
		}
		return nil, quarkerr.Errorf(code, "open redis store %s: %w", addr, err)
	}
	s := New(client, prefix)
	s.ownsClient = true
	return s, nil
}

func (s *Store) check(ctx context.Context, op, key string) error {
	return storage.CheckCall(ctx, op, key, s.closed.Load())
}

// fail turns an error from the client into a typed one: the context's
// error when ctx ended, Corrupt when the key holds something that is not a
// record, Unavailable otherwise.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	if ctx.Err() != nil {
		return quarkerr.Errorf(quarkerr.CodeOf(ctx.Err()), "%s %q: %w", op, key, err)
	}
	// The socket deadline is ctx's deadline, so a read can time out a
	// moment before ctx reports that it ended.
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return quarkerr.Errorf(quarkerr.Timeout, "%s %q: %w", op, key, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return quarkerr.Errorf(quarkerr.CodeOf(err), "%s %q: %w", op, key, err)
	}
	if s.closed.Load() {
		return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: store closed: %w", op, key, err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
		return quarkerr.Errorf(quarkerr.Corrupt, "%s %q: the stored record is not a record; it was left as it is: %w", op, key, err)
	}
	return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: %w", op, key, err)
}

func damaged(op, key, why string) error {
	return quarkerr.Errorf(quarkerr.Corrupt, "%s %q: stored record damaged (%s); it was left as it is", op, key, why)
}

// Read implements storage.Store.
func (s *Store) Read(ctx context.Context, key string) (storage.Record, error) {
	if err := s.check(ctx, "read", key); err != nil {
		return storage.Record{}, err
	}
	o := &op{cmd: redis.NewSliceCmd(ctx, "hmget", s.prefix+key, fieldValue, fieldETag, fieldCRC)}
	err := s.do(ctx, o)
	var vals []any
	if err == nil {
		// The sender may have replaced the command (a read sent again).
		vals, err = o.cmd.(*redis.SliceCmd).Result()
	}
	if err != nil {
		return storage.Record{}, s.fail(ctx, "read", key, err)
	}
	if len(vals) != 3 {
		return storage.Record{}, s.fail(ctx, "read", key, errors.New("unexpected reply"))
	}
	value, hasValue := vals[0].(string)
	etag, hasETag := vals[1].(string)
	sum, hasSum := vals[2].(string)
	switch {
	case !hasValue && !hasETag && !hasSum:
		return storage.Record{}, storage.NotFound(key)
	case !hasValue || !hasETag || !hasSum || etag == "":
		return storage.Record{}, damaged("read", key, "missing fields")
	}
	b := []byte(value)
	if checksum(b) != sum {
		return storage.Record{}, damaged("read", key, "checksum mismatch")
	}
	return storage.Record{Value: b, ETag: etag}, nil
}

// result interprets a script's reply.
func (s *Store) result(op, key, want string, reply any) (string, error) {
	r, ok := reply.([]any)
	if !ok || len(r) == 0 {
		return "", damaged(op, key, "unexpected script reply")
	}
	status, _ := r[0].(int64)
	var tag string
	if len(r) > 1 {
		tag, _ = r[1].(string)
	}
	switch status {
	case 1:
		return tag, nil
	case 0:
		return "", storage.Conflict(op, key, want, tag)
	default:
		return "", damaged(op, key, "no version stored")
	}
}

// newETag returns a random 128-bit value in hex.
func newETag() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Write implements storage.Store. The new ETag is a random 128-bit value,
// so an old ETag does not come back.
func (s *Store) Write(ctx context.Context, key string, value []byte, etag string) (string, error) {
	if err := s.check(ctx, "write", key); err != nil {
		return "", err
	}
	if len(value) > MaxValueSize {
		return "", quarkerr.Errorf(quarkerr.InvalidArgument, "write %q: %d bytes, over the %d-byte limit", key, len(value), MaxValueSize)
	}
	if value == nil {
		value = []byte{}
	}
	reply, err := s.script(ctx, writeScript, writeSource, s.prefix+key, etag, value, newETag(), checksum(value))
	if err != nil {
		return "", s.fail(ctx, "write", key, err)
	}
	return s.result("write", key, etag, reply)
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string, etag string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	reply, err := s.script(ctx, deleteScript, deleteSource, s.prefix+key, etag)
	if err != nil {
		return s.fail(ctx, "delete", key, err)
	}
	_, err = s.result("delete", key, etag, reply)
	return err
}

// Close marks the store closed: later calls fail with Unavailable, and so
// do calls still waiting for a pipeline (never sent). It stops the store's
// senders: each finishes the pipeline it has in flight, if any, and exits.
// It closes the client only for a store from Open; a client given to New
// stays open.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.quit)
	if s.ownsClient {
		return s.client.Close()
	}
	return nil
}
