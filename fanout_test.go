package quark_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// fanTimeout is the call timeout of the fan-out tests: short, so that a
// wedged turn fails the test in a second or two instead of hanging it.
const fanTimeout = 2 * time.Second

// meet returns a step function that lets n callers pass only once all n have
// arrived: proof that they were in flight at the same time. It starts no
// goroutine: the last to arrive opens the way.
func meet(n int) func(ctx context.Context) error {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(ctx context.Context) error {
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestConcurrentOutgoingCalls: a method makes two outgoing calls at once
// (errgroup with its ctx) on reentrant and non-reentrant actors, in
// exclusive and readonly methods. The two callees meet at a barrier, so both
// calls are out at once; afterwards the actor must still serve calls.
func TestConcurrentOutgoingCalls(t *testing.T) {
	cases := []struct {
		name      string
		reentrant bool
		readonly  bool
	}{
		{"reentrant", true, false},
		{"reentrant-readonly", true, true},
		{"exclusive", false, false},
		{"readonly", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				var s *quark.Silo
				barrier := meet(2)
				fan := func(ctx context.Context, p *probe, step string) (string, error) {
					if step != "fan" {
						if step == "meet" {
							return step, barrier(ctx)
						}
						return step, nil
					}
					g, gctx := errgroup.WithContext(ctx)
					for _, k := range []string{"x", "y"} {
						g.Go(func() error {
							_, err := testactors.NewProbeRef(s, quark.StringKey(k)).Run(gctx, "meet")
							return err
						})
					}
					return "fanned", g.Wait()
				}
				h := &hooks{run: fan, peek: fan}
				s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(fanTimeout))
				call := func(step string) (string, error) {
					ctx := context.Background()
					key := quark.StringKey("fan")
					switch {
					case tc.reentrant && tc.readonly:
						return testactors.NewReentrantProbeRef(s, key).Peek(ctx, step)
					case tc.reentrant:
						return testactors.NewReentrantProbeRef(s, key).Run(ctx, step)
					case tc.readonly:
						return testactors.NewProbeRef(s, key).Peek(ctx, step)
					}
					return testactors.NewProbeRef(s, key).Run(ctx, step)
				}
				if got, err := call("fan"); err != nil || got != "fanned" {
					t.Fatalf("fan: got %q, %v", got, err)
				}
				// The turn came back whole: the actor serves the next call.
				if got, err := call("after"); err != nil || got != "after" {
					t.Fatalf("call after the fan-out: got %q, %v", got, err)
				}
			})
		})
	}
}

// TestConcurrentOutgoingCallsWithCallback: while one outgoing call of a
// reentrant method is still out, another one calls back into the actor. The
// turn stays released until the last outgoing call returns, so the callback
// runs; the first call is held until the callback has returned.
func TestConcurrentOutgoingCallsWithCallback(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		callbackDone := make(chan struct{})
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "fan":
				g, gctx := errgroup.WithContext(ctx)
				g.Go(func() error {
					_, err := testactors.NewProbeRef(s, quark.StringKey("hold")).Run(gctx, "hold")
					return err
				})
				g.Go(func() error {
					defer close(callbackDone)
					_, err := testactors.NewProbeRef(s, quark.StringKey("b")).Run(gctx, "b->a")
					return err
				})
				return "fanned", g.Wait()
			case "hold":
				select {
				case <-callbackDone:
					return step, nil
				case <-ctx.Done():
					return "", ctx.Err()
				}
			case "b->a":
				return testactors.NewReentrantProbeRef(s, quark.StringKey("a")).Run(ctx, "leaf")
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(fanTimeout))
		a := testactors.NewReentrantProbeRef(s, quark.StringKey("a"))
		if got, err := a.Run(context.Background(), "fan"); err != nil || got != "fanned" {
			t.Fatalf("fan: got %q, %v", got, err)
		}
		if got, err := a.Run(context.Background(), "after"); err != nil || got != "after" {
			t.Fatalf("call after the fan-out: got %q, %v", got, err)
		}
	})
}

