package quark_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/embedded"
)

// reminderHooks records ticks and registers reminders on the steps "remind"
// (due 1 min, period 1 min) and "forget".
func reminderHooks(ticks *atomic.Int64, dues *[]time.Time, mu *sync.Mutex) *hooks {
	return &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			switch step {
			case "remind":
				return step, p.a.RegisterReminder(ctx, "sweep", time.Minute, time.Minute)
			case "forget":
				return step, p.a.UnregisterReminder(ctx, "sweep")
			case "bye":
				p.a.DeactivateOnIdle()
			}
			return step, nil
		},
		remind: func(_ context.Context, _ *probe, name string, due time.Time) error {
			mu.Lock()
			*dues = append(*dues, due)
			mu.Unlock()
			ticks.Add(1)
			return nil
		},
	}
}

func TestReminderActivatesAndTicks(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := quarktest.NewClock(start)
	var ticks atomic.Int64
	var dues []time.Time
	var mu sync.Mutex
	h := reminderHooks(&ticks, &dues, &mu)
	s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(storage.NewMemory()))
	ref := testactors.NewProbeRef(s, quark.StringKey("r"))
	ctx := context.Background()
	if _, err := ref.Run(ctx, "remind"); err != nil {
		t.Fatal(err)
	}
	// The actor goes away; its reminder brings it back.
	if _, err := ref.Run(ctx, "bye"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deactivation", func() bool { return s.Stats().Activations == 0 })
	for i := int64(1); i <= 3; i++ {
		clk.Advance(time.Minute)
		waitFor(t, "a tick", func() bool { return ticks.Load() == i })
	}
	mu.Lock()
	for i, d := range dues {
		if want := start.Add(time.Duration(i+1) * time.Minute); !d.Equal(want) {
			t.Fatalf("tick %d due %v, want %v", i, d, want)
		}
	}
	mu.Unlock()
	if _, err := ref.Run(ctx, "forget"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	if _, err := ref.Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if n := ticks.Load(); n != 3 {
		t.Fatalf("%d ticks after unregistering, want 3", n)
	}
}

func TestReminderSurvivesRestartAndCoalescesMissedTicks(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := storage.NewMemory()
	ctx := context.Background()
	var ticks atomic.Int64
	var dues []time.Time
	var mu sync.Mutex
	h := reminderHooks(&ticks, &dues, &mu)
	s1, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk), quark.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s1)
	if err := s1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := testactors.NewProbeRef(s1, quark.StringKey("r")).Run(ctx, "remind"); err != nil {
		t.Fatal(err)
	}
	if err := s1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Ten periods pass with no silo running.
	clk.Advance(10*time.Minute + 30*time.Second)
	if ticks.Load() != 0 {
		t.Fatal("a stopped silo delivered a tick")
	}
	s2 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
	clk.Advance(0)
	waitFor(t, "the recovery tick", func() bool { return ticks.Load() == 1 })
	clk.Advance(20 * time.Second) // before the next period boundary
	if _, err := testactors.NewProbeRef(s2, quark.StringKey("r")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if n := ticks.Load(); n != 1 {
		t.Fatalf("%d ticks on recovery, want the missed ones coalesced into 1", n)
	}
	clk.Advance(10 * time.Second) // 11 minutes after registration
	waitFor(t, "the next scheduled tick", func() bool { return ticks.Load() == 2 })
}

func TestReminderErrors(t *testing.T) {
	ctx := context.Background()
	got := make(chan error, 2)
	h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
		got <- p.a.RegisterReminder(ctx, "r", time.Minute, time.Second)
		return step, nil
	}}
	s := newSilo(t, registerProbes(h), quark.WithStore(storage.NewMemory()))
	testactors.NewProbeRef(s, quark.StringKey("a")).Run(ctx, "x")
	if err := <-got; quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("period under the minimum: %v", err)
	}
	s2 := newSilo(t, registerProbes(h))
	testactors.NewProbeRef(s2, quark.StringKey("a")).Run(ctx, "x")
	if err := <-got; quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("no reminder store: %v", err)
	}
}

