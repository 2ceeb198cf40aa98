// Package storage defines the small interface Quark's durable actor state
// lives behind, and an in-memory implementation.
//
// A Store keeps opaque values under string keys with optimistic concurrency:
// every write names the ETag it expects to replace, so of two writers racing
// from the same version exactly one wins and the other gets a Conflict error
// with nothing overwritten. Providers (embedded, Redis, PostgreSQL) live in
// packages of their own below this one and import only this package and
// quarkerr; each runs the conformance suite in storage/storagetest.
//
//	st := storage.NewMemory()
//	etag, err := st.Write(ctx, "bank.Account:str:alice", value, "")   // create
//	rec, err := st.Read(ctx, "bank.Account:str:alice")
//	etag, err = st.Write(ctx, "bank.Account:str:alice", next, rec.ETag) // replace
package storage

import (
	"context"

	"github.com/quarkgo/quark/quarkerr"
)

// Record is a stored value and its version.
type Record struct {
	// Value is the stored bytes; the caller owns them.
	Value []byte
	// ETag identifies this version of the value. It is opaque, never empty
	// for a stored record, and changes on every write.
	ETag string
}

// Store keeps values under keys with optimistic concurrency. Implementations
// are safe for concurrent use and honour ctx cancellation. Errors are
// *quarkerr.Error values:
//   - quarkerr.NotFound: Read of a key with no value;
//   - quarkerr.Conflict: Write or Delete whose expected ETag is not the
//     stored one (nothing is changed);
//   - quarkerr.Corrupt: a stored record that fails its integrity check
//     (left untouched);
//   - quarkerr.InvalidArgument: an empty key or a value over the provider's
//     limit;
//   - quarkerr.Canceled or quarkerr.Timeout: ctx ended first;
//   - quarkerr.Unavailable: the backing service cannot be reached.
type Store interface {
	// Read returns the value stored under key and its ETag.
	Read(ctx context.Context, key string) (Record, error)
	// Write stores value under key if the stored ETag is etag (the empty
	// string: only if nothing is stored) and returns the new ETag. The
	// store does not keep value after Write returns.
	Write(ctx context.Context, key string, value []byte, etag string) (string, error)
	// Delete removes key if the stored ETag is etag. Deleting a key that
	// holds nothing succeeds when etag is empty, and is a Conflict
	// otherwise.
	Delete(ctx context.Context, key string, etag string) error
	// Close releases the store's resources. Calls after Close fail with
	// Unavailable.
	Close() error
}

// CheckCall is the check every provider makes before an operation on key:
// an empty key is InvalidArgument, a closed store Unavailable, an ended ctx
// Canceled or Timeout.
func CheckCall(ctx context.Context, op, key string, closed bool) error {
	if key == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: empty key", op)
	}
	if closed {
		return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: store closed", op, key)
	}
	return CheckContext(ctx, op, key)
}

// CheckList is the check every provider makes before listing reminders or
// watermarks: a closed store Unavailable, an ended ctx Canceled or Timeout.
func CheckList(ctx context.Context, op string, closed bool) error {
	if closed {
		return quarkerr.New(quarkerr.Unavailable, op+": store closed")
	}
	return CheckContext(ctx, op, "")
}

// CheckContext returns ctx's error as a typed error, or nil: providers call
// it before doing work.
func CheckContext(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return quarkerr.Errorf(quarkerr.CodeOf(err), "%s %q: %w", op, key, err)
	}
	return nil
}

// NotFound returns the error Read gives for a missing key.
func NotFound(key string) error {
	return quarkerr.Errorf(quarkerr.NotFound, "read %q: no value stored", key)
}

// Conflict returns the error of a write or delete whose expected ETag is not
// the stored one.
func Conflict(op, key, want, have string) error {
	if have == "" {
		return quarkerr.Errorf(quarkerr.Conflict, "%s %q: expected version %q, but nothing is stored", op, key, want)
	}
	if want == "" {
		return quarkerr.Errorf(quarkerr.Conflict, "%s %q: expected nothing stored, found version %q", op, key, have)
	}
	return quarkerr.Errorf(quarkerr.Conflict, "%s %q: expected version %q, found %q", op, key, want, have)
}
