package quark_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

// liveness is the generous bound every stress test gives a step that must
// finish; it is never a speed assertion.
const liveness = 10 * time.Second

// within runs f on its own goroutine and fails the test if it has not
// returned within the liveness bound.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(liveness):
		t.Fatalf("%s did not finish within %v", what, liveness)
	}
}

func TestStressReentrantOnActivateCallsOut(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		h := &hooks{activate: func(ctx context.Context, p *probe) error {
			if p.a.ID().Type != testactors.ReentrantProbeType.Name {
				return nil
			}
			_, err := testactors.NewProbeRef(s, quark.StringKey("dep")).Run(ctx, "x")
			return err
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		within(t, "readonly first call of a reentrant actor whose OnActivate calls out", func() {
			if _, err := testactors.NewReentrantProbeRef(s, quark.StringKey("r")).Peek(ctx, "x"); err != nil {
				t.Errorf("peek: %v", err)
			}
		})
	})
}

func TestStressReentrantOnActivateCallsOutSingleActivation(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		entered := make(chan struct{})
		release := make(chan struct{})
		var reentrantCreated atomic.Int64
		h := &hooks{
			activate: func(ctx context.Context, p *probe) error {
				if p.a.ID().Type != testactors.ReentrantProbeType.Name {
					return nil
				}
				step := "x"
				if reentrantCreated.Add(1) == 1 {
					step = "block"
				}
				_, err := testactors.NewProbeRef(s, quark.StringKey("dep")).Run(ctx, step)
				return err
			},
			run: func(_ context.Context, _ *probe, step string) (string, error) {
				if step == "block" {
					close(entered)
					<-release
				}
				return step, nil
			},
		}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		ref := testactors.NewReentrantProbeRef(s, quark.StringKey("r"))
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := ref.Run(ctx, "first"); err != nil {
				t.Errorf("first: %v", err)
			}
		})
		<-entered
		// OnActivate waits on its outgoing call: a second call must wait for
		// the activation, not activate the actor a second time.
		waiting := blockedIn("quark.(*Silo).wait")
		wg.Go(func() {
			if _, err := ref.Run(ctx, "second"); err != nil {
				t.Errorf("second: %v", err)
			}
		})
		waitFor(t, "second call to queue or activate", func() bool {
			return reentrantCreated.Load() > 1 || blockedIn("quark.(*Silo).wait") > waiting
		})
		close(release)
		within(t, "both calls", wg.Wait)
		if n := reentrantCreated.Load(); n != 1 {
			t.Fatalf("reentrant actor activated %d times for one key", n)
		}
	})
}

// blockedIn counts goroutines whose stack holds a frame of fn (for example
// "quark.(*Activation).resume"); tests poll it to know a goroutine has
// reached a blocking point without sleeping.
func blockedIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), fn+"(")
}

func TestStressReentrantPanicWithTurnWaitingToResume(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		slowEntered := make(chan struct{})
		releaseSlow := make(chan struct{})
		bEntered := make(chan struct{})
		releaseB := make(chan struct{})
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "a":
				return testactors.NewProbeRef(s, quark.StringKey("slow")).Run(ctx, "slow")
			case "slow":
				close(slowEntered)
				<-releaseSlow
			case "b":
				close(bEntered)
				<-releaseB
				panic("b failed")
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		r := testactors.NewReentrantProbeRef(s, quark.StringKey("r"))
		before := blockedIn("quark.(*Activation).resume")
		aDone := make(chan error, 1)
		go func() {
			_, err := r.Run(ctx, "a")
			aDone <- err
		}()
		<-slowEntered
		bDone := make(chan error, 1)
		go func() {
			_, err := r.Run(ctx, "b")
			bDone <- err
		}()
		<-bEntered
		// A's outgoing call returns while B holds the turn: A waits to resume.
		close(releaseSlow)
		waitFor(t, "a to wait for its turn", func() bool { return blockedIn("quark.(*Activation).resume") > before })
		close(releaseB)
		if err := <-bDone; quark.CodeOf(err) != quark.CodePanic {
			t.Fatalf("b: %v, want CodePanic", err)
		}
		select {
		case err := <-aDone:
			if quark.CodeOf(err) == quark.CodeTimeout {
				t.Fatalf("a: %v", err)
			}
		case <-time.After(liveness):
			t.Fatal("a turn waiting to resume was stranded when the activation was discarded")
		}
	})
}

