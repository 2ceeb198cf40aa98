package quark_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

func TestTimers(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var ticks atomic.Int64
	var in inside
	var mu sync.Mutex
	var timer *quark.ActorTimer
	var tickTimes []time.Time
	h := &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			in.enter()
			defer in.leave()
			switch step {
			case "start":
				tm := p.a.RegisterTimer(time.Second, 10*time.Second, func(context.Context) error {
					in.enter()
					defer in.leave()
					p.n++ // unsynchronised: ticks and calls must not overlap
					mu.Lock()
					tickTimes = append(tickTimes, clk.Now())
					mu.Unlock()
					ticks.Add(1)
					return nil
				})
				mu.Lock()
				timer = tm
				mu.Unlock()
			case "stop":
				mu.Lock()
				timer.Stop()
				mu.Unlock()
			}
			return step, nil
		},
	}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithCollectionAge(time.Hour))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	ctx := context.Background()
	if _, err := ref.Run(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	if ticks.Load() != 0 {
		t.Fatal("ticked before its due time")
	}
	clk.Advance(time.Second)
	waitFor(t, "first tick", func() bool { return ticks.Load() == 1 })
	for i := 2; i <= 4; i++ {
		// Calls interleave with ticks but never overlap them.
		for range 20 {
			if _, err := ref.Run(ctx, "x"); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(10 * time.Second)
		waitFor(t, "periodic tick", func() bool { return ticks.Load() == int64(i) })
	}
	mu.Lock()
	for i := 1; i < len(tickTimes); i++ {
		if d := tickTimes[i].Sub(tickTimes[i-1]); d != 10*time.Second {
			t.Fatalf("ticks %d and %d were %v apart, want the period", i-1, i, d)
		}
	}
	mu.Unlock()
	if _, err := ref.Run(ctx, "stop"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := ref.Run(ctx, "x"); err != nil { // a turn after any queued tick
		t.Fatal(err)
	}
	if n := ticks.Load(); n != 4 {
		t.Fatalf("%d ticks after Stop, want 4", n)
	}
	if m := in.max.Load(); m != 1 {
		t.Fatalf("a tick overlapped a call: %d at once", m)
	}
}

func TestTimerDiesWithActivationAndDoesNotKeepItAlive(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var ticks atomic.Int64
	var act atomic.Pointer[quark.Activation]
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		if step == "start" {
			act.Store(p.a)
			// Due half-way between collections, so a tick is never in
			// flight at the instant the fake clock runs the collector.
			p.a.RegisterTimer(30*time.Second, time.Minute, func(context.Context) error { ticks.Add(1); return nil })
		}
		return step, nil
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk),
		quark.WithCollectionAge(5*time.Minute), quark.WithCollectionQuantum(time.Minute))
	if _, err := testactors.NewProbeRef(s, quark.StringKey("t")).Run(context.Background(), "start"); err != nil {
		t.Fatal(err)
	}
	// Ticks every minute, but the activation is idle: it is collected after
	// the collection age, and its timer stops with it.
	for i := 0; i < 20 && s.Stats().Activations > 0; i++ {
		prev := ticks.Load()
		clk.Advance(30 * time.Second) // a tick falls due
		// The callback counts its tick before the runtime schedules the
		// next one at the clock's time then: wait for both, or the next
		// Advance would move the schedule.
		waitFor(t, "the tick to run and the next to be scheduled", func() bool {
			_, scheduled := quark.TimerCounts(act.Load())
			return ticks.Load() > prev && scheduled == 1 || s.Stats().Activations == 0
		})
		clk.Advance(30 * time.Second) // the collector looks
	}
	if s.Stats().Activations != 0 {
		t.Fatal("an actor whose only activity is its timer was not collected")
	}
	n := ticks.Load()
	// A due tick of a dead activation is dropped inside Advance, never
	// queued, so nothing can still arrive after it returns.
	clk.Advance(10 * time.Minute)
	if got := ticks.Load(); got != n {
		t.Fatalf("the timer ticked %d more times after its activation was collected", got-n)
	}
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("a tick re-activated the actor: %d activations", n)
	}
}