// BenchmarkReminderHeap registers reminders with spread due times and
// 1-minute periods on one silo and reports the scheduler's heap bytes per
// reminder (the memory store's copy excluded).
func BenchmarkReminderHeap(b *testing.B) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	ctx := context.Background()
	var self *quark.Activation
	h := &hooks{run: func(_ context.Context, p *probe, _ string) (string, error) { self = p.a; return "", nil }}
	st := &countingReminders{}
	s := newSilo(b, registerProbes(h), quark.WithClock(clk), quark.WithReminderStore(st))
	testactors.NewProbeRef(s, quark.StringKey("owner")).Run(ctx, "x")
	n := max(b.N, 1000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range n {
		due := time.Duration(i%60000) * time.Millisecond
		if err := self.RegisterReminder(ctx, "r"+strconv.Itoa(i), due, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/reminder")
}

// countingReminders is a ReminderStore that keeps nothing, so the benchmark
// measures the scheduler alone.
type countingReminders struct{ saved atomic.Int64 }

func (c *countingReminders) SaveReminder(context.Context, storage.Reminder) error {
	c.saved.Add(1)
	return nil
}
func (c *countingReminders) DeleteReminder(context.Context, string, []byte, string) error {
	return nil
}
func (c *countingReminders) Reminders(context.Context, uint32, uint32) ([]storage.Reminder, error) {
	return nil, nil
}
func (c *countingReminders) SaveWatermark(context.Context, storage.Watermark) error { return nil }
func (c *countingReminders) Watermarks(context.Context, uint32, uint32) ([]storage.Watermark, error) {
	return nil, nil
}

// BenchmarkReminderLateness registers 100,000 reminders on one silo, due
// spread over two seconds with 1-minute periods, on the real clock, and
// reports how late their first ticks arrive (p50, p99, max). One iteration
// is the whole run; use -benchtime 1x.
func BenchmarkReminderLateness(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	var mu sync.Mutex
	late := make([]time.Duration, 0, n)
	done := make(chan struct{})
	var self *quark.Activation
	h := &hooks{
		run: func(_ context.Context, p *probe, _ string) (string, error) { self = p.a; return "", nil },
		remind: func(_ context.Context, _ *probe, _ string, due time.Time) error {
			d := time.Since(due)
			mu.Lock()
			late = append(late, d)
			if len(late) == n {
				close(done)
			}
			mu.Unlock()
			return nil
		},
	}
	for range b.N {
		late = late[:0]
		done = make(chan struct{})
		s := newSilo(b, registerProbes(h, quark.WithMailboxSize(2*n)), quark.WithReminderStore(&countingReminders{}))
		testactors.NewProbeRef(s, quark.StringKey("owner")).Run(ctx, "x")
		start := time.Now()
		for i := range n {
			due := 500*time.Millisecond + time.Duration(i)*2*time.Second/n - time.Since(start)
			if err := self.RegisterReminder(ctx, "r"+strconv.Itoa(i), due, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("only %d of %d ticks arrived", len(late), n)
		}
		s.Stop(ctx)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "max-ms")
}

// tickLog records reminder ticks: how many, and each one's due time.
type tickLog struct {
	n    atomic.Int64
	mu   sync.Mutex
	dues []time.Time
}

func (l *tickLog) hooks() *hooks {
	h := reminderHooks(&l.n, &l.dues, &l.mu)
	return h
}

func (l *tickLog) all() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.dues)
}

// syncProbe makes a call to the probe "r", the one the reminder tests
// register their reminders on, so that the ticks the clock posted to it
// before have run (they are ahead in its mailbox).
func syncProbe(t *testing.T, s *quark.Silo) {
	t.Helper()
	syncProbeStep(t, s, "x")
}

func stopSilo(t *testing.T, s *quark.Silo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReminderRestart restarts a silo on the same store: a reminder fires at
// start only when one of its scheduled ticks was missed, once, with the
// scheduled time as due.
func TestReminderRestart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		stopAt  time.Duration // after registration; the tick at 1m has run
		startAt time.Duration
		want    []time.Duration // dues of ticks at start, before the next scheduled one
		next    time.Duration   // the next scheduled tick after start
	}{
		{"nothing missed", 90 * time.Second, 110 * time.Second, nil, 2 * time.Minute},
		{"restart exactly at a tick", 90 * time.Second, 2 * time.Minute, []time.Duration{2 * time.Minute}, 3 * time.Minute},
		{"one missed", 90 * time.Second, 150 * time.Second, []time.Duration{2 * time.Minute}, 3 * time.Minute},
		{"several missed", 90 * time.Second, 10*time.Minute + 30*time.Second, []time.Duration{10 * time.Minute}, 11 * time.Minute},
		{"stopped at once after the tick", time.Minute, 70 * time.Second, nil, 2 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := quarktest.NewClock(t0)
			st := storage.NewMemory()
			var l tickLog
			h := l.hooks()
			s1 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
			syncProbeStep(t, s1, "remind")
			clk.Advance(time.Minute)
			syncProbe(t, s1)
			if got := l.all(); len(got) != 1 || !got[0].Equal(t0.Add(time.Minute)) {
				t.Fatalf("ticks before the restart: %v", got)
			}
			clk.Set(t0.Add(c.stopAt))
			stopSilo(t, s1)
			clk.Set(t0.Add(c.startAt))
			s2 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
			clk.Advance(0)
			syncProbe(t, s2)
			var want []time.Time
			want = append(want, t0.Add(time.Minute))
			for _, d := range c.want {
				want = append(want, t0.Add(d))
			}
			if got := l.all(); !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Fatalf("ticks after the restart: got %v, want %v", got, want)
			}
			clk.Set(t0.Add(c.next))
			syncProbe(t, s2)
			want = append(want, t0.Add(c.next))
			if got := l.all(); !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Fatalf("ticks at the next period: got %v, want %v", got, want)
			}
		})
	}
}

