package quark

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/storage"
)

// State is an actor's durable state: a value of type T kept in a
// storage.Store under the actor's ID (ID.StorageKey), loaded before
// OnActivate and written when the actor says so. T is a struct type marked
// //quark:codec, so that quark gen writes its serializer; fields can be
// added and removed between versions (see docs/codec.md).
//
// Make one in the actor's factory with NewState; its methods are for the
// actor's own turns only (like the rest of the actor's fields). Change
// Value, then return Write's error: when a write fails the change stays
// unstored, the activation writes nothing more and is deactivated after the
// turn, and the next call loads what is stored (see Write).
//
//	type account struct{ state *quark.State[AccountState] }
//
//	func newAccount(a *quark.Activation) bank.Account {
//		return &account{state: quark.NewState[AccountState](a)}
//	}
//
//	func (a *account) Deposit(ctx context.Context, n int64) (int64, error) {
//		a.state.Value.Balance += n
//		return a.state.Value.Balance, a.state.Write(ctx)
//	}
type State[T any] struct {
	// Value is the state: the stored value once loaded, the zero T for an
	// actor with nothing stored.
	Value T

	act  *Activation
	key  string // act.id.StorageKey()
	etag string
	// refused is why this State cannot be used at all (NewState on a
	// stateless worker type); load returns it, so the activation fails.
	refused error
	// broken is the first failed Write or Clear: from then on Value may
	// differ from what is stored in ways nobody knows (a write that timed
	// out may have happened), so later writes are refused and the
	// activation is on its way out.
	broken error
	// legacyGone records that no record is left under the key of the layout
	// before storage keys, so Clear need not look for one.
	legacyGone bool
	read       func(b []byte, v *T) error
	// write appends v's encoding to b; it fails for a value a load would
	// refuse, so that no actor is left unable to activate.
	write func(b []byte, v *T) ([]byte, error)
}

// stateSlot is what an activation keeps of each State to load it.
type stateSlot interface {
	load(ctx context.Context) error
}

type stateConfig struct{ json bool }

// NewState returns the durable state of the activation a, registered to be
// loaded from the activation's store before OnActivate runs. Call it from
// the factory. P is inferred: *T must have the MarshalQuark and
// UnmarshalQuark methods quark gen writes for a //quark:codec type. A
// //quark:stateless type's activations share no state: there, the
// activation fails with CodeInvalidArgument before OnActivate.
func NewState[T any, P interface {
	*T
	codec.Marshaler
	codec.Unmarshaler
}](a *Activation, opts ...StateOption) *State[T] {
	var cfg stateConfig
	for _, o := range opts {
		o.applyToState(&cfg)
	}
	s := &State[T]{
		act:  a,
		key:  a.id.StorageKey(),
		read: func(b []byte, v *T) error { return P(v).UnmarshalQuark(b) },
		write: func(b []byte, v *T) ([]byte, error) {
			b, err := P(v).MarshalQuark(b)
			if err != nil {
				// A field's MarshalBinary or MarshalText, or
				// proto.Marshal, failed: CodeInvalidArgument.
				return nil, err
			}
			// UnmarshalQuark refuses more than the default maximum message
			// size: a value over it could be stored but never loaded.
			if err := codec.CheckSize(b, codec.DefaultMaxMessageSize); err != nil {
				return nil, err
			}
			return b, nil
		},
	}
	if cfg.json {
		s.read = func(b []byte, v *T) error {
			if err := json.Unmarshal(b, v); err != nil {
				return Errorf(CodeCorrupt, "decode JSON state: %w", err)
			}
			return nil
		}
		s.write = func(b []byte, v *T) ([]byte, error) {
			out, err := json.Marshal(v)
			if err != nil {
				// A //quark:codec type has only encodable fields, but a
				// field's own MarshalJSON may still fail.
				return nil, Errorf(CodeInvalidArgument, "encode JSON state: %w", err)
			}
			return append(b, out...), nil
		}
	}
	if a.typ.desc.Stateless {
		// Workers of one key are interchangeable and run side by side; each
		// would load and write the same record, conflicting with the
		// others. The factory runs only at activation, so this is where the
		// mistake shows: the activation fails with this error (and logs it).
		s.refused = Errorf(CodeInvalidArgument,
			"state of %s: %s is a //quark:stateless worker type, whose activations share no durable state; NewState is refused (keep the state in a stateful actor the workers call)",
			a.id, a.id.Type)
	}
	a.states = append(a.states, s)
	return s
}

func (s *State[T]) store() storage.Store { return s.act.typ.store }

// load reads the stored value; nothing stored leaves the zero value. When
// nothing is stored under the storage key, a record under the legacy key
// (see loadLegacy) is migrated or reported.
func (s *State[T]) load(ctx context.Context) error {
	if s.refused != nil {
		return s.refused
	}
	st := s.store()
	if st == nil {
		return Errorf(CodeInvalidArgument, "load state of %s: no store: give the silo one with WithStore", s.act.id)
	}
	rec, err := st.Read(ctx, s.key)
	for attempt := 1; CodeOf(err) == CodeNotFound; attempt++ {
		rec, err = s.loadLegacy(ctx, st)
		if err != errLegacyMoved || attempt == legacyAttempts {
			break
		}
		rec, err = st.Read(ctx, s.key)
	}
	if CodeOf(err) == CodeNotFound {
		var zero T
		s.Value, s.etag = zero, ""
		return nil
	}
	if err != nil {
		return Errorf(CodeOf(err), "load state of %s: %w", s.act.id, err)
	}
	var v T
	if err := s.read(rec.Value, &v); err != nil {
		// The stored bytes stay as they are; the activation fails.
		return Errorf(CodeCorrupt, "load state of %s: %w", s.act.id, err)
	}
	s.Value, s.etag = v, rec.ETag
	return nil
}

