package quark

import (
	"time"

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

// OnRoute makes s call f with the target and method name of every message
// its routing step decides on. Set it before s starts; f runs on the
// routing goroutine and must be safe for concurrent use.
func OnRoute(s *Silo, f func(target ID, method string)) {
	s.routeHook = func(e *Envelope) { f(e.target, e.msg.Method().Name) }
}
