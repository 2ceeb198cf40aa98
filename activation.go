package quark

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/quarkgo/quark/quarkerr"
)

// Activation is one live instance of an actor: the runtime's record of it
// and the handle an actor keeps to reach the runtime. The factory given to
// Register receives it; keep it to call other actors (it is a Caller), to
// read the actor's ID, or to ask for deactivation.
//
// An idle activation holds no goroutine and no timer: its mailbox is a list
// head, and a goroutine drains it only while messages wait.
type Activation struct {
	id     ID
	typ    *actorType
	impl   any
	set    *workerSet    // the stateless worker set this activation serves in, or nil
	states []stateSlot   // durable states made by the factory, loaded before OnActivate
	timers []*ActorTimer // guarded by mu

	// inbox takes one-way messages without the lock: a stack, newest
	// first, moved to the queue by whoever next holds the lock; closedInbox
	// once the activation is dead. pending counts the inbox and the queue
	// together, for the mailbox bound. drainer is true while a goroutine
	// drains the mailbox; it is written under mu and read without it by
	// senders, which take mu to start a drainer only when it is false.
	inbox   atomic.Pointer[Envelope]
	pending atomic.Int32
	drainer atomic.Bool

	mu        sync.Mutex
	status    uint8
	writer    bool               // an exclusive turn is held
	deact     DeactivationReason // requested deactivation, applied when idle
	readers   int32              // shared turns held
	suspended int32              // reentrant turns released while waiting on a call
	admits    int32              // calls admitted since a caller last yielded
	qhead     *Envelope
	qtail     *Envelope
	rhead     *Envelope // suspended turns waiting to be handed back, FIFO
	rtail     *Envelope
	lastUsed  int64 // the silo's coarse clock at the last admitted call
}

// Activation status.
const (
	statusActivating uint8 = iota
	statusValid
	statusDeactivating
	statusDead
)

// DeactivationReason says why an activation was deactivated.
type DeactivationReason uint8

// The reasons passed to OnDeactivate.
const (
	ReasonNone DeactivationReason = iota
	// ReasonIdle: the activation was idle longer than the collection age.
	ReasonIdle
	// ReasonRequested: the actor called DeactivateOnIdle.
	ReasonRequested
	// ReasonShutdown: the silo is stopping.
	ReasonShutdown
	// reasonPanic: a method panicked; the activation is discarded without
	// OnDeactivate.
	reasonPanic
)

func (r DeactivationReason) String() string {
	switch r {
	case ReasonIdle:
		return "idle"
	case ReasonRequested:
		return "requested"
	case ReasonShutdown:
		return "shutdown"
	case reasonPanic:
		return "panic"
	}
	return "none"
}

// Activator is implemented by actors that need to run code when activated.
// OnActivate runs in the activation's first turn, before any call; an error
// fails that call (and calls queued behind it) and leaves no activation.
type Activator interface {
	OnActivate(ctx context.Context) error
}

// Deactivator is implemented by actors that need to run code when
// deactivated. OnDeactivate runs in the activation's last turn; it is not
// called for an activation discarded after a panic.
type Deactivator interface {
	OnDeactivate(ctx context.Context, reason DeactivationReason)
}

// ID returns the actor's identity.
func (a *Activation) ID() ID { return a.id }

// Logger returns the silo's logger with the actor's type and key as
// attributes.
func (a *Activation) Logger() *slog.Logger {
	return a.typ.silo.log.With(slog.String("actor", a.id.String()))
}

// DeactivateOnIdle asks the runtime to deactivate the activation once its
// current turn (and any turn waiting behind it) is done. Calls arriving after
// that go to a new activation. It may be called from any goroutine.
func (a *Activation) DeactivateOnIdle() {
	a.mu.Lock()
	if a.deact == ReasonNone {
		a.deact = ReasonRequested
	}
	idle := a.idleLocked()
	if idle {
		a.writer = true
		a.status = statusDeactivating
	}
	a.mu.Unlock()
	if idle {
		a.deactivate(ReasonRequested)
	}
}