// TestPeriodicTimerSurvivesAFullMailbox: a tick that meets a full mailbox is
// skipped and counted; the timer keeps its schedule.
func TestPeriodicTimerSurvivesAFullMailbox(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var ticks, told atomic.Int64
	entered := make(chan struct{})
	release := make(chan struct{})
	h := &hooks{
		run: func(_ context.Context, p *probe, step string) (string, error) {
			switch step {
			case "start":
				p.a.RegisterTimer(time.Second, 10*time.Second, func(context.Context) error { ticks.Add(1); return nil })
			case "block":
				close(entered)
				<-release
			}
			return step, nil
		},
		tell: func(context.Context, *probe, string) error { told.Add(1); return nil },
	}
	s := newSilo(t, registerProbes(h, quark.WithMailboxSize(2)), quark.WithClock(clk), quark.WithCollectionAge(time.Hour))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	ctx := context.Background()
	if _, err := ref.Run(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error)
	go func() {
		_, err := ref.Run(ctx, "block")
		blocked <- err
	}()
	<-entered
	for range 2 { // the mailbox's two slots
		if err := ref.Tell(ctx, "fill"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Second) // the tick meets the full mailbox
	if n := s.Stats().SkippedTimerTicks; n != 1 {
		t.Fatalf("%d skipped ticks, want 1", n)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mailbox to empty", func() bool { return told.Load() == 2 })
	clk.Advance(10 * time.Second)                // one period after the skipped tick
	if _, err := ref.Run(ctx, "x"); err != nil { // a turn after any queued tick
		t.Fatal(err)
	}
	if n := ticks.Load(); n != 1 {
		t.Fatalf("%d ticks after the skipped one, want 1: the timer died", n)
	}
}

// TestFiredOneShotTimersAreForgotten: a one-shot timer that has fired leaves
// nothing in its activation or in the silo's scheduler.
func TestFiredOneShotTimersAreForgotten(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	const n = 10_000
	var ticks atomic.Int64
	var act *quark.Activation
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		switch step {
		case "many":
			act = p.a
			for range n {
				p.a.RegisterTimer(time.Second, 0, func(context.Context) error { ticks.Add(1); return nil })
			}
		case "stop-one":
			tm := p.a.RegisterTimer(time.Hour, 0, func(context.Context) error { return nil })
			tm.Stop()
		}
		return step, nil
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithCollectionAge(time.Hour))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	ctx := context.Background()
	for _, step := range []string{"many", "stop-one"} {
		if _, err := ref.Run(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Second)
	if _, err := ref.Run(ctx, "x"); err != nil { // a turn after the queued ticks
		t.Fatal(err)
	}
	if got := ticks.Load(); got != n {
		t.Fatalf("%d ticks, want %d", got, n)
	}
	if listed, scheduled := quark.TimerCounts(act); listed != 0 || scheduled != 0 {
		t.Fatalf("after the one-shot timers fired or stopped: %d in the activation's list, %d scheduled; want 0 and 0",
			listed, scheduled)
	}
}

// TestTimersOfAFailedActivationAreForgotten: timers registered by an
// OnActivate that then fails do not stay scheduled.
func TestTimersOfAFailedActivationAreForgotten(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var act *quark.Activation
	var ticks atomic.Int64
	h := &hooks{activate: func(_ context.Context, p *probe) error {
		act = p.a
		p.a.RegisterTimer(time.Hour, time.Hour, func(context.Context) error { ticks.Add(1); return nil })
		return quark.Errorf(quark.CodeUnavailable, "no")
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk))
	if _, err := testactors.NewProbeRef(s, quark.StringKey("t")).Run(context.Background(), "x"); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("call: %v, want the activation's error", err)
	}
	if listed, scheduled := quark.TimerCounts(act); listed != 0 || scheduled != 0 {
		t.Fatalf("after OnActivate failed: %d timers listed, %d scheduled; want 0 and 0", listed, scheduled)
	}
	clk.Advance(2 * time.Hour)
	if n := ticks.Load(); n != 0 {
		t.Fatalf("a timer of a failed activation ticked %d times", n)
	}
}

// TestNoTimerTickAfterStopReturned: a tick queued behind a turn that
// outlives Stop's deadline does not run once Stop has returned.
func TestNoTimerTickAfterStopReturned(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var ticks atomic.Int64
	entered := make(chan struct{})
	release := make(chan struct{})
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		switch step {
		case "start":
			p.a.RegisterTimer(time.Second, time.Second, func(context.Context) error { ticks.Add(1); return nil })
		case "block":
			close(entered)
			<-release
		}
		return step, nil
	}}
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk), quark.WithCollectionAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	if _, err := ref.Run(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		ref.Run(ctx, "block")
	}()
	<-entered
	clk.Advance(time.Second) // a tick queues behind the blocked turn
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := s.Stop(short); quark.CodeOf(err) != quark.CodeTimeout {
		t.Fatalf("stop with a blocked turn: %v, want CodeTimeout", err)
	}
	close(release)
	<-blocked
	if err := s.Stop(ctx); err != nil { // waits for the activation to go
		t.Fatal(err)
	}
	if n := ticks.Load(); n != 0 {
		t.Fatalf("%d ticks ran after Stop returned", n)
	}
	clk.Advance(time.Hour)
	if n := ticks.Load(); n != 0 {
		t.Fatalf("%d ticks ran after Stop returned", n)
	}
}
