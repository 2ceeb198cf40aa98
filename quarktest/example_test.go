package quarktest_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

// ticker is a Counter whose activation starts a timer that reports each
// tick's time on a channel.
type ticker struct {
	a     *quark.Activation
	clk   *quarktest.Clock
	ticks chan<- time.Duration
	start time.Time
}

func (c *ticker) OnActivate(context.Context) error {
	c.a.RegisterTimer(time.Second, 10*time.Second, func(context.Context) error {
		c.ticks <- c.clk.Now().Sub(c.start)
		return nil
	})
	return nil
}

func (c *ticker) Add(context.Context, int64) (int64, error) { return 0, nil }
func (c *ticker) Get(context.Context) (int64, error)        { return 0, nil }
func (c *ticker) Inc(context.Context, int64) error          { return nil }

// The fake clock drives an actor timer: each Advance delivers the ticks that
// fall due, with no sleeping. Reminders and idle collection run off the same
// clock.
func Example() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := quarktest.NewClock(start)
	silo, err := quark.NewSilo(quark.WithClock(clk), quark.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	ticks := make(chan time.Duration)
	testactors.RegisterCounter(silo, func(a *quark.Activation) testactors.Counter {
		return &ticker{a: a, clk: clk, ticks: ticks, start: start}
	})
	if err := silo.Start(ctx); err != nil {
		panic(err)
	}
	defer silo.Stop(ctx)

	// The first call activates the actor, which starts its timer.
	testactors.NewCounterRef(silo, quark.StringKey("t")).Get(ctx)
	clk.Advance(time.Second)
	fmt.Println("tick at", <-ticks)
	clk.Advance(10 * time.Second)
	fmt.Println("tick at", <-ticks)
	// Output:
	// tick at 1s
	// tick at 11s
}