func (a *Activation) callerSilo() *Silo { return a.typ.silo }

// idleLocked reports whether nothing runs, waits or is suspended, so the
// activation can be deactivated now.
func (a *Activation) idleLocked() bool {
	return a.status == statusValid && !a.writer && !a.drainer.Load() && a.readers == 0 &&
		a.suspended == 0 && a.qhead == nil && a.inbox.Load() == nil && a.rhead == nil
}

// turnFreeLocked reports whether a turn of the given kind could start now.
func (a *Activation) turnFreeLocked(shared bool) bool {
	if a.writer {
		return false
	}
	return shared || a.readers == 0
}

func (a *Activation) takeTurnLocked(shared bool) {
	if shared {
		a.readers++
	} else {
		a.writer = true
	}
}

func (a *Activation) dropTurnLocked(shared bool) {
	if shared {
		a.readers--
	} else {
		a.writer = false
	}
}

func (a *Activation) pushLocked(e *Envelope) {
	e.next = nil
	a.appendReversedLocked(e) // a list of one
}

func (a *Activation) popLocked() *Envelope {
	e := a.qhead
	a.qhead = e.next
	if a.qhead == nil {
		a.qtail = nil
	}
	e.next = nil
	a.pending.Add(-1)
	return e
}

// takeQueueLocked empties the mailbox and returns its messages as a list.
func (a *Activation) takeQueueLocked() *Envelope {
	a.absorbLocked()
	h := a.qhead
	n := int32(0)
	for e := h; e != nil; e = e.next {
		n++
	}
	a.qhead, a.qtail = nil, nil
	a.pending.Add(-n)
	return h
}

// closedInbox marks the inbox of a dead activation.
var closedInbox = new(Envelope)

// post queues a one-way message without taking the lock unless a drainer has
// to be started.
func (a *Activation) post(e *Envelope) admit {
	if a.pending.Add(1) > int32(a.typ.mailbox) {
		a.pending.Add(-1)
		return admitOverload
	}
	for {
		h := a.inbox.Load()
		if h == closedInbox {
			a.pending.Add(-1)
			return admitRetry
		}
		e.next = h
		if a.inbox.CompareAndSwap(h, e) {
			break
		}
	}
	// A drainer that sees the inbox empty clears drainer before looking
	// again, so either it finds e or this sees drainer false.
	if !a.drainer.Load() {
		a.mu.Lock()
		start := a.canDrainLocked()
		if start {
			a.drainer.Store(true)
		}
		a.mu.Unlock()
		if start {
			go a.drain()
		}
	}
	return admitQueued
}

// absorbLocked moves the inbox's messages, oldest first, to the end of the
// queue. Only holders of mu take from the inbox or close it.
func (a *Activation) absorbLocked() {
	if h := a.inbox.Load(); h == nil || h == closedInbox {
		return
	}
	a.appendReversedLocked(a.inbox.Swap(nil))
}

// appendReversedLocked appends an inbox list (newest first) to the queue in
// arrival order.
func (a *Activation) appendReversedLocked(h *Envelope) {
	if h == nil {
		return
	}
	last := h
	var first *Envelope
	for h != nil {
		next := h.next
		h.next = first
		first = h
		h = next
	}
	if a.qtail == nil {
		a.qhead = first
	} else {
		a.qtail.next = first
	}
	a.qtail = last
}

// closeLocked marks the activation dead and returns every message waiting
// in its mailbox; later posts fail and look the actor up again.
func (a *Activation) closeLocked() *Envelope {
	a.status = statusDead
	if h := a.inbox.Swap(closedInbox); h != closedInbox {
		a.appendReversedLocked(h)
	}
	return a.takeQueueLocked()
}

// admit is the outcome of submitting a message to an activation.
type admit uint8

