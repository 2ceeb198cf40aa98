package quark_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// inside tracks goroutines in user code of one activation.
type inside struct {
	now, max atomic.Int64
}

func (in *inside) enter() {
	n := in.now.Add(1)
	for {
		m := in.max.Load()
		if n <= m || in.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (in *inside) leave() { in.now.Add(-1) }

func TestTurnsNeverOverlap(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var in inside
		h := &hooks{
			run: func(_ context.Context, p *probe, step string) (string, error) {
				in.enter()
				defer in.leave()
				for range 3 {
					runtime.Gosched()
				}
				return step, nil
			},
			tell: func(_ context.Context, p *probe, _ string) error {
				in.enter()
				defer in.leave()
				runtime.Gosched()
				return nil
			},
			peek: func(_ context.Context, p *probe, step string) (string, error) {
				in.enter()
				defer in.leave()
				runtime.Gosched()
				return step, nil
			},
		}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("turns"))
		var wg sync.WaitGroup
		for g := range 32 {
			wg.Go(func() {
				for i := range 100 {
					var err error
					switch (g + i) % 3 {
					case 0:
						_, err = ref.Run(context.Background(), "w")
					case 1:
						err = ref.Tell(context.Background(), "t")
					default:
						// A readonly call may share its turn with other
						// readonly calls only, so it counts as exclusive
						// here when no other reader runs.
						_, err = ref.Run(context.Background(), "w")
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if m := in.max.Load(); m != 1 {
			t.Fatalf("%d goroutines were inside the actor at once, want 1", m)
		}
	})
}

func TestReadonlyTurnsShare(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		// Two readers meet at a barrier: they can pass only if both run at
		// once.
		var arrived sync.WaitGroup
		arrived.Add(2)
		h := &hooks{peek: func(ctx context.Context, _ *probe, step string) (string, error) {
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
				return step, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("r"))
		if _, err := ref.Run(context.Background(), "activate"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := ref.Peek(ctx, "r"); err != nil {
					t.Errorf("readers did not share a turn: %v", err)
				}
			})
		}
		wg.Wait()
	})
}

func TestReadonlyExcludesWriterAndDoesNotStarveIt(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var readers, writers atomic.Int64
		var bad atomic.Bool
		h := &hooks{
			peek: func(_ context.Context, _ *probe, step string) (string, error) {
				readers.Add(1)
				if writers.Load() != 0 {
					bad.Store(true)
				}
				runtime.Gosched()
				readers.Add(-1)
				return step, nil
			},
			run: func(_ context.Context, _ *probe, step string) (string, error) {
				writers.Add(1)
				if readers.Load() != 0 || writers.Load() != 1 {
					bad.Store(true)
				}
				runtime.Gosched()
				writers.Add(-1)
				return step, nil
			},
		}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("rw"))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := ref.Peek(context.Background(), "r"); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		// Writers get through while readers never stop coming.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for range 50 {
			if _, err := ref.Run(ctx, "w"); err != nil {
				t.Fatalf("writer starved: %v", err)
			}
		}
		close(stop)
		wg.Wait()
		if bad.Load() {
			t.Fatal("a writer overlapped another turn")
		}
	})
}

func TestReentrantReleasesTurnWhileWaiting(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "a->b":
				// A calls B, which calls back into A: the callback can run
				// only if A released its turn while waiting on B.
				got, err := testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->a")
				return "a(" + got + ")", err
			case "b->a":
				got, err := testactors.NewReentrantProbeRef(s, quark.StringKey("a")).Run(ctx, "leaf")
				return "b(" + got + ")", err
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		a := testactors.NewReentrantProbeRef(s, quark.StringKey("a"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					got, err := a.Run(ctx, "a->b")
					if err != nil || got != "a(b(leaf))" {
						t.Errorf("got %q, %v", got, err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestReentrantNeverRunsTwoGoroutinesInOneActivation(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var in inside
		var s *quark.Silo
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			if p.a.ID().Type != testactors.ReentrantProbeType.Name {
				return step, nil
			}
			in.enter()
			defer in.leave()
			p.n++ // unsynchronised: the race detector objects if turns overlap
			if step == "out" {
				in.leave()
				_, err := testactors.NewProbeRef(s, quark.StringKey("leaf")).Run(ctx, "x")
				in.enter()
				p.n++
				return step, err
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		a := testactors.NewReentrantProbeRef(s, quark.StringKey("solo"))
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := range 50 {
					step := "in"
					if (g+i)%2 == 0 {
						step = "out"
					}
					if _, err := a.Run(context.Background(), step); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if m := in.max.Load(); m != 1 {
			t.Fatalf("%d goroutines inside one reentrant activation at once", m)
		}
	})
}

func TestCycleDetection(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "self":
				return testactors.NewProbeRef(s, p.a.ID().Key).Run(ctx, "x")
			case "wrapped":
				// The chain survives the caller wrapping its context.
				ctx, cancel := context.WithCancel(context.WithValue(ctx, ctxKey{}, "v"))
				defer cancel()
				return testactors.NewProbeRef(s, p.a.ID().Key).Run(ctx, "x")
			case "a->b":
				return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->a")
			case "b->a":
				return testactors.NewProbeRef(s, quark.StringKey("a")).Run(ctx, "x")
			}
			return step, nil
		}}
		// A short call timeout: a missed cycle fails as CodeTimeout within a
		// second instead of hanging for the default 30s.
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(time.Second))
		// No deadline on the context: a cycle must fail at once, not hang.
		for _, tc := range []struct{ key, step string }{{"a", "a->b"}, {"s", "self"}, {"w", "wrapped"}} {
			// Activate first: detection must not depend on the call that
			// activates the actor.
			for _, k := range []string{tc.key, "b"} {
				if _, err := testactors.NewProbeRef(s, quark.StringKey(k)).Run(context.Background(), "warm"); err != nil {
					t.Fatal(err)
				}
			}
			_, err := testactors.NewProbeRef(s, quark.StringKey(tc.key)).Run(context.Background(), tc.step)
			if quark.CodeOf(err) != quark.CodeDeadlock {
				t.Fatalf("%s: err = %v, want CodeDeadlock", tc.step, err)
			}
		}
	})
}

