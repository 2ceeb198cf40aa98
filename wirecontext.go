package quark

import (
	"context"
	"math"
	"time"

	"github.com/quarkgo/quark/internal/wire"
)

// The call context crosses processes as a wire.CallContext: the caller's
// remaining time rather than its monotonic deadline, and its call chain as
// a list of IDs with the bits cycle detection reads rather than pointers to
// live links. wireCallContext captures it on the caller's side;
// receivedCallCtx rebuilds, on the callee's, a context whose chain answers
// find, and so every decision of Silo.call (deadlock, reentrant callback,
// readonly rejoin), as the live chain did. docs/wire.md documents the form.
//
// Reentrancy is no bit of a link: whether a call back into an actor may
// enter its waiting turn depends on the actor's type (TypeDesc.Reentrant),
// which the deciding silo reads from its own registration as it does for a
// local call; a link carries only what the type does not say: whether the
// turn is pinned (OnActivate, OnDeactivate: held even for a reentrant type)
// and whether it is readonly (a readonly call rejoins it).

// farReadonly stands in for the envelope of a received link waiting in a
// readonly turn: cycle detection reads only its shared bit. Never written.
var farReadonly = &Envelope{shared: true}

// wireCallContext fills w with what the call whose context is c carries to
// another process: its remaining time (none for a one-way message, whose
// deadline starts when it runs), the links of its chain, the nearest caller
// first, and the values its propagators injected (w.Values shares c's
// carrier, which is no longer written). It fixes a default deadline not yet fixed, as a queued call
// does. Links that have ended, or have no activation yet, are left out: find
// skips them too. A key that cannot be encoded fails with its error.
func wireCallContext(c *callCtx, w *wire.CallContext) error {
	*w = wire.CallContext{}
	if c.env == nil || !c.env.oneWay {
		w.HasDeadline = true
		w.Remaining = time.Duration(max(c.deadlineMono()-mono(), 0))
	}
	if c.ext != nil {
		w.Values = c.ext.prop.carried.kv
	}
	for l := c.prev; l != nil; l = l.prev {
		id := l.linkID()
		if id == nil {
			continue
		}
		key, err := id.Key.MarshalBinary()
		if err != nil {
			return err
		}
		w.Chain = append(w.Chain, wire.Link{
			Type:     id.Type,
			Key:      key,
			Pinned:   l.pinned.Load(),
			Readonly: l.env != nil && l.env.shared,
		})
	}
	return nil
}

// receivedCallCtx returns the context of the call e received from another
// process with w: its deadline is now plus the time that remained when it
// was sent, its chain the received links, and its cancellation parent's
// (the receiver's context for the call); the silo's propagators extract its
// values from the received ones. A link with a key that does not
// decode, or with no type or key, fails with CodeCorrupt.
func (s *Silo) receivedCallCtx(parent context.Context, e *Envelope, w *wire.CallContext) (*callCtx, error) {
	c := &callCtx{parent: parent, env: e, silo: s}
	if w.HasDeadline {
		now := mono()
		// Saturate rather than wrap: a remaining time near the limit of
		// int64 means no practical deadline, not one in the past.
		c.deadline.Store(now + min(int64(w.Remaining), math.MaxInt64-now))
	}
	if ps := s.cfg.propagators; len(ps) > 0 && len(w.Values) > 0 {
		c.ext = &callExt{prop: propagated{carried: carrier{kv: w.Values}}}
		c.ext.prop.extract(ps)
	}
	if len(w.Chain) == 0 {
		return c, nil
	}
	links := make([]callCtx, len(w.Chain))
	exts := make([]callExt, len(w.Chain))
	prev := &c.prev
	for i := range w.Chain {
		wl, l, x := &w.Chain[i], &links[i], &exts[i]
		id := &x.id
		if err := id.Key.UnmarshalBinary(wl.Key); err != nil {
			return nil, Errorf(CodeCorrupt, "received call to %s: chain link %d: %w", e.target, i, err)
		}
		if wl.Type == "" || id.Key.IsZero() {
			return nil, Errorf(CodeCorrupt, "received call to %s: chain link %d names no actor", e.target, i)
		}
		id.Type = wl.Type
		x.far = true
		l.ext, l.silo, l.parent = x, s, parent
		l.pinned.Store(wl.Pinned)
		if wl.Readonly {
			l.env = farReadonly
		}
		*prev = l
		prev = &l.prev
	}
	return c, nil
}
