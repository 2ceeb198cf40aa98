package quark_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/storage"
)

// flakyStateStore fails the next Write or Delete it is told to, with code, and
// passes every other call to the store it wraps.
type flakyStateStore struct {
	storage.Store
	code         quark.Code
	failWrites   atomic.Int32
	failDeletes  atomic.Int32
	writes, dels atomic.Int32 // calls that reached the wrapped store
}

func (f *flakyStateStore) Write(ctx context.Context, key string, value []byte, etag string) (string, error) {
	if f.failWrites.Add(-1) >= 0 {
		return "", quark.Errorf(f.code, "write %q: injected failure", key)
	}
	f.writes.Add(1)
	return f.Store.Write(ctx, key, value, etag)
}

func (f *flakyStateStore) Delete(ctx context.Context, key string, etag string) error {
	if f.failDeletes.Add(-1) >= 0 {
		return quark.Errorf(f.code, "delete %q: injected failure", key)
	}
	f.dels.Add(1)
	return f.Store.Delete(ctx, key, etag)
}

func TestFailedWriteIsNeverPersisted(t *testing.T) {
	for _, code := range []quark.Code{quark.CodeUnavailable, quark.CodeTimeout, quark.CodeConflict, quark.CodeInvalidArgument, quark.CodeCorrupt} {
		t.Run(code.String(), func(t *testing.T) {
			st := &flakyStateStore{Store: storage.NewMemory(), code: code}
			ctx := context.Background()
			var created atomic.Int64
			s := newSilo(t, func(s *quark.Silo) {
				must(testactors.RegisterCounter(s, func(a *quark.Activation) testactors.Counter {
					created.Add(1)
					return &durableCounter{a: a, state: quark.NewState[testactors.CounterState](a)}
				}))
			}, quark.WithStore(st))
			c := testactors.NewCounterRef(s, quark.StringKey("acct"))
			if n, err := c.Add(ctx, 1); err != nil || n != 1 {
				t.Fatalf("Add(1) = %d, %v", n, err)
			}
			// The README's pattern: change Value, return Write's error.
			st.failWrites.Store(1)
			if _, err := c.Add(ctx, 10); quark.CodeOf(err) != code {
				t.Fatalf("Add(10) with a failing write: %v, want %v", err, code)
			}
			if n, err := c.Add(ctx, 100); err != nil || n != 101 {
				t.Fatalf("Add(100) after a failed Add(10) = %d, %v; want 101: the failed call's change was kept", n, err)
			}
			if v, _ := counterValue(t, st.Store, counterID(quark.StringKey("acct")).StorageKey()); v.Total != 101 {
				t.Fatalf("stored %+v, want total 101", v)
			}
			if n := created.Load(); n != 2 {
				t.Fatalf("%d activations made, want 2: the failed write's activation was not replaced", n)
			}
		})
	}
}

// stateProbe is a Probe whose Run steps work on a State: "add N" adds N and
// writes, "add-twice N" adds N and writes, then writes again after a
// failure, "clear" clears; each returns the total.
type stateProbe struct {
	state *quark.State[testactors.CounterState]
}

func (p *stateProbe) Run(ctx context.Context, step string) (string, error) {
	op, arg, _ := strings.Cut(step, " ")
	n, _ := strconv.ParseInt(arg, 10, 64)
	var err error
	switch op {
	case "add":
		p.state.Value.Total += n
		err = p.state.Write(ctx)
	case "add-twice":
		p.state.Value.Total += n
		if err = p.state.Write(ctx); err != nil {
			err = p.state.Write(ctx)
		}
	case "clear":
		err = p.state.Clear(ctx)
	}
	return strconv.FormatInt(p.state.Value.Total, 10), err
}

func (p *stateProbe) Peek(context.Context, string) (string, error) {
	return strconv.FormatInt(p.state.Value.Total, 10), nil
}

func (p *stateProbe) Tell(context.Context, string) error { return nil }

func (p *stateProbe) Split(context.Context, string, int) (string, string, error) {
	return "", "", nil
}

func registerStateProbe(created *atomic.Int64) func(*quark.Silo) {
	return func(s *quark.Silo) {
		must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe {
			created.Add(1)
			return &stateProbe{state: quark.NewState[testactors.CounterState](a)}
		}))
	}
}

