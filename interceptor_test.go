package quark_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
)

// principalKey carries the caller's identity; the silos in these tests
// propagate it.
type principalKey struct{}

// TestRefusedCallDoesNotActivate: an authorization interceptor refuses calls
// from a principal it does not know before the target activates, for a
// call, a call to a stateless worker and a one-way message; the caller gets
// the refusal, the factory and OnActivate never run, and a refused one-way
// message is counted as dropped.
func TestRefusedCallDoesNotActivate(t *testing.T) {
	refused := quark.NewError(quark.CodeInvalidArgument, "not allowed")
	cases := []struct {
		name   string
		oneWay bool
		call   func(ctx context.Context, s *quark.Silo) error
	}{
		{"call", false, func(ctx context.Context, s *quark.Silo) error {
			_, err := testactors.NewProbeRef(s, quark.StringKey("vault")).Run(ctx, "x")
			return err
		}},
		{"stateless", false, func(ctx context.Context, s *quark.Silo) error {
			_, err := testactors.NewStatelessProbeRef(s, quark.StringKey("vault")).Run(ctx, "x")
			return err
		}},
		{"one-way", true, func(ctx context.Context, s *quark.Silo) error {
			return testactors.NewProbeRef(s, quark.StringKey("vault")).Tell(ctx, "x")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				var asked atomic.Int64
				authorize := quark.AdmitInterceptorFunc(func(ctx context.Context, m quark.Message) error {
					asked.Add(1)
					if ctx.Value(principalKey{}) != "alice" {
						return refused
					}
					return nil
				})
				var activated, ran atomic.Int64
				told := make(chan struct{}, 1)
				h := &hooks{
					activate: func(context.Context, *probe) error { activated.Add(1); return nil },
					run:      func(_ context.Context, _ *probe, step string) (string, error) { ran.Add(1); return step, nil },
					tell:     func(context.Context, *probe, string) error { ran.Add(1); told <- struct{}{}; return nil },
				}
				s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline),
					quark.WithPropagators(valuePropagator{"principal", principalKey{}}),
					quark.WithIncomingInterceptors(authorize))

				mallory := context.WithValue(context.Background(), principalKey{}, "mallory")
				if err := c.call(mallory, s); !errors.Is(err, refused) {
					t.Fatalf("refused call: err = %v, want the refusal", err)
				}
				st := s.Stats()
				if n := h.created.Load(); n != 0 || activated.Load() != 0 || st.Activations != 0 {
					t.Fatalf("refused call: factory ran %d times, OnActivate %d, %d activations; want none",
						n, activated.Load(), st.Activations)
				}
				wantDropped := int64(0)
				if c.oneWay {
					wantDropped = 1
				}
				if st.DroppedOneWay != wantDropped {
					t.Fatalf("refused call: DroppedOneWay = %d, want %d", st.DroppedOneWay, wantDropped)
				}

				alice := context.WithValue(context.Background(), principalKey{}, "alice")
				if err := c.call(alice, s); err != nil {
					t.Fatalf("admitted call: %v", err)
				}
				if c.oneWay {
					<-told
				}
				if ran.Load() != 1 || s.Stats().Activations != 1 || asked.Load() != 2 {
					t.Fatalf("admitted call: method ran %d times, %d activations, interceptor asked %d times; want 1, 1, 2",
						ran.Load(), s.Stats().Activations, asked.Load())
				}
			})
		})
	}
}

// recorder is an Interceptor implementing both hooks; it logs what each
// sees.
type recorder struct {
	side string
	mu   *sync.Mutex
	log  *[]string
}

func (r recorder) note(hook string, m quark.Message) {
	r.mu.Lock()
	*r.log = append(*r.log, r.side+" "+hook+" "+m.Target().String()+"."+m.Method().Name)
	r.mu.Unlock()
}

func (r recorder) WrapCall(next quark.Invoker) quark.Invoker {
	return func(ctx context.Context, m quark.Message) error {
		r.note("call", m)
		return next(ctx, m)
	}
}

func (r recorder) Admit(_ context.Context, m quark.Message) error {
	r.note("admit", m)
	return nil
}

