package quark_test

import (
	"context"
	"sync"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/storage"
	"github.com/tinylib/msgp/msgp"
)

// durableCounter is a Counter whose total lives in a quark.State.
type durableCounter struct {
	a     *quark.Activation
	state *quark.State[testactors.CounterState]
	// hold, when set, blocks Add between changing the state and writing it.
	hold func()
}

func (c *durableCounter) Add(ctx context.Context, n int64) (int64, error) {
	c.state.Value.Total += n
	c.state.Value.Updates++
	if c.hold != nil {
		c.hold()
	}
	return c.state.Value.Total, c.state.Write(ctx)
}

func (c *durableCounter) Get(context.Context) (int64, error) { return c.state.Value.Total, nil }

func (c *durableCounter) Inc(ctx context.Context, n int64) error {
	_, err := c.Add(ctx, n)
	return err
}

func registerDurable(hold func()) func(*quark.Silo) {
	return func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(a *quark.Activation) testactors.Counter {
			return &durableCounter{a: a, state: quark.NewState[testactors.CounterState](a), hold: hold}
		}))
	}
}

func TestStateSurvivesDeactivationAndSilos(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	s1 := newSilo(t, registerDurable(nil), quark.WithStore(st))
	c := testactors.NewCounterRef(s1, quark.StringKey("c"))
	if _, err := c.Add(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := s1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := newSilo(t, registerDurable(nil), quark.WithStore(st))
	c2 := testactors.NewCounterRef(s2, quark.StringKey("c"))
	if n, err := c2.Add(ctx, 1); err != nil || n != 6 {
		t.Fatalf("after a new silo: %d, %v; want 6", n, err)
	}
}

func TestConcurrentActivationsConflict(t *testing.T) {
	// Two silos on one store both activate the same actor, as during a
	// partition; both change the state from the same version.
	st := storage.NewMemory()
	ctx := context.Background()
	var reached sync.WaitGroup
	reached.Add(2)
	release := make(chan struct{})
	hold := func() { reached.Done(); <-release }
	s1 := newSilo(t, registerDurable(hold), quark.WithStore(st))
	s2 := newSilo(t, registerDurable(hold), quark.WithStore(st))
	key := quark.StringKey("dup")
	type result struct {
		n   int64
		err error
	}
	results := make(chan result, 2)
	for _, s := range []*quark.Silo{s1, s2} {
		go func() {
			n, err := testactors.NewCounterRef(s, key).Add(ctx, 10)
			results <- result{n, err}
		}()
	}
	reached.Wait() // both have loaded the empty state and added
	close(release)
	var ok, conflict int
	for range 2 {
		r := <-results
		switch quark.CodeOf(r.err) {
		case quark.CodeOK:
			ok++
		case quark.CodeConflict:
			conflict++
		default:
			t.Fatalf("unexpected: %v", r.err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("%d writes succeeded and %d conflicted; want exactly one of each", ok, conflict)
	}
	rec, err := st.Read(ctx, counterID(quark.StringKey("dup")).StorageKey())
	if err != nil {
		t.Fatal(err)
	}
	var stored testactors.CounterState
	if err := stored.UnmarshalQuark(rec.Value); err != nil || stored.Total != 10 || stored.Updates != 1 {
		t.Fatalf("stored %+v, %v; want the one winning write", stored, err)
	}
	// The losing activation was deactivated after its turn: its next call
	// loads the stored state afresh and builds on it.
	waitFor(t, "the losing activation to go", func() bool {
		return s1.Stats().Activations+s2.Stats().Activations == 1
	})
}

func TestCorruptStateFailsActivationAndIsLeftAlone(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	garbage := []byte{0x81, 0xa5, 'T', 'o', 't', 'a', 'l', 0xa3, 'x', 'y', 'z'} // Total: "xyz"
	if _, err := st.Write(ctx, counterID(quark.StringKey("bad")).StorageKey(), garbage, ""); err != nil {
		t.Fatal(err)
	}
	s := newSilo(t, registerDurable(nil), quark.WithStore(st))
	_, err := testactors.NewCounterRef(s, quark.StringKey("bad")).Get(ctx)
	if quark.CodeOf(err) != quark.CodeCorrupt {
		t.Fatalf("activation over damaged state: %v, want CodeCorrupt", err)
	}
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("%d activations left after a failed load", n)
	}
	rec, err := st.Read(ctx, counterID(quark.StringKey("bad")).StorageKey())
	if err != nil || string(rec.Value) != string(garbage) {
		t.Fatalf("the stored bytes changed: %x, %v", rec.Value, err)
	}
}

func TestStateWithoutStore(t *testing.T) {
	s := newSilo(t, registerDurable(nil))
	_, err := testactors.NewCounterRef(s, quark.StringKey("x")).Get(context.Background())
	if quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("state with no store: %v, want CodeInvalidArgument", err)
	}
}

func TestStateWrittenByAnOlderVersionLoads(t *testing.T) {
	// A value an older CounterState wrote: Total, plus a field since
	// removed, and no Updates field yet.
	old := msgp.AppendMapHeader(nil, 2)
	old = msgp.AppendString(old, "Legacy")
	old = msgp.AppendString(old, "from v1")
	old = msgp.AppendString(old, "Total")
	old = msgp.AppendInt64(old, 41)
	st := storage.NewMemory()
	ctx := context.Background()
	if _, err := st.Write(ctx, counterID(quark.StringKey("v1")).StorageKey(), old, ""); err != nil {
		t.Fatal(err)
	}
	s := newSilo(t, registerDurable(nil), quark.WithStore(st))
	if n, err := testactors.NewCounterRef(s, quark.StringKey("v1")).Add(ctx, 1); err != nil || n != 42 {
		t.Fatalf("Add over an old value: %d, %v; want 42", n, err)
	}
}

func TestStateJSON(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(a *quark.Activation) testactors.Counter {
			return &durableCounter{a: a, state: quark.NewState[testactors.CounterState](a, quark.WithJSON())}
		}))
	}, quark.WithStore(st))
	if _, err := testactors.NewCounterRef(s, quark.StringKey("j")).Add(ctx, 3); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Read(ctx, counterID(quark.StringKey("j")).StorageKey())
	if err != nil || string(rec.Value) != `{"Total":3,"Updates":1,"Blob":null}` {
		t.Fatalf("stored %s, %v; want JSON", rec.Value, err)
	}
	if _, err := st.Write(ctx, counterID(quark.StringKey("k")).StorageKey(), []byte("{not json"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := testactors.NewCounterRef(s, quark.StringKey("k")).Get(ctx); quark.CodeOf(err) != quark.CodeCorrupt {
		t.Fatalf("damaged JSON state: %v, want CodeCorrupt", err)
	}
}
