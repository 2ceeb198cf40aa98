package quark_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
)

// TestEveryPathGoesThroughRoute proves that the one routing step sees every
// way a message reaches an activation: a call, a one-way message, a message
// forwarded from an activation that went away, a reminder tick and a timer
// tick.
func TestEveryPathGoesThroughRoute(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	routed := map[string]int{}
	inDeact := make(chan struct{})
	release := make(chan struct{})
	ticked := make(chan string, 4)
	var once sync.Once
	h := &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "timer":
				p.a.RegisterTimer(time.Second, 0, func(context.Context) error {
					ticked <- "timer"
					return nil
				})
			case "remind":
				return step, p.a.RegisterReminder(ctx, "r", time.Minute, time.Hour)
			case "bye":
				p.a.DeactivateOnIdle()
			}
			return step, nil
		},
		tell: func(_ context.Context, _ *probe, step string) error {
			if step == "queued" {
				ticked <- "forwarded"
			}
			return nil
		},
		remind: func(context.Context, *probe, string, time.Time) error {
			ticked <- "reminder"
			return nil
		},
		deactivate: func(p *probe, _ quark.DeactivationReason) {
			if p.a.ID().Key != quark.StringKey("b") {
				return
			}
			once.Do(func() {
				close(inDeact)
				<-release
			})
		},
	}
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk), quark.WithStore(storage.NewMemory()),
		quark.WithCollectionAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	quark.OnRoute(s, func(id quark.ID, method string) {
		mu.Lock()
		routed[id.Key.String()+" "+method]++
		mu.Unlock()
	})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var unblock sync.Once
	t.Cleanup(func() {
		unblock.Do(func() { close(release) })
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	count := func(key, method string) int {
		mu.Lock()
		defer mu.Unlock()
		return routed[key+" "+method]
	}

	// A call and a one-way message.
	a := testactors.NewProbeRef(s, quark.StringKey("a"))
	if _, err := a.Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := a.Tell(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the one-way message to be routed", func() bool { return count("a", "Tell") == 1 })
	if n := count("a", "Run"); n != 1 {
		t.Fatalf("call routed %d times, want 1", n)
	}

	// A one-way message queued on an activation that is deactivating is
	// routed again, to its successor.
	b := testactors.NewProbeRef(s, quark.StringKey("b"))
	byeDone := make(chan error, 1)
	go func() { _, err := b.Run(ctx, "bye"); byeDone <- err }()
	<-inDeact
	if err := b.Tell(ctx, "queued"); err != nil {
		t.Fatal(err)
	}
	unblock.Do(func() { close(release) })
	if err := <-byeDone; err != nil {
		t.Fatal(err)
	}
	if got := <-ticked; got != "forwarded" {
		t.Fatalf("got %q, want the forwarded message", got)
	}
	if n := count("b", "Tell"); n != 2 {
		t.Fatalf("forwarded message routed %d times, want 2 (sent, then forwarded)", n)
	}

	// A timer tick.
	c := testactors.NewProbeRef(s, quark.StringKey("c"))
	if _, err := c.Run(ctx, "timer"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if got := <-ticked; got != "timer" {
		t.Fatalf("got %q, want the timer tick", got)
	}
	if n := count("c", "timer"); n != 1 {
		t.Fatalf("timer tick routed %d times, want 1", n)
	}

	// A reminder tick.
	d := testactors.NewProbeRef(s, quark.StringKey("d"))
	if _, err := d.Run(ctx, "remind"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if got := <-ticked; got != "reminder" {
		t.Fatalf("got %q, want the reminder tick", got)
	}
	if n := count("d", "ReceiveReminder"); n != 1 {
		t.Fatalf("reminder tick routed %d times, want 1", n)
	}
}
