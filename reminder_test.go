package quark_test

import (
	"context"
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
		s := newSilo(b, registerProbes(h, quark.MailboxSize(2*n)), quark.WithReminderStore(&countingReminders{}))
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