// syncProbeStep makes the probe "r" run step and waits for it.
func syncProbeStep(t *testing.T, s *quark.Silo, step string) {
	t.Helper()
	if _, err := testactors.NewProbeRef(s, quark.StringKey("r")).Run(context.Background(), step); err != nil {
		t.Fatal(err)
	}
}

// TestReminderWatermarkSavedWhileRunning: a silo that dies without Stop has
// saved, every few seconds, how far its ticks were delivered, so a silo
// started after it on the same store does not deliver them again.
func TestReminderWatermarkSavedWhileRunning(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk1 := quarktest.NewClock(t0)
	st := storage.NewMemory()
	var l tickLog
	h := l.hooks()
	s1 := newSilo(t, registerProbes(h), quark.WithClock(clk1), quark.WithStore(st))
	syncProbeStep(t, s1, "remind")
	clk1.Advance(time.Minute + 30*time.Second)
	syncProbe(t, s1)
	clk1.Advance(5 * time.Second) // the next save after the tick ran
	// s1 is left running, but its clock never moves again: as far as the
	// store can tell it died. A new silo takes over on a clock of its own.
	clk2 := quarktest.NewClock(t0.Add(100 * time.Second))
	s2 := newSilo(t, registerProbes(h), quark.WithClock(clk2), quark.WithStore(st))
	clk2.Advance(0)
	syncProbe(t, s2)
	if got := l.all(); len(got) != 1 {
		t.Fatalf("ticks after the takeover: %v, want the one at 1m only", got)
	}
	clk2.Set(t0.Add(2 * time.Minute))
	syncProbe(t, s2)
	if got := l.all(); len(got) != 2 || !got[1].Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("ticks at 2m: %v", got)
	}
}

// logWatch is a slog handler that signals each record whose message is msg.
type logWatch struct {
	msg string
	ch  chan slog.Record
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == w.msg {
		w.ch <- r
	}
	return nil
}
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

func (w *logWatch) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no log record %q", w.msg)
	}
}

