package quark_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
)

// quiesce waits until the goroutines started since base have exited: a
// drainer holds its activation for a moment after the call it ran has
// returned, and the fake clock runs a collection at once, so a test that
// expects an activation collected lets its drainer go first.
func quiesce(t *testing.T, base int) {
	t.Helper()
	waitFor(t, "drainers to exit", func() bool { return runtime.NumGoroutine() <= base })
}

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
	base := runtime.NumGoroutine()
	call := func(key string) {
		t.Helper()
		if _, err := testactors.NewProbeRef(s, quark.StringKey(key)).Run(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		quiesce(t, base)
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
			quark.WithCollectionAge(2*time.Minute)))
		must(testactors.RegisterStatelessProbe(s, func(a *quark.Activation) testactors.StatelessProbe { return h.newProbe(a) }))
	}, quark.WithClock(clk))
	ctx := context.Background()
	base := runtime.NumGoroutine()
	if _, err := testactors.NewProbeRef(s, quark.StringKey("short")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := testactors.NewStatelessProbeRef(s, quark.StringKey("long")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	quiesce(t, base)
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
	for name, opt := range map[string]quark.SiloOption{
		"call timeout":       quark.WithCallTimeout(0),
		"collection age":     quark.WithCollectionAge(-time.Second),
		"collection quantum": quark.WithCollectionQuantum(0),
		"mailbox":            quark.WithMailboxSize(0),
		"inline slice":       quark.WithInlineSlice(0),
		"long inline slice":  quark.WithInlineSlice(time.Second),
		"logger":             quark.WithLogger(nil),
		"clock":              quark.WithClock(nil),
		"propagator":         quark.WithPropagators(nil),
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
	if err := testactors.RegisterProbe(s, newProbe, quark.WithMailboxSize(0)); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Errorf("mailbox 0: %v", err)
	}
	if err := testactors.RegisterProbe(s, newProbe, quark.WithMaxWorkers(-1)); quark.CodeOf(err) != quark.CodeInvalidArgument {
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

// stopWithin runs Stop(ctx) and returns its error, failing the test if Stop
// has not returned after a generous bound (a liveness guard, not a speed
// assertion).
func stopWithin(t *testing.T, s *quark.Silo, ctx context.Context) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Stop(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
		return nil
	}
}

// TestStopIsNotHeldByCollection: Stop keeps its deadline while an idle
// collection's OnDeactivate is blocked.
func TestStopIsNotHeldByCollection(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	h := &hooks{deactivate: func(_ *probe, r quark.DeactivationReason) {
		if r == quark.ReasonIdle {
			once.Do(func() { close(entered) })
			<-release
		}
	}}
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk),
		quark.WithCollectionAge(time.Minute), quark.WithCollectionQuantum(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	before := runtime.NumGoroutine()
	if _, err := testactors.NewProbeRef(s, quark.StringKey("idle")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	quiesce(t, before)
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		clk.Advance(3 * time.Minute) // the collector deactivates the idle actor
	}()
	<-entered
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := stopWithin(t, s, short); quark.CodeOf(err) != quark.CodeTimeout {
		t.Fatalf("stop during a blocked collection: %v, want CodeTimeout", err)
	}
	released = true
	close(release)
	<-advanced
	if err := stopWithin(t, s, ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("%d activations after stop", n)
	}
}

// TestCollectionRunsHooksSideBySide: one slow OnDeactivate does not hold up
// the collection of the other idle activations.
func TestCollectionRunsHooksSideBySide(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var in sync.WaitGroup
	in.Add(2)
	both := make(chan struct{})
	h := &hooks{deactivate: func(_ *probe, r quark.DeactivationReason) {
		if r == quark.ReasonIdle {
			in.Done()
			<-both
		}
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk),
		quark.WithCollectionAge(time.Minute), quark.WithCollectionQuantum(time.Minute))
	ctx := context.Background()
	before := runtime.NumGoroutine()
	for _, k := range []string{"a", "b"} {
		if _, err := testactors.NewProbeRef(s, quark.StringKey(k)).Run(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	quiesce(t, before) // both idle before the one collection that takes them both
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		clk.Advance(3 * time.Minute)
	}()
	entered := make(chan struct{})
	go func() {
		in.Wait()
		close(entered)
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		close(both)
		<-advanced
		t.Fatal("the second OnDeactivate did not start while the first was blocked")
	}
	close(both)
	<-advanced
	if n := s.Stats().Activations; n != 0 {
		t.Fatalf("%d activations after collection", n)
	}
}

// TestOnDeactivateAtStopGetsStopsDeadline: OnDeactivate with ReasonShutdown
// runs under Stop's deadline, not the default call timeout.
func TestOnDeactivateAtStopGetsStopsDeadline(t *testing.T) {
	var mu sync.Mutex
	var got []time.Time
	h := &hooks{}
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithCallTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe {
		return &deadlineProbe{probe: h.newProbe(a), seen: func(d time.Time) {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
		}}
	}))
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := testactors.NewProbeRef(s, quark.IntKey(int64(i))).Run(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	deadline, _ := stopCtx.Deadline()
	if err := s.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("OnDeactivate ran %d times, want 3", len(got))
	}
	for _, d := range got {
		if d.After(deadline) {
			t.Fatalf("OnDeactivate at Stop had deadline %v, after Stop's %v", d, deadline)
		}
	}
}

// deadlineProbe reports the deadline OnDeactivate receives.
type deadlineProbe struct {
	*probe
	seen func(time.Time)
}

func (p *deadlineProbe) OnDeactivate(ctx context.Context, _ quark.DeactivationReason) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	p.seen(d)
}