func TestStatelessWorkersServeConcurrently(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		const workers = 4
		var in inside
		var arrived sync.WaitGroup
		arrived.Add(workers)
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			in.enter()
			defer in.leave()
			if step == "meet" {
				arrived.Done()
				arrived.Wait()
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h, quark.WithMaxWorkers(workers)), quark.WithInlineCalls(inline))
		ref := testactors.NewStatelessProbeRef(s, quark.IntKey(0))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				if _, err := ref.Run(ctx, "meet"); err != nil {
					t.Errorf("workers did not run at once: %v", err)
				}
			})
		}
		wg.Wait()
		for range 8 {
			wg.Go(func() {
				for range 100 {
					if _, err := ref.Run(ctx, "x"); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n := s.Stats().Activations; n > workers {
			t.Fatalf("%d activations, want at most %d", n, workers)
		}
		if m := in.max.Load(); m > workers || m < workers {
			t.Fatalf("%d calls ran at once, want %d", m, workers)
		}
	})
}

type ctxKey struct{}

// TestTurnExclusion blocks a first call inside the actor, lets everything
// settle (synctest.Wait: every goroutine of the bubble is blocked), and
// proves whether a second call has entered: never beside a writer, always
// beside a reader when it is a reader. Run with the fast path on, the first
// call holds its turn on the caller's goroutine (inline) and the second is
// queued; off, both go through the mailbox.
func TestTurnExclusion(t *testing.T) {
	type kind int
	const (
		writer kind = iota
		reader
		oneWay
	)
	cases := []struct {
		name          string
		first, second kind
		share         bool
	}{
		{"writer/writer", writer, writer, false},
		{"writer/reader", writer, reader, false},
		{"reader/writer", reader, writer, false},
		{"writer/one-way", writer, oneWay, false},
		{"reader/one-way", reader, oneWay, false},
		{"reader/reader", reader, reader, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				synctest.Test(t, func(t *testing.T) {
					var entered atomic.Int32
					release := make(chan struct{})
					var once sync.Once
					open := func() { once.Do(func() { close(release) }) }
					defer open() // a failed check must not leave calls blocked

					block := func(step string) string {
						if step == "warm" {
							return step
						}
						entered.Add(1)
						<-release
						return step
					}
					h := &hooks{
						run:  func(_ context.Context, _ *probe, step string) (string, error) { return block(step), nil },
						peek: func(_ context.Context, _ *probe, step string) (string, error) { return block(step), nil },
						tell: func(_ context.Context, _ *probe, step string) error { block(step); return nil },
					}
					s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
					ref := testactors.NewProbeRef(s, quark.StringKey("x"))
					if _, err := ref.Run(context.Background(), "warm"); err != nil {
						t.Fatal(err)
					}
					do := func(k kind) error {
						switch k {
						case reader:
							_, err := ref.Peek(context.Background(), "r")
							return err
						case oneWay:
							return ref.Tell(context.Background(), "t")
						}
						_, err := ref.Run(context.Background(), "w")
						return err
					}
					errs := make(chan error, 2)
					go func() { errs <- do(tc.first) }()
					synctest.Wait()
					if n := entered.Load(); n != 1 {
						t.Fatalf("first call: %d entered, want 1", n)
					}
					go func() { errs <- do(tc.second) }()
					synctest.Wait()
					want := int32(1)
					if tc.share {
						want = 2
					}
					if n := entered.Load(); n != want {
						t.Fatalf("while the first call holds its turn, %d calls are inside, want %d", n, want)
					}
					open()
					for range 2 {
						if err := <-errs; err != nil {
							t.Fatal(err)
						}
					}
					synctest.Wait()
					if n := entered.Load(); n != 2 {
						t.Fatalf("%d calls ran, want 2", n)
					}
				})
			})
		})
	}
}

