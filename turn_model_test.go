package quark

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// The turn state machine driven directly, without goroutines: the test plays
// every goroutine the runtime would start (callers, drainers, readers run
// beside, resumers) and performs the actions each step returns, in an order
// rapid chooses. A simple model (who holds which turn, the queue in arrival
// order) is checked against the machine after every step, together with the
// machine's own invariants; at the end every goroutine is run to completion
// and every message must have run or been handed back exactly once.
//
// rapid prints the seed of a failing run and how to replay it
// (-run=... -rapid.seed=N); the number of runs is fixed (fixChecks) unless
// -rapid.checks is given, their mean length set by -rapid.steps.

// modelMsg is one message and the model's view of it.
type modelMsg struct {
	id        int
	e         *Envelope
	reentrant bool // its method's outgoing calls release the turn
	st        msgState
	holding   bool // holds a turn now
	out       int  // outgoing calls the method has out
	waiting   bool // waits on the resume list
	ended     bool // the method has returned
}

type msgState uint8

const (
	msgNew      msgState = iota
	msgQueued            // admitted, waiting in the mailbox
	msgRunning           // its turn started
	msgDone              // ran and completed
	msgClosed            // handed back by close (forwarded or failed)
	msgRejected          // not admitted (retry, overload, busy, yield)
)

type turnModel struct {
	m      turns
	msgs   []*modelMsg
	by     map[*Envelope]*modelMsg
	fifo   []*modelMsg // the model's mailbox, arrival order
	now    int64
	starts int // drainer goroutines started, not yet stepped
	again  int // drainers to step again after running a reader beside
	// lingering counts drainers that gave up the role and linger, to step
	// endLinger (after their yields, or once handed the role back).
	lingering int
	// activating is the head whose arrival triggered activation, run by a
	// drainer holding the writer turn; finalizing: the last turn runs.
	activating *modelMsg
	finalizing bool
	log        []string
}

const (
	modelMailbox = 5
	// modelSlice: the model's fine clock (clock) advances 50 µs a step,
	// so a slice is spent after a few steps.
	modelSlice = 100_000
)

func newTurnModel() *turnModel {
	return &turnModel{by: map[*Envelope]*modelMsg{}}
}

// clock is the model's fine clock.
func (tm *turnModel) clock() int64 { return tm.now * 50_000 }

// nearSlice draws whether the activation's next admitted call is the one
// that looks at the clock, so that the model reaches the slice's end
// without making 64 calls first.
func (tm *turnModel) nearSlice(t *rapid.T) {
	if rapid.Bool().Draw(t, "nearSlice") {
		tm.m.admits = sliceCheck - 1
	}
}

func (tm *turnModel) newMsg(t *rapid.T, oneWay bool) *modelMsg {
	mm := &modelMsg{id: len(tm.msgs), e: &Envelope{oneWay: oneWay}}
	mm.e.shared = rapid.Bool().Draw(t, "shared")
	mm.reentrant = !oneWay && rapid.Bool().Draw(t, "reentrant")
	tm.msgs = append(tm.msgs, mm)
	tm.by[mm.e] = mm
	return mm
}

func (tm *turnModel) logf(format string, args ...any) {
	tm.log = append(tm.log, fmt.Sprintf(format, args...))
}

// apply performs the actions of a step. fromNext tells whether the step was
// a drainer's (its run and spawn come from the head of the queue).
func (tm *turnModel) apply(t *rapid.T, act actions) {
	for e := act.wake; e != nil; {
		next := e.next
		e.next = nil
		mm := tm.by[e]
		if !mm.waiting {
			t.Fatalf("msg %d woken without waiting", mm.id)
		}
		mm.waiting = false
		// A resumer whose method has returned, or which is no longer the
		// last of its method's calls to return, goes on without a turn.
		mm.holding = !mm.ended && mm.out == 0
		e = next
	}
	if e := act.spawn; e != nil {
		mm := tm.by[e]
		if act.again {
			tm.popHead(t, mm)
		}
		tm.start(t, mm)
	}
	if act.drain {
		tm.starts++
	}
	if act.again {
		tm.again++
	}
	if act.linger {
		if tm.lingering++; tm.lingering > 1 {
			t.Fatalf("two drainers linger")
		}
	}
	if act.finalize {
		if tm.finalizing {
			t.Fatalf("two last turns")
		}
		tm.finalizing = true
	}
	if e := act.run; e != nil {
		mm := tm.by[e]
		tm.popHead(t, mm)
		tm.start(t, mm)
	}
	if e := act.activate; e != nil {
		if len(tm.fifo) == 0 || tm.fifo[0].e != e {
			t.Fatalf("activation triggered by msg %d, not the head", tm.by[e].id)
		}
		tm.activating = tm.by[e]
	}
}