// TestReminderTickRetried: a tick that meets a full mailbox or a failing
// activation is retried within its period, with its scheduled due time.
func TestReminderTickRetried(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		// block makes the first delivery of the tick at 1m fail and
		// returns what lets the retry succeed.
		block func(t *testing.T, s *quark.Silo, h *hooks) (unblock func())
	}{
		{"full mailbox", func(t *testing.T, s *quark.Silo, h *hooks) func() {
			entered, release := make(chan struct{}), make(chan struct{})
			told := make(chan struct{}, 2)
			run := h.run
			h.run = func(ctx context.Context, p *probe, step string) (string, error) {
				if step == "block" {
					close(entered)
					<-release
					return step, nil
				}
				return run(ctx, p, step)
			}
			h.tell = func(context.Context, *probe, string) error { told <- struct{}{}; return nil }
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the silo's Stop, which waits for the turn
			ref := testactors.NewProbeRef(s, quark.StringKey("r"))
			done := make(chan error, 1)
			go func() { _, err := ref.Run(context.Background(), "block"); done <- err }()
			<-entered
			// The mailbox (size 2) now holds two messages behind the turn.
			for range 2 {
				if err := ref.Tell(context.Background(), "fill"); err != nil {
					t.Fatal(err)
				}
			}
			return func() {
				free()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				<-told
				<-told
			}
		}},
		{"failing activation", func(t *testing.T, s *quark.Silo, h *hooks) func() {
			syncProbeStep(t, s, "bye")
			waitFor(t, "deactivation", func() bool { return s.Stats().Activations == 0 })
			var fail atomic.Bool
			fail.Store(true)
			h.activate = func(context.Context, *probe) error {
				if fail.Load() {
					return quark.Errorf(quark.CodeUnavailable, "not now")
				}
				return nil
			}
			return func() { fail.Store(false) }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := quarktest.NewClock(t0)
			var l tickLog
			h := l.hooks()
			w := &logWatch{msg: "reminder tick not delivered; retrying", ch: make(chan slog.Record, 16)}
			s := newSilo(t, registerProbes(h, quark.WithMailboxSize(2)), quark.WithClock(clk),
				quark.WithStore(storage.NewMemory()), quark.WithLogger(slog.New(w)))
			syncProbeStep(t, s, "remind")
			unblock := c.block(t, s, h)
			clk.Advance(time.Minute)
			w.wait(t)
			if n := l.n.Load(); n != 0 {
				t.Fatalf("%d ticks delivered through the blockage", n)
			}
			unblock()
			// The retry comes well within the period.
			clk.Advance(30 * time.Second)
			waitFor(t, "the retried tick", func() bool { return l.n.Load() == 1 })
			if got := l.all(); !got[0].Equal(t0.Add(time.Minute)) {
				t.Fatalf("retried tick due %v, want %v", got[0], t0.Add(time.Minute))
			}
			clk.Set(t0.Add(2 * time.Minute))
			syncProbe(t, s)
			if got := l.all(); len(got) != 2 || !got[1].Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("ticks: %v", got)
			}
		})
	}
}

// stallClock is a fake clock whose due functions, while stalled, are kept
// instead of run: as on a real clock whose timer goroutine has started but
// not yet got anywhere when Stop disarms it.
type stallClock struct {
	*quarktest.Clock
	mu      sync.Mutex
	stalled bool
	kept    []func()
}

func (c *stallClock) AfterFunc(d time.Duration, f func()) quark.ClockTimer {
	return c.Clock.AfterFunc(d, func() {
		c.mu.Lock()
		if c.stalled {
			c.kept = append(c.kept, f)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		f()
	})
}

// TestNoReminderActivatesAfterStop: once Stop returned, no reminder tick
// activates an actor or runs, neither from the clock moving on nor from a
// clock callback that had already started.
func TestNoReminderActivatesAfterStop(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, stalled := range []bool{false, true} {
		t.Run(map[bool]string{false: "clock moves on", true: "callback already started"}[stalled], func(t *testing.T) {
			clk := &stallClock{Clock: quarktest.NewClock(t0)}
			var l tickLog
			h := l.hooks()
			s := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(storage.NewMemory()))
			syncProbeStep(t, s, "remind")
			syncProbeStep(t, s, "bye")
			waitFor(t, "deactivation", func() bool { return s.Stats().Activations == 0 })
			created := h.created.Load()
			if stalled {
				clk.mu.Lock()
				clk.stalled = true
				clk.mu.Unlock()
				clk.Advance(time.Minute)
			}
			stopSilo(t, s)
			clk.Advance(10 * time.Minute)
			clk.mu.Lock()
			kept := clk.kept
			clk.kept = nil
			clk.mu.Unlock()
			for _, f := range kept {
				f()
			}
			if n := s.Stats().Activations; n != 0 {
				t.Fatalf("%d activations after Stop returned", n)
			}
			if n := h.created.Load(); n != created {
				t.Fatalf("%d actors created after Stop returned", n-created)
			}
			if n := l.n.Load(); n != 0 {
				t.Fatalf("%d ticks after Stop returned", n)
			}
		})
	}
}

