// Package quarktest is Quark's test kit: a fake Clock that tests advance by
// hand. A silo given it with quark.WithClock runs idle collection, actor
// timers and reminders off that clock, so tests of them run without sleeping
// and assert exact times. Work that falls due runs inside Advance (or Set);
// a timer or reminder tick it posts is then delivered to its actor as usual,
// asynchronously.
//
//	clk := quarktest.NewClock(time.Unix(0, 0))
//	silo, _ := quark.NewSilo(quark.WithClock(clk))
//	...
//	clk.Advance(20 * time.Minute) // the collector, timers and reminders run inside Advance
//
// The clock is all the kit holds today: there is no in-process cluster or
// fault injection here.
package quarktest
