package quark

import (
	"context"
	"encoding/json"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/storage"
)

// State is an actor's durable state: a value of type T kept in a
// storage.Store under the actor's ID, loaded before OnActivate and written
// when the actor says so. T is a struct type marked //quark:codec, so that
// quark gen writes its serializer; fields can be added and removed between
// versions (see docs/codec.md).
//
// Make one in the actor's factory with NewState; its methods are for the
// actor's own turns only (like the rest of the actor's fields).
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

	act   *Activation
	etag  string
	read  func(b []byte, v *T) error
	write func(b []byte, v *T) []byte
}

// stateSlot is what an activation keeps of each State to load it.
type stateSlot interface {
	load(ctx context.Context) error
}

// StateOption configures NewState.
type StateOption func(*stateConfig)

type stateConfig struct{ json bool }

// StateJSON stores the value as JSON (encoding/json, with its reflection and
// its rules for field names and tags) instead of the generated MessagePack:
// for state other tools read, or kept in a store that humans inspect. Values
// stored one way do not load the other way.
func StateJSON() StateOption { return func(c *stateConfig) { c.json = true } }

// NewState returns the durable state of the activation a, registered to be
// loaded from the activation's store before OnActivate runs. Call it from
// the factory. P is inferred: *T must have the MarshalQuark and
// UnmarshalQuark methods quark gen writes for a //quark:codec type.
func NewState[T any, P interface {
	*T
	codec.Marshaler
	codec.Unmarshaler
}](a *Activation, opts ...StateOption) *State[T] {
	var cfg stateConfig
	for _, o := range opts {
		o(&cfg)
	}
	s := &State[T]{
		act:   a,
		read:  func(b []byte, v *T) error { return P(v).UnmarshalQuark(b) },
		write: func(b []byte, v *T) []byte { return P(v).MarshalQuark(b) },
	}
	if cfg.json {
		s.read = func(b []byte, v *T) error {
			if err := json.Unmarshal(b, v); err != nil {
				return Errorf(CodeCorrupt, "decode JSON state: %w", err)
			}
			return nil
		}
		s.write = func(b []byte, v *T) []byte {
			out, err := json.Marshal(v)
			if err != nil {
				// A //quark:codec type has only encodable fields; a
				// marshaler method of a field failing is a programming error.
				panic(Errorf(CodeInternal, "encode JSON state: %w", err))
			}
			return append(b, out...)
		}
	}
	a.states = append(a.states, s)
	return s
}

func (s *State[T]) key() string { return s.act.id.String() }

func (s *State[T]) store() storage.Store { return s.act.typ.store }

// load reads the stored value; nothing stored leaves the zero value.
func (s *State[T]) load(ctx context.Context) error {
	st := s.store()
	if st == nil {
		return Errorf(CodeInvalidArgument, "load state of %s: no store: give the silo one with WithStore", s.act.id)
	}
	rec, err := st.Read(ctx, s.key())
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

// ETag returns the version of the state last loaded or written, "" when
// nothing is stored.
func (s *State[T]) ETag() string { return s.etag }

// Write stores Value. When another activation of the same actor wrote in
// between (possible only across a partition), it fails with CodeConflict,
// overwrites nothing, and the activation is deactivated after the current
// turn, so the next call loads the stored state afresh.
func (s *State[T]) Write(ctx context.Context) error {
	b := s.write(nil, &s.Value)
	etag, err := s.store().Write(ctx, s.key(), b, s.etag)
	if err != nil {
		return s.failed("write", err)
	}
	s.etag = etag
	return nil
}

// Clear deletes the stored state and resets Value to the zero T, with the
// same conflict rule as Write.
func (s *State[T]) Clear(ctx context.Context) error {
	if err := s.store().Delete(ctx, s.key(), s.etag); err != nil {
		return s.failed("clear", err)
	}
	var zero T
	s.Value, s.etag = zero, ""
	return nil
}

func (s *State[T]) failed(op string, err error) error {
	if CodeOf(err) == CodeConflict {
		s.act.DeactivateOnIdle()
	}
	return Errorf(CodeOf(err), "%s state of %s: %w", op, s.act.id, err)
}