func TestStressReentrantTurnResumesAfterDiscard(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		var in inside
		slowEntered := make(chan struct{})
		releaseSlow := make(chan struct{})
		cEntered := make(chan struct{})
		releaseC := make(chan struct{})
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			if p.a.ID().Type == testactors.ProbeType.Name {
				close(slowEntered)
				<-releaseSlow
				return step, nil
			}
			in.enter()
			defer in.leave()
			switch step {
			case "a":
				in.leave()
				_, err := testactors.NewProbeRef(s, quark.StringKey("slow")).Run(ctx, "slow")
				in.enter()
				return "a", err
			case "b":
				panic("b failed")
			case "c":
				close(cEntered)
				<-releaseC
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		r := testactors.NewReentrantProbeRef(s, quark.StringKey("r"))
		aDone := make(chan struct{})
		go func() {
			defer close(aDone)
			if _, err := r.Run(ctx, "a"); quark.CodeOf(err) == quark.CodeTimeout {
				t.Errorf("a: %v", err)
			}
		}()
		<-slowEntered
		// B panics while A is suspended in its outgoing call.
		if _, err := r.Run(ctx, "b"); quark.CodeOf(err) != quark.CodePanic {
			t.Fatalf("b: %v, want CodePanic", err)
		}
		// C either waits for the discarded activation to finish (A's turn
		// included) or runs on a new one; it must never run beside A.
		waiting := blockedIn("quark.(*Silo).wait")
		cDone := make(chan struct{})
		go func() {
			defer close(cDone)
			if _, err := r.Run(ctx, "c"); err != nil {
				t.Errorf("c: %v", err)
			}
		}()
		waitFor(t, "c to run or queue", func() bool {
			select {
			case <-cEntered:
				return true
			default:
				return blockedIn("quark.(*Silo).wait") > waiting
			}
		})
		close(releaseSlow)
		select {
		case <-aDone:
		case <-cEntered:
			// Allowed only if A has already finished.
			select {
			case <-aDone:
			case <-time.After(liveness):
				t.Fatal("a did not finish")
			}
		case <-time.After(liveness):
			t.Fatal("a did not finish")
		}
		close(releaseC)
		select {
		case <-cDone:
		case <-time.After(liveness):
			t.Fatal("c did not finish")
		}
		if m := in.max.Load(); m != 1 {
			t.Fatalf("%d goroutines ran in actor %v at once", m, r.ID())
		}
	})
}

func TestStressStopWaitsForForwardedMessages(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		entered := make(chan struct{})
		release := make(chan struct{})
		var stopped atomic.Bool
		var ranAfterStop, told atomic.Int64
		h := &hooks{
			run: func(_ context.Context, _ *probe, step string) (string, error) {
				if step == "block" {
					close(entered)
					<-release
				}
				return step, nil
			},
			tell: func(context.Context, *probe, string) error {
				if stopped.Load() {
					ranAfterStop.Add(1)
				}
				told.Add(1)
				return nil
			},
		}
		s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithInlineCalls(inline))
		if err != nil {
			t.Fatal(err)
		}
		registerProbes(h)(s)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ref := testactors.NewProbeRef(s, quark.StringKey("x"))
		blockDone := make(chan error, 1)
		go func() {
			_, err := ref.Run(context.Background(), "block")
			blockDone <- err
		}()
		<-entered
		// Calls whose callers give up at once stay queued behind the long
		// turn, then the one-way message: when the activation deactivates,
		// all of them are forwarded, the abandoned ones dropped on the way.
		gone, cancelGone := context.WithCancel(context.Background())
		cancelGone()
		for range 20000 {
			if _, err := ref.Run(gone, "abandoned"); quark.CodeOf(err) != quark.CodeCanceled {
				t.Fatalf("abandoned call: %v", err)
			}
		}
		if err := ref.Tell(context.Background(), "forwarded"); err != nil {
			t.Fatal(err)
		}
		stopErr := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), liveness)
			defer cancel()
			err := s.Stop(ctx)
			stopped.Store(true)
			stopErr <- err
		}()
		waitFor(t, "stop to begin", func() bool {
			_, err := testactors.NewProbeRef(s, quark.StringKey("probe")).Run(context.Background(), "x")
			return quark.CodeOf(err) == quark.CodeUnavailable
		})
		close(release)
		if err := <-blockDone; err != nil {
			t.Fatalf("long call: %v", err)
		}
		if err := <-stopErr; err != nil {
			t.Fatalf("stop: %v", err)
		}
		n := told.Load()
		waitFor(t, "the forwarded message to run", func() bool { return told.Load() == 1 })
		waitFor(t, "activations to go", func() bool { return s.Stats().Activations == 0 })
		if n != 1 || ranAfterStop.Load() != 0 {
			t.Fatalf("Stop returned before the forwarded one-way message ran (ran %d before, %d after)", n, ranAfterStop.Load())
		}
	})
}

