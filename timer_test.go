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
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		if step == "start" {
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
		waitFor(t, "the tick to run", func() bool { return ticks.Load() > prev || s.Stats().Activations == 0 })
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
