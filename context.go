package quark

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// callCtx is the context an actor method receives. It is fresh: it carries the
// caller's deadline (or the silo's default call timeout) and cancellation,
// the call chain, and the values the silo's propagators carry (see
// Propagator) — never the caller's other values.
//
// A callCtx is made per call and never reused, so user code may hand it to
// context.WithCancel, errgroup and the like without racing the runtime. Once
// the call has ended the runtime stops treating it as a link in a call chain.
type callCtx struct {
	parent context.Context // the caller's context
	env    *Envelope       // the message being run; read only while the call lasts
	act    *Activation     // the callee, once the turn starts
	prev   *callCtx        // the caller's link in the chain; nil for an outside caller
	silo   *Silo
	// ext holds what only some contexts need (propagated values, a link
	// received from another process); nil for the others. Out of line,
	// and with the flags packed in state, so that a call's context stays
	// in the 80-byte size class: a silo without propagators pays nothing
	// for them.
	ext *callExt
	// deadline on the monotonic clock (see mono); 0 until fixed. With a
	// caller's deadline it is set at once (stateInherited); otherwise it is
	// the silo's default timeout, fixed when first consulted: at once for a
	// queued call, when the method first looks for one on the fast path.
	deadline atomic.Int64
	// own is a timer-backed context made on first use of Done or Err when
	// the deadline is the silo's default rather than the caller's.
	own atomic.Pointer[ownCtx]
	// state holds stateInherited, set at creation, and stateEnded, set
	// once when the call ends.
	state atomic.Uint32
	// pinned: the callee's turn is not released during its outgoing calls
	// (OnActivate, OnDeactivate), even for a reentrant type, and a call back
	// into it is a deadlock.
	pinned atomic.Bool
}

// The bits of callCtx.state.
const (
	stateInherited = 1 << iota // the caller's context carries the deadline
	stateEnded                 // the call has ended: no longer a chain link
)

// callExt is the part of a callCtx that only some contexts need.
type callExt struct {
	// far is set on a link received from another process (see
	// receivedCallCtx): the actor id waits there, so the link has no
	// activation here, never ends, and answers cycle detection from id,
	// pinned and env (a readonly turn) alone.
	far bool
	id  ID
	// prop holds the propagated values, when any were carried.
	prop propagated
}

// hasEnded reports whether the call has ended.
func (c *callCtx) hasEnded() bool { return c.state.Load()&stateEnded != 0 }

type ownCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// endedCtx stands in for a finished call's own context.
var endedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// monoBase anchors the runtime's clock readings: time.Since on a value with a
// monotonic reading costs one clock read, time.Now two.
var monoBase = time.Now()

// mono returns monotonic nanoseconds since monoBase, never 0.
func mono() int64 { return int64(time.Since(monoBase)) + 1 }

// monoOf converts a time to the mono scale.
func monoOf(t time.Time) int64 { return int64(t.Sub(monoBase)) + 1 }

// timeOfMono converts back.
func timeOfMono(m int64) time.Time { return monoBase.Add(time.Duration(m - 1)) }

// chainKey is the context key under which a callCtx answers Value with
// itself, so a chain survives a user's context.WithValue or WithTimeout.
type chainKey struct{}

// newCallCtx returns the context for a call from parent (whose chain link is
// prev) carrying e, with the silo's default timeout when parent has no
// deadline.
func newCallCtx(s *Silo, parent context.Context, e *Envelope, prev *callCtx) *callCtx {
	c := &callCtx{parent: parent, env: e, prev: prev, silo: s}
	if ps := s.cfg.propagators; len(ps) > 0 {
		c.ext = propagate(ps, parent)
	}
	if d, ok := parent.Deadline(); ok {
		c.deadline.Store(monoOf(d))
		c.state.Store(stateInherited)
	}
	return c
}