func TestStressSendFromOutsideRefusedWhileStopping(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var told atomic.Int64
	h := &hooks{
		run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "block" {
				close(entered)
				<-release
			}
			return step, nil
		},
		tell: func(context.Context, *probe, string) error { told.Add(1); return nil },
	}
	s, err := quark.NewSilo(quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	blockDone := make(chan struct{})
	go func() {
		defer close(blockDone)
		testactors.NewProbeRef(s, quark.StringKey("busy")).Run(context.Background(), "block")
	}()
	<-entered
	stopErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		stopErr <- s.Stop(ctx)
	}()
	waitFor(t, "stop to begin", func() bool {
		_, err := testactors.NewProbeRef(s, quark.StringKey("probe")).Run(context.Background(), "x")
		return quark.CodeOf(err) == quark.CodeUnavailable
	})
	before := s.Stats().DroppedOneWay
	err = testactors.NewProbeRef(s, quark.StringKey("new")).Tell(context.Background(), "x")
	close(release)
	<-blockDone
	if err := <-stopErr; err != nil {
		t.Fatalf("stop: %v", err)
	}
	waitFor(t, "activations to go", func() bool { return s.Stats().Activations == 0 })
	if quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("one-way send from outside while stopping: err = %v, ran %d times, want CodeUnavailable", err, told.Load())
	}
	if d := s.Stats().DroppedOneWay - before; d != 1 {
		t.Fatalf("DroppedOneWay grew by %d, want 1", d)
	}
}

func TestStressOutgoingInterceptorSeesOneWayTargetAfterNext(t *testing.T) {
	var told atomic.Int64
	var mismatched atomic.Int64
	want := quark.ID{Type: testactors.ProbeType.Name, Key: quark.StringKey("t")}
	// The interceptor contract: it sees the call's target before and after
	// the next step. For a one-way message the runtime may already have run
	// and released it by then.
	trace := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
		return func(ctx context.Context, m quark.Message) error {
			err := next(ctx, m)
			if m.Target() != want {
				mismatched.Add(1)
			}
			return err
		}
	})
	h := &hooks{tell: func(context.Context, *probe, string) error { told.Add(1); return nil }}
	s := newSilo(t, registerProbes(h), quark.WithOutgoingInterceptors(trace))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	const n = 2000
	for range n {
		if err := ref.Tell(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "one-way messages to run", func() bool { return told.Load() == n })
	if m := mismatched.Load(); m != 0 {
		t.Fatalf("interceptor saw a recycled message's target after next %d times", m)
	}
}

