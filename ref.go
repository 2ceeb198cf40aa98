package quark

// Caller is what generated proxies send calls through: a *Silo, or the
// *Activation an actor method runs in. Its methods are private to Quark.
type Caller interface {
	callerSilo() *Silo
}

// Ref is an untyped reference to one actor: the runtime half of a generated
// typed reference (for example AccountRef). It is a small value; copy it
// freely. Generated code calls its methods; user code uses the typed proxy.
type Ref struct {
	s   *Silo
	typ *actorType  // nil when the type is not registered on s
	act *Activation // the activation when the Ref was made, if any: a hint
	id  ID
}

// NewRef returns a reference to the actor of type d with key. Generated
// NewXRef functions call it.
func NewRef(c Caller, d *TypeDesc, key Key) Ref {
	s := c.callerSilo()
	r := Ref{s: s, typ: s.lookupType(d), id: ID{Type: d.Name, Key: key}}
	if r.typ != nil && !d.Stateless {
		// Calls through this Ref skip the catalog while the activation
		// lives; a dead one sends them back to it. A dead activation keeps
		// no actor state alive (see deactivate).
		r.act = r.typ.peek(key)
	}
	return r
}

// ID returns the referenced actor's identity.
func (r Ref) ID() ID { return r.id }