// failingReminders is a reminder store that cannot list its reminders.
type failingReminders struct{ *storage.Memory }

func (failingReminders) Reminders(context.Context, uint32, uint32) ([]storage.Reminder, error) {
	return nil, quark.Errorf(quark.CodeUnavailable, "reminder store down")
}

// TestFailedStartLeavesNothingArmed: a Start that fails leaves no collector,
// timer or reminder scheduled, and the silo stopped.
func TestFailedStartLeavesNothingArmed(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk),
		quark.WithReminderStore(failingReminders{storage.NewMemory()}))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(&hooks{})(s)
	ctx := context.Background()
	if err := s.Start(ctx); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("start: %v, want the store's error", err)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d clock functions armed after a failed start, want 0", n)
	}
	if _, err := testactors.NewProbeRef(s, quark.StringKey("x")).Run(ctx, "x"); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("call after a failed start: %v, want CodeUnavailable", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop after a failed start: %v", err)
	}
	if err := s.Start(ctx); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("start again: %v, want CodeInvalidArgument", err)
	}
}

// TestCallRacingStart: a call made while the silo starts reads nothing Start
// writes without synchronisation. The race detector is the assertion.
func TestCallRacingStart(t *testing.T) {
	for range 5 {
		s, err := quark.NewSilo(quark.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		registerProbes(&hooks{})(s)
		ref := testactors.NewProbeRef(s, quark.StringKey("r"))
		ctx := context.Background()
		done := make(chan struct{})
		go func() {
			defer close(done)
			ref.Run(ctx, "x") // either CodeUnavailable or a result
		}()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		<-done
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeadActivationKeepsNoState: a Ref that still points at a deactivated
// activation does not keep the actor's State values alive.
func TestDeadActivationKeepsNoState(t *testing.T) {
	var wp weak.Pointer[quark.State[testactors.CounterState]]
	var mu sync.Mutex
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(a *quark.Activation) testactors.Counter {
			st := quark.NewState[testactors.CounterState](a)
			mu.Lock()
			wp = weak.Make(st)
			mu.Unlock()
			return &durableCounter{a: a, state: st}
		}))
	}, quark.WithStore(storage.NewMemory()))
	ctx := context.Background()
	if _, err := testactors.NewCounterRef(s, quark.StringKey("c")).Add(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ref := testactors.NewCounterRef(s, quark.StringKey("c")) // holds the live activation
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	mu.Lock()
	alive := wp.Value() != nil
	mu.Unlock()
	if alive {
		t.Fatal("the State of a deactivated activation is still reachable")
	}
	runtime.KeepAlive(ref)
}

// captured is a slog handler that keeps every record, for tests of what the
// silo logs.
type captured struct {
	mu   *sync.Mutex
	recs *[]slog.Record
}

