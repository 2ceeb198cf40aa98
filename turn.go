package quark

import (
	"fmt"
	"sync/atomic"
)

// turns is an activation's turn and mailbox protocol as a state machine: it
// does no I/O, starts no goroutine and never blocks. Each method takes one
// event (a call offered, a turn finished, a turn suspended for an outgoing
// call, a deactivation asked for, ...), updates the state and returns the
// actions the activation must perform once it has released its lock (wake a
// resumer, start a drainer, run a message on a goroutine of its own, run the
// last turn); the busiest steps fill in an actions value on the caller's
// stack rather than return it. The Activation does lock, step, unlock, act.
//
// Every method except post runs with the activation's mu held. post and the
// fields it touches (inbox, pending, drainer) are the lock-free one-way path:
// a sender pushes onto the inbox with a compare-and-swap and takes the lock
// only to start a drainer.
//
// # Invariants
//
// After every step (see invariants; checked after each step when built with
// the quarkinvariants tag, and by the tests):
//
//   - readers ≥ 0, suspended ≥ 0, pending ≥ the length of the queue;
//   - a writer excludes readers: writer implies readers = 0;
//   - a resumer waits only while its turn is not free, and every resumer is
//     counted in suspended;
//   - a runnable head — a valid activation whose first queued message could
//     take its turn now, with no resumer waiting — has a drainer;
//   - a deactivating activation (other than one discarded after a panic)
//     holds the writer turn: deactivation is its last turn;
//   - a dead activation has an empty queue, no resumer, no turn held, and a
//     closed inbox.
//
// # Turn records
//
// A submitted message's envelope records how it takes and keeps its turn
// (turnRecord): whether it rejoins its chain's readonly turn or calls back
// into its chain's suspended one, whether it holds the drainer role, how many
// outgoing calls of its reentrant method are out, whether it waits on the
// resume list. They are guarded by mu like the rest.
type turns struct {
	// inbox takes one-way messages without the lock: a stack, newest
	// first, moved to the queue by whoever next holds the lock; closedInbox
	// once the activation is dead. pending counts the inbox and the queue
	// together, for the mailbox bound. drainer is true while a goroutine
	// drains the mailbox; it is written under mu and read without it by
	// senders, which take mu to start a drainer only when it is false.
	inbox   atomic.Pointer[Envelope]
	pending atomic.Int32
	drainer atomic.Bool

	status    uint8
	writer    bool               // an exclusive turn is held
	deact     DeactivationReason // requested deactivation, applied when idle
	linger    uint8              // a drainer out of messages waits to be handed the role back (see lingerNone)
	readers   int32              // shared turns held
	suspended int32              // reentrant turns released while their calls are out or they wait to resume
	admits    uint16             // calls admitted since the activation last looked at the clock
	slice     uint16             // sliceStamp of the look that began the current slice; 0: none since the last yield
	qhead     *Envelope          // the mailbox, oldest first
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

// Lingering: a drainer that runs out of messages gives up the drainer role
// but keeps its goroutine for a few scheduler yields (see
// Activation.lingerFor), so that a caller whose next call arrives meanwhile
// hands the role back to it rather than start a goroutine per call. A
// lingering drainer holds no role: the activation is free for calls run
// inline, and idle for deactivation. There is at most one: the role is
// handed to it before any new drainer would be started.
const (
	lingerNone    uint8 = iota
	lingerWaiting       // a drainer lingers without the role
	lingerHanded        // the role was handed back to it: it steps next
)

// actions is what a step asks of the activation once its lock is released.
// The zero value asks for nothing.
type actions struct {
	// wake lists (through next) the resumers to signal on their wake
	// channel: each was handed its turn back, or its turn has ended.
	wake *Envelope
	// spawn is a readonly message whose shared turn is taken: run it on a
	// goroutine of its own.
	spawn *Envelope
	// drain: start a drainer goroutine (the drainer role is taken).
	drain bool
	// finalize: run the last turn now (OnDeactivate unless after a panic,
	// then close), with reason. The writer turn is taken.
	finalize bool
	reason   DeactivationReason

	// The drainer's own next step, for steps taken by the drainer: run is
	// the message it runs now (its turn taken), activate the message whose
	// arrival triggers activation (the writer turn taken), again that it
	// steps next once more (after spawning a reader, or finishing a turn).
	// linger: it has given up the role and lingers (see lingerNone), then
	// steps endLinger. None of them: it exits.
	run      *Envelope
	activate *Envelope
	again    bool
	linger   bool
}

// any reports whether act asks anything of the activation besides the
// drainer's own step: the fast path skips performing nothing.
func (act *actions) any() bool {
	return act.wake != nil || act.spawn != nil || act.drain || act.finalize
}

// admit is the outcome of submitting a message to an activation.
type admit uint8

const (
	admitQueued    admit = iota // in the mailbox; a drainer will run it
	admitInline                 // the caller holds the turn and runs it now
	admitRetry                  // the activation is dead: look the actor up again
	admitOverload               // the mailbox is full
	admitBusy                   // submitIfIdle: the activation is not idle
	admitYield                  // the slice is spent: yield the processor if others wait, then offer again
	admitDiscarded              // a call back into a turn of its chain on an activation discarded after a panic
	admitStopped                // route: the silo has stopped; nothing may activate any more
)

// closedInbox marks the inbox of a dead activation.
var closedInbox = new(Envelope)

func (m *turns) turnFree(shared bool) bool {
	if m.writer {
		return false
	}
	return shared || m.readers == 0
}

func (m *turns) take(shared bool) {
	if shared {
		m.readers++
	} else {
		m.writer = true
	}
}

func (m *turns) drop(shared bool) {
	if shared {
		m.readers--
	} else {
		m.writer = false
	}
}

// idle reports whether nothing runs, waits or is suspended, so the
// activation can be deactivated now.
func (m *turns) idle() bool {
	return m.status == statusValid && !m.writer && !m.drainer.Load() && m.readers == 0 &&
		m.suspended == 0 && m.qhead == nil && m.inbox.Load() == nil && m.rhead == nil
}

// post pushes a one-way message onto the inbox without the lock. It reports
// admitQueued, admitRetry (dead) or admitOverload; kick is true when no
// drainer was seen, and the caller must then take the lock and step kick.
func (m *turns) post(e *Envelope, mailbox int32) (r admit, kick bool) {
	// A full mailbox is refused on a plain read first: a flood of refused
	// senders then only reads the counter the drainer writes.
	if m.pending.Load() >= mailbox {
		return admitOverload, false
	}
	if m.pending.Add(1) > mailbox {
		m.pending.Add(-1)
		return admitOverload, false
	}
	for {
		h := m.inbox.Load()
		if h == closedInbox {
			m.pending.Add(-1)
			return admitRetry, false
		}
		e.next = h
		if m.inbox.CompareAndSwap(h, e) {
			break
		}
	}
	// A drainer that sees the inbox empty clears drainer before looking
	// again, so either it finds e or this sees drainer false.
	return admitQueued, !m.drainer.Load()
}

// kick starts a drainer for posted messages if none runs and one could
// make progress.
func (m *turns) kick() (act actions) {
	m.takeDrainer(&act)
	m.assert()
	return act
}

// offer submits a call (or, with idleOnly, a one-way message for a stateless
// worker): run it on the caller's goroutine when inline is allowed and
// nothing else runs or waits, else queue it. now is the silo's coarse clock,
// mailbox the bound; clock reads the fine one (see mono), and slice is the
// time an activation admits calls back to back before a caller yields.
func (m *turns) offer(e *Envelope, inline, idleOnly bool, now int64, clock func() int64, slice int64, mailbox int32, act *actions) admit {
	if m.status == statusDead {
		return admitRetry
	}
	if e.turn.inChain && m.deact == reasonPanic && m.status == statusDeactivating {
		// Nothing starts here any more, and the chain's suspended turn
		// waits for this call: it would wait for its deadline.
		return admitDiscarded
	}
	// Messages posted earlier go first: a caller that posts and then calls
	// finds its one-way message ahead of its call. Their senders may not
	// have started a drainer yet: start it here (they then find it).
	if m.absorb() {
		m.takeDrainer(act)
	}
	free := m.status <= statusValid && m.qhead == nil && !m.drainer.Load() && m.rhead == nil
	if idleOnly && !(free && m.turnFree(false)) {
		return admitBusy
	}
	m.lastUsed = now
	if e.turn.rejoin && !m.writer && m.readers > 0 {
		// The readonly turn this call's own chain holds: share it now,
		// even past a waiting writer, which waits for that chain.
		m.readers++
		m.assert()
		if inline {
			return admitInline
		}
		act.spawn = e
		return admitQueued
	}
	if !e.oneWay && m.sliceOver(clock, slice) {
		return admitYield
	}
	// A new activation is always activated by a drainer, never on a
	// caller's goroutine: OnActivate serves every call waiting for it, and
	// none of them should wait on another caller's goroutine to do it.
	if inline && free && m.status == statusValid && m.turnFree(e.shared) {
		m.take(e.shared)
		m.assert()
		return admitInline
	}
	if e.shared && m.status == statusValid && !m.writer && m.readers > 0 && m.qhead == nil && m.rhead == nil {
		// Readers are running and no writer waits: join them at once.
		m.readers++
		act.spawn = e
		m.assert()
		return admitQueued
	}
	if m.pending.Add(1) > mailbox {
		m.pending.Add(-1)
		return admitOverload
	}
	e.next = nil
	m.appendReversed(e) // a list of one
	m.takeDrainer(act)
	m.assert()
	return admitQueued
}

// sliceCheck is how many calls an activation admits between looks at the
// clock: a clock read costs about as much as a third of a fast-path call on
// a virtual machine's clock source (55-110 ns against 180 ns measured), so it
// is taken once per sliceCheck calls, about every 12 µs in a tight loop.
const sliceCheck = 64

// sliceStamp turns a reading of the fine clock (nanoseconds) into a slice
// stamp: units of 1,024 ns, wrapping every 67 ms, odd so that it is never 0.
// Differences are exact up to the wrap; a run of calls resumed after a
// longer pause may see its old stamp as recent, and yield up to a slice later.
func sliceStamp(ns int64) uint16 { return uint16(ns>>10) | 1 }

// sliceOver counts a call admitted and reports whether its caller should
// yield its processor first (if other goroutines wait: see othersRunnable).
// A caller in a tight loop, whose turns run inline or hand off to a drainer
// and back within its time slice, never blocks, so the Go scheduler would
// let it keep its processor for 10 ms while other goroutines wait. But each
// yield makes its call wait a whole round of the scheduler (with 64 busy
// callers on 2 cores, ~0.5-3 ms): a yield every 64 calls made 1.6 % of the
// calls of a tight loop wait that long, the p99. So a slice begins at the
// first look at the clock after a yield, 64 calls in, and ends with the
// first look that finds it lasted slice: a yield comes after at least 128
// calls (under 1 % of the calls wait a round, whatever they cost) and, for
// calls faster than slice/64, after slice and at most 64 calls more (a 50
// µs slice: ~0.3 % of the calls of a tight fast-path loop).
func (m *turns) sliceOver(clock func() int64, slice int64) bool {
	if m.admits++; m.admits < sliceCheck {
		return false
	}
	m.admits = 0
	t := sliceStamp(clock())
	if m.slice == 0 {
		m.slice = t
		return false
	}
	if int64(t-m.slice)<<10 < slice {
		return false
	}
	m.slice = 0
	return true
}

// takeDrainer takes the drainer role when a new drainer could make progress
// now: it hands the role to the lingering drainer if there is one, else asks
// act to start a drainer goroutine.
func (m *turns) takeDrainer(act *actions) {
	if m.drainer.Load() || m.rhead != nil || m.status >= statusDeactivating {
		return
	}
	m.absorb()
	if m.qhead != nil && m.turnFree(m.qhead.shared) {
		m.drainer.Store(true)
		if m.linger == lingerWaiting {
			m.linger = lingerHanded
			return
		}
		act.drain = true
	}
}

// endLinger is the lingering drainer's last step: when the role was handed
// back to it, it steps next; otherwise it exits.
func (m *turns) endLinger(now int64, act *actions) {
	handed := m.linger == lingerHanded
	m.linger = lingerNone
	if handed {
		m.next(now, act)
		return
	}
	m.assert()
}

// next is the drainer's step: hand turns back to resumers, then take the
// next message whose turn is free, or give up the drainer role when there is
// none. The drainer role is held on entry; now is the silo's coarse clock.
func (m *turns) next(now int64, act *actions) {
	for {
		m.handBack(act)
		m.absorb()
		if m.status == statusActivating && m.qhead != nil && m.turnFree(false) {
			m.writer = true
			act.activate = m.qhead
			m.assert()
			return
		}
		e := m.qhead
		if e == nil || m.rhead != nil || m.status != statusValid || !m.turnFree(e.shared) {
			m.drainer.Store(false)
			// A post that saw drainer still set left its message to us.
			if e == nil && m.status == statusValid && m.inbox.Load() != nil {
				m.drainer.Store(true)
				continue
			}
			// A deactivation asked for while the drainer held its role
			// found the activation busy: run it now.
			if m.finalizable() {
				m.writer = true
				m.status = statusDeactivating
				act.finalize, act.reason = true, m.deact
			} else if m.status == statusValid && m.linger == lingerNone {
				m.linger = lingerWaiting
				act.linger = true
			}
			m.assert()
			return
		}
		m.pop()
		m.used(e, now)
		m.take(e.shared)
		if e.shared && m.qhead != nil && m.qhead.shared {
			// Several shared turns in a row: run this one beside the
			// drainer so readers overlap.
			act.spawn = e
			act.again = true
			m.assert()
			return
		}
		e.turn.drainer = true
		act.run = e
		if e.oneWay && !e.shared {
			m.gather(e, now)
		}
		m.assert()
		return
	}
}

// used records that e is taken from the mailbox at now (the silo's coarse
// clock), for idle collection: timer ticks do not keep an idle actor alive
// unless asked to.
func (m *turns) used(e *Envelope, now int64) {
	if t, ok := e.msg.(*tickMessage); !ok || t.timer.keepAlive {
		m.lastUsed = now
	}
}

// maxBatch bounds the one-way messages a drainer takes from the mailbox at
// once (see gather).
const maxBatch = 64

// gather takes out of the queue, with the one-way message e the drainer is
// about to run, the exclusive one-way messages right behind it, up to
// maxBatch in all (and no more than the mailbox bound), and links them
// behind e through next: the drainer runs them one after another in the
// turn e took, without stepping the machine between them, unless
// interrupted (see Activation.runBatch), handing the drainer mark of the
// turn record on from each to the next; finish puts back those that did
// not run. Their turn records are not written here: only the drainer
// touches a gathered message until finish. They leave the mailbox's count
// now, so a full mailbox holds its bound plus the batch in hand.
//
// Nothing is gathered for a reentrant type (a one-way method's outgoing
// call passes the drainer role on, and the next drainer must find the
// rest in the queue) or once a deactivation was asked for (it starts after
// the current message).
func (m *turns) gather(e *Envelope, now int64) {
	t := e.typ
	if t == nil || t.desc.Reentrant || m.deact != ReasonNone {
		return
	}
	last, n := e, int32(0)
	for limit := min(maxBatch, t.mailbox) - 1; n < int32(limit); n++ {
		x := m.qhead
		if x == nil || !x.oneWay || x.shared {
			break
		}
		m.qhead = x.next
		m.used(x, now)
		last.next = x
		last = x
	}
	if n == 0 {
		return
	}
	last.next = nil
	if m.qhead == nil {
		m.qtail = nil
	}
	m.pending.Add(-n)
}

// requeue puts the messages of a batch that did not run (linked through
// next, in order) back at the head of the queue.
func (m *turns) requeue(h *Envelope) {
	n := int32(0)
	last := h
	for x := h; x != nil; x = x.next {
		last = x
		n++
	}
	m.pending.Add(n)
	last.next = m.qhead
	if m.qtail == nil {
		m.qtail = last
	}
	m.qhead = h
}

// finish ends the turn of e, run inline, on a goroutine of its own, or by the
// drainer. When e held the drainer role the drainer goes on: for a one-way
// message the actions carry its next step (now is the silo's coarse clock);
// for a call it steps next again (act.again) once it has completed e.
func (m *turns) finish(e *Envelope, now int64, act *actions) {
	if e.turn.drainer && e.next != nil {
		// The rest of its batch, interrupted: back to the head of the
		// queue, where the next step finds it.
		m.requeue(e.next)
		e.next = nil
	}
	switch {
	case e.turn.out > 0:
		// The method returned with outgoing calls still out (goroutines it
		// left behind): the turn was released when they went out.
		e.turn.out = 0
		m.suspended--
	case e.turn.resuming:
		// Likewise, and one of them waits to resume: let it go turnless.
		m.unlinkResumer(e)
		m.suspended--
		e.next = act.wake
		act.wake = e
	default:
		m.drop(e.shared)
	}
	keep := e.turn.drainer
	e.turn.drainer = false
	if m.finalizable() {
		m.writer = true
		m.status = statusDeactivating
		if keep {
			m.drainer.Store(false)
		}
		act.finalize, act.reason = true, m.deact
		m.assert()
		return
	}
	if keep {
		if e.oneWay {
			// No caller waits for its completion: step on now, under
			// the same lock.
			m.next(now, act)
			return
		}
		// The drainer steps next once it has completed e: a caller woken
		// by the completion often queues its next call in the meantime,
		// and the drainer, still holding its role, runs it without a new
		// goroutine being started.
		m.handBack(act)
		act.again = true
		m.assert()
		return
	}
	m.handBack(act)
	m.takeDrainer(act)
	m.assert()
}

// suspend releases the turn of the running reentrant message e while its
// method waits on an outgoing call. A method may have several calls out at
// once (errgroup with its ctx): the first releases the turn, the others only
// count themselves. Whichever returns last takes the turn back (resume).
func (m *turns) suspend(e *Envelope) (act actions) {
	if e.turn.resuming {
		// Another call of the method returned and waits to resume: with
		// this one going out it is no longer the last, so it goes on
		// without the turn, which the last call to return takes back.
		m.unlinkResumer(e)
		e.turn.out++
		e.next = act.wake
		act.wake = e
		// It may have held up the resumers and the mailbox behind it.
		m.handBack(&act)
		m.takeDrainer(&act)
		m.assert()
		return act
	}
	if e.turn.out++; e.turn.out > 1 {
		return act
	}
	m.drop(e.shared)
	m.suspended++
	if e.turn.drainer {
		// The drainer role passes on: queued messages must not wait for
		// this method's calls.
		e.turn.drainer = false
		m.drainer.Store(false)
	}
	m.handBack(&act)
	m.takeDrainer(&act)
	m.assert()
	return act
}

// resume is the return of one outgoing call of e. While other calls of e are
// still out it returns nil at once: the goroutine goes on without the turn.
// After the last it takes the turn back, or, when the turn is not free or
// other resumers wait, puts e on the resume list (ahead of queued messages)
// and returns the channel to wait on.
func (m *turns) resume(e *Envelope) (wait chan struct{}) {
	if e.turn.out--; e.turn.out > 0 {
		return nil
	}
	if m.rhead == nil && m.turnFree(e.shared) {
		m.take(e.shared)
		m.suspended--
		m.assert()
		return nil
	}
	if e.wake == nil {
		e.wake = make(chan struct{}, 1)
	}
	e.turn.resuming = true
	e.next = nil
	if m.rtail == nil {
		m.rhead = e
	} else {
		m.rtail.next = e
	}
	m.rtail = e
	m.assert()
	return e.wake
}

// handBack gives free turns to resumers, in order.
func (m *turns) handBack(act *actions) {
	for e := m.rhead; e != nil && m.turnFree(e.shared); e = m.rhead {
		m.rhead = e.next
		if m.rhead == nil {
			m.rtail = nil
		}
		e.turn.resuming = false
		m.take(e.shared)
		m.suspended--
		e.next = act.wake
		act.wake = e
	}
}

// unlinkResumer takes e off the resume list.
func (m *turns) unlinkResumer(e *Envelope) {
	var prev *Envelope
	for r := m.rhead; r != nil; prev, r = r, r.next {
		if r != e {
			continue
		}
		if prev == nil {
			m.rhead = r.next
		} else {
			prev.next = r.next
		}
		if m.rtail == r {
			m.rtail = prev
		}
		break
	}
	e.turn.resuming = false
	e.next = nil
}

// finalizable reports whether a requested deactivation can start now: no
// turn held, suspended or waiting to resume. Queued messages do not block it:
// they are forwarded to the next activation. A panic has already moved the
// activation to deactivating, so nothing new starts while the turns in
// flight finish.
func (m *turns) finalizable() bool {
	if m.writer || m.readers != 0 || m.suspended != 0 || m.rhead != nil {
		return false
	}
	switch m.deact {
	case ReasonNone:
		return false
	case reasonPanic:
		return m.status == statusDeactivating
	case ReasonShutdown:
		// Messages admitted before the silo stopped run here first.
		m.absorb()
		if m.qhead != nil {
			return false
		}
	}
	return m.status == statusValid
}

// activated ends the first turn after a successful activation; the drainer
// goes on.
func (m *turns) activated(now int64, act *actions) {
	m.status = statusValid
	m.writer = false
	m.next(now, act)
}

// activationFailed ends the first turn after a failed activation: the
// activation is dead and the messages that waited for it are returned, to
// be failed.
func (m *turns) activationFailed() *Envelope {
	m.writer = false
	m.drainer.Store(false)
	return m.close()
}

// deactivate records a request to deactivate for reason (a later shutdown
// overrides a request; nothing overrides a panic) and reports whether the
// activation is idle, so the last turn must run now (the writer turn is then
// taken), with the reason recorded.
func (m *turns) deactivate(reason DeactivationReason) (now bool, recorded DeactivationReason) {
	if m.deact == ReasonNone || m.deact == ReasonRequested && reason == ReasonShutdown {
		m.deact = reason
	}
	if m.idle() {
		m.writer = true
		m.status = statusDeactivating
		now = true
	}
	m.assert()
	return now, m.deact
}

// collect reports whether the activation has been idle since before cutoff;
// if so its last turn must run now (the writer turn is taken).
func (m *turns) collect(cutoff int64) bool {
	if !m.idle() || m.lastUsed >= cutoff {
		return false
	}
	m.writer = true
	m.status = statusDeactivating
	m.assert()
	return true
}

// panicked records that a method panicked: nothing more starts, and the
// activation is discarded once the turns in flight (including suspended
// reentrant ones) are done. It takes out of the queue, and returns to be
// failed, the calls back into the activation from its own suspended turns'
// chains: those turns wait for them, and they would never start.
func (m *turns) panicked() (discarded *Envelope) {
	m.deact = reasonPanic
	if m.status == statusValid {
		m.status = statusDeactivating
	}
	var prev, tail *Envelope
	for e := m.qhead; e != nil; {
		next := e.next
		if !e.turn.inChain {
			prev = e
			e = next
			continue
		}
		if prev == nil {
			m.qhead = next
		} else {
			prev.next = next
		}
		if m.qtail == e {
			m.qtail = prev
		}
		m.pending.Add(-1)
		e.next = nil
		if tail == nil {
			discarded = e
		} else {
			tail.next = e
		}
		tail = e
		e = next
	}
	m.assert()
	return discarded
}

// closeLast ends the last turn: the activation is dead and returns every
// message waiting in its mailbox; later posts fail and look the actor up
// again.
func (m *turns) closeLast() *Envelope {
	m.writer = false
	return m.close()
}

func (m *turns) close() *Envelope {
	m.status = statusDead
	if h := m.inbox.Swap(closedInbox); h != closedInbox {
		m.appendReversed(h)
	}
	h := m.qhead
	n := int32(0)
	for e := h; e != nil; e = e.next {
		n++
	}
	m.qhead, m.qtail = nil, nil
	m.pending.Add(-n)
	m.assert()
	return h
}

func (m *turns) pop() *Envelope {
	e := m.qhead
	m.qhead = e.next
	if m.qhead == nil {
		m.qtail = nil
	}
	e.next = nil
	m.pending.Add(-1)
	return e
}

// absorb moves the inbox's messages, oldest first, to the end of the queue.
// Only holders of mu take from the inbox or close it.
func (m *turns) absorb() (moved bool) {
	if h := m.inbox.Load(); h == nil || h == closedInbox {
		return false
	}
	m.appendReversed(m.inbox.Swap(nil))
	return true
}

// appendReversed appends an inbox list (newest first) to the queue in
// arrival order.
func (m *turns) appendReversed(h *Envelope) {
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
	if m.qtail == nil {
		m.qhead = first
	} else {
		m.qtail.next = first
	}
	m.qtail = last
}

// assert checks the invariants after a step in builds with the
// quarkinvariants tag, and is free otherwise.
func (m *turns) assert() {
	if checkInvariants {
		if err := m.invariants(); err != nil {
			panic(err)
		}
	}
}

// invariantWalk bounds how many queued messages invariants counts.
const invariantWalk = 256

// invariants returns the first invariant the state breaks, or nil.
func (m *turns) invariants() error {
	if m.readers < 0 {
		return fmt.Errorf("turns: readers = %d < 0", m.readers)
	}
	if m.suspended < 0 {
		return fmt.Errorf("turns: suspended = %d < 0", m.suspended)
	}
	if m.writer && m.readers != 0 {
		return fmt.Errorf("turns: a writer with %d readers", m.readers)
	}
	if (m.qhead == nil) != (m.qtail == nil) || m.qtail != nil && m.qtail.next != nil {
		return fmt.Errorf("turns: broken queue")
	}
	// The queue is counted only up to invariantWalk: walking all of a long
	// mailbox after every step would make draining it quadratic, and a
	// checked build fall behind its senders for good.
	n := int32(0)
	for e := m.qhead; e != nil && n < invariantWalk; e = e.next {
		n++
	}
	if p := m.pending.Load(); p < n {
		return fmt.Errorf("turns: pending = %d < %d queued", p, n)
	}
	if (m.rhead == nil) != (m.rtail == nil) || m.rtail != nil && m.rtail.next != nil {
		return fmt.Errorf("turns: broken resume list")
	}
	r := int32(0)
	for e := m.rhead; e != nil; e = e.next {
		if !e.turn.resuming {
			return fmt.Errorf("turns: a resumer not marked resuming")
		}
		r++
	}
	if r > m.suspended {
		return fmt.Errorf("turns: %d resumers, %d suspended", r, m.suspended)
	}
	if m.rhead != nil && m.turnFree(m.rhead.shared) {
		return fmt.Errorf("turns: a resumer waits for a free turn")
	}
	if m.status == statusValid && m.rhead == nil && m.qhead != nil && m.turnFree(m.qhead.shared) && !m.drainer.Load() {
		return fmt.Errorf("turns: a runnable head without a drainer")
	}
	// A lingering drainer holds no role, so it keeps no call from running
	// inline and no idle activation from deactivating; one handed the role
	// back holds it.
	switch {
	case m.linger == lingerWaiting && m.drainer.Load():
		return fmt.Errorf("turns: a lingering drainer holds the drainer role")
	case m.linger == lingerHanded && !m.drainer.Load():
		return fmt.Errorf("turns: the drainer role handed back but not held")
	}
	if m.status == statusDeactivating && m.deact != reasonPanic && !m.writer {
		return fmt.Errorf("turns: deactivating (%v) without the last turn", m.deact)
	}
	if m.status == statusDead {
		if m.qhead != nil || m.rhead != nil || m.writer || m.readers != 0 || m.inbox.Load() != closedInbox {
			return fmt.Errorf("turns: dead with work left (queue %v, resumers %v, writer %v, readers %d)",
				m.qhead != nil, m.rhead != nil, m.writer, m.readers)
		}
	}
	return nil
}