// TestReminderBadStoredRows: stored reminders that cannot be scheduled
// (written into the store directly, as damage or an older silo might leave
// them) are logged, counted, skipped and left as they are; the silo starts
// and the good reminder beside them ticks.
func TestReminderBadStoredRows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key, _ := quark.StringKey("r").MarshalBinary()
	good := storage.Reminder{ActorType: "testactors.Probe", ActorKey: key, Name: "good", Hash: 7, First: t0.Add(time.Minute), Period: time.Minute}
	bad := []struct {
		name string
		edit func(r *storage.Reminder)
	}{
		{"zero period", func(r *storage.Reminder) { r.Period = 0 }},
		{"negative period", func(r *storage.Reminder) { r.Period = -time.Minute }},
		{"period under the minimum", func(r *storage.Reminder) { r.Period = time.Second }},
		{"unknown actor type", func(r *storage.Reminder) { r.ActorType = "nobody.Here" }},
		{"undecodable key", func(r *storage.Reminder) { r.ActorKey = []byte{0x7f, 1, 2} }},
		{"zero key", func(r *storage.Reminder) { r.ActorKey = nil }},
		{"name with a NUL", func(r *storage.Reminder) { r.Name = "a\x00b" }},
		{"name not UTF-8", func(r *storage.Reminder) { r.Name = "a\xffb" }},
		{"first before 1970", func(r *storage.Reminder) { r.First = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }},
	}
	stores := []struct {
		name string
		open func(t *testing.T) (storage.ReminderStore, func())
	}{
		{"memory", func(t *testing.T) (storage.ReminderStore, func()) { return storage.NewMemory(), func() {} }},
		{"embedded", func(t *testing.T) (storage.ReminderStore, func()) {
			st, err := embedded.Open(filepath.Join(t.TempDir(), "q.db"), embedded.WithSync(false))
			if err != nil {
				t.Fatal(err)
			}
			return st, func() { st.Close() }
		}},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			rs, closeStore := sc.open(t)
			defer closeStore()
			ctx := context.Background()
			rows := []storage.Reminder{good}
			for i, b := range bad {
				r := good
				r.Name = "bad" + strconv.Itoa(i)
				r.Hash = uint32(100 + i)
				b.edit(&r)
				rows = append(rows, r)
			}
			for _, r := range rows {
				if err := rs.SaveReminder(ctx, r); err != nil {
					t.Fatalf("store %+v: %v", r, err)
				}
			}
			clk := quarktest.NewClock(t0)
			var l tickLog
			s := newSilo(t, registerProbes(l.hooks()), quark.WithClock(clk), quark.WithReminderStore(rs))
			if n := s.Stats().BadReminders; n != int64(len(bad)) {
				t.Fatalf("BadReminders = %d, want %d", n, len(bad))
			}
			clk.Advance(time.Minute)
			syncProbe(t, s)
			if got := l.all(); len(got) != 1 || !got[0].Equal(t0.Add(time.Minute)) {
				t.Fatalf("ticks: %v, want the good reminder's at 1m", got)
			}
			left, err := rs.Reminders(ctx, 0, ^uint32(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != len(rows) {
				t.Fatalf("%d reminders left in the store, want all %d", len(left), len(rows))
			}
		})
	}
}

// BenchmarkRegisterRemindersEmbedded registers 10,000 reminders from 1,000
// actors at once on the embedded store, durably (fsync on), and reports
// registrations per second. One iteration is the whole run.
func BenchmarkRegisterRemindersEmbedded(b *testing.B) {
	const actors, perActor = 1000, 10
	ctx := context.Background()
	h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
		if step == "warm" {
			return "", nil
		}
		for i := range perActor {
			if err := p.a.RegisterReminder(ctx, step+strconv.Itoa(i), time.Hour, time.Hour); err != nil {
				return "", err
			}
		}
		return "", nil
	}}
	var total time.Duration
	for range b.N {
		b.StopTimer()
		st, err := embedded.Open(filepath.Join(b.TempDir(), "q.db"))
		if err != nil {
			b.Fatal(err)
		}
		s := newSilo(b, registerProbes(h), quark.WithStore(st))
		for i := range actors { // activate first: the run measures registrations only
			testactors.NewProbeRef(s, quark.IntKey(int64(i))).Run(ctx, "warm")
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for i := range actors {
			wg.Go(func() {
				if _, err := testactors.NewProbeRef(s, quark.IntKey(int64(i))).Run(ctx, "r"); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		b.StopTimer()
		s.Stop(ctx)
		st.Close()
	}
	b.ReportMetric(float64(actors*perActor*b.N)/total.Seconds(), "registrations/s")
}

// TestReminderTickInFlightAtStop: a tick being handled when Stop begins
// runs to its end, and the watermark Stop saves counts it: the next silo
// does not deliver it again.
func TestReminderTickInFlightAtStop(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := quarktest.NewClock(t0)
	st := storage.NewMemory()
	var l tickLog
	h := l.hooks()
	entered, release := make(chan struct{}), make(chan struct{})
	remind := h.remind
	var once sync.Once
	h.remind = func(ctx context.Context, p *probe, name string, due time.Time) error {
		once.Do(func() { close(entered); <-release })
		return remind(ctx, p, name, due)
	}
	w := &logWatch{msg: "reminder stop: waiting for ticks in delivery", ch: make(chan slog.Record, 1)}
	s1 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st), quark.WithLogger(slog.New(w)))
	syncProbeStep(t, s1, "remind")
	clk.Advance(time.Minute)
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- s1.Stop(context.Background()) }()
	w.wait(t)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	s2 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
	clk.Advance(0)
	syncProbe(t, s2)
	if got := l.all(); len(got) != 1 || !got[0].Equal(t0.Add(time.Minute)) {
		t.Fatalf("ticks: %v, want the one at 1m once", got)
	}
}

