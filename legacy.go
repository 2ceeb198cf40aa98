package quark

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/quarkgo/quark/storage"
)

// Before storage keys (ID.StorageKey), State was stored under ID.String(),
// "type/key", which two actors can share: IntKey(7) and StringKey("7") both
// read "7", CompoundKey(StringKey("a"), "b") and StringKey("a+b") both
// "a+b". Storage keys never hold a '/' and legacy keys always do, so the two
// layouts cannot meet in one store; a record of the old layout is found by
// its old key and moved (see State.load and MigrateLegacyState).

// legacyUnambiguous reports whether the legacy key of id could only have
// been written by id: the type name holds no '/' (else "a/b" + "c" and "a" +
// "b/c" meet), and the key is a plain string key with no '/' or '+' that
// reads neither as a decimal int64 nor as a canonical UUID (else an int, a
// UUID or a compound key of the same type may own it). Other legacy records
// are moved only when the application names their owner.
func legacyUnambiguous(id ID) bool {
	k := id.Key
	if strings.Contains(id.Type, "/") || k.kind != KeyString || k.compound ||
		strings.ContainsAny(k.s, "/+") {
		return false
	}
	if n, err := strconv.ParseInt(k.s, 10, 64); err == nil && strconv.FormatInt(n, 10) == k.s {
		return false
	}
	return !isCanonicalUUID(k.s)
}

// isCanonicalUUID reports whether s is what Key.String writes for a UUID
// key: 36 characters, lower-case hex with dashes at 8, 13, 18 and 23.
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// errLegacyMoved reports that a legacy record changed while it was being
// moved: the caller starts over, reading the storage key first.
var errLegacyMoved = NewError(CodeUnavailable, "the legacy record changed while it was moved; try again")

// legacyAttempts bounds how often a load or MigrateLegacyState starts over
// after errLegacyMoved; each start-over needs another writer to have moved
// or changed the record in between.
const legacyAttempts = 3

// moveLegacy moves the legacy record old of id to id's storage key: it
// creates the record there (expecting nothing stored) and then deletes the
// legacy record, expecting the ETag it was read with. It returns the record
// now under the storage key and whether this call created it.
//
// Only the activation whose create succeeded deletes the legacy record.
// Two activations racing: one creates the record, the other gets Conflict
// and takes the record that is there. When the creator's delete finds the
// legacy record gone or rewritten since it was read, the create came from a
// stale read (another activation moved the record, and the actor was
// cleared since; or a silo of an older version rewrote it): the creator
// deletes what it created (expecting its own ETag) and returns
// errLegacyMoved, so the caller reads afresh. Any other failed delete is
// passed to leftBehind and is not an error: the record under the storage
// key is the actor's from now on, the legacy one is never read while it
// exists, and State.Clear removes it.
func moveLegacy(ctx context.Context, st storage.Store, id ID, old storage.Record, leftBehind func(error)) (storage.Record, bool, error) {
	key, oldKey := id.StorageKey(), id.String()
	fail := func(err error) error {
		return Errorf(CodeOf(err), "migrate legacy record %q to %q: %w", oldKey, key, err)
	}
	etag, err := st.Write(ctx, key, old.Value, "")
	if CodeOf(err) == CodeConflict {
		cur, err := st.Read(ctx, key)
		if CodeOf(err) == CodeNotFound {
			return cur, false, errLegacyMoved // created and cleared in between
		}
		if err != nil {
			return cur, false, fail(err)
		}
		return cur, false, nil
	}
	cur := storage.Record{Value: old.Value, ETag: etag}
	if err != nil {
		return cur, false, fail(err)
	}
	derr := st.Delete(ctx, oldKey, old.ETag)
	if derr == nil {
		return cur, true, nil
	}
	now, rerr := st.Read(ctx, oldKey)
	if CodeOf(rerr) == CodeNotFound || rerr == nil && now.ETag != old.ETag {
		// A Conflict on our own ETag means someone loaded the copy and
		// wrote since: theirs is the actor's record, read afresh.
		if uerr := st.Delete(ctx, key, etag); uerr != nil && CodeOf(uerr) != CodeConflict {
			return cur, true, fail(Errorf(CodeOf(uerr), "the legacy record changed meanwhile, and removing the copy failed: %w", uerr))
		}
		return cur, false, errLegacyMoved
	}
	leftBehind(derr)
	return cur, true, nil
}

// MigrateLegacyState moves the State record of id from its key in the
// layout before storage keys (id.String()) to id.StorageKey(), for records
// whose owner the runtime cannot tell: a legacy key that reads the same for
// two IDs (IntKey(7) and StringKey("7"), a compound key and a string with a
// '+', a UUID and its canonical string, a key or type name with a '/').
// Loading such an actor fails with CodeCorrupt naming the record until the
// application, which knows which of its actors exist, calls this for the
// owner. Plain string keys are migrated when first loaded and need no call.
//
// It reports whether the storage key now holds the legacy record's value:
// false with a nil error when nothing is stored under the legacy key. When
// id's storage key already holds a different record it fails with
// CodeConflict and changes nothing; other errors are the store's. It is
// safe to run again after a failure, and beside running silos.
func MigrateLegacyState(ctx context.Context, st storage.Store, id ID) (bool, error) {
	oldKey := id.String()
	for range legacyAttempts {
		old, err := st.Read(ctx, oldKey)
		if CodeOf(err) == CodeNotFound {
			return false, nil
		}
		if err != nil {
			return false, Errorf(CodeOf(err), "migrate legacy record %q: %w", oldKey, err)
		}
		var deleteErr error
		cur, created, err := moveLegacy(ctx, st, id, old, func(err error) { deleteErr = err })
		if err == errLegacyMoved {
			continue
		}
		if err != nil {
			return false, err
		}
		if !created {
			if !bytes.Equal(cur.Value, old.Value) {
				return false, Errorf(CodeConflict,
					"migrate legacy record %q: %q already holds a different record; both were left as they are", oldKey, id.StorageKey())
			}
			// Moved before, by a call whose delete failed. A record the
			// runtime moves by itself is its creator's (or Clear's) to
			// delete; nothing else ever deletes the others.
			if !legacyUnambiguous(id) {
				deleteErr = st.Delete(ctx, oldKey, old.ETag)
			}
		}
		if deleteErr != nil {
			return false, Errorf(CodeOf(deleteErr), "migrate legacy record %q: moved to %q, but removing it failed (run again): %w", oldKey, id.StorageKey(), deleteErr)
		}
		return true, nil
	}
	return false, Errorf(CodeUnavailable, "migrate legacy record %q: %w", oldKey, errLegacyMoved)
}