const (
	admitQueued   admit = iota // in the mailbox; a drainer will run it
	admitInline                // the caller holds the turn and runs it now
	admitRetry                 // the activation is dead: look the actor up again
	admitOverload              // the mailbox is full
	admitBusy                  // submitIfIdle: the activation is not idle
	admitYield                 // yield the processor, then offer again
)

// submit offers e to the activation: run it on the caller's goroutine when
// inline is allowed and nothing else is running or waiting, else queue it.
func (a *Activation) submit(e *Envelope, inline bool) admit { return a.offer(e, inline, false) }

// submitIfIdle is submit for an activation that has nothing running or
// waiting; otherwise it takes nothing and returns admitBusy.
func (a *Activation) submitIfIdle(e *Envelope, inline bool) admit { return a.offer(e, inline, true) }

func (a *Activation) offer(e *Envelope, inline, idleOnly bool) admit {
	if e.oneWay && !idleOnly {
		return a.post(e)
	}
	s := a.typ.silo
	a.mu.Lock()
	if a.status == statusDead {
		a.mu.Unlock()
		return admitRetry
	}
	// Messages posted earlier go first: a caller that posts and then calls
	// finds its one-way message ahead of its call.
	a.absorbLocked()
	free := a.status <= statusValid && a.qhead == nil && !a.drainer.Load() && a.rhead == nil
	if idleOnly && !(free && a.turnFreeLocked(false)) {
		a.mu.Unlock()
		return admitBusy
	}
	a.lastUsed = s.coarse.Load()
	if e.rejoin && !a.writer && a.readers > 0 {
		// The reader turn this call's own chain holds: share it now, even
		// with a writer waiting (it waits for that chain).
		a.readers++
		if inline {
			a.mu.Unlock()
			return admitInline
		}
		if e.done == nil {
			e.done = make(chan struct{}, 1)
		}
		a.mu.Unlock()
		go func() {
			a.runQueued(e)
			a.release(true)
		}()
		return admitQueued
	}
	if !e.oneWay {
		if a.admits++; a.admits > s.cfg.maxInline {
			// Enough calls in a row: make this caller yield its processor
			// before it goes on, so that goroutines queued behind it in the
			// Go scheduler run. Without it a caller in a tight loop, whose
			// turns run inline or hand off to a drainer and back within its
			// time slice, keeps others waiting for whole slices.
			a.admits = 0
			a.mu.Unlock()
			return admitYield
		}
	}
	// A new activation is always activated by a drainer, never on a
	// caller's goroutine: OnActivate serves every call waiting for it, and
	// none of them should wait on another caller's goroutine to do it.
	if inline && free {
		if a.status == statusValid && a.turnFreeLocked(e.shared) {
			a.takeTurnLocked(e.shared)
			a.mu.Unlock()
			return admitInline
		}
	}
	if e.shared && a.status == statusValid && !a.writer && a.readers > 0 && a.qhead == nil && a.rhead == nil {
		// Readers are running and no writer waits: join them at once.
		a.readers++
		if e.done == nil {
			e.done = make(chan struct{}, 1)
		}
		a.mu.Unlock()
		go func() {
			a.runQueued(e)
			a.release(true)
		}()
		return admitQueued
	}
	if a.pending.Add(1) > int32(a.typ.mailbox) {
		a.pending.Add(-1)
		a.mu.Unlock()
		return admitOverload
	}
	if !e.oneWay && e.done == nil {
		// The reply channel is made per queued call rather than kept in the
		// pooled message, so a message reused across testing/synctest
		// bubbles never blocks on another bubble's channel.
		e.done = make(chan struct{}, 1)
	}
	a.pushLocked(e)
	start := a.canDrainLocked()
	if start {
		a.drainer.Store(true)
	}
	a.mu.Unlock()
	if start {
		go a.drain()
	}
	return admitQueued
}

