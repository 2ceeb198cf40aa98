package quark_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// fullProbe returns a probe whose mailbox (of size 1) is full: its actor
// is held in a turn until release is closed, and one message waits.
func fullProbe(t *testing.T, opts ...quark.SiloOption) (ref testactors.ProbeRef, s *quark.Silo, release chan struct{}) {
	t.Helper()
	entered := make(chan struct{}, 1)
	release = make(chan struct{})
	h := &hooks{tell: func(ctx context.Context, p *probe, step string) error {
		if step == "hold" {
			entered <- struct{}{}
			<-release
		}
		return nil
	}}
	s = newSilo(t, registerProbes(h, quark.WithMailboxSize(1)), opts...)
	ref = testactors.NewProbeRef(s, quark.StringKey("full"))
	ctx := context.Background()
	if err := ref.Tell(ctx, "hold"); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := ref.Tell(ctx, "queued"); err != nil {
		t.Fatal(err)
	}
	return ref, s, release
}

// A one-way message refused by a full mailbox costs no allocation: a flood
// of them is counted, not paid for.
func TestFullMailboxRefusalAllocatesNothing(t *testing.T) {
	ref, s, release := fullProbe(t)
	defer close(release)
	ctx := context.Background()
	before := s.Stats().DroppedOneWay
	allocs := testing.AllocsPerRun(1000, func() {
		if err := ref.Tell(ctx, "x"); quark.CodeOf(err) != quark.CodeOverloaded {
			t.Fatalf("Tell to a full mailbox: %v, want CodeOverloaded", err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a refused one-way message costs %.1f allocations, want 0", allocs)
	}
	if got := s.Stats().DroppedOneWay - before; got != 1001 {
		t.Fatalf("DroppedOneWay grew by %d for 1001 refusals", got)
	}
}

// quark.WaitForRoom makes a one-way send wait for room in a full mailbox,
// within the context's deadline, instead of being refused.
func TestWaitForRoom(t *testing.T) {
	ref, s, release := fullProbe(t)
	// No room by the deadline: refused, as without waiting, and counted.
	ctx, cancel := context.WithTimeout(quark.WaitForRoom(context.Background()), 50*time.Millisecond)
	defer cancel()
	if err := ref.Tell(ctx, "late"); quark.CodeOf(err) != quark.CodeOverloaded {
		t.Fatalf("no room by the deadline: %v, want CodeOverloaded", err)
	}
	if got := s.Stats().DroppedOneWay; got != 1 {
		t.Fatalf("DroppedOneWay = %d, want 1", got)
	}
	// Room appears while the sender waits: the message is taken.
	done := make(chan error, 1)
	w := &watchedCtx{Context: quark.WaitForRoom(context.Background()), asked: make(chan struct{})}
	go func() { done <- ref.Tell(w, "waited") }()
	select {
	case <-w.asked: // the sender waits on its context
	case err := <-done:
		t.Fatalf("send to a full mailbox returned %v without waiting for room", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("send that waited for room: %v", err)
	}
	if got := s.Stats().DroppedOneWay; got != 1 {
		t.Fatalf("DroppedOneWay = %d after the waiting send, want 1", got)
	}
}

// watchedCtx tells when Done is first asked for: a sender waiting on it.
type watchedCtx struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (w *watchedCtx) Done() <-chan struct{} {
	w.once.Do(func() { close(w.asked) })
	return w.Context.Done()
}