// TestRegisterReminderRefusesWhatCannotBeScheduled: RegisterReminder
// applies the checks a stored row must pass, so it never stores one the
// next start would skip.
func TestRegisterReminderRefusesWhatCannotBeScheduled(t *testing.T) {
	cases := []struct {
		name, reminder string
		due, period    time.Duration
	}{
		{"empty name", "", time.Minute, time.Minute},
		{"name with a NUL", "a\x00b", time.Minute, time.Minute},
		{"name not UTF-8", "a\xffb", time.Minute, time.Minute},
		{"zero period", "r", time.Minute, 0},
		{"negative period", "r", time.Minute, -time.Minute},
		{"first tick past 2262", "r", 250 * 365 * 24 * time.Hour, time.Minute},
	}
	ctx := context.Background()
	var c struct {
		reminder    string
		due, period time.Duration
	}
	h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
		return step, p.a.RegisterReminder(ctx, c.reminder, c.due, c.period)
	}}
	st := storage.NewMemory()
	s := newSilo(t, registerProbes(h), quark.WithStore(st))
	ref := testactors.NewProbeRef(s, quark.StringKey("a"))
	for _, tc := range cases {
		c.reminder, c.due, c.period = tc.reminder, tc.due, tc.period
		if _, err := ref.Run(ctx, "x"); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Errorf("%s: %v, want CodeInvalidArgument", tc.name, err)
		}
	}
	if all, _ := st.Reminders(ctx, 0, ^uint32(0)); len(all) != 0 {
		t.Fatalf("refused reminders were stored: %+v", all)
	}
}

// TestReminderRestartManyNoDoubleTicks: 1,000 reminders with due times spread
// over a minute, a graceful restart in the middle of a period: no tick is
// delivered twice, and every scheduled tick is delivered once.
func TestReminderRestartManyNoDoubleTicks(t *testing.T) {
	const n = 1000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := quarktest.NewClock(t0)
	st := storage.NewMemory()
	type tick struct {
		name string
		due  time.Time
	}
	var mu sync.Mutex
	seen := map[tick]int{}
	h := &hooks{
		run: func(ctx context.Context, p *probe, step string) (string, error) {
			if step != "remind" {
				return step, nil
			}
			for i := range n {
				due := time.Minute + time.Duration(i)*time.Minute/n
				if err := p.a.RegisterReminder(ctx, "r"+strconv.Itoa(i), due, time.Minute); err != nil {
					return "", err
				}
			}
			return step, nil
		},
		remind: func(_ context.Context, _ *probe, name string, due time.Time) error {
			mu.Lock()
			seen[tick{name, due}]++
			mu.Unlock()
			return nil
		},
	}
	s1 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
	syncProbeStep(t, s1, "remind")
	clk.Advance(90 * time.Second)
	syncProbe(t, s1)
	stopSilo(t, s1)
	s2 := newSilo(t, registerProbes(h), quark.WithClock(clk), quark.WithStore(st))
	clk.Advance(0)
	syncProbe(t, s2)
	clk.Set(t0.Add(3*time.Minute - time.Nanosecond))
	syncProbe(t, s2)
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		name := "r" + strconv.Itoa(i)
		first := t0.Add(time.Minute + time.Duration(i)*time.Minute/n)
		for due := first; due.Before(t0.Add(3 * time.Minute)); due = due.Add(time.Minute) {
			if c := seen[tick{name, due}]; c != 1 {
				t.Fatalf("%s tick due %v delivered %d times", name, due, c)
			}
		}
	}
	want := 2 * n
	if len(seen) != want {
		t.Fatalf("%d distinct ticks, want %d", len(seen), want)
	}
}