// deadlineMono returns the deadline, fixing the default one on first use.
func (c *callCtx) deadlineMono() int64 {
	if d := c.deadline.Load(); d != 0 {
		return d
	}
	d := mono() + int64(c.silo.cfg.callTimeout)
	if c.deadline.CompareAndSwap(0, d) {
		return d
	}
	return c.deadline.Load()
}

// governedByParent reports whether the caller's context alone signals the
// deadline.
func (c *callCtx) governedByParent() bool { return c.state.Load()&stateInherited != 0 }

func (c *callCtx) doneCtx() context.Context {
	if c.governedByParent() {
		return c.parent
	}
	if o := c.own.Load(); o != nil {
		return o.ctx
	}
	if c.hasEnded() {
		return endedCtx
	}
	ctx, cancel := context.WithDeadline(c.parent, timeOfMono(c.deadlineMono()))
	o := &ownCtx{ctx: ctx, cancel: cancel}
	if !c.own.CompareAndSwap(nil, o) {
		cancel()
		return c.own.Load().ctx
	}
	return ctx
}

// finish marks the call ended and releases the timer of a lazily made
// context.
func (c *callCtx) finish() {
	if c == nil {
		return
	}
	c.state.Or(stateEnded)
	if o := c.own.Load(); o != nil {
		o.cancel()
	}
}

func (c *callCtx) Deadline() (time.Time, bool) { return timeOfMono(c.deadlineMono()), true }
func (c *callCtx) Done() <-chan struct{}       { return c.doneCtx().Done() }
func (c *callCtx) Err() error                  { return c.doneCtx().Err() }

// AfterFunc lets context.WithCancel and friends, given this context as
// parent, register with the underlying context instead of starting a
// goroutine.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.doneCtx(), f)
}

func (c *callCtx) Value(key any) any {
	if _, ok := key.(chainKey); ok {
		return c
	}
	if c.ext != nil && c.ext.prop.vals != nil {
		return c.ext.prop.vals.Value(key)
	}
	return nil
}

func (c *callCtx) String() string { return "quark.callContext" }

// chainOf returns the live call-chain link carried by ctx, or nil when the
// caller is not an actor method in progress.
func chainOf(ctx context.Context) *callCtx {
	var c *callCtx
	switch x := ctx.(type) {
	case *callCtx:
		c = x
	case *oneWayCtx:
		if x.c.Load() == endedOneWay {
			return nil
		}
		c = x.ctx()
	case nil:
		return nil
	default:
		c, _ = ctx.Value(chainKey{}).(*callCtx)
	}
	if c == nil || c.hasEnded() {
		return nil
	}
	return c
}

// find returns the live link of c's chain whose callee is id, or nil. The
// links received from another process count as live: their actors wait
// there for this chain.
func (c *callCtx) find(id *ID) *callCtx {
	for ; c != nil; c = c.prev {
		if t := c.linkID(); t != nil && t.Type == id.Type && t.Key == id.Key {
			return c
		}
	}
	return nil
}

// linkID returns the actor link c stands for in a call chain: the callee of
// a live local call, or the actor named by a link received from another
// process; nil for a call that has ended or has no activation yet.
func (c *callCtx) linkID() *ID {
	switch {
	case c.ext != nil && c.ext.far:
		return &c.ext.id
	case c.hasEnded() || c.act == nil:
		return nil
	}
	return &c.act.id
}

// ActivationFrom returns the activation whose method ctx was passed to, or
// nil when ctx does not come from an actor method in progress.
func ActivationFrom(ctx context.Context) *Activation {
	if c := chainOf(ctx); c != nil {
		return c.act
	}
	return nil
}

