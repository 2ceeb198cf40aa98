package quark

import "context"

// Caller is what references are made from and send through: a *Silo, or the
// *Activation an actor method runs in (which calls through its silo; the
// call chain travels in the method's context). Generated NewXRef functions
// take one.
//
// Its methods are unexported, so only Quark implements it: the one other
// runtime meant to (a cluster client, for a process that hosts no actors)
// needs the transport, and an exported method set would promise users a
// contract nothing can honour yet. When that client exists it implements
// the same two steps as a silo (see refRuntime).
type Caller interface {
	// newRef returns the reference to the actor of type d with key, bound
	// to the runtime that sends its messages. Safe for concurrent use.
	newRef(d *TypeDesc, key Key) Ref
}

// refRuntime is the side of a process that a Ref sends through: a silo
// today, a cluster client later. Ref.Call and Ref.Send fill the message's
// envelope (target, the runtime's record of the type, the Ref's
// location-cache entry, readonly flag) and hand it over.
//
// Concurrency: both methods are called from any goroutine, concurrently,
// and must be safe for that. invoke blocks until the call has an outcome,
// ctx ends, or the deadline passes; the message is the caller's again once
// Reclaim allows. post returns once the message is handed over (or dropped,
// counted and logged): the message belongs to the runtime from the moment
// post is called.
type refRuntime interface {
	invoke(ctx context.Context, m Message) error
	post(ctx context.Context, m Message) error
}

// Ref is an untyped reference to one actor: the runtime half of a generated
// typed reference (for example AccountRef). It is a small value; copy it
// freely. Generated code calls its methods; user code uses the typed proxy.
type Ref struct {
	rt  refRuntime
	typ *actorType // the silo's record of the type; nil when it is not registered there
	// loc is the location-cache entry for the actor when the Ref was made:
	// calls through this Ref skip the lookup while it is fresh, and route
	// drops it (per message) once stale. It keeps no actor state alive: a
	// dead activation holds none (see deactivate).
	loc location
	id  ID
}

// NewRef returns a reference to the actor of type d with key. Generated
// NewXRef functions call it.
func NewRef(c Caller, d *TypeDesc, key Key) Ref { return c.newRef(d, key) }

// newRef makes a Ref that sends through s.
func (s *Silo) newRef(d *TypeDesc, key Key) Ref {
	r := Ref{rt: s, typ: s.lookupType(d), id: ID{Type: d.Name, Key: key}}
	if r.typ != nil && !d.Stateless {
		// A stateless worker has no single activation to cache.
		r.loc = location{act: r.typ.peek(key)}
	}
	return r
}

// newRef makes a Ref that sends through the activation's silo.
func (a *Activation) newRef(d *TypeDesc, key Key) Ref { return a.typ.silo.newRef(d, key) }

// ID returns the referenced actor's identity.
func (r Ref) ID() ID { return r.id }