// TestInterceptors: the hooks run in order (outgoing WrapCall, incoming
// Admit, incoming WrapCall, each chain first outermost), outgoing Admit is
// never asked, and a WrapCall that returns without calling next stops the
// call inside the turn.
func TestInterceptors(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var mu sync.Mutex
		var log []string
		deny := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
			return func(ctx context.Context, m quark.Message) error {
				if m.Target().Key.Str() == "forbidden" {
					return quark.NewError(quark.CodeInvalidArgument, "denied")
				}
				return next(ctx, m)
			}
		})
		var ran atomic.Int64
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) { ran.Add(1); return step, nil }}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline),
			quark.WithOutgoingInterceptors(recorder{"out", &mu, &log}),
			quark.WithIncomingInterceptors(recorder{"in", &mu, &log}, deny))
		if _, err := testactors.NewProbeRef(s, quark.StringKey("a")).Run(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		_, err := testactors.NewProbeRef(s, quark.StringKey("forbidden")).Run(context.Background(), "x")
		if err == nil || err.Error() != "quark invalid argument: denied" {
			t.Fatalf("short-circuit: %v", err)
		}
		if ran.Load() != 1 {
			t.Fatalf("method ran %d times, want 1 (the denied call must not run)", ran.Load())
		}
		mu.Lock()
		defer mu.Unlock()
		want := []string{
			"out call testactors.Probe/a.Run", "in admit testactors.Probe/a.Run", "in call testactors.Probe/a.Run",
			"out call testactors.Probe/forbidden.Run", "in admit testactors.Probe/forbidden.Run", "in call testactors.Probe/forbidden.Run",
		}
		if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
			t.Fatalf("interceptors saw\n%s\nwant\n%s", got, strings.Join(want, "\n"))
		}
	})
}

// TestAdmitIsNotAskedForTicks: timer and reminder ticks, which the actor
// arranged itself, pass the incoming WrapCall hooks as one-way messages with
// method ID 0, and Admit is not asked for them.
func TestAdmitIsNotAskedForTicks(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var log []string
	note := func(hook string, m quark.Message) {
		mu.Lock()
		log = append(log, fmt.Sprintf("%s %s id=%d oneway=%t", hook, m.Method().Name, m.Method().ID, m.Method().OneWay))
		mu.Unlock()
	}
	both := hookPair{
		call: func(next quark.Invoker) quark.Invoker {
			return func(ctx context.Context, m quark.Message) error {
				note("call", m)
				return next(ctx, m)
			}
		},
		admit: func(_ context.Context, m quark.Message) error { note("admit", m); return nil },
	}
	ticked := make(chan string, 2)
	h := &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			p.a.RegisterTimer(time.Minute, 0, func(context.Context) error { ticked <- "timer"; return nil })
			return step, p.a.RegisterReminder(ctx, "r", time.Minute, time.Minute)
		},
		remind: func(context.Context, *probe, string, time.Time) error { ticked <- "reminder"; return nil },
	}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(storage.NewMemory()),
		quark.WithIncomingInterceptors(both))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	if _, err := ref.Run(context.Background(), "start"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	got := []string{<-ticked, <-ticked}
	slices.Sort(got)
	if want := []string{"reminder", "timer"}; !slices.Equal(got, want) {
		t.Fatalf("ticks %v, want %v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	run := fmt.Sprintf("id=%d oneway=false", testactors.ProbeType.Methods[0].ID)
	want := []string{"admit Run " + run, "call Run " + run,
		"call ReceiveReminder id=0 oneway=true", "call timer id=0 oneway=true"}
	slices.Sort(log)
	slices.Sort(want)
	if !slices.Equal(log, want) {
		t.Fatalf("hooks saw\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// hookPair is an Interceptor made of two functions.
type hookPair struct {
	call  quark.CallInterceptorFunc
	admit quark.AdmitInterceptorFunc
}

func (p hookPair) WrapCall(next quark.Invoker) quark.Invoker { return p.call(next) }
func (p hookPair) Admit(ctx context.Context, m quark.Message) error {
	return p.admit(ctx, m)
}

// otherKey is a context key the silos in these tests do not propagate.
type otherKey struct{}

// TestAdmitContext: Admit sees the caller's deadline, cancellation and
// propagated values, not its other values, and no activation yet; the
// refusal it returns on cancellation reaches the caller.
func TestAdmitContext(t *testing.T) {
	for _, oneWay := range []bool{false, true} {
		name := "call"
		if oneWay {
			name = "one-way"
		}
		t.Run(name, func(t *testing.T) {
			type seen struct {
				deadline      time.Time
				principal     any
				other         any
				hasActivation bool
			}
			entered := make(chan seen, 1)
			admit := quark.AdmitInterceptorFunc(func(ctx context.Context, m quark.Message) error {
				d, _ := ctx.Deadline()
				entered <- seen{d, ctx.Value(principalKey{}), ctx.Value(otherKey{}), quark.ActivationFrom(ctx) != nil}
				<-ctx.Done()
				return quark.Errorf(quark.CodeCanceled, "admission of %s: %w", m.Target(), ctx.Err())
			})
			h := &hooks{}
			s := newSilo(t, registerProbes(h), quark.WithPropagators(valuePropagator{"principal", principalKey{}}),
				quark.WithIncomingInterceptors(admit))
			deadline := time.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			ctx = context.WithValue(context.WithValue(ctx, principalKey{}, "alice"), otherKey{}, "secret")
			errc := make(chan error, 1)
			go func() {
				ref := testactors.NewProbeRef(s, quark.StringKey("a"))
				if oneWay {
					errc <- ref.Tell(ctx, "x")
					return
				}
				_, err := ref.Run(ctx, "x")
				errc <- err
			}()
			got := <-entered
			if !got.deadline.Equal(deadline) || got.principal != "alice" || got.other != nil || got.hasActivation {
				t.Fatalf("Admit saw %+v; want the caller's deadline %v, principal alice, no other value, no activation", got, deadline)
			}
			select {
			case err := <-errc:
				t.Fatalf("the caller returned (%v) while Admit was still deciding", err)
			default:
			}
			cancel()
			if err := <-errc; quark.CodeOf(err) != quark.CodeCanceled || !errors.Is(err, context.Canceled) {
				t.Fatalf("caller got %v, want Admit's refusal (CodeCanceled wrapping context.Canceled)", err)
			}
			if n := h.created.Load(); n != 0 || s.Stats().Activations != 0 {
				t.Fatalf("factory ran %d times, %d activations; want none", n, s.Stats().Activations)
			}
		})
	}
}

// TestAdmitCallsWithItsContext: Admit's context carries the call chain, so
// a call it makes back into the caller fails at once with CodeDeadlock when
// the caller is not reentrant, and reaches it when it is (the caller's turn
// is released before Admit runs). The call timeout only bounds a failure:
// a call Admit makes while the caller holds its turn waits for it.
func TestAdmitCallsWithItsContext(t *testing.T) {
	cases := []struct {
		name     string
		outer    func(ctx context.Context, s *quark.Silo) error
		callBack func(ctx context.Context, s *quark.Silo) error
		want     quark.Code
	}{
		{"non-reentrant caller",
			func(ctx context.Context, s *quark.Silo) error {
				_, err := testactors.NewProbeRef(s, quark.StringKey("caller")).Run(ctx, "call guarded")
				return err
			},
			func(ctx context.Context, s *quark.Silo) error {
				_, err := testactors.NewProbeRef(s, quark.StringKey("caller")).Run(ctx, "check")
				return err
			},
			quark.CodeDeadlock},
		{"reentrant caller",
			func(ctx context.Context, s *quark.Silo) error {
				_, err := testactors.NewReentrantProbeRef(s, quark.StringKey("caller")).Run(ctx, "call guarded")
				return err
			},
			func(ctx context.Context, s *quark.Silo) error {
				_, err := testactors.NewReentrantProbeRef(s, quark.StringKey("caller")).Run(ctx, "check")
				return err
			},
			quark.CodeOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				var s *quark.Silo
				admit := quark.AdmitInterceptorFunc(func(ctx context.Context, m quark.Message) error {
					if m.Target().Key.Str() != "guarded" {
						return nil
					}
					return c.callBack(ctx, s)
				})
				h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) {
					if step == "call guarded" {
						return testactors.NewProbeRef(s, quark.StringKey("guarded")).Run(ctx, "x")
					}
					return step, nil
				}}
				s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithIncomingInterceptors(admit), quark.WithCallTimeout(10*time.Second))
				if err := c.outer(context.Background(), s); quark.CodeOf(err) != c.want {
					t.Fatalf("call through Admit's own call: %v, want code %v", err, c.want)
				}
			})
		})
	}
}