// loadLegacy looks for the actor's record under its key in the layout
// before storage keys (id.String()) and returns the record the actor now
// has, or a NotFound error when there is none. A legacy record that only
// this actor can have written is moved to the storage key (see moveLegacy);
// one that another actor may have written is left as it is and reported as
// CodeCorrupt, naming the record and MigrateLegacyState.
func (s *State[T]) loadLegacy(ctx context.Context, st storage.Store) (storage.Record, error) {
	id := s.act.id
	old := id.String()
	rec, err := st.Read(ctx, old)
	if CodeOf(err) == CodeNotFound {
		s.legacyGone = true
		return rec, err
	}
	if err != nil {
		return rec, Errorf(CodeOf(err), "read legacy record %q: %w", old, err)
	}
	log := s.act.Logger()
	if !legacyUnambiguous(id) {
		log.Warn("state record in the legacy layout may belong to another actor; left as it is",
			slog.String("record", old), slog.String("storage_key", s.key))
		return rec, Errorf(CodeCorrupt,
			"the record %q, stored in the layout before storage keys, may belong to %s or to another actor whose ID reads the same; it was left as it is: move it to its owner's storage key with quark.MigrateLegacyState",
			old, id)
	}
	var v T
	if err := s.read(rec.Value, &v); err != nil {
		return rec, Errorf(CodeCorrupt, "legacy record %q: %w", old, err)
	}
	left := false
	cur, created, err := moveLegacy(ctx, st, id, rec, func(derr error) {
		left = true
		log.Warn("state migrated from the legacy layout, but the legacy record was not removed; it is not read while the new record exists",
			slog.String("record", old), slog.String("storage_key", s.key), slog.Any("err", derr))
	})
	if err != nil {
		return cur, err
	}
	s.legacyGone = created && !left
	if created {
		log.Info("state migrated from the legacy layout", slog.String("record", old), slog.String("storage_key", s.key))
	}
	return cur, nil
}

// ETag returns the version of the state last loaded or written, "" when
// nothing is stored.
func (s *State[T]) ETag() string { return s.etag }

// Write stores Value. It fails when the store does: CodeConflict when
// another activation of the same actor wrote in between (possible only
// across a partition), overwriting nothing; CodeUnavailable, CodeTimeout and
// the store's other codes when the write did not happen or its outcome is
// unknown. After any failure the activation writes nothing more (later
// Write and Clear calls fail with CodeUnavailable) and is deactivated after
// the current turn, so the next call loads the stored state afresh and the
// failed call's change to Value is never stored. To retry, return the
// error: a caller's retry reaches the fresh activation.
func (s *State[T]) Write(ctx context.Context) error {
	if err := s.usable("write"); err != nil {
		return err
	}
	b, err := s.write(nil, &s.Value)
	if err != nil {
		return s.failed("write", err)
	}
	etag, err := s.store().Write(ctx, s.key, b, s.etag)
	if err != nil {
		return s.failed("write", err)
	}
	s.etag = etag
	return nil
}

// Clear deletes the stored state and resets Value to the zero T, with the
// same failure rule as Write. It also removes a record left under the
// actor's legacy key (see MigrateLegacyState), so that a cleared actor
// never loads it again.
func (s *State[T]) Clear(ctx context.Context) error {
	if err := s.usable("clear"); err != nil {
		return err
	}
	st := s.store()
	if !s.legacyGone && legacyUnambiguous(s.act.id) {
		// A migration that could not remove the legacy record left it
		// behind; deleting only the new record would bring it back.
		old := s.act.id.String()
		rec, err := st.Read(ctx, old)
		if err == nil {
			err = st.Delete(ctx, old, rec.ETag)
		}
		if err != nil && CodeOf(err) != CodeNotFound {
			return s.failed("clear", Errorf(CodeOf(err), "remove legacy record %q: %w", old, err))
		}
		s.legacyGone = true
	}
	if err := st.Delete(ctx, s.key, s.etag); err != nil {
		return s.failed("clear", err)
	}
	var zero T
	s.Value, s.etag = zero, ""
	return nil
}

// usable returns the error of a Write or Clear this State must refuse.
func (s *State[T]) usable(op string) error {
	if s.refused != nil {
		return s.refused
	}
	if s.broken != nil {
		return Errorf(CodeUnavailable,
			"%s state of %s: refused: an earlier write or clear of this activation failed (%v); the next call loads the stored state", op, s.act.id, s.broken)
	}
	return nil
}

// failed records a failed Write or Clear and deactivates the activation
// after the turn, whatever the cause: only Conflict says for sure that
// nothing was stored, and in every case Value holds a change that is not.
func (s *State[T]) failed(op string, err error) error {
	err = Errorf(CodeOf(err), "%s state of %s: %w", op, s.act.id, err)
	s.broken = err
	s.act.DeactivateOnIdle()
	return err
}