// oneWayCtx is the context a queued one-way message's method receives on a
// silo without propagators: a handle whose callCtx is made on first use
// (Deadline, Done, Err, AfterFunc, a call made through it, ActivationFrom),
// so that a method that never looks at its context costs no allocation.
// Each message gets a handle of its own, never reused: handles are cut from
// slabs (ctxSlab) and a slab is never refilled, so a goroutine the method
// left behind with its ctx finds an ended call's context there, as it would
// with a callCtx. A kept handle keeps its slab from the garbage collector.
//
// Before its method runs a handle's fields are written by the goroutine
// running the message; after, only c changes, by compare-and-swap.
type oneWayCtx struct {
	act *Activation
	env *Envelope // the message; its fields are read only while it runs
	// c is nil until first use, then the callCtx made for it. When the
	// message ends unused, endedOneWay marks it ended until a later use
	// replaces the mark with an ended callCtx of its own.
	c atomic.Pointer[callCtx]
}

// endedOneWay marks a handle whose message ended before its context was
// used. It never leaves the handle.
var endedOneWay = new(callCtx)

// ctx returns the callCtx of h, making it on first use: live while the
// message runs, ended after.
func (h *oneWayCtx) ctx() *callCtx {
	for {
		switch c := h.c.Load(); c {
		case nil:
			// The message may end meanwhile (and its envelope be reused):
			// env is not dereferenced here, and a context made too late
			// loses the race to end.
			n := newCallCtx(h.act.typ.silo, context.Background(), h.env, nil)
			n.act = h.act
			if h.c.CompareAndSwap(nil, n) {
				return n
			}
		case endedOneWay:
			n := &callCtx{parent: context.Background(), silo: h.act.typ.silo}
			n.state.Store(stateEnded)
			if h.c.CompareAndSwap(endedOneWay, n) {
				return n
			}
		default:
			return c
		}
	}
}

// end ends the call of h, once, when its method has returned.
func (h *oneWayCtx) end() {
	if !h.c.CompareAndSwap(nil, endedOneWay) {
		h.c.Load().finish()
	}
}

func (h *oneWayCtx) Deadline() (time.Time, bool)           { return h.ctx().Deadline() }
func (h *oneWayCtx) Done() <-chan struct{}                 { return h.ctx().Done() }
func (h *oneWayCtx) Err() error                            { return h.ctx().Err() }
func (h *oneWayCtx) AfterFunc(f func()) (stop func() bool) { return h.ctx().AfterFunc(f) }
func (h *oneWayCtx) String() string                        { return "quark.callContext" }

// Value answers the chain key with the callCtx; a silo without propagators
// carries no other value, so other keys cost no context.
func (h *oneWayCtx) Value(key any) any {
	if _, ok := key.(chainKey); ok {
		return h.ctx()
	}
	return nil
}

// ctxSlab is a run of one-way contexts, handed out in order to the
// messages of one goroutine (see ctxSource). 63 handles keep the slab in
// the 1,536-byte size class: 24 bytes and 1/63 of an allocation a message.
type ctxSlab struct {
	used int
	h    [63]oneWayCtx
}

// ctxSlabs keeps partly used slabs between drainers.
var ctxSlabs = sync.Pool{New: func() any { return new(ctxSlab) }}

// ctxSource hands out one-way contexts to the messages one goroutine runs.
// The zero value is ready; release returns its slab when the goroutine is
// done.
type ctxSource struct{ slab *ctxSlab }

// next returns a new handle for the one-way message e run by a.
func (cs *ctxSource) next(a *Activation, e *Envelope) *oneWayCtx {
	sl := cs.slab
	if sl == nil || sl.used == len(sl.h) {
		if sl == nil {
			sl = ctxSlabs.Get().(*ctxSlab)
		}
		if sl.used == len(sl.h) {
			sl = new(ctxSlab) // a used handle is never handed out again
		}
		cs.slab = sl
	}
	h := &sl.h[sl.used]
	sl.used++
	h.act, h.env = a, e
	return h
}

// release gives the slab back for another goroutine to go on with.
func (cs *ctxSource) release() {
	if sl := cs.slab; sl != nil && sl.used < len(sl.h) {
		ctxSlabs.Put(sl)
	}
	cs.slab = nil
}