// TestAdmitPanicRefuses: a panicking Admit refuses the call with CodePanic,
// activates nothing, and the silo goes on.
func TestAdmitPanicRefuses(t *testing.T) {
	admit := quark.AdmitInterceptorFunc(func(_ context.Context, m quark.Message) error {
		if m.Target().Key.Str() == "boom" {
			panic("policy store gone")
		}
		return nil
	})
	h := &hooks{}
	s := newSilo(t, registerProbes(h), quark.WithIncomingInterceptors(admit))
	ctx := context.Background()
	if _, err := testactors.NewProbeRef(s, quark.StringKey("boom")).Run(ctx, "x"); quark.CodeOf(err) != quark.CodePanic {
		t.Fatalf("call refused by a panic: %v, want CodePanic", err)
	}
	if err := testactors.NewProbeRef(s, quark.StringKey("boom")).Tell(ctx, "x"); quark.CodeOf(err) != quark.CodePanic {
		t.Fatalf("send refused by a panic: %v, want CodePanic", err)
	}
	if n := h.created.Load(); n != 0 || s.Stats().DroppedOneWay != 1 {
		t.Fatalf("factory ran %d times, %d dropped; want 0 and 1", n, s.Stats().DroppedOneWay)
	}
	if _, err := testactors.NewProbeRef(s, quark.StringKey("fine")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
}

// TestNilInterceptor: a nil interceptor, or a nil function in an adapter,
// is an invalid option on either side.
func TestNilInterceptor(t *testing.T) {
	ok := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker { return next })
	cases := []struct {
		name string
		opt  quark.SiloOption
	}{
		{"incoming nil", quark.WithIncomingInterceptors(ok, nil)},
		{"outgoing nil", quark.WithOutgoingInterceptors(nil)},
		{"nil CallInterceptorFunc", quark.WithOutgoingInterceptors(quark.CallInterceptorFunc(nil))},
		{"nil AdmitInterceptorFunc", quark.WithIncomingInterceptors(quark.AdmitInterceptorFunc(nil))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := quark.NewSilo(quark.WithLogger(quiet), c.opt); quark.CodeOf(err) != quark.CodeInvalidArgument {
				t.Fatalf("NewSilo: %v, want CodeInvalidArgument", err)
			}
		})
	}
}

