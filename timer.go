package quark

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
)

// ActorTimer is a timer registered by an actor with RegisterTimer. Its
// callback runs as a turn of the activation, never beside a call; it dies
// with the activation.
type ActorTimer struct {
	act       *Activation
	f         func(ctx context.Context) error
	period    time.Duration
	keepAlive bool

	// Guarded by the silo scheduler's mutex.
	due     time.Time
	index   int // in the scheduler's heap, -1 when not scheduled
	stopped bool

	// slot is the timer's index in act.timers, -1 when not listed; guarded
	// by act.mu. A timer is listed while it can still tick: a one-shot timer
	// leaves the list when its tick has run or been skipped.
	slot int
}

// RegisterTimer calls f after due and then, if period is positive, again each
// period after the previous call returned. Each call runs as a turn of the
// activation (so never at the same time as a method), with a context carrying
// the default call timeout. An error from f is counted in
// Stats.CallbackErrors and logged (at most one line a second per silo).
//
// A tick that finds the activation's mailbox full is skipped: it is counted
// in Stats.SkippedTimerTicks, and a periodic timer ticks again a period
// later (a one-shot timer's only tick is not retried). The timer stops when
// Stop is called or the activation is deactivated; no tick runs once the
// silo has begun to stop. A timer registered on an activation already
// deactivated never ticks. Time is the silo's Clock.
//
// Timers cost one entry in the silo's scheduler each: there is no goroutine
// or runtime timer per actor, and a one-shot timer that has fired, or any
// stopped timer, is forgotten by the activation and the scheduler.
func (a *Activation) RegisterTimer(due, period time.Duration, f func(ctx context.Context) error, opts ...TimerOption) *ActorTimer {
	var cfg timerConfig
	for _, o := range opts {
		o.applyToTimer(&cfg)
	}
	t := &ActorTimer{act: a, f: f, period: period, keepAlive: cfg.keepAlive, index: -1, slot: -1}
	s := a.typ.silo
	a.mu.Lock()
	if a.status == statusDead {
		// Nothing would stop it: the activation has already stopped its
		// timers.
		a.mu.Unlock()
		t.stopped = true
		s.log.Warn("timer registered on a deactivated activation ignored", slog.String("actor", a.id.String()))
		return t
	}
	t.slot = len(a.timers)
	a.timers = append(a.timers, t)
	a.mu.Unlock()
	s.timers.schedule(s, t, s.cfg.clock.Now().Add(max(due, 0)))
	return t
}

// Stop cancels the timer; a tick already queued still runs. Stopping twice
// is harmless.
func (t *ActorTimer) Stop() {
	t.act.typ.silo.timers.stop(t)
	t.unlist()
}

// unlist takes t out of its activation's list, so that the activation keeps
// no timer that can no longer tick.
func (t *ActorTimer) unlist() {
	a := t.act
	a.mu.Lock()
	if i := t.slot; i >= 0 && i < len(a.timers) && a.timers[i] == t {
		last := len(a.timers) - 1
		a.timers[i] = a.timers[last]
		a.timers[i].slot = i
		a.timers[last] = nil
		a.timers = a.timers[:last]
	}
	t.slot = -1
	a.mu.Unlock()
}

// releaseOwnedLocked drops what a dying activation must not keep alive for
// the References that may still point at it: the actor, its States and its
// timers, which it stops. It is called with a.mu held as the activation
// dies (deactivated, or its activation failed); it takes the scheduler's
// mutex inside a.mu, the one order in which the two are ever nested.
func (a *Activation) releaseOwnedLocked() {
	a.impl = nil
	a.states = nil
	sc := &a.typ.silo.timers
	for _, t := range a.timers {
		sc.stop(t)
		t.slot = -1
	}
	a.timers = nil
}

// scheduler is the silo's one timer heap: a single Clock timer is armed for
// the earliest due tick.
type scheduler struct {
	mu    sync.Mutex
	heap  dueHeap[*ActorTimer]
	armed ClockTimer
	at    time.Time
}

func (sc *scheduler) schedule(s *Silo, t *ActorTimer, due time.Time) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if t.stopped || t.index >= 0 {
		return
	}
	t.due = due
	heap.Push(&sc.heap, t)
	sc.armLocked(s)
}

// armLocked makes sure the clock timer fires at the earliest due tick, while
// the silo runs: Stop disarms it for good.
func (sc *scheduler) armLocked(s *Silo) {
	if len(sc.heap) == 0 || s.state.Load() != siloRunning {
		return
	}
	next := sc.heap[0].due
	if sc.armed != nil && !sc.at.After(next) {
		return
	}
	if sc.armed != nil {
		sc.armed.Stop()
	}
	sc.at = next
	sc.armed = s.cfg.clock.AfterFunc(next.Sub(s.cfg.clock.Now()), func() { sc.fire(s) })
}