// step takes a step that fills in actions, then performs them.
func (tm *turnModel) step(t *rapid.T, f func(*actions)) {
	var act actions
	f(&act)
	tm.apply(t, act)
}

func (tm *turnModel) popHead(t *rapid.T, mm *modelMsg) {
	if len(tm.fifo) == 0 || tm.fifo[0] != mm {
		t.Fatalf("drainer took msg %d, the model's head is %v", mm.id, tm.fifo)
	}
	tm.fifo = tm.fifo[1:]
}

func (tm *turnModel) start(t *rapid.T, mm *modelMsg) {
	if mm.st != msgQueued && mm.st != msgNew {
		t.Fatalf("msg %d started twice", mm.id)
	}
	mm.st = msgRunning
	mm.holding = true
}

func (mm *modelMsg) String() string { return fmt.Sprint(mm.id) }

// check compares the machine with the model and asserts its invariants.
func (tm *turnModel) check(t *rapid.T) {
	if err := tm.m.invariants(); err != nil {
		t.Fatalf("%v\nsteps:\n%v", err, tm.log)
	}
	var writers, readers, suspended int32
	for _, mm := range tm.msgs {
		if mm.st == msgRunning && mm.holding {
			if mm.e.shared {
				readers++
			} else {
				writers++
			}
		}
		if mm.st == msgRunning && !mm.ended && !mm.holding {
			suspended++
		}
	}
	if tm.activating != nil || tm.finalizing {
		writers++
	}
	if writers > 1 || writers == 1 && readers > 0 {
		t.Fatalf("exclusion broken: %d writers, %d readers hold turns\nsteps:\n%v", writers, readers, tm.log)
	}
	if tm.m.writer != (writers == 1) || tm.m.readers != readers {
		t.Fatalf("machine: writer %v readers %d; model: %d writers, %d readers\nsteps:\n%v",
			tm.m.writer, tm.m.readers, writers, readers, tm.log)
	}
	if tm.m.suspended != suspended {
		t.Fatalf("machine: %d suspended, model %d\nsteps:\n%v", tm.m.suspended, suspended, tm.log)
	}
	var q []*modelMsg
	for e := tm.m.qhead; e != nil; e = e.next {
		q = append(q, tm.by[e])
	}
	// The inbox, newest first, follows the queue.
	var in []*modelMsg
	if h := tm.m.inbox.Load(); h != closedInbox {
		for e := h; e != nil; e = e.next {
			in = append(in, tm.by[e])
		}
	}
	slices.Reverse(in)
	q = append(q, in...)
	if !slices.Equal(q, tm.fifo) {
		t.Fatalf("machine's mailbox %v, model's %v\nsteps:\n%v", q, tm.fifo, tm.log)
	}
}

func (tm *turnModel) admitted(t *rapid.T, mm *modelMsg, r admit, act actions) {
	switch r {
	case admitInline:
		tm.start(t, mm)
	case admitQueued:
		if act.spawn != mm.e {
			mm.st = msgQueued
			tm.fifo = append(tm.fifo, mm)
		}
	default:
		mm.st = msgRejected
	}
	tm.apply(t, act)
}

// close hands back every queued message; each must be the model's.
func (tm *turnModel) closed(t *rapid.T, h *Envelope) {
	var got []*modelMsg
	for e := h; e != nil; {
		next := e.next
		e.next = nil
		mm := tm.by[e]
		mm.st = msgClosed
		got = append(got, mm)
		e = next
	}
	if !slices.Equal(got, tm.fifo) {
		t.Fatalf("close handed back %v, model's mailbox %v\nsteps:\n%v", got, tm.fifo, tm.log)
	}
	tm.fifo = nil
}