// BenchmarkInterceptors measures what interceptors add to a call (inline)
// and a one-way message: none, one Admit hook (incoming), one WrapCall hook
// on each side. Compare with BenchmarkCall and BenchmarkOneWay, which run
// with none.
func BenchmarkInterceptors(b *testing.B) {
	pass := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker { return next })
	wrap := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
		return func(ctx context.Context, m quark.Message) error { return next(ctx, m) }
	})
	admit := quark.AdmitInterceptorFunc(func(context.Context, quark.Message) error { return nil })
	for _, bc := range []struct {
		name string
		opts []quark.SiloOption
	}{
		{"none", nil},
		{"pass", []quark.SiloOption{quark.WithIncomingInterceptors(pass), quark.WithOutgoingInterceptors(pass)}},
		{"admit", []quark.SiloOption{quark.WithIncomingInterceptors(admit)}},
		{"wrap", []quark.SiloOption{quark.WithIncomingInterceptors(wrap), quark.WithOutgoingInterceptors(wrap)}},
	} {
		processed := new(atomic.Int64)
		silo := func(b *testing.B) *quark.Silo {
			return newSilo(b, func(s *quark.Silo) {
				must(testactors.RegisterCounter(s, func(*quark.Activation) testactors.Counter {
					return &benchCounter{processed: processed}
				}))
			}, bc.opts...)
		}
		b.Run("call/"+bc.name, func(b *testing.B) {
			ref := testactors.NewCounterRef(silo(b), quark.IntKey(1))
			warmCounter(b, ref)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ref.Add(ctx, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("oneway/"+bc.name, func(b *testing.B) {
			ref := testactors.NewCounterRef(silo(b), quark.IntKey(1))
			warmCounter(b, ref)
			ctx := context.Background()
			processed.Store(0)
			var sent int64
			b.ReportAllocs()
			for b.Loop() {
				for {
					err := ref.Inc(ctx, 1)
					if err == nil {
						break
					}
					if quark.CodeOf(err) != quark.CodeOverloaded {
						b.Fatal(err)
					}
					runtime.Gosched()
				}
				sent++
			}
			for processed.Load() != sent {
				runtime.Gosched()
			}
		})
	}
}

// errForbidden is a sentinel registered for the wire.
var errForbidden = errors.New("forbidden")

// forbiddenError is an error type that does not survive the wire.
type forbiddenError struct{ who string }

func (e *forbiddenError) Error() string { return e.who + " may not" }
func (e *forbiddenError) Unwrap() error { return errForbidden }

func init() { codec.RegisterError("github.com/quarkgo/quark_test.errForbidden", errForbidden) }

// TestRefusalThroughCodecRouting: with codec routing, a refusal reaches the
// caller as it would from another silo: message and registered sentinel
// identity kept, its type not.
func TestRefusalThroughCodecRouting(t *testing.T) {
	for _, routed := range []bool{false, true} {
		t.Run(fmt.Sprintf("routed=%t", routed), func(t *testing.T) {
			admit := quark.AdmitInterceptorFunc(func(context.Context, quark.Message) error {
				return &forbiddenError{"mallory"}
			})
			h := &hooks{}
			s := newSilo(t, registerProbes(h), quark.WithCodecRouting(routed), quark.WithIncomingInterceptors(admit))
			ctx := context.Background()
			_, callErr := testactors.NewProbeRef(s, quark.StringKey("a")).Run(ctx, "x")
			sendErr := testactors.NewProbeRef(s, quark.StringKey("a")).Tell(ctx, "x")
			for _, err := range []error{callErr, sendErr} {
				var typed *forbiddenError
				if !errors.Is(err, errForbidden) || !strings.Contains(err.Error(), "mallory may not") || errors.As(err, &typed) == routed {
					t.Fatalf("refusal arrived as %#v; want the sentinel and message kept, and the type kept only when not routed", err)
				}
			}
			if n := h.created.Load(); n != 0 {
				t.Fatalf("factory ran %d times, want 0", n)
			}
		})
	}
}
