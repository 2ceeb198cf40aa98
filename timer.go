package quark

import (
	"container/heap"
	"context"
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
}

// TimerOption configures RegisterTimer.
type TimerOption func(*ActorTimer)

// KeepAlive makes the timer's ticks count as use of the activation, so it is
// not collected while the timer runs. By default ticks do not keep an idle
// actor alive.
func KeepAlive() TimerOption { return func(t *ActorTimer) { t.keepAlive = true } }

// RegisterTimer calls f after due and then, if period is positive, again each
// period after the previous call returned. Each call runs as a turn of the
// activation (so never at the same time as a method), with a context carrying
// the default call timeout. An error from f is logged. The timer stops when
// Stop is called or the activation is deactivated. Time is the silo's Clock.
//
// Timers cost one entry in the silo's scheduler each: there is no goroutine
// or runtime timer per actor.
func (a *Activation) RegisterTimer(due, period time.Duration, f func(ctx context.Context) error, opts ...TimerOption) *ActorTimer {
	t := &ActorTimer{act: a, f: f, period: period, index: -1}
	for _, o := range opts {
		o(t)
	}
	a.mu.Lock()
	a.timers = append(a.timers, t)
	a.mu.Unlock()
	s := a.typ.silo
	s.timers.schedule(s, t, s.cfg.clock.Now().Add(max(due, 0)))
	return t
}

// Stop cancels the timer; a tick already queued still runs. Stopping twice
// is harmless.
func (t *ActorTimer) Stop() {
	t.act.typ.silo.timers.stop(t)
}

// scheduler is the silo's one timer heap: a single Clock timer is armed for
// the earliest due tick.
type scheduler struct {
	mu    sync.Mutex
	heap  dueHeap[*ActorTimer]
	armed Timer
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

// armLocked makes sure the clock timer fires at the earliest due tick.
func (sc *scheduler) armLocked(s *Silo) {
	if len(sc.heap) == 0 {
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

// fire posts every due tick to its activation's mailbox and re-arms.
func (sc *scheduler) fire(s *Silo) {
	now := s.cfg.clock.Now()
	var due []*ActorTimer
	sc.mu.Lock()
	sc.armed = nil
	for len(sc.heap) > 0 && !sc.heap[0].due.After(now) {
		due = append(due, heap.Pop(&sc.heap).(*ActorTimer))
	}
	if s.state.Load() == siloRunning {
		sc.armLocked(s)
	}
	sc.mu.Unlock()
	for _, t := range due {
		t.post()
	}
}

// post queues one tick of t as a message on its activation.
func (t *ActorTimer) post() {
	a := t.act
	m := &tickMessage{timer: t}
	e := &m.Envelope
	e.msg = m
	e.target = a.id
	e.typ = a.typ
	e.oneWay = true
	e.refs.Store(1)
	e.state.Store(envPending)
	if r := a.submit(e, false); r != admitQueued {
		// The activation is gone or full: the timer dies with it.
		t.Stop()
	}
}

// runtimeMessage is the base of messages the runtime makes itself (timer
// and reminder ticks): they are never pooled, copied or encoded.
type runtimeMessage struct{ Envelope }

func (*runtimeMessage) Release()                      {}
func (*runtimeMessage) AppendArgs(b []byte) []byte    { return b }
func (*runtimeMessage) ReadArgs([]byte) error         { return nil }
func (*runtimeMessage) AppendResults(b []byte) []byte { return b }
func (*runtimeMessage) ReadResults([]byte) error      { return nil }
func (*runtimeMessage) CopyArgs()                     {}
func (*runtimeMessage) CopyResults()                  {}

// tickMessage runs a timer callback as a turn.
type tickMessage struct {
	runtimeMessage
	timer *ActorTimer
}

var tickMethod = MethodDesc{Name: "timer"}

func (m *tickMessage) Method() *MethodDesc { return &tickMethod }

func (m *tickMessage) Invoke(ctx context.Context, _ any) error {
	t := m.timer
	err := t.f(ctx)
	if t.period > 0 {
		// The period counts from the end of the callback.
		s := t.act.typ.silo
		s.timers.schedule(s, t, s.cfg.clock.Now().Add(t.period))
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