// canDrainLocked reports whether a new drainer could make progress now.
func (a *Activation) canDrainLocked() bool {
	if a.drainer.Load() || a.rhead != nil || a.status >= statusDeactivating {
		return false
	}
	a.absorbLocked()
	return a.qhead != nil && a.turnFreeLocked(a.qhead.shared)
}

// drain runs queued messages until the mailbox is empty or the head cannot
// start, then exits. It is the only goroutine an activation ever owns, and
// only while messages wait.
func (a *Activation) drain() {
	s := a.typ.silo
	a.mu.Lock()
	for {
		a.handBackLocked()
		a.absorbLocked()
		if a.status == statusActivating && a.qhead != nil && a.turnFreeLocked(false) {
			a.writer = true
			head := a.qhead
			a.mu.Unlock()
			if a.activate(head) != nil {
				return
			}
			a.mu.Lock()
			a.writer = false
			continue
		}
		e := a.qhead
		if e == nil || a.rhead != nil || a.status != statusValid || !a.turnFreeLocked(e.shared) {
			a.drainer.Store(false)
			// A post that saw drainer still set left its message to us.
			if e == nil && a.status == statusValid && a.inbox.Load() != nil {
				a.drainer.Store(true)
				continue
			}
			a.mu.Unlock()
			return
		}
		a.popLocked()
		if t, ok := e.msg.(*tickMessage); !ok || t.timer.keepAlive {
			// Timer ticks do not keep an idle actor alive unless asked to.
			a.lastUsed = s.coarse.Load()
		}
		shared := e.shared
		a.takeTurnLocked(shared)
		concurrent := shared && a.qhead != nil && a.qhead.shared
		a.mu.Unlock()

		if concurrent {
			// Several shared turns in a row: run this one beside the drainer
			// so readers overlap.
			go func() {
				a.runQueued(e)
				a.release(true)
			}()
			a.mu.Lock()
			continue
		}
		e.drainer = true
		if !a.runQueued(e) {
			// A reentrant suspension passed the drainer role on.
			a.release(shared)
			return
		}
		a.mu.Lock()
		a.dropTurnLocked(shared)
		if a.finalizableLocked() {
			reason := a.deact
			a.writer = true
			a.status = statusDeactivating
			a.drainer.Store(false)
			a.mu.Unlock()
			a.deactivate(reason)
			return
		}
	}
}

// finalizableLocked reports whether a requested deactivation can start now:
// no turn held, suspended or waiting to resume. Queued messages do not block
// it: they are forwarded to the next activation. A panic has already moved
// the activation to deactivating, so nothing new starts while the turns in
// flight finish.
func (a *Activation) finalizableLocked() bool {
	if a.writer || a.readers != 0 || a.suspended != 0 || a.rhead != nil {
		return false
	}
	switch a.deact {
	case ReasonNone:
		return false
	case reasonPanic:
		return a.status == statusDeactivating
	case ReasonShutdown:
		// Messages admitted before the silo stopped run here first.
		a.absorbLocked()
		if a.qhead != nil {
			return false
		}
	}
	return a.status == statusValid
}

// release ends a turn run outside the drainer loop (inline, or a concurrent
// shared turn) and makes sure queued work has a drainer.
func (a *Activation) release(shared bool) {
	a.mu.Lock()
	a.dropTurnLocked(shared)
	if a.finalizableLocked() {
		reason := a.deact
		a.writer = true
		a.status = statusDeactivating
		a.mu.Unlock()
		a.deactivate(reason)
		return
	}
	a.handBackLocked()
	start := a.canDrainLocked()
	if start {
		a.drainer.Store(true)
	}
	a.mu.Unlock()
	if start {
		go a.drain()
	}
}

// handBackLocked gives free turns to suspended reentrant turns waiting to
// resume, in order.
func (a *Activation) handBackLocked() {
	for e := a.rhead; e != nil && a.turnFreeLocked(e.shared); e = a.rhead {
		a.rhead = e.next
		if a.rhead == nil {
			a.rtail = nil
		}
		e.next = nil
		a.takeTurnLocked(e.shared)
		a.suspended--
		e.wake <- struct{}{}
	}
}