func TestStressStopRunsQueuedMessagesOnTheirActivation(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		entered := make(chan struct{})
		release := make(chan struct{})
		var told atomic.Int64
		var activated, deactivated atomic.Int64
		h := &hooks{
			run: func(_ context.Context, _ *probe, step string) (string, error) {
				if step == "block" {
					close(entered)
					<-release
				}
				return step, nil
			},
			tell: func(context.Context, *probe, string) error { told.Add(1); return nil },
			activate: func(_ context.Context, p *probe) error {
				if p.a.ID().Key.Str() == "q" {
					activated.Add(1)
				}
				return nil
			},
			deactivate: func(*probe, quark.DeactivationReason) { deactivated.Add(1) },
		}
		s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithInlineCalls(inline))
		if err != nil {
			t.Fatal(err)
		}
		registerProbes(h)(s)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ref := testactors.NewProbeRef(s, quark.StringKey("q"))
		blockDone := make(chan struct{})
		go func() {
			defer close(blockDone)
			if _, err := ref.Run(context.Background(), "block"); err != nil {
				t.Errorf("long call: %v", err)
			}
		}()
		<-entered
		const n = 200
		for range n {
			if err := ref.Tell(context.Background(), "x"); err != nil {
				t.Fatal(err)
			}
		}
		stopErr := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), liveness)
			defer cancel()
			stopErr <- s.Stop(ctx)
		}()
		waitFor(t, "stop to begin", func() bool {
			_, err := testactors.NewProbeRef(s, quark.StringKey("probe")).Run(context.Background(), "x")
			return quark.CodeOf(err) == quark.CodeUnavailable
		})
		close(release)
		<-blockDone
		if err := <-stopErr; err != nil {
			t.Fatalf("stop: %v", err)
		}
		ranByStop := told.Load()
		waitFor(t, "queued messages to run", func() bool { return told.Load() == n })
		waitFor(t, "activations to go", func() bool { return s.Stats().Activations == 0 })
		t.Logf("ran %d of %d before Stop returned; %d activations, %d OnDeactivate", ranByStop, n, activated.Load(), deactivated.Load())
		if ranByStop != n {
			t.Errorf("Stop returned with %d of %d admitted one-way messages not yet run", n-ranByStop, n)
		}
		if a := activated.Load(); a != 1 {
			t.Errorf("the actor was activated %d times to drain its mailbox at Stop, want 1", a)
		}
	})
}

// ledger records which one-way messages ran, to check each ran exactly once.
type ledger struct {
	mu   sync.Mutex
	seen map[string]int
	dups atomic.Int64
	n    atomic.Int64
}

func newLedger() *ledger { return &ledger{seen: map[string]int{}} }

func (l *ledger) record(step string) {
	l.mu.Lock()
	l.seen[step]++
	if l.seen[step] > 1 {
		l.dups.Add(1)
	}
	l.mu.Unlock()
	l.n.Add(1)
}

func (l *ledger) check(t *testing.T, want int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d one-way messages to run", want), func() bool { return l.n.Load() >= want })
	if d := l.dups.Load(); d != 0 {
		t.Fatalf("%d one-way messages ran more than once", d)
	}
	if n := l.n.Load(); n != want {
		t.Fatalf("%d one-way messages ran, want %d", n, want)
	}
}

