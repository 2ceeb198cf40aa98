package quark

import (
	"runtime"
	"runtime/metrics"
	"sync"
)

// location is a location-cache entry: where a message's target was last
// seen. A Ref carries one from the moment it is made, and each message made
// through it starts with a copy; route uses the entry when it can and drops
// it when it is stale (the activation it names has gone), looking the actor
// up again. Today an actor can only live on this silo, so the entry holds at
// most its local activation; the zero entry means "not known: ask the
// placement". There is deliberately no way to name another process yet:
// remote entries (a silo address) come with the transport, which is their
// only consumer.
type location struct {
	act *Activation // the local activation, or nil
}

// placement answers "where does this actor live?" for route. The only
// implementation today is standalone: a silo outside any cluster is the
// home of every actor. A cluster replaces it with one that consults the
// member list or the directory, and route then sends non-local targets to
// the transport. It stays unexported while no other answer can be acted on.
//
// locate is called concurrently from any goroutine that sends a message; it
// must not block on the target's activation.
type placement interface {
	// locate returns where the actor of type t with key lives, creating
	// its local activation when it lives here and has none.
	locate(t *actorType, key Key) location
}

// standalone is the placement of a silo outside any cluster: every actor
// lives here, in the silo's catalog.
type standalone struct{}

func (standalone) locate(t *actorType, key Key) location {
	return location{act: t.get(key)}
}

// route is the one step that decides where a message goes, and hands it
// over: calls (deliver), one-way messages (send), messages forwarded from an
// activation that went away and reminder ticks (forward), and timer ticks
// (ActorTimer.post) all reach an activation through it.
//
// The decision, in order:
//   - the message's location-cache entry, if any, names the activation: a
//     Ref's entry (the activation it saw when made) or a timer tick's (the
//     activation that set the timer). A timer belongs to its activation,
//     which is local by construction, so a tick never asks placement; if
//     that activation has gone, route returns admitRetry and the timer dies
//     with it;
//   - a stateless worker stays local, outside placement (and, in a cluster,
//     outside the directory): the type's worker set on this silo takes it;
//   - otherwise placement locates the actor;
//   - an activation that turns out dead (the entry was stale, or it died
//     between lookup and submit) means retry: the entry is dropped and the
//     actor located again.
//
// inline allows the caller to run a call on its own goroutine (the fast
// path). route returns the activation that took e and the outcome:
// admitInline (the caller holds the turn and runs e), admitQueued,
// admitOverload or admitDiscarded; admitRetry only for a timer tick whose
// activation is gone; admitStopped for a message admitted before Stop began
// but routed after the silo stopped (it must not activate anything).
func (s *Silo) route(e *Envelope, inline bool) (*Activation, admit) {
	if s.routeHook != nil {
		s.routeHook(e)
	}
	t := e.typ
	for {
		var r admit
		a := e.loc.act
		switch {
		case a != nil:
			// An entry is used once: a retry looks again. Only timer
			// ticks carry one for a stateless worker (Refs keep none).
			e.loc = location{}
			r = a.submit(e, inline)
		case t.desc.Stateless:
			a, r = t.deliverStateless(e, inline)
		default:
			var loc location
			if p, ok := s.placement.(standalone); ok {
				// Called on the concrete type so that it inlines: the
				// interface call costs a lone silo ~5% of a fast-path call.
				loc = p.locate(t, e.target.Key)
			} else {
				loc = s.placement.locate(t, e.target.Key)
			}
			a = loc.act
			r = a.submit(e, inline)
		}
		switch r {
		case admitRetry:
			if _, tick := e.msg.(*tickMessage); tick {
				// Tested only here, off the fast path: a tick's entry
				// names its timer's activation, which is gone.
				return a, r
			}
			if s.state.Load() == siloStopped {
				// Every activation made now is born dead (newActivation):
				// looking again would never end.
				return a, admitStopped
			}
			continue
		case admitYield:
			if othersRunnable() {
				runtime.Gosched()
			}
			continue
		}
		return a, r
	}
}

// home returns the process where e's target lives when that is not this
// one: the peer to send e to over the transport, or nil to route it here.
// It is asked before the incoming interceptors admit a message, since they
// run where the actor lives, and before route, which finds local
// activations. A silo without a transport, or alone, is home to every
// actor; a member of a static cluster asks its ring; a client, which hosts
// none, the ring it learned from its gateways.
func (s *Silo) home(e *Envelope) (*peer, error) {
	if s.remote == nil {
		return nil, nil
	}
	return s.remote.home(e)
}

// runnable is the runtime metric othersRunnable reads, with the lock that
// lets callers share its sample (runtime/metrics serializes reads anyway).
var runnable struct {
	sync.Mutex
	sample [1]metrics.Sample
}

func init() { runnable.sample[0].Name = "/sched/goroutines/runnable:goroutines" }

// othersRunnable reports whether goroutines wait in the Go scheduler's run
// queues: the signal that a caller whose inline slice is spent should yield
// its processor to them. With nothing waiting a yield would only cost its
// caller a trip through the scheduler (and, by waking an idle thread, a
// few microseconds). A read costs ~140 ns, once per slice. A runtime that
// does not know the metric answers yes.
func othersRunnable() bool {
	runnable.Lock()
	metrics.Read(runnable.sample[:])
	v := runnable.sample[0].Value
	runnable.Unlock()
	return v.Kind() != metrics.KindUint64 || v.Uint64() > 0
}
