package quark

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// eventLogInterval is the least time, on the silo's Clock, between two lines
// an eventLog writes.
const eventLogInterval = time.Second

// eventLog logs an event that can repeat at a high rate (a dropped one-way
// message, a failed timer callback) without a line per occurrence: the first
// occurrence is logged at once, later ones are counted and summarised in at
// most one line per eventLogInterval, and Stop writes what is left. A flood
// of 650,000 drops in three seconds thus writes four lines, not 650,000.
//
// A summary is written even when the events stop: the first occurrence held
// back arms one Clock function for the end of the interval. Nothing runs
// while no event is held back, so an idle silo pays no goroutine or timer
// for it.
//
// The counting path is lock-free; mu guards only the armed flush, taken at
// most once per interval. Safe for concurrent use.
type eventLog struct {
	msg   string
	level slog.Level

	held   atomic.Int64                // occurrences not yet in a line
	next   atomic.Int64                // Clock time (Unix ns) before which no line is written
	sample atomic.Pointer[[]slog.Attr] // the first occurrence held back
	armed  atomic.Bool                 // flush is set (read without mu)

	mu    sync.Mutex
	flush ClockTimer // armed to write the held-back summary; nil when none is
}

// note records one occurrence and writes a line if the interval since the
// last one has passed. describe returns the attributes describing the
// occurrence; it is called only for an occurrence that is written or kept
// as the sample of a summary, so that a flood costs a counter increment per
// occurrence and no allocation.
func (l *eventLog) note(s *Silo, describe func() []slog.Attr) {
	l.held.Add(1)
	if l.armed.Load() {
		// A summary is due at the end of the interval, with a sample
		// already kept: the flood costs no clock read either.
		return
	}
	now := s.cfg.clock.Now().UnixNano()
	next := l.next.Load()
	if now >= next && l.next.CompareAndSwap(next, now+int64(eventLogInterval)) {
		l.sample.Store(nil)
		l.write(s, describe())
		return
	}
	if l.sample.Load() == nil {
		attrs := describe()
		l.sample.CompareAndSwap(nil, &attrs)
	}
	if l.armed.Load() {
		return
	}
	l.mu.Lock()
	if l.flush == nil {
		wait := max(time.Duration(l.next.Load()-now), 0)
		l.flush = s.cfg.clock.AfterFunc(wait, func() { l.flushHeld(s, false) })
		l.armed.Store(true)
	}
	l.mu.Unlock()
}

// flushHeld writes a summary of the occurrences held back, if any. At stop
// it also cancels an armed flush.
func (l *eventLog) flushHeld(s *Silo, stopping bool) {
	l.mu.Lock()
	if l.flush != nil && stopping {
		l.flush.Stop()
	}
	l.flush = nil
	l.armed.Store(false)
	l.mu.Unlock()
	var attrs []slog.Attr
	if p := l.sample.Swap(nil); p != nil {
		attrs = *p
	}
	if l.held.Load() > 0 {
		l.next.Store(s.cfg.clock.Now().UnixNano() + int64(eventLogInterval))
		l.write(s, attrs)
	}
}

// write logs the occurrences held so far, with attrs describing one of them.
func (l *eventLog) write(s *Silo, attrs []slog.Attr) {
	n := l.held.Swap(0)
	if n == 0 {
		return
	}
	all := make([]slog.Attr, 0, len(attrs)+1)
	all = append(all, slog.Int64("count", n))
	all = append(all, attrs...)
	s.log.LogAttrs(context.Background(), l.level, l.msg, all...)
}