func TestFailedClearDeactivates(t *testing.T) {
	st := &flakyStateStore{Store: storage.NewMemory(), code: quark.CodeUnavailable}
	ctx := context.Background()
	var created atomic.Int64
	s := newSilo(t, registerStateProbe(&created), quark.WithStore(st))
	p := testactors.NewProbeRef(s, quark.StringKey("p"))
	if got, err := p.Run(ctx, "add 5"); err != nil || got != "5" {
		t.Fatalf("add 5: %q, %v", got, err)
	}
	st.failDeletes.Store(1)
	if _, err := p.Run(ctx, "clear"); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("clear with a failing delete: %v, want CodeUnavailable", err)
	}
	if got, err := p.Run(ctx, "add 1"); err != nil || got != "6" {
		t.Fatalf("add 1 after the failed clear: %q, %v; want 6", got, err)
	}
	if n := created.Load(); n != 2 {
		t.Fatalf("%d activations made, want 2: the failed clear's activation was not replaced", n)
	}
}

func TestWriteAfterFailedWriteIsRefused(t *testing.T) {
	// Whether a failed write reached the store is unknown; the activation
	// writes nothing more and the next call reloads.
	st := &flakyStateStore{Store: storage.NewMemory(), code: quark.CodeUnavailable}
	ctx := context.Background()
	var created atomic.Int64
	s := newSilo(t, registerStateProbe(&created), quark.WithStore(st))
	p := testactors.NewProbeRef(s, quark.StringKey("p"))
	st.failWrites.Store(1)
	if _, err := p.Run(ctx, "add-twice 10"); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("a second write after a failed one: %v, want CodeUnavailable", err)
	}
	if n := st.writes.Load(); n != 0 {
		t.Fatalf("%d writes reached the store after the failed one", n)
	}
	if got, err := p.Run(ctx, "add 1"); err != nil || got != "1" {
		t.Fatalf("add 1 on a fresh activation: %q, %v; want 1", got, err)
	}
}

func TestNewStateOnStatelessWorkerIsRefused(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterStatelessProbe(s, func(a *quark.Activation) testactors.StatelessProbe {
			return &stateProbe{state: quark.NewState[testactors.CounterState](a)}
		}, quark.WithMaxWorkers(4)))
	}, quark.WithStore(st))
	ref := testactors.NewStatelessProbeRef(s, quark.StringKey("w"))
	// Several calls at once would start several workers; none may run.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := ref.Run(ctx, "add 1")
			if quark.CodeOf(err) != quark.CodeInvalidArgument || !strings.Contains(err.Error(), "stateless") {
				t.Errorf("a stateless worker with a State: %v, want CodeInvalidArgument naming the cause", err)
			}
		})
	}
	wg.Wait()
	if _, err := st.Read(ctx, quark.ID{Type: testactors.StatelessProbeType.Name, Key: quark.StringKey("w")}.StorageKey()); quark.CodeOf(err) != quark.CodeNotFound {
		t.Fatalf("a stateless worker stored state: %v", err)
	}
}

// stateLogBuffer collects a silo's log lines; the silo writes from several
// goroutines.
type stateLogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *stateLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *stateLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *stateLogBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestStateRefusalsAreLogged(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	writeLegacy(t, st, "testactors.Counter/7", 5)
	var logs stateLogBuffer
	s := newSilo(t, func(s *quark.Silo) {
		registerDurable(nil)(s)
		must(testactors.RegisterStatelessProbe(s, func(a *quark.Activation) testactors.StatelessProbe {
			return &stateProbe{state: quark.NewState[testactors.CounterState](a)}
		}))
	}, quark.WithStore(st), quark.WithLogger(logs.logger()))
	if _, err := testactors.NewCounterRef(s, quark.IntKey(7)).Get(ctx); err == nil {
		t.Fatal("an ambiguous legacy record loaded")
	}
	if _, err := testactors.NewStatelessProbeRef(s, quark.StringKey("w")).Run(ctx, "add 1"); err == nil {
		t.Fatal("a stateless worker with a State ran")
	}
	out := logs.String()
	for _, want := range []string{`record=testactors.Counter/7`, `storage_key=testactors.Counter:int:7`, `//quark:stateless worker type`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not hold %q:\n%s", want, out)
		}
	}
}
