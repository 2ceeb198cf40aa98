package quark_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

func TestSingleActivationUnderConcurrentFirstCalls(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var activated atomic.Int64
		h := &hooks{activate: func(context.Context, *probe) error { activated.Add(1); return nil }}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		// 1,000 concurrent first calls to one key, and to widen the window
		// for a race between lookup and creation, 50 more keys with 100
		// concurrent first calls each.
		const keys, callersPerKey = 51, 100
		var wg sync.WaitGroup
		start := make(chan struct{})
		call := func(key int64) {
			<-start
			if _, err := testactors.NewProbeRef(s, quark.IntKey(key)).Run(context.Background(), "x"); err != nil {
				t.Error(err)
			}
		}
		for range 1000 {
			wg.Go(func() { call(0) })
		}
		for k := int64(1); k < keys; k++ {
			for range callersPerKey {
				wg.Go(func() { call(k) })
			}
		}
		close(start)
		wg.Wait()
		if n := h.created.Load(); n != keys {
			t.Fatalf("factory called %d times for %d keys", n, keys)
		}
		if n := activated.Load(); n != keys {
			t.Fatalf("OnActivate ran %d times for %d keys", n, keys)
		}
		if n := s.Stats().Activations; n != keys {
			t.Fatalf("%d activations for %d keys", n, keys)
		}
	})
}

func TestOnActivateFailureLeavesNoActivation(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		boom := errors.New("no such account")
		var fail atomic.Bool
		fail.Store(true)
		h := &hooks{activate: func(context.Context, *probe) error {
			if fail.Load() {
				return boom
			}
			return nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.IntKey(7))
		_, err := ref.Run(context.Background(), "x")
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the OnActivate error", err)
		}
		if !strings.Contains(err.Error(), "testactors.Probe/7") {
			t.Errorf("error %q does not name the actor", err)
		}
		if n := s.Stats().Activations; n != 0 {
			t.Fatalf("%d activations left after failed activation", n)
		}
		fail.Store(false)
		if got, err := ref.Run(context.Background(), "again"); err != nil || got != "again" {
			t.Fatalf("after recovery: %q, %v", got, err)
		}
		if n := h.created.Load(); n != 2 {
			t.Fatalf("factory called %d times, want 2 (one per activation attempt)", n)
		}
	})
}

func TestOnActivateFailureFailsQueuedCalls(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	h := &hooks{activate: func(context.Context, *probe) error {
		once.Do(func() { close(entered) })
		<-release
		return quark.NewError(quark.CodeUnavailable, "backing store down")
	}}
	s := newSilo(t, registerProbes(h))
	ref := testactors.NewProbeRef(s, quark.StringKey("k"))
	errs := make(chan error, 4)
	go func() { _, err := ref.Run(context.Background(), "first"); errs <- err }()
	<-entered
	for range 3 {
		go func() { _, err := ref.Run(context.Background(), "queued"); errs <- err }()
	}
	close(release)
	for range 4 {
		if err := <-errs; quark.CodeOf(err) != quark.CodeUnavailable {
			t.Errorf("err = %v, want the activation's unavailable error", err)
		}
	}
}

func TestPanicIsolation(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
			if step == "panic" {
				panic("ledger corrupt")
			}
			return step, nil
		}}
		var deactivated atomic.Int64
		h.deactivate = func(*probe, quark.DeactivationReason) { deactivated.Add(1) }
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("p"))
		other := testactors.NewProbeRef(s, quark.StringKey("other"))
		if _, err := other.Run(context.Background(), "warm"); err != nil {
			t.Fatal(err)
		}
		if _, err := ref.Run(context.Background(), "warm"); err != nil {
			t.Fatal(err)
		}
		_, err := ref.Run(context.Background(), "panic")
		if quark.CodeOf(err) != quark.CodePanic {
			t.Fatalf("err = %v, want CodePanic", err)
		}
		for _, want := range []string{"testactors.Probe/p", "Run", "ledger corrupt"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("panic error %q does not mention %q", err, want)
			}
		}
		waitFor(t, "discard", func() bool { return s.Stats().Activations == 1 })
		if deactivated.Load() != 0 {
			t.Error("OnDeactivate ran on a discarded activation")
		}
		// The silo keeps serving, and the next call gets a fresh activation.
		if got, err := ref.Run(context.Background(), "after"); err != nil || got != "after" {
			t.Fatalf("after panic: %q, %v", got, err)
		}
		if got, err := other.Run(context.Background(), "still"); err != nil || got != "still" {
			t.Fatalf("other actor: %q, %v", got, err)
		}
		if n := h.created.Load(); n != 3 {
			t.Fatalf("factory called %d times, want 3", n)
		}
	})
}

func TestDeactivateOnIdle(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		reasons := make(chan quark.DeactivationReason, 2)
		h := &hooks{
			run: func(_ context.Context, p *probe, step string) (string, error) {
				if step == "bye" {
					p.a.DeactivateOnIdle()
				}
				return step, nil
			},
			deactivate: func(_ *probe, r quark.DeactivationReason) { reasons <- r },
		}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("d"))
		if _, err := ref.Run(context.Background(), "bye"); err != nil {
			t.Fatal(err)
		}
		if r := <-reasons; r != quark.ReasonRequested {
			t.Fatalf("reason %v, want requested", r)
		}
		waitFor(t, "deactivation", func() bool { return s.Stats().Activations == 0 })
		if _, err := ref.Run(context.Background(), "hello"); err != nil {
			t.Fatal(err)
		}
		if n := h.created.Load(); n != 2 {
			t.Fatalf("factory called %d times, want 2", n)
		}
	})
}

func TestActivationID(t *testing.T) {
	got := make(chan quark.ID, 1)
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		got <- p.a.ID()
		return step, nil
	}}
	s := newSilo(t, registerProbes(h))
	ref := testactors.NewProbeRef(s, quark.StringKey("me"))
	if _, err := ref.Run(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if id := <-got; id != ref.ID() || id.String() != "testactors.Probe/me" {
		t.Fatalf("activation ID %v, ref ID %v", id, ref.ID())
	}
}
