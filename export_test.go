package quark

import (
	"context"
	"time"

	"github.com/quarkgo/quark/internal/wire"

	"github.com/quarkgo/quark/storage"
)

// TimerCounts reports how many timers the activation a keeps in its list and
// how many the silo's timer scheduler holds: tests of what a timer leaves
// behind read them.
func TimerCounts(a *Activation) (listed, scheduled int) {
	a.mu.Lock()
	listed = len(a.timers)
	a.mu.Unlock()
	sc := &a.typ.silo.timers
	sc.mu.Lock()
	scheduled = len(sc.heap)
	sc.mu.Unlock()
	return listed, scheduled
}

// TypeSettings is what the silo's and a registered type's options resolved
// to for that type.
type TypeSettings struct {
	Mailbox    int
	MaxWorkers int
	CollectAge time.Duration
	Store      storage.Store
}

// SettingsOf reports the settings of the type d registered on s.
func SettingsOf(s *Silo, d *TypeDesc) TypeSettings {
	s.typeMu.Lock()
	t := s.types[d]
	s.typeMu.Unlock()
	return TypeSettings{Mailbox: t.mailbox, MaxWorkers: t.maxWorkers, CollectAge: t.collectAge, Store: t.store}
}

// CallContextBytes returns the bytes in which a call made on s with ctx
// carries its context to another process.
func CallContextBytes(s *Silo, ctx context.Context) ([]byte, error) {
	c := newCallCtx(s, ctx, nil, chainOf(ctx))
	defer c.finish()
	var w wire.CallContext
	if err := wireCallContext(c, &w); err != nil {
		return nil, err
	}
	return wire.AppendCallContext(nil, &w)
}

// ReceivedContext returns the context in which s would run a call received
// from another process with the call context b, and the function that ends
// it.
func ReceivedContext(s *Silo, b []byte) (context.Context, func(), error) {
	var w wire.CallContext
	if err := wire.ReadCallContext(b, &w); err != nil {
		return nil, nil, err
	}
	c, err := s.receivedCallCtx(context.Background(), &Envelope{}, &w)
	if err != nil {
		return nil, nil, err
	}
	return c, c.finish, nil
}

// OnRoute makes s call f with the target and method name of every message
// its routing step decides on. Set it before s starts; f runs on the
// routing goroutine and must be safe for concurrent use.
func OnRoute(s *Silo, f func(target ID, method string)) {
	s.routeHook = func(e *Envelope) { f(e.target, e.msg.Method().Name) }
}

// BatchedBehind reports whether ctx is the context of a one-way method that
// runs with other messages of its batch taken behind it (see turns.gather).
// Call it from the method.
func BatchedBehind(ctx context.Context) bool {
	h, ok := ctx.(*oneWayCtx)
	return ok && h.env.next != nil
}

// DeadlineTimerArmed reports whether one of the silo's timers for the
// default deadlines of queued calls is armed.
func DeadlineTimerArmed(s *Silo) bool {
	for i := range s.deadlines {
		l := &s.deadlines[i]
		l.mu.Lock()
		armed := l.armed != 0
		l.mu.Unlock()
		if armed {
			return true
		}
	}
	return false
}

// DrainerLingers reports whether a drainer of a, out of messages, still
// waits to be handed the drainer role back.
func DrainerLingers(a *Activation) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.linger != lingerNone
}
