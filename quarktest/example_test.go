package quarktest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/transport"
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
	ref := testactors.NewCounterRef(silo, quark.StringKey("t"))
	ref.Get(ctx)
	clk.Advance(time.Second)
	fmt.Println("tick at", <-ticks)
	// The period counts from the end of the callback, and the next tick is
	// scheduled in the tick's turn: a call (the next turn) waits for it,
	// so the clock does not move on before the tick is scheduled.
	ref.Get(ctx)
	clk.Advance(10 * time.Second)
	fmt.Println("tick at", <-ticks)
	// Output:
	// tick at 1s
	// tick at 11s
}

// frames is a transport.Handler that passes each frame on a channel.
type frames chan string

func (f frames) Frame(b []byte) { f <- string(b) }
func (f frames) Closed(error)   {}

// Two hosts on an in-memory network: frames from the client to the silo
// lose one to a Drop and wait for the fake clock under a Delay.
func ExampleNetwork() {
	clk := quarktest.NewClock(time.Unix(0, 0))
	net := quarktest.NewNetwork(clk)
	defer net.Close()

	got := make(frames, 10)
	l, err := net.Host("silo").Listen("", func(transport.Conn) transport.Handler { return got })
	if err != nil {
		panic(err)
	}
	defer l.Close()
	conn, err := net.Host("client").Dial(context.Background(), l.Addr(), make(frames, 10))
	if err != nil {
		panic(err)
	}

	net.Drop("client", "silo", func(f []byte) bool { return string(f) == "two" }, 1)
	net.Delay("client", "silo", time.Second)
	for _, f := range []string{"one", "two", "three"} {
		conn.Send([]byte(f))
	}
	clk.Advance(time.Second) // the held frames fall due
	fmt.Println(<-got, <-got)
	s := net.Stats("client", "silo")
	fmt.Println("sent", s.Sent, "dropped", s.Dropped)

	_, err = net.Host("client").Dial(context.Background(), "nowhere", make(frames))
	fmt.Println(errors.Is(err, quarktest.ErrRefused))
	// Output:
	// one three
	// sent 3 dropped 1
	// true
}