func TestStressDeactivateOnIdleWithCallsAndSends(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		tells := newLedger()
		var current atomic.Pointer[quark.Activation]
		var deactivated atomic.Int64
		h := &hooks{
			run: func(_ context.Context, p *probe, step string) (string, error) {
				current.Store(p.a)
				if strings.HasSuffix(step, "bye") {
					p.a.DeactivateOnIdle()
				}
				return step, nil
			},
			peek: func(_ context.Context, p *probe, step string) (string, error) {
				current.Store(p.a)
				return step, nil
			},
			tell: func(_ context.Context, p *probe, step string) error {
				tells.record(step)
				return nil
			},
			deactivate: func(*probe, quark.DeactivationReason) { deactivated.Add(1) },
		}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		ref := testactors.NewProbeRef(s, quark.StringKey("d"))
		const goroutines, rounds = 6, 150
		stop := make(chan struct{})
		var outside sync.WaitGroup
		outside.Go(func() {
			// Deactivation requested from outside any turn, at any moment.
			for {
				select {
				case <-stop:
					return
				default:
				}
				if a := current.Load(); a != nil {
					a.DeactivateOnIdle()
				}
				runtime.Gosched()
			}
		})
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range rounds {
					step := fmt.Sprintf("%d-%d", g, i)
					if i%7 == 0 {
						step += "-bye"
					}
					var got string
					var err error
					if i%3 == 0 {
						got, err = ref.Peek(ctx, step)
					} else {
						got, err = ref.Run(ctx, step)
					}
					if err != nil || got != step {
						t.Errorf("call %s: %q, %v", step, got, err)
						return
					}
					if err := ref.Tell(ctx, step); err != nil {
						t.Errorf("tell %s: %v", step, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		outside.Wait()
		tells.check(t, goroutines*rounds)
		waitFor(t, "every activation but the live one to deactivate", func() bool {
			return deactivated.Load()+s.Stats().Activations == h.created.Load()
		})
		if s.Stats().Activations > 1 {
			t.Fatalf("%d activations of one key", s.Stats().Activations)
		}
	})
}

func TestStressIdleCollectionRacesCalls(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		tells := newLedger()
		var deactivated atomic.Int64
		h := &hooks{
			tell:       func(_ context.Context, _ *probe, step string) error { tells.record(step); return nil },
			deactivate: func(*probe, quark.DeactivationReason) { deactivated.Add(1) },
		}
		s := newSilo(t, registerProbes(h, quark.WithMaxWorkers(2)), quark.WithInlineCalls(inline), quark.WithClock(clk),
			quark.WithCollectionAge(time.Minute), quark.WithCollectionQuantum(time.Minute))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		stop := make(chan struct{})
		var ticker sync.WaitGroup
		ticker.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				clk.Advance(time.Minute)
				runtime.Gosched()
			}
		})
		const goroutines, rounds = 6, 150
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range rounds {
					key := quark.IntKey(int64(i % 4))
					step := fmt.Sprintf("%d-%d", g, i)
					if got, err := testactors.NewProbeRef(s, key).Run(ctx, step); err != nil || got != step {
						t.Errorf("run %s: %q, %v", step, got, err)
						return
					}
					if err := testactors.NewProbeRef(s, key).Tell(ctx, step); err != nil {
						t.Errorf("tell %s: %v", step, err)
						return
					}
					if got, err := testactors.NewStatelessProbeRef(s, key).Run(ctx, step); err != nil || got != step {
						t.Errorf("stateless %s: %q, %v", step, got, err)
						return
					}
					if got, err := testactors.NewReentrantProbeRef(s, key).Peek(ctx, step); err != nil || got != step {
						t.Errorf("peek %s: %q, %v", step, got, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		ticker.Wait()
		tells.check(t, goroutines*rounds)
		waitFor(t, "idle activations to be collected", func() bool {
			clk.Advance(time.Minute)
			return s.Stats().Activations == 0
		})
		if d, c := deactivated.Load(), h.created.Load(); d != c {
			t.Fatalf("OnDeactivate ran %d times for %d activations", d, c)
		}
	})
}

func TestStressReadonlyPanicsAmongReaders(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var deactivated atomic.Int64
		h := &hooks{
			peek: func(_ context.Context, _ *probe, step string) (string, error) {
				if strings.HasPrefix(step, "panic") {
					panic("reader failed")
				}
				runtime.Gosched()
				return step, nil
			},
			deactivate: func(*probe, quark.DeactivationReason) { deactivated.Add(1) },
		}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		var panics atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 100 {
					key := quark.IntKey(int64(i % 3))
					step := fmt.Sprintf("ok-%d-%d", g, i)
					if (g+i)%11 == 0 {
						step = "panic" + step
					}
					var got string
					var err error
					if i%5 == 0 {
						got, err = testactors.NewProbeRef(s, key).Run(ctx, step)
					} else {
						got, err = testactors.NewProbeRef(s, key).Peek(ctx, step)
					}
					switch {
					case strings.HasPrefix(step, "panic") && i%5 != 0:
						if quark.CodeOf(err) != quark.CodePanic {
							t.Errorf("%s: %v, want CodePanic", step, err)
						}
						panics.Add(1)
					case err != nil || got != step:
						t.Errorf("%s: %q, %v", step, got, err)
					}
				}
			})
		}
		wg.Wait()
		if deactivated.Load() != 0 {
			t.Fatal("OnDeactivate ran although activations were only discarded")
		}
		// Every panicked activation is discarded: at most the three keys'
		// latest activations remain, and each of them still serves.
		waitFor(t, "panicked activations to be discarded", func() bool { return s.Stats().Activations <= 3 })
		for k := range 3 {
			if got, err := testactors.NewProbeRef(s, quark.IntKey(int64(k))).Peek(ctx, "after"); err != nil || got != "after" {
				t.Fatalf("after panics: %q, %v", got, err)
			}
		}
		if c := h.created.Load(); c < 2 {
			t.Fatalf("%d activations created for %d panics", c, panics.Load())
		}
	})
}