// The events rapid picks from. Each is what one goroutine of the runtime
// does next.

func (tm *turnModel) offer(t *rapid.T) {
	mm := tm.newMsg(t, false)
	// A call back from the chain of a method with calls out.
	for _, o := range tm.msgs {
		if o.st == msgRunning && !o.ended && o.out > 0 {
			mm.e.turn.inChain = rapid.Bool().Draw(t, "inChain")
			break
		}
	}
	inline := rapid.Bool().Draw(t, "inline")
	tm.nearSlice(t)
	var act actions
	r := tm.m.offer(mm.e, inline, false, tm.now, tm.clock, modelSlice, modelMailbox, &act)
	tm.logf("offer %d shared=%v inline=%v inChain=%v: %d", mm.id, mm.e.shared, inline, mm.e.turn.inChain, r)
	if (r == admitDiscarded) != (mm.e.turn.inChain && tm.m.deact == reasonPanic && tm.m.status == statusDeactivating) {
		t.Fatalf("offer %d: %d on a panicked activation, inChain %v", mm.id, r, mm.e.turn.inChain)
	}
	tm.admitted(t, mm, r, act)
}

func (tm *turnModel) offerIdle(t *rapid.T) {
	mm := tm.newMsg(t, rapid.Bool().Draw(t, "oneWay"))
	inline := !mm.e.oneWay && rapid.Bool().Draw(t, "inline")
	var act actions
	r := tm.m.offer(mm.e, inline, true, tm.now, tm.clock, modelSlice, modelMailbox, &act)
	tm.logf("offerIdle %d oneWay=%v: %d", mm.id, mm.e.oneWay, r)
	tm.admitted(t, mm, r, act)
}

// rejoin offers a readonly call whose chain holds a readonly turn.
func (tm *turnModel) rejoin(t *rapid.T) {
	var holders int
	for _, mm := range tm.msgs {
		if mm.st == msgRunning && mm.holding && mm.e.shared {
			holders++
		}
	}
	if holders == 0 {
		t.Skip("no readonly turn held")
	}
	mm := tm.newMsg(t, false)
	mm.e.shared, mm.e.turn.rejoin = true, true
	inline := rapid.Bool().Draw(t, "inline")
	tm.nearSlice(t)
	var act actions
	r := tm.m.offer(mm.e, inline, false, tm.now, tm.clock, modelSlice, modelMailbox, &act)
	tm.logf("rejoin %d inline=%v: %d", mm.id, inline, r)
	if r != admitInline && act.spawn != mm.e {
		t.Fatalf("a rejoining reader did not share its chain's turn: %d", r)
	}
	tm.admitted(t, mm, r, act)
}

func (tm *turnModel) post(t *rapid.T) {
	mm := tm.newMsg(t, true)
	r, kick := tm.m.post(mm.e, modelMailbox)
	tm.logf("post %d shared=%v: %d kick=%v", mm.id, mm.e.shared, r, kick)
	switch r {
	case admitQueued:
		mm.st = msgQueued
		tm.fifo = append(tm.fifo, mm)
	default:
		mm.st = msgRejected
	}
	if kick {
		tm.apply(t, tm.m.kick())
	}
}

// drainer steps a drainer goroutine that was started or ran a reader beside.
func (tm *turnModel) drainer(t *rapid.T) {
	switch {
	case tm.starts > 0 && (tm.again == 0 || rapid.Bool().Draw(t, "start")):
		tm.starts--
		tm.logf("drainer starts")
	case tm.again > 0:
		tm.again--
		tm.logf("drainer again")
	default:
		t.Skip("no drainer to step")
	}
	tm.now++
	tm.step(t, func(act *actions) { tm.m.next(tm.now, act) })
}

// linger ends the yields of a lingering drainer: it steps next if the role
// was handed back to it meanwhile, else exits.
func (tm *turnModel) linger(t *rapid.T) {
	if tm.lingering == 0 {
		t.Skip("no drainer lingers")
	}
	tm.lingering--
	tm.logf("lingering drainer ends")
	tm.now++
	tm.step(t, func(act *actions) { tm.m.endLinger(tm.now, act) })
}