func (sc *scheduler) stop(t *ActorTimer) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	t.stopped = true
	if t.index >= 0 {
		heap.Remove(&sc.heap, t.index)
	}
}

// disarm stops the clock timer for good; the silo is stopping.
func (sc *scheduler) disarm() {
	sc.mu.Lock()
	if sc.armed != nil {
		sc.armed.Stop()
		sc.armed = nil
	}
	sc.mu.Unlock()
}

// fire posts every due tick to its activation's mailbox and re-arms.
func (sc *scheduler) fire(s *Silo) {
	now := s.cfg.clock.Now()
	var due []*ActorTimer
	sc.mu.Lock()
	sc.armed = nil
	if s.state.Load() != siloRunning {
		// Stop began after the clock timer fired: no tick is posted.
		sc.mu.Unlock()
		return
	}
	for len(sc.heap) > 0 && !sc.heap[0].due.After(now) {
		due = append(due, heap.Pop(&sc.heap).(*ActorTimer))
	}
	sc.armLocked(s)
	sc.mu.Unlock()
	for _, t := range due {
		t.post()
	}
}

// post queues one tick of t as a message on its activation. A tick that
// meets a full mailbox is skipped, and a periodic timer is scheduled again
// a period later; a dead activation ends the timer.
func (t *ActorTimer) post() {
	a := t.act
	s := a.typ.silo
	m := &tickMessage{timer: t}
	e := &m.Envelope
	e.msg = m
	e.target = a.id
	e.typ = a.typ
	e.oneWay = true
	e.loc = location{act: a}
	e.refs.Store(1)
	e.state.Store(envPending)
	switch _, r := s.route(e, false); r {
	case admitQueued:
	case admitOverload:
		s.skippedTicks.Add(1)
		s.skipLog.note(s, func() []slog.Attr {
			return []slog.Attr{slog.String("actor", a.id.String()),
				slog.Any("err", Errorf(CodeOverloaded, "timer tick of %s: mailbox full (%d messages)", a.id, a.typ.mailbox))}
		})
		if t.period > 0 {
			s.timers.schedule(s, t, s.cfg.clock.Now().Add(t.period))
		} else {
			t.unlist()
		}
	default:
		// The activation is gone: the timer dies with it.
		t.Stop()
	}
}

// runtimeMessage is the base of messages the runtime makes itself (timer
// and reminder ticks): they are never pooled, copied or encoded.
type runtimeMessage struct{ Envelope }

func (*runtimeMessage) Release()                               {}
func (*runtimeMessage) AppendArgs(b []byte) ([]byte, error)    { return b, nil }
func (*runtimeMessage) ReadArgs([]byte) error                  { return nil }
func (*runtimeMessage) AppendResults(b []byte) ([]byte, error) { return b, nil }
func (*runtimeMessage) ReadResults([]byte) error               { return nil }
func (*runtimeMessage) CopyArgs() error                        { return nil }
func (*runtimeMessage) CopyResults() error                     { return nil }

// tickMessage runs a timer callback as a turn.
type tickMessage struct {
	runtimeMessage
	timer *ActorTimer
}

var tickMethod = MethodDesc{Name: "timer", OneWay: true}

func (m *tickMessage) Method() *MethodDesc { return &tickMethod }

// Invoke runs the callback, unless the silo has begun to stop: a tick queued
// behind a turn that outlives Stop never runs.
func (m *tickMessage) Invoke(ctx context.Context, _ any) error {
	t := m.timer
	s := t.act.typ.silo
	if s.state.Load() != siloRunning {
		return nil
	}
	err := t.f(ctx)
	if t.period > 0 {
		// The period counts from the end of the callback.
		s.timers.schedule(s, t, s.cfg.clock.Now().Add(t.period))
	} else {
		t.unlist()
	}
	return err
}

// scheduled is an entry of a dueHeap: the silo's timer and reminder
// schedulers keep their entries in one.
type scheduled interface {
	dueAt() time.Time
	setIndex(i int)
}

// dueHeap orders entries by due time, keeping each entry's index current so
// it can be removed or fixed in place.
type dueHeap[T scheduled] []T

func (h dueHeap[T]) Len() int           { return len(h) }
func (h dueHeap[T]) Less(i, j int) bool { return h[i].dueAt().Before(h[j].dueAt()) }
func (h dueHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].setIndex(i)
	h[j].setIndex(j)
}
func (h *dueHeap[T]) Push(x any) {
	t := x.(T)
	t.setIndex(len(*h))
	*h = append(*h, t)
}
func (h *dueHeap[T]) Pop() any {
	old := *h
	t := old[len(old)-1]
	var zero T
	old[len(old)-1] = zero
	t.setIndex(-1)
	*h = old[:len(old)-1]
	return t
}

func (t *ActorTimer) dueAt() time.Time { return t.due }
func (t *ActorTimer) setIndex(i int)   { t.index = i }