// TestReentrantCallbackDuringOnActivate: a reentrant actor's OnActivate calls
// B, which calls back into the actor. OnActivate holds its turn during its
// calls, so the callback is a deadlock, reported at once (the short call
// timeout makes a missed detection fail in a second, as CodeTimeout). The
// failed activation leaves nothing behind: the next call activates afresh.
func TestReentrantCallbackDuringOnActivate(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		var callBack atomic.Bool
		callBack.Store(true)
		h := &hooks{
			activate: func(ctx context.Context, p *probe) error {
				if p.a.ID().Type != testactors.ReentrantProbeType.Name || !callBack.Load() {
					return nil
				}
				_, err := testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->a")
				return err
			},
			run: func(ctx context.Context, p *probe, step string) (string, error) {
				if step == "b->a" {
					return testactors.NewReentrantProbeRef(s, quark.StringKey("a")).Run(ctx, "leaf")
				}
				return step, nil
			},
		}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(time.Second))
		a := testactors.NewReentrantProbeRef(s, quark.StringKey("a"))
		if _, err := a.Run(context.Background(), "x"); quark.CodeOf(err) != quark.CodeDeadlock {
			t.Fatalf("call back during OnActivate: err = %v, want CodeDeadlock", err)
		}
		callBack.Store(false)
		if got, err := a.Run(context.Background(), "x"); err != nil || got != "x" {
			t.Fatalf("after the failed activation: %q, %v", got, err)
		}
	})
}

// TestReadonlyChainRejoins: a readonly method of A calls B, which calls back a
// readonly method of A. Readonly turns share, so the callback joins the turn
// its own chain holds instead of failing with CodeDeadlock; a call back into
// an exclusive method is still a deadlock.
func TestReadonlyChainRejoins(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		h := &hooks{
			peek: func(ctx context.Context, p *probe, step string) (string, error) {
				switch step {
				case "a->b->peek":
					got, err := testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->peek")
					return "a(" + got + ")", err
				case "a->b->run":
					return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->run")
				}
				return step, nil
			},
			run: func(ctx context.Context, p *probe, step string) (string, error) {
				a := testactors.NewProbeRef(s, quark.StringKey("a"))
				switch step {
				case "b->peek":
					got, err := a.Peek(ctx, "leaf")
					return "b(" + got + ")", err
				case "b->run":
					return a.Run(ctx, "leaf")
				}
				return step, nil
			},
		}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(time.Second))
		a := testactors.NewProbeRef(s, quark.StringKey("a"))
		if got, err := a.Peek(context.Background(), "a->b->peek"); err != nil || got != "a(b(leaf))" {
			t.Fatalf("readonly chain: got %q, %v", got, err)
		}
		if _, err := a.Peek(context.Background(), "a->b->run"); quark.CodeOf(err) != quark.CodeDeadlock {
			t.Fatalf("readonly then exclusive in one chain: err = %v, want CodeDeadlock", err)
		}
	})
}

// TestReadonlyChainRejoinsPastWaitingWriter: as TestReadonlyChainRejoins, but
// a writer is queued on A while B is about to call back. A new reader waits
// behind a queued writer (writers are not starved); the callback must not,
// since the reader it would wait for is its own chain's: it rejoins, the
// chain completes, then the writer runs.
func TestReadonlyChainRejoinsPastWaitingWriter(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		synctest.Test(t, func(t *testing.T) {
			var s *quark.Silo
			writerQueued := make(chan struct{})
			var order []string // appended inside A's turns and B's
			var mu sync.Mutex
			note := func(what string) {
				mu.Lock()
				order = append(order, what)
				mu.Unlock()
			}
			h := &hooks{
				peek: func(ctx context.Context, p *probe, step string) (string, error) {
					switch step {
					case "a->b":
						return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "b->a")
					case "callback":
						note("callback")
					}
					return step, nil
				},
				run: func(ctx context.Context, p *probe, step string) (string, error) {
					switch step {
					case "b->a":
						<-writerQueued
						return testactors.NewProbeRef(s, quark.StringKey("a")).Peek(ctx, "callback")
					case "write":
						note("writer")
					}
					return step, nil
				},
			}
			s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(time.Second))
			a := testactors.NewProbeRef(s, quark.StringKey("a"))
			if _, err := a.Run(context.Background(), "warm"); err != nil {
				t.Fatal(err)
			}
			chain := make(chan error, 1)
			go func() {
				got, err := a.Peek(context.Background(), "a->b")
				if err == nil && got != "callback" {
					err = fmt.Errorf("got %q", got)
				}
				chain <- err
			}()
			synctest.Wait() // B waits for writerQueued, A's reader turn is held
			write := make(chan error, 1)
			go func() {
				_, err := a.Run(context.Background(), "write")
				write <- err
			}()
			synctest.Wait() // the writer is queued behind A's reader
			close(writerQueued)
			if err := <-chain; err != nil {
				t.Fatalf("readonly chain with a writer waiting: %v", err)
			}
			if err := <-write; err != nil {
				t.Fatalf("writer: %v", err)
			}
			if len(order) != 2 || order[0] != "callback" || order[1] != "writer" {
				t.Fatalf("order = %v, want the callback, then the writer", order)
			}
		})
	})
}