func newCaptured() captured { return captured{mu: new(sync.Mutex), recs: new([]slog.Record)} }

func (c captured) Enabled(context.Context, slog.Level) bool { return true }
func (c captured) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c captured) WithGroup(string) slog.Handler            { return c }
func (c captured) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	*c.recs = append(*c.recs, r.Clone())
	c.mu.Unlock()
	return nil
}

// dropCounts returns the "count" attribute of each record about dropped
// one-way messages (1 for a record without one).
func (c captured) dropCounts() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for _, r := range *c.recs {
		if !strings.HasPrefix(r.Message, "one-way messages dropped") {
			continue
		}
		n := int64(1)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "count" {
				n = a.Value.Int64()
			}
			return true
		})
		out = append(out, n)
	}
	return out
}

// TestDroppedOneWayLogIsRateLimited: a flood of dropped one-way messages
// writes a line for the first, then at most one summary per second of the
// silo's clock, and a last summary at Stop; every drop is counted.
func TestDroppedOneWayLogIsRateLimited(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	logs := newCaptured()
	entered := make(chan struct{})
	release := make(chan struct{})
	h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
		if step == "block" {
			close(entered)
			<-release
		}
		return step, nil
	}}
	s, err := quark.NewSilo(quark.WithLogger(slog.New(logs)), quark.WithClock(clk), quark.WithCollectionAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h, quark.WithMailboxSize(1))(s)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ref := testactors.NewProbeRef(s, quark.StringKey("busy"))
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		ref.Run(ctx, "block")
	}()
	<-entered
	if err := ref.Tell(ctx, "fill"); err != nil {
		t.Fatal(err)
	}
	flood := func(n int) {
		for range n {
			if err := ref.Tell(ctx, "x"); quark.CodeOf(err) != quark.CodeOverloaded {
				t.Fatalf("send to a full mailbox: %v, want CodeOverloaded", err)
			}
		}
	}
	flood(1000)
	if got := logs.dropCounts(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after 1000 drops within a second: log lines with counts %v, want [1]", got)
	}
	clk.Advance(time.Second) // the summary of the rest, though drops stopped
	if got := logs.dropCounts(); !slices.Equal(got, []int64{1, 999}) {
		t.Fatalf("a second later: log lines with counts %v, want [1 999]", got)
	}
	clk.Advance(time.Minute) // nothing new to report
	flood(5)
	if got := logs.dropCounts(); !slices.Equal(got, []int64{1, 999, 1}) {
		t.Fatalf("a drop after a quiet minute: log lines with counts %v, want [1 999 1]", got)
	}
	flood(4)
	close(release)
	<-blocked
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := logs.dropCounts(); !slices.Equal(got, []int64{1, 999, 1, 8}) {
		t.Fatalf("after Stop: log lines with counts %v, want [1 999 1 8]", got)
	}
	if n := s.Stats().DroppedOneWay; n != 1009 {
		t.Fatalf("DroppedOneWay %d, want 1009", n)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d clock functions armed after Stop", n)
	}
}

// TestTickErrorsAreCallbackErrors: a failing timer or reminder callback is
// a callback error, not a dropped message.
func TestTickErrorsAreCallbackErrors(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	h := &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			if step == "start" {
				p.a.RegisterTimer(time.Second, 0, func(context.Context) error {
					return quark.Errorf(quark.CodeInternal, "timer failed")
				})
				return step, p.a.RegisterReminder(ctx, "r", time.Minute, time.Hour)
			}
			return step, nil
		},
		remind: func(context.Context, *probe, string, time.Time) error {
			return quark.Errorf(quark.CodeInternal, "reminder failed")
		},
	}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithCollectionAge(time.Hour),
		quark.WithStore(storage.NewMemory()))
	ref := testactors.NewProbeRef(s, quark.StringKey("t"))
	ctx := context.Background()
	if _, err := ref.Run(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := ref.Run(ctx, "x"); err != nil { // a turn after the queued ticks
		t.Fatal(err)
	}
	st := s.Stats()
	if st.DroppedOneWay != 0 || st.CallbackErrors != 2 {
		t.Fatalf("DroppedOneWay %d, CallbackErrors %d; want 0 and 2", st.DroppedOneWay, st.CallbackErrors)
	}
}
