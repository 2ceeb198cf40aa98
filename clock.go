package quark

import "time"

// Clock is the time source for the runtime's scheduling decisions: idle
// collection now, timers and reminders as they arrive. The default is the
// system clock; quarktest.Clock is a fake that tests advance by hand.
// Call deadlines are not scheduling decisions: they use real time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless the
	// returned ClockTimer is stopped first. A fake clock may call f from the
	// goroutine that advances it.
	AfterFunc(d time.Duration, f func()) ClockTimer
}

// ClockTimer is a pending AfterFunc call.
type ClockTimer interface {
	// Stop prevents the call if it has not started, reporting whether it
	// did so.
	Stop() bool
}

type systemClock struct{}

func (systemClock) Now() time.Time                                 { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) ClockTimer { return time.AfterFunc(d, f) }
