// Package quarktest is Quark's test kit: a fake Clock that tests advance by
// hand, so idle collection (and later timers and reminders) run without
// sleeping.
//
//	clk := quarktest.NewClock(time.Unix(0, 0))
//	silo, _ := quark.NewSilo(quark.WithClock(clk))
//	...
//	clk.Advance(20 * time.Minute) // the collector runs inside Advance
package quarktest