// suspend releases the turn held by the running message e while its method
// waits on an outgoing call (reentrant types only). A method may have several
// calls out at once (errgroup with its ctx): the first releases the turn, the
// others only count themselves.
func (a *Activation) suspend(e *Envelope) {
	a.mu.Lock()
	if e.out++; e.out > 1 {
		a.mu.Unlock()
		return
	}
	a.dropTurnLocked(e.shared)
	a.suspended++
	if e.drainer {
		e.drainer = false
		a.drainer.Store(false)
	}
	a.handBackLocked()
	start := a.canDrainLocked()
	if start {
		a.drainer.Store(true)
	}
	a.mu.Unlock()
	if start {
		go a.drain()
	}
}

// resume takes a turn back for e after its last outgoing call returned,
// waiting for the turn when another message holds it. Resuming turns go
// before queued messages. While other calls of e are still out, it returns
// at once without the turn.
func (a *Activation) resume(e *Envelope) {
	a.mu.Lock()
	if e.out--; e.out > 0 {
		a.mu.Unlock()
		return
	}
	if a.rhead == nil && a.turnFreeLocked(e.shared) {
		a.takeTurnLocked(e.shared)
		a.suspended--
		a.mu.Unlock()
		return
	}
	e.wake = make(chan struct{}, 1)
	e.next = nil
	if a.rtail == nil {
		a.rhead = e
	} else {
		a.rtail.next = e
	}
	a.rtail = e
	a.mu.Unlock()
	<-e.wake
}

// activate runs the factory and OnActivate in the first turn, on the drainer,
// triggered by the queued message e, with the writer turn held. On failure it
// fails every queued message (e included), removes the activation and
// returns the error.
func (a *Activation) activate(e *Envelope) error {
	s := a.typ.silo
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = Errorf(CodePanic, "activate %s: panic: %v", a.id, r)
				s.log.Error("actor activation panicked", slog.String("actor", a.id.String()),
					slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			}
		}()
		a.impl = a.typ.factory(a)
		if len(a.states) > 0 {
			ctx := a.hookContext(nil)
			defer ctx.finish()
			for _, st := range a.states {
				if err := st.load(ctx); err != nil {
					return err
				}
			}
		}
		if h, ok := a.impl.(Activator); ok {
			// OnActivate serves every call waiting for the activation, so
			// it runs under the silo's default timeout, not the deadline or
			// cancellation of the call that happened to trigger it; the
			// chain link keeps cycle detection.
			var prev *callCtx
			if e.ctx != nil {
				prev = chainOf(e.ctx.parent)
			}
			ctx := a.hookContext(prev)
			err := h.OnActivate(ctx)
			ctx.finish()
			if err != nil {
				return wrapActivateErr(a.id, err)
			}
		}
		return nil
	}()
	if err == nil {
		a.mu.Lock()
		a.status = statusValid
		a.mu.Unlock()
		return nil
	}
	s.log.Warn("actor activation failed", slog.String("actor", a.id.String()), slog.Any("err", err))
	a.typ.remove(a)
	a.mu.Lock()
	a.writer = false
	a.drainer.Store(false)
	a.impl = nil
	q := a.closeLocked()
	a.mu.Unlock()
	for q != nil {
		next := q.next
		q.next = nil
		s.complete(q, err)
		q = next
	}
	s.activationGone()
	return err
}

// hookContext returns the context for OnActivate or OnDeactivate: the
// default call timeout, a pinned chain link for a (prev may be nil).
func (a *Activation) hookContext(prev *callCtx) *callCtx {
	c := newCallCtx(a.typ.silo, context.Background(), nil, prev)
	c.act = a
	c.pinned.Store(true)
	c.deadlineMono()
	return c
}

func wrapActivateErr(id ID, err error) error {
	return quarkerr.Errorf(CodeOf(err), "activate %s: %w", id, err)
}