// TestReentrantMethodReturnsWithCallOut: a reentrant method starts a
// goroutine that calls out, and returns while that call is still out. The
// turn was released when the call went out; the method's return must not
// release it a second time, nor the late return of the call take it back
// for a method that is over. The actor serves calls before and after.
func TestReentrantMethodReturnsWithCallOut(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var s *quark.Silo
		entered := make(chan struct{})
		release := make(chan struct{})
		returned := make(chan error, 1)
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "leave":
				// Not cancelled when the method returns; still a link of
				// the method's call chain.
				out := context.WithoutCancel(ctx)
				go func() {
					_, err := testactors.NewProbeRef(s, quark.StringKey("leaf")).Run(out, "hold")
					returned <- err
				}()
				<-entered
				return step, nil
			case "hold":
				close(entered)
				<-release
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(fanTimeout))
		a := testactors.NewReentrantProbeRef(s, quark.StringKey("a"))
		if got, err := a.Run(context.Background(), "leave"); err != nil || got != "leave" {
			t.Fatalf("leave: %q, %v", got, err)
		}
		if got, err := a.Run(context.Background(), "while out"); err != nil || got != "while out" {
			t.Fatalf("call while the left call is out: %q, %v", got, err)
		}
		close(release)
		if err := <-returned; err != nil {
			t.Fatalf("the left call: %v", err)
		}
		if got, err := a.Run(context.Background(), "after"); err != nil || got != "after" {
			t.Fatalf("call after the left call returned: %q, %v", got, err)
		}
	})
}

// TestCallbackIntoPanickedActivation: a reentrant method waits on a call
// that calls back into its own actor, and meanwhile another method of the
// actor panics. The discarded activation starts nothing more, and its
// suspended turn waits for the callback: the callback must fail at once
// (CodeUnavailable), whether it arrives after the panic or was queued
// before it, instead of waiting for its deadline. The actor then serves
// calls again from a new activation.
func TestCallbackIntoPanickedActivation(t *testing.T) {
	for _, queued := range []bool{false, true} {
		name := "arrives after the panic"
		if queued {
			name = "queued before the panic"
		}
		t.Run(name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				synctest.Test(t, func(t *testing.T) {
					var s *quark.Silo
					callBack := make(chan struct{})
					panicNow := make(chan struct{})
					h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
						switch step {
						case "fan":
							return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "back")
						case "back":
							<-callBack
							return testactors.NewReentrantProbeRef(s, quark.StringKey("a")).Run(ctx, "plain")
						case "panic":
							<-panicNow
							panic("boom")
						}
						return step, nil
					}}
					s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(time.Minute))
					a := testactors.NewReentrantProbeRef(s, quark.StringKey("a"))
					if _, err := a.Run(context.Background(), "warm"); err != nil {
						t.Fatal(err)
					}
					fan := make(chan error, 1)
					go func() { _, err := a.Run(context.Background(), "fan"); fan <- err }()
					synctest.Wait() // the fan's call is out, b waits to call back
					pan := make(chan error, 1)
					go func() { _, err := a.Run(context.Background(), "panic"); pan <- err }()
					synctest.Wait() // the panicking method runs, holding the turn
					if queued {
						close(callBack)
						synctest.Wait() // the callback is queued behind it
						close(panicNow)
					} else {
						close(panicNow)
						if err := <-pan; quark.CodeOf(err) != quark.CodePanic {
							t.Fatalf("panic: %v", err)
						}
						close(callBack)
					}
					if err := <-fan; quark.CodeOf(err) != quark.CodeUnavailable {
						t.Fatalf("fan whose callback met the panicked activation: err = %v, want CodeUnavailable", err)
					}
					if queued {
						if err := <-pan; quark.CodeOf(err) != quark.CodePanic {
							t.Fatalf("panic: %v", err)
						}
					}
					if got, err := a.Run(context.Background(), "after"); err != nil || got != "after" {
						t.Fatalf("after the panic: %q, %v", got, err)
					}
				})
			})
		})
	}
}