// pick draws a running message matching ok.
func (tm *turnModel) pick(t *rapid.T, what string, ok func(*modelMsg) bool) *modelMsg {
	var c []*modelMsg
	for _, mm := range tm.msgs {
		if mm.st == msgRunning && !mm.ended && ok(mm) {
			c = append(c, mm)
		}
	}
	if len(c) == 0 {
		t.Skip("no message to " + what)
	}
	return rapid.SampledFrom(c).Draw(t, what)
}

// finish: a method returns (perhaps leaving outgoing calls behind, from
// goroutines it started), or panics first.
func (tm *turnModel) finish(t *rapid.T) {
	mm := tm.pick(t, "finish", func(mm *modelMsg) bool { return mm.holding || mm.out > 0 || mm.waiting })
	if !mm.holding && !rapid.Bool().Draw(t, "leave calls behind") {
		t.Skip("calls still out")
	}
	tm.finishMsg(t, mm, rapid.IntRange(0, 9).Draw(t, "panic") == 0)
}

func (tm *turnModel) finishMsg(t *rapid.T, mm *modelMsg, panicked bool) {
	if panicked {
		tm.logf("panic %d", mm.id)
		for e := tm.m.panicked(); e != nil; {
			next := e.next
			e.next = nil
			d := tm.by[e]
			if !e.turn.inChain || d.st != msgQueued {
				t.Fatalf("panic discarded msg %d (inChain %v, state %v)", d.id, e.turn.inChain, d.st)
			}
			i := slices.Index(tm.fifo, d)
			tm.fifo = slices.Delete(tm.fifo, i, i+1)
			d.st = msgClosed
			e = next
		}
		for _, q := range tm.fifo {
			if q.e.turn.inChain {
				t.Fatalf("msg %d, a call back from a suspended chain, left queued on a panicked activation", q.id)
			}
		}
	}
	mm.ended = true
	tm.now++
	var act actions
	tm.m.finish(mm.e, tm.now, &act)
	tm.logf("finish %d", mm.id)
	mm.st = msgDone
	mm.holding = false
	mm.out = 0
	tm.apply(t, act)
}

// callOut: the method (or one of its goroutines) makes an outgoing call.
func (tm *turnModel) callOut(t *rapid.T) {
	mm := tm.pick(t, "call out", func(mm *modelMsg) bool {
		return mm.reentrant && (mm.holding || mm.out > 0 || mm.waiting)
	})
	mm.out++
	mm.holding = false
	tm.logf("call out %d (%d out)", mm.id, mm.out)
	tm.apply(t, tm.m.suspend(mm.e))
}

// callBack: one outgoing call returns.
func (tm *turnModel) callBack(t *rapid.T) {
	mm := tm.pick(t, "call back", func(mm *modelMsg) bool { return mm.out > 0 })
	tm.resumeMsg(t, mm)
}

func (tm *turnModel) resumeMsg(t *rapid.T, mm *modelMsg) {
	mm.out--
	wait := tm.m.resume(mm.e)
	tm.logf("call back %d (%d out) wait=%v", mm.id, mm.out, wait != nil)
	switch {
	case wait != nil:
		if mm.out != 0 {
			t.Fatalf("msg %d waits to resume with %d calls still out", mm.id, mm.out)
		}
		mm.waiting = true
	case mm.out == 0:
		mm.holding = true
	}
}

func (tm *turnModel) activate(t *rapid.T) {
	if tm.activating == nil {
		t.Skip("not activating")
	}
	tm.activating = nil
	tm.now++
	if rapid.IntRange(0, 4).Draw(t, "fail") == 0 {
		tm.logf("activation fails")
		tm.closed(t, tm.m.activationFailed())
		return
	}
	tm.logf("activated")
	tm.step(t, func(act *actions) { tm.m.activated(tm.now, act) })
}