func TestStressStopWhileActivating(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		entered := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		var reasons sync.Map
		var shutdowns atomic.Int64
		h := &hooks{
			activate: func(ctx context.Context, p *probe) error {
				if p.a.ID().Key.Str() == "slow" {
					once.Do(func() { close(entered) })
					<-release
				}
				return nil
			},
			deactivate: func(p *probe, r quark.DeactivationReason) {
				reasons.Store(p, r)
				if r == quark.ReasonShutdown {
					shutdowns.Add(1)
				}
			},
		}
		tells := newLedger()
		h.tell = func(_ context.Context, _ *probe, step string) error { tells.record(step); return nil }
		s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithInlineCalls(inline))
		if err != nil {
			t.Fatal(err)
		}
		registerProbes(h)(s)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		slow := testactors.NewProbeRef(s, quark.StringKey("slow"))
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := slow.Run(ctx, "first"); err != nil {
				t.Errorf("first: %v", err)
			}
		})
		<-entered
		// Calls and one-way messages queue behind the blocked OnActivate.
		waiting := blockedIn("quark.(*Silo).wait")
		const queued = 20
		for i := range queued {
			wg.Go(func() {
				step := fmt.Sprintf("q%d", i)
				if got, err := slow.Run(ctx, step); err != nil || got != step {
					t.Errorf("queued %s: %q, %v", step, got, err)
				}
			})
			if err := slow.Tell(ctx, fmt.Sprintf("t%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "calls to queue", func() bool { return blockedIn("quark.(*Silo).wait") >= waiting+queued })
		stopErr := make(chan error, 1)
		go func() {
			stopErr <- s.Stop(ctx)
		}()
		waitFor(t, "stop to begin", func() bool {
			_, err := testactors.NewProbeRef(s, quark.StringKey("other")).Run(context.Background(), "x")
			return quark.CodeOf(err) == quark.CodeUnavailable
		})
		close(release)
		within(t, "admitted calls", wg.Wait)
		if err := <-stopErr; err != nil {
			t.Fatalf("stop: %v", err)
		}
		tells.check(t, queued)
		waitFor(t, "activations to go", func() bool { return s.Stats().Activations == 0 })
		if shutdowns.Load() == 0 {
			t.Fatal("OnDeactivate did not run with ReasonShutdown")
		}
		reasons.Range(func(_, r any) bool {
			if r != quark.ReasonShutdown {
				t.Errorf("reason %v at stop", r)
			}
			return true
		})
	})
}

// expiring is a context whose deadline passes when the test says so: Done
// closes at expire, and Err then reports context.DeadlineExceeded.
type expiring struct {
	context.Context
	at   time.Time
	done chan struct{}
}

func newExpiring() *expiring {
	return &expiring{Context: context.Background(), at: time.Now().Add(time.Hour), done: make(chan struct{})}
}

