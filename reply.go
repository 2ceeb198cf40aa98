package quark

import (
	"sync"
	"time"
)

// reply is how the caller of a queued local call learns that it is over:
// one signal on ch, sent by whichever side moves the envelope out of
// envPending — complete (envDone), or its deadline list (one of the silo's)
// at the call's default deadline (envAbandoned). A caller that gives up on its own
// (cancellation, its CAS to envAbandoned winning) receives no signal.
// Exactly one signal per call is sent or none, and the caller receives it,
// so ch is empty whenever the reply is back in its pool.
//
// Replies are pooled per silo rather than kept in the pooled messages: a
// message may be reused across testing/synctest bubbles, and must never
// wait on another bubble's channel, while a silo belongs to the bubble (if
// any) its callers run in.
type reply struct {
	ch   chan struct{} // capacity 1
	list *deadlineList // the silo's deadline list it is timed on, fixed when made

	// The call, its deadline and its links while it is on the deadline
	// list; guarded by deadlineList.mu.
	e          *Envelope
	at         int64
	prev, next *reply
	listed     bool
}

// getReply returns an empty reply from the silo's pool.
func (s *Silo) getReply() *reply {
	if r, ok := s.replies.Get().(*reply); ok {
		return r
	}
	n := s.replyCount.Add(1)
	return &reply{ch: make(chan struct{}, 1), list: &s.deadlines[n%deadlineShards]}
}

// deadlineShards is how many deadline lists a silo has: callers on
// different processors mostly take and release replies of different lists,
// so they seldom wait for each other's lock.
const deadlineShards = 8

// stopDeadlines stops the silo's deadline lists (see deadlineList.stop).
func (s *Silo) stopDeadlines() {
	for i := range s.deadlines {
		s.deadlines[i].stop()
	}
}

// putReply returns r, empty and off the deadline list, to the pool.
func (s *Silo) putReply(r *reply) { s.replies.Put(r) }

// deadlineList times the default deadlines of queued local calls: one
// runtime timer for a share of a silo's calls (see deadlineShards) instead
// of one per call. Every such deadline is the silo's call timeout after the
// call's start, so the list, ordered by deadline, takes each new call at or
// near its tail, and is unlinked from in O(1) when the call completes
// first.
//
// The timer is armed for the earliest deadline while calls are listed; it
// is left armed when the list empties, and finds nothing to do when it
// fires, so that calls following each other do not arm and stop it each
// time. Once the silo has stopped it is disarmed as soon as the list is
// empty: a stopped silo leaves nothing scheduled. The timer is a runtime
// timer; its function runs on a goroutine of its own, only when it fires.
//
// Deadlines are on the mono scale: like every call deadline, they follow
// real time, not the silo's Clock (see Clock).
type deadlineList struct {
	mu         sync.Mutex
	head, tail *reply
	timer      *time.Timer // made on first use
	armed      int64       // the deadline the timer is armed for; 0: not armed
	stopped    bool        // the silo has stopped
}

// add lists r for the call e whose deadline is at.
func (l *deadlineList) add(r *reply, e *Envelope, at int64) {
	l.mu.Lock()
	r.e, r.at, r.listed = e, at, true
	// From the tail: deadlines are fixed when calls start, so they almost
	// always come in order.
	p := l.tail
	for p != nil && p.at > at {
		p = p.prev
	}
	r.prev = p
	if p == nil {
		r.next = l.head
		l.head = r
	} else {
		r.next = p.next
		p.next = r
	}
	if r.next == nil {
		l.tail = r
	} else {
		r.next.prev = r
	}
	if l.armed == 0 || at < l.armed {
		l.arm(at)
	}
	l.mu.Unlock()
}

// remove takes r off the list, if it is still on it.
func (l *deadlineList) remove(r *reply) {
	l.mu.Lock()
	if r.listed {
		l.unlink(r)
		if l.stopped && l.head == nil && l.armed != 0 {
			l.timer.Stop()
			l.armed = 0
		}
	}
	l.mu.Unlock()
}

func (l *deadlineList) unlink(r *reply) {
	if r.prev == nil {
		l.head = r.next
	} else {
		r.prev.next = r.next
	}
	if r.next == nil {
		l.tail = r.prev
	} else {
		r.next.prev = r.prev
	}
	r.e, r.prev, r.next, r.listed = nil, nil, nil, false
}

// arm sets the timer for the deadline at. l.mu is held.
func (l *deadlineList) arm(at int64) {
	d := time.Duration(at - mono())
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.fire)
	} else {
		l.timer.Reset(d)
	}
	l.armed = at
}

// fire fails the calls whose deadline has passed: each still pending is
// marked abandoned (a queued one will not run, a running one's result is
// dropped as late) and its caller signalled. Under l.mu, so that a caller
// that has taken its reply off the list is never marked: its envelope may
// already serve another call.
func (l *deadlineList) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = 0
	now := mono()
	for r := l.head; r != nil && r.at <= now; r = l.head {
		e := r.e
		l.unlink(r)
		if e.state.CompareAndSwap(envPending, envAbandoned) {
			r.ch <- struct{}{}
		}
	}
	if l.head != nil {
		l.arm(l.head.at)
	}
}

// stop marks the silo stopped: the timer is disarmed now if no call waits,
// else when the last one leaves.
func (l *deadlineList) stop() {
	l.mu.Lock()
	l.stopped = true
	if l.head == nil && l.armed != 0 {
		l.timer.Stop()
		l.armed = 0
	}
	l.mu.Unlock()
}
