package quark_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

func TestIdleCollectionFollowsTheClock(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	gone := map[string]quark.DeactivationReason{}
	h := &hooks{deactivate: func(p *probe, r quark.DeactivationReason) {
		mu.Lock()
		gone[p.a.ID().Key.Str()] = r
		mu.Unlock()
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk),
		quark.WithCollectionAge(10*time.Minute), quark.WithCollectionQuantum(time.Minute))
	ctx := context.Background()
	call := func(key string) {
		t.Helper()
		if _, err := testactors.NewProbeRef(s, quark.StringKey(key)).Run(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	collected := func(key string) bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := gone[key]
		return ok
	}
	call("old")
	call("busy")
	clk.Advance(5 * time.Minute)
	call("busy")
	clk.Advance(6 * time.Minute) // "old" idle 11 min: not yet past age plus a quantum
	if collected("old") || collected("busy") {
		t.Fatalf("collected too early: %v", gone)
	}
	clk.Advance(2 * time.Minute) // "old" idle 13 min, "busy" 8 min
	if !collected("old") {
		t.Fatal("idle activation not collected")
	}
	if collected("busy") {
		t.Fatal("recently used activation collected")
	}
	if gone["old"] != quark.ReasonIdle {
		t.Fatalf("reason %v, want idle", gone["old"])
	}
	if n := s.Stats().Activations; n != 1 {
		t.Fatalf("%d activations, want 1", n)
	}
	clk.Advance(10 * time.Minute)
	if !collected("busy") {
		t.Fatal("second activation not collected")
	}
	// A collected actor comes back on its next call.
	call("old")
	if n := h.created.Load(); n != 3 {
		t.Fatalf("factory called %d times, want 3", n)
	}
}

func TestPerTypeCollectionAge(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	h := &hooks{}
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe { return h.newProbe(a) },
			quark.CollectionAge(2*time.Minute)))
		must(testactors.RegisterStatelessProbe(s, func(a *quark.Activation) testactors.StatelessProbe { return h.newProbe(a) }))
	}, quark.WithClock(clk))
	ctx := context.Background()
	if _, err := testactors.NewProbeRef(s, quark.StringKey("short")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := testactors.NewStatelessProbeRef(s, quark.StringKey("long")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	if n := s.Stats().Activations; n != 1 {
		t.Fatalf("%d activations after 5 min, want 1 (the 2-minute type collected)", n)
	}
	clk.Advance(15 * time.Minute)
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("%d activations after 20 min, want 0", n)
	}
}

func TestIdleActivationsHoldNoGoroutine(t *testing.T) {
	s := newSilo(t, registerProbes(&hooks{}))
	ctx := context.Background()
	before := runtime.NumGoroutine()
	for i := range 2000 {
		if _, err := testactors.NewProbeRef(s, quark.IntKey(int64(i))).Run(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		if err := testactors.NewProbeRef(s, quark.IntKey(int64(i))).Tell(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "drainers to exit", func() bool { return runtime.NumGoroutine() <= before+2 })
	if n := s.Stats().Activations; n != 2000 {
		t.Fatalf("%d activations, want 2000", n)
	}
}

func TestGracefulStop(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		release := make(chan struct{})
		entered := make(chan struct{})
		var deactivated atomic.Int64
		var s *quark.Silo
		h := &hooks{
			run: func(ctx context.Context, p *probe, step string) (string, error) {
				if step == "block" {
					close(entered)
					<-release
					// An admitted call may still call other actors while the
					// silo stops.
					return testactors.NewProbeRef(s, quark.StringKey("late-callee")).Run(ctx, "chained")
				}
				return step, nil
			},
			deactivate: func(_ *probe, r quark.DeactivationReason) {
				if r == quark.ReasonShutdown {
					deactivated.Add(1)
				}
			},
		}
		var err error
		s, err = quark.NewSilo(quark.WithLogger(quiet), quark.WithInlineCalls(inline))
		if err != nil {
			t.Fatal(err)
		}
		registerProbes(h)(s)
		ctx := context.Background()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := testactors.NewProbeRef(s, quark.IntKey(int64(i))).Run(ctx, "x"); err != nil {
				t.Fatal(err)
			}
		}
		result := make(chan error)
		go func() {
			got, err := testactors.NewProbeRef(s, quark.StringKey("in-flight")).Run(ctx, "block")
			if err == nil && got != "chained" {
				t.Errorf("in-flight call got %q", got)
			}
			result <- err
		}()
		<-entered
		stopped := make(chan error)
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			stopped <- s.Stop(ctx)
		}()
		// New calls from outside are refused once Stop has begun.
		waitFor(t, "stop to refuse new calls", func() bool {
			_, err := testactors.NewProbeRef(s, quark.StringKey("new")).Run(ctx, "x")
			return quark.CodeOf(err) == quark.CodeUnavailable
		})
		close(release)
		if err := <-result; err != nil {
			t.Fatalf("in-flight call failed during stop: %v", err)
		}
		if err := <-stopped; err != nil {
			t.Fatalf("stop: %v", err)
		}
		if n := s.Stats().Activations; n != 0 {
			t.Fatalf("%d activations after stop", n)
		}
		if d, c := deactivated.Load(), h.created.Load(); d != c {
			t.Fatalf("OnDeactivate ran %d times for %d activations", d, c)
		}
		if _, err := testactors.NewProbeRef(s, quark.StringKey("after")).Run(ctx, "x"); quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("call after stop: %v", err)
		}
	})
}

func TestStopHonoursItsDeadline(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
		close(entered)
		<-release
		return step, nil
	}}
	s, err := quark.NewSilo(quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testactors.NewProbeRef(s, quark.StringKey("stuck")).Run(context.Background(), "x")
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); quark.CodeOf(err) != quark.CodeTimeout {
		t.Fatalf("stop with a stuck turn: %v, want CodeTimeout", err)
	}
	close(release)
	<-done
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("%d activations after the second stop", n)
	}
}

func TestConfigurationErrors(t *testing.T) {
	for name, opt := range map[string]quark.Option{
		"call timeout":       quark.WithCallTimeout(0),
		"collection age":     quark.WithCollectionAge(-time.Second),
		"collection quantum": quark.WithCollectionQuantum(0),
		"mailbox":            quark.WithMailboxSize(0),
		"inline turns":       quark.WithMaxInlineTurns(0),
		"logger":             quark.WithLogger(nil),
		"clock":              quark.WithClock(nil),
		"propagated key":     quark.WithPropagatedContextKeys(nil),
		"max message size":   quark.WithMaxMessageSize(0),
	} {
		if _, err := quark.NewSilo(opt); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Errorf("%s: err = %v, want CodeInvalidArgument", name, err)
		}
	}
	s, err := quark.NewSilo(quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	newProbe := func(a *quark.Activation) testactors.Probe { return (&hooks{}).newProbe(a) }
	if err := testactors.RegisterProbe(s, newProbe, quark.MailboxSize(0)); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("mailbox 0: %v", err)
	}
	if err := testactors.RegisterProbe(s, newProbe, quark.MaxWorkers(-1)); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("max workers -1: %v", err)
	}
	if err := testactors.RegisterProbe(s, newProbe); err != nil {
		t.Fatal(err)
	}
	if err := testactors.RegisterProbe(s, newProbe); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("duplicate registration: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	if err := s.Start(context.Background()); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("second start: %v", err)
	}
	if err := testactors.RegisterCounter(s, nil); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("register after start: %v", err)
	}
}