func (c *expiring) expire()                     { close(c.done) }
func (c *expiring) Deadline() (time.Time, bool) { return c.at, true }
func (c *expiring) Done() <-chan struct{}       { return c.done }
func (c *expiring) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func TestStressQueuedCallsGiveUpThenActorDeactivates(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		entered := make(chan struct{})
		release := make(chan struct{})
		var mu sync.Mutex
		ran := map[string]int{}
		h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
			mu.Lock()
			ran[step]++
			mu.Unlock()
			if step == "long" {
				p.a.DeactivateOnIdle()
				close(entered)
				<-release
			}
			return step, nil
		}}
		tells := newLedger()
		h.tell = func(_ context.Context, _ *probe, step string) error { tells.record(step); return nil }
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		ref := testactors.NewProbeRef(s, quark.StringKey("k"))
		longDone := make(chan struct{})
		go func() {
			defer close(longDone)
			if _, err := ref.Run(ctx, "long"); err != nil {
				t.Errorf("long: %v", err)
			}
		}()
		<-entered
		// Both kinds of caller give up only once every call is queued: a
		// call made with a context that has already ended is refused
		// before it is queued.
		gone, cancelGone := context.WithCancel(context.Background())
		defer cancelGone()
		short := newExpiring()
		waiting := blockedIn("quark.(*Silo).wait")
		var wg sync.WaitGroup
		const each = 30
		for i := range each {
			wg.Go(func() {
				if _, err := ref.Run(gone, fmt.Sprintf("gone%d", i)); quark.CodeOf(err) != quark.CodeCanceled {
					t.Errorf("cancelled call: %v, want CodeCanceled", err)
				}
			})
			wg.Go(func() {
				if _, err := ref.Run(short, fmt.Sprintf("short%d", i)); quark.CodeOf(err) != quark.CodeTimeout {
					t.Errorf("short call: %v, want CodeTimeout", err)
				}
			})
			wg.Go(func() {
				step := fmt.Sprintf("live%d", i)
				if got, err := ref.Run(ctx, step); err != nil || got != step {
					t.Errorf("live call %s: %q, %v", step, got, err)
				}
			})
			if err := ref.Tell(ctx, fmt.Sprintf("tell%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "calls to queue", func() bool { return blockedIn("quark.(*Silo).wait") >= waiting+3*each })
		cancelGone()
		short.expire()
		waitFor(t, "callers to give up", func() bool { return blockedIn("quark.(*Silo).wait") <= waiting+each })
		close(release)
		<-longDone
		within(t, "queued calls", wg.Wait)
		tells.check(t, each)
		mu.Lock()
		defer mu.Unlock()
		for step, n := range ran {
			live := strings.HasPrefix(step, "live") || step == "long"
			switch {
			case live && n != 1:
				t.Errorf("%s ran %d times", step, n)
			case !live && n != 0:
				t.Errorf("%s ran after its caller gave up", step)
			}
		}
		for i := range each {
			if ran[fmt.Sprintf("live%d", i)] != 1 {
				t.Errorf("live%d did not run", i)
			}
		}
		if c := h.created.Load(); c != 2 {
			t.Errorf("factory called %d times, want 2 (the queue forwarded to one successor)", c)
		}
		if e := s.Stats().Expired; e < 2*each {
			t.Errorf("Expired = %d, want at least %d", e, 2*each)
		}
	})
}

func TestStressDeepChainAcrossActors(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		const depth = 300
		var s *quark.Silo
		next := func(ctx context.Context, step string) (string, error) {
			var d int
			fmt.Sscan(step, &d)
			if d == depth {
				return "bottom", nil
			}
			key := quark.IntKey(int64(d + 1))
			arg := fmt.Sprint(d + 1)
			if d%2 == 0 {
				return testactors.NewReentrantProbeRef(s, key).Run(ctx, arg)
			}
			return testactors.NewProbeRef(s, key).Run(ctx, arg)
		}
		h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) { return next(ctx, step) }}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 3 {
					if got, err := testactors.NewProbeRef(s, quark.IntKey(0)).Run(ctx, "0"); err != nil || got != "bottom" {
						t.Errorf("chain: %q, %v", got, err)
						return
					}
				}
			})
		}
		within(t, "chains", wg.Wait)
		if n := s.Stats().Activations; n != depth+1 {
			t.Fatalf("%d activations, want %d", n, depth+1)
		}
	})
}

