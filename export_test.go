package quark

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
