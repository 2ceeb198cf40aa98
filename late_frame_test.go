package quark_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/transport"
)

// holdingTransport holds the first one-way Call frame sent on a connection
// it dialled in Send, after the runtime numbered it, until release is
// closed: a sender descheduled, or waiting for flow control, while others
// send.
type holdingTransport struct {
	transport.Transport
	first         atomic.Bool
	held, release chan struct{}
}

func (t *holdingTransport) Dial(ctx context.Context, addr string, h transport.Handler) (transport.Conn, error) {
	c, err := t.Transport.Dial(ctx, addr, h)
	if err != nil {
		return nil, err
	}
	return holdingConn{c, t}, nil
}

type holdingConn struct {
	transport.Conn
	t *holdingTransport
}

func (c holdingConn) Send(frame []byte) error {
	if wire.IsOneWay(frame) && c.t.first.CompareAndSwap(false, true) {
		close(c.t.held)
		<-c.t.release
	}
	return c.Conn.Send(frame)
}

// TestLateOneWayFrameRuns holds one one-way message between its numbering
// and its sending while more than 2¹⁶ later ones go through, and checks
// that it still runs once it is sent: the receiver does not take a late
// frame for a duplicate.
func TestLateOneWayFrameRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 70k messages")
	}
	net := quarktest.NewNetwork(quarktest.NewClock(time.Unix(0, 0)))
	t.Cleanup(func() { net.Close() })
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(*quark.Activation) testactors.Counter { return &total{} }))
	}, quark.WithTransport(net.Host("s1")), quark.WithListenAddress("s1"))
	ht := &holdingTransport{Transport: net.Host("c1"), held: make(chan struct{}), release: make(chan struct{})}
	ctx := context.Background()
	cl, err := quark.NewClient(ctx, quark.WithTransport(ht), quark.WithGateways("s1"), quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ref := testactors.NewCounterRef(cl, quark.IntKey(1))
	if _, err := ref.Add(ctx, 0); err != nil { // connect and activate
		t.Fatal(err)
	}
	heldDone := make(chan error)
	go func() { heldDone <- ref.Inc(ctx, 1) }()
	<-ht.held
	const others = 1<<16 + 10
	for range others {
		if err := ref.Inc(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	close(ht.release)
	if err := <-heldDone; err != nil {
		t.Fatal(err)
	}
	// Get follows every Inc on the connection and in the actor's mailbox.
	got, err := ref.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != others+1 {
		t.Fatalf("total %d, want %d; silo stats %+v", got, others+1, s.Stats())
	}
	if d := s.Stats().DuplicateCalls; d != 0 {
		t.Fatalf("%d frames taken for duplicates, want 0", d)
	}
}