func TestStressInterceptorsShortCircuitOneWay(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		denyOut := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
			return func(ctx context.Context, m quark.Message) error {
				if m.Target().Key.Str() == "blocked-out" {
					return quark.NewError(quark.CodeInvalidArgument, "denied on the way out")
				}
				return next(ctx, m)
			}
		})
		var deniedIn atomic.Int64
		denyIn := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
			return func(ctx context.Context, m quark.Message) error {
				if m.Target().Key.Str() == "blocked-in" {
					deniedIn.Add(1)
					return quark.NewError(quark.CodeInvalidArgument, "denied on the way in")
				}
				return next(ctx, m)
			}
		})
		refuse := quark.AdmitInterceptorFunc(func(_ context.Context, m quark.Message) error {
			if m.Target().Key.Str() == "refused" {
				return quark.NewError(quark.CodeInvalidArgument, "refused admission")
			}
			return nil
		})
		tells := newLedger()
		h := &hooks{tell: func(_ context.Context, _ *probe, step string) error { tells.record(step); return nil }}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline),
			quark.WithOutgoingInterceptors(denyOut), quark.WithIncomingInterceptors(refuse, denyIn))
		ctx := context.Background()
		const n = 300
		before := s.Stats().DroppedOneWay
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range n {
					step := fmt.Sprintf("%d-%d", g, i)
					if err := testactors.NewProbeRef(s, quark.StringKey("blocked-out")).Tell(ctx, step); quark.CodeOf(err) != quark.CodeInvalidArgument {
						t.Errorf("denied send: %v", err)
					}
					if err := testactors.NewProbeRef(s, quark.StringKey("blocked-in")).Tell(ctx, step); err != nil {
						t.Errorf("send: %v", err)
					}
					if err := testactors.NewProbeRef(s, quark.StringKey("refused")).Tell(ctx, step); quark.CodeOf(err) != quark.CodeInvalidArgument {
						t.Errorf("refused send: %v", err)
					}
					if err := testactors.NewProbeRef(s, quark.StringKey("open")).Tell(ctx, step); err != nil {
						t.Errorf("send: %v", err)
					}
				}
			})
		}
		wg.Wait()
		tells.check(t, 4*n)
		waitFor(t, "messages denied on the way in to be released", func() bool {
			// Denied on the way in and on the way out, and refused
			// admission: all are counted.
			return deniedIn.Load() == 4*n && s.Stats().DroppedOneWay-before == 3*4*n
		})
		if n := s.Stats().Activations; n != 2 {
			t.Fatalf("%d activations, want 2 (nothing activated for a send denied on the way out or refused admission)", n)
		}
	})
}

func TestStressFirstCallersDeadlineDoesNotFailTheActivationForOthers(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		entered := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		h := &hooks{
			activate: func(ctx context.Context, p *probe) error {
				if p.a.ID().Key.Str() != "a" {
					return nil
				}
				// Loading state through another actor, honouring ctx.
				_, err := testactors.NewProbeRef(s, quark.StringKey("store")).Run(ctx, "load")
				return err
			},
			run: func(ctx context.Context, _ *probe, step string) (string, error) {
				if step == "load" {
					once.Do(func() { close(entered) })
					select {
					case <-release:
					case <-ctx.Done():
						return "", ctx.Err()
					}
				}
				return step, nil
			},
		}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("a"))
		impatient, cancelImpatient := context.WithCancel(context.Background())
		firstDone := make(chan struct{})
		go func() {
			defer close(firstDone)
			ref.Run(impatient, "first")
		}()
		<-entered
		waiting := blockedIn("quark.(*Silo).wait")
		patient, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		secondErr := make(chan error, 1)
		go func() {
			_, err := ref.Run(patient, "second")
			secondErr <- err
		}()
		waitFor(t, "second call to queue", func() bool { return blockedIn("quark.(*Silo).wait") > waiting })
		cancelImpatient()
		<-firstDone
		close(release)
		if err := <-secondErr; err != nil {
			t.Fatalf("a patient caller failed because another caller gave up: %v", err)
		}
	})
}