func (tm *turnModel) lastTurn(t *rapid.T) {
	if !tm.finalizing {
		t.Skip("no last turn")
	}
	tm.finalizing = false
	tm.logf("last turn closes")
	tm.closed(t, tm.m.closeLast())
}

func (tm *turnModel) deactivate(t *rapid.T) {
	reason := rapid.SampledFrom([]DeactivationReason{ReasonRequested, ReasonShutdown}).Draw(t, "reason")
	now, recorded := tm.m.deactivate(reason)
	tm.logf("deactivate %v: now=%v", reason, now)
	if now {
		tm.apply(t, actions{finalize: true, reason: recorded})
	}
}

func (tm *turnModel) collect(t *rapid.T) {
	tm.now++
	now := tm.m.collect(tm.now + 1)
	tm.logf("collect: %v", now)
	if now {
		tm.apply(t, actions{finalize: true, reason: ReasonIdle})
	}
}

// settle runs every goroutine to its end: drainers step, methods return
// (their calls first), activations and last turns complete. Then no message
// may be left waiting.
func (tm *turnModel) settle(t *rapid.T) {
	for progress := true; progress; {
		tm.check(t)
		switch {
		case tm.starts > 0:
			tm.starts--
			tm.step(t, func(act *actions) { tm.m.next(tm.now, act) })
		case tm.again > 0:
			tm.again--
			tm.step(t, func(act *actions) { tm.m.next(tm.now, act) })
		case tm.lingering > 0:
			tm.lingering--
			tm.step(t, func(act *actions) { tm.m.endLinger(tm.now, act) })
		case tm.activating != nil:
			tm.activating = nil
			tm.step(t, func(act *actions) { tm.m.activated(tm.now, act) })
		case tm.finalizing:
			tm.finalizing = false
			tm.closed(t, tm.m.closeLast())
		default:
			progress = tm.settleOne(t)
		}
	}
	for _, mm := range tm.msgs {
		if mm.st == msgQueued || mm.st == msgRunning {
			t.Fatalf("msg %d left %v (waiting %v, out %d) with nothing to run it\nsteps:\n%v",
				mm.id, mm.st, mm.waiting, mm.out, tm.log)
		}
	}
	if tm.m.linger != lingerNone {
		t.Fatalf("settled activation with a lingering drainer\nsteps:\n%v", tm.log)
	}
	if tm.m.status == statusValid && (tm.m.drainer.Load() || tm.m.qhead != nil || tm.m.suspended != 0) {
		t.Fatalf("settled activation not idle\nsteps:\n%v", tm.log)
	}
	if tm.m.status == statusValid && tm.m.deact != ReasonNone {
		t.Fatalf("settled activation with a deactivation (%v) requested that never ran\nsteps:\n%v", tm.m.deact, tm.log)
	}
}

// settleOne lets one method make progress: a call of it returns, or it
// returns. It reports whether one could.
func (tm *turnModel) settleOne(t *rapid.T) bool {
	for _, mm := range tm.msgs {
		if mm.st != msgRunning || mm.ended {
			continue
		}
		switch {
		case mm.out > 0:
			tm.resumeMsg(t, mm)
			return true
		case mm.holding:
			tm.finishMsg(t, mm, false)
			return true
		}
	}
	return false
}

// fixChecks makes rapid run n times in t unless -rapid.checks was given, so
// that every run (in CI too) explores the same number of cases.
func fixChecks(t *testing.T, n int) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if given || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

func TestTurnStateMachineModel(t *testing.T) {
	fixChecks(t, 5000)
	rapid.Check(t, func(t *rapid.T) {
		tm := newTurnModel()
		t.Repeat(map[string]func(*rapid.T){
			"offer":      tm.offer,
			"offerIdle":  tm.offerIdle,
			"rejoin":     tm.rejoin,
			"post":       tm.post,
			"drainer":    tm.drainer,
			"linger":     tm.linger,
			"finish":     tm.finish,
			"callOut":    tm.callOut,
			"callBack":   tm.callBack,
			"activate":   tm.activate,
			"lastTurn":   tm.lastTurn,
			"deactivate": tm.deactivate,
			"collect":    tm.collect,
			"":           tm.check,
		})
		tm.settle(t)
	})
}
