package quark

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"

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

	// mu guards the turn state machine (see turns) but its lock-free
	// one-way path. Every change of turn or mailbox state is a step of the
	// machine taken under mu; what the step returns is done after unlocking.
	mu sync.Mutex
	turns
}

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
	now, _ := a.turns.deactivate(ReasonRequested)
	a.mu.Unlock()
	a.typ.interrupts.Add(1) // a batch running stops after its current message
	if now {
		a.deactivate(ReasonRequested)
	}
}

// post queues a one-way message without taking the lock unless a drainer has
// to be started.
func (a *Activation) post(e *Envelope) admit {
	r, kick := a.turns.post(e, int32(a.typ.mailbox))
	if kick {
		a.mu.Lock()
		act := a.kick()
		a.mu.Unlock()
		a.perform(act)
	}
	return r
}

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
	var act actions
	r := a.turns.offer(e, inline, idleOnly, s.coarse.Load(), mono, int64(s.cfg.inlineSlice), int32(a.typ.mailbox), &act)
	if r == admitQueued && !e.oneWay && e.reply == nil && e.rcall == nil {
		// A local call that completes on another goroutine: its caller
		// waits for the reply, which must be in place before anything can
		// run it (the lock is still held, act not yet performed). A
		// message forwarded to a new activation keeps its own.
		e.reply = s.getReply()
	}
	a.mu.Unlock()
	if act.any() {
		a.perform(act)
	}
	return r
}

// perform does what a step of the turn state machine asked, outside the
// lock, in this order: wake resumers, run a reader beside, start a drainer,
// run the last turn. The drainer's own next step (run, activate, again) is
// left to the drainer.
func (a *Activation) perform(act actions) {
	for e := act.wake; e != nil; {
		// Read what is needed before the signal: the woken goroutine may
		// finish its turn and its message be reused at once.
		next, wake := e.next, e.wake
		e.next = nil
		wake <- struct{}{}
		e = next
	}
	if e := act.spawn; e != nil {
		go a.runBeside(e)
	}
	if act.drain {
		go a.drain()
	}
	if act.finalize {
		a.deactivate(act.reason)
	}
}

// runBeside runs a message whose turn is already taken on its own goroutine
// (a reader joining others), then ends its turn.
func (a *Activation) runBeside(e *Envelope) {
	var ctxs ctxSource
	err, ok := a.runQueued(e, &ctxs)
	ctxs.release()
	var act actions
	a.mu.Lock()
	a.finish(e, a.typ.silo.coarse.Load(), &act)
	a.mu.Unlock()
	if ok {
		a.typ.silo.complete(e, err)
	}
	a.perform(act)
}

// drain runs queued messages until the mailbox is empty or the head cannot
// start, lingers a few scheduler yields in case the role is handed back
// (see lingerNone), then exits. It is the only goroutine an activation ever
// owns, and only while messages wait or have just been run.
func (a *Activation) drain() {
	s := a.typ.silo
	var ctxs ctxSource
	defer ctxs.release()
	var act actions
	// Read before each step that may take messages: a batch stops when it
	// moves (see runBatch).
	epoch := a.typ.interrupts.Load()
	a.mu.Lock()
	a.next(s.coarse.Load(), &act)
	a.mu.Unlock()
	for {
		run, activate, again, linger := act.run, act.activate, act.again, act.linger
		if act.any() {
			a.perform(act)
		}
		switch {
		case activate != nil:
			if a.activate(activate) != nil {
				return
			}
			act = actions{}
			epoch = a.typ.interrupts.Load()
			a.mu.Lock()
			a.activated(s.coarse.Load(), &act)
			a.mu.Unlock()
		case run != nil:
			run, err, ok := a.runBatch(run, epoch, &ctxs)
			act = actions{}
			epoch = a.typ.interrupts.Load()
			a.mu.Lock()
			a.finish(run, s.coarse.Load(), &act)
			a.mu.Unlock()
			if ok {
				s.complete(run, err)
			}
		case again:
			act = actions{}
			epoch = a.typ.interrupts.Load()
			a.mu.Lock()
			a.next(s.coarse.Load(), &act)
			a.mu.Unlock()
		case linger:
			// Lingering pays while a caller is about to call again; across
			// many actors (a burst of activations, calls spread over many
			// keys) lingerers would only queue up in the scheduler, each
			// yielding to the others. At most one per processor lingers;
			// the others exit at once.
			if s.lingering.Add(1) <= s.maxLingering {
				a.lingerFor()
			}
			s.lingering.Add(-1)
			act = actions{}
			epoch = a.typ.interrupts.Load()
			a.mu.Lock()
			a.endLinger(s.coarse.Load(), &act)
			a.mu.Unlock()
		default:
			return
		}
	}
}

// lingerYields bounds how long a drainer out of messages lingers: this many
// yields of its processor. A caller whose call the drainer has just
// completed usually runs in one of them (the completion readied it on this
// processor) and, when it calls again, hands the role back; past that the
// drainer exits, so an idle activation keeps no goroutine.
const lingerYields = 4

// lingerFor yields the processor until the drainer role is handed back or
// lingerYields have passed. Only a handover sets drainer while a drainer
// lingers (see turns.takeDrainer), so reading it without the lock is exact;
// endLinger confirms under the lock.
func (a *Activation) lingerFor() {
	for range lingerYields {
		runtime.Gosched()
		if a.drainer.Load() {
			return
		}
	}
}

// suspend releases the turn of the method whose context is c while it waits
// on an outgoing call (reentrant types only). It does nothing once the
// method has returned (a goroutine it left behind makes the call).
func (a *Activation) suspend(c *callCtx) {
	a.mu.Lock()
	if c.hasEnded() {
		a.mu.Unlock()
		return
	}
	act := a.turns.suspend(c.env)
	a.mu.Unlock()
	a.perform(act)
}

// resume is the return of an outgoing call suspend let go: after the
// method's last call out it takes the turn back, waiting when another message
// holds it. Resuming turns go before queued messages. A method that has
// returned meanwhile no longer has a turn: its message may already be reused,
// so ended is checked, under the lock, before the message is touched; it is
// set before the turn's end is stepped.
func (a *Activation) resume(c *callCtx) {
	a.mu.Lock()
	if c.hasEnded() {
		a.mu.Unlock()
		return
	}
	wait := a.turns.resume(c.env)
	a.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

// activate runs the factory and OnActivate in the first turn, on the drainer,
// triggered by the queued message e, with the writer turn held. On success
// the drainer steps activated; on failure activate fails every queued message
// (e included), removes the activation and returns the error.
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
			// chain link keeps cycle detection. That chain is the one of the
			// call that triggered the activation, from its caller's link
			// while that still waits (a link received from another process
			// always does).
			var prev *callCtx
			if e.ctx != nil && e.ctx.prev != nil && !e.ctx.prev.hasEnded() {
				prev = e.ctx.prev
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
		return nil
	}
	s.log.Warn("actor activation failed", slog.String("actor", a.id.String()), slog.Any("err", err))
	a.typ.remove(a)
	a.mu.Lock()
	a.releaseOwnedLocked()
	q := a.activationFailed()
	a.mu.Unlock()
	// Counted out before the callers learn of the failure, so that none of
	// them sees the failed activation still counted.
	s.activationGone()
	for q != nil {
		next := q.next
		q.next = nil
		s.complete(q, err)
		q = next
	}
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
