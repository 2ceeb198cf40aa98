package quark_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
)

// TestOptionsApplyWhereTheyClaim: an Option given to NewSilo sets the default
// of every type, given at registration it overrides that default for the one
// type, and a later option overrides an earlier one that sets the same
// thing. The Probe type is registered with the type options; the
// ReentrantProbe type, registered without them, keeps the silo's values.
func TestOptionsApplyWhereTheyClaim(t *testing.T) {
	siloStore, typeStore := storage.NewMemory(), storage.NewMemory()
	def := quark.TypeSettings{Mailbox: 100_000, MaxWorkers: runtime.GOMAXPROCS(0), CollectAge: 15 * time.Minute}
	with := func(f func(*quark.TypeSettings)) quark.TypeSettings {
		s := def
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name     string
		silo     []quark.SiloOption
		typ      []quark.TypeOption
		want     quark.TypeSettings // of Probe
		wantSilo quark.TypeSettings // of ReentrantProbe
	}{
		{name: "defaults", want: def, wantSilo: def},
		{
			name:     "mailbox size for the silo",
			silo:     []quark.SiloOption{quark.WithMailboxSize(7)},
			want:     with(func(s *quark.TypeSettings) { s.Mailbox = 7 }),
			wantSilo: with(func(s *quark.TypeSettings) { s.Mailbox = 7 }),
		},
		{
			name:     "mailbox size for the type",
			typ:      []quark.TypeOption{quark.WithMailboxSize(9)},
			want:     with(func(s *quark.TypeSettings) { s.Mailbox = 9 }),
			wantSilo: def,
		},
		{
			name:     "mailbox size for the type overrides the silo's",
			silo:     []quark.SiloOption{quark.WithMailboxSize(7)},
			typ:      []quark.TypeOption{quark.WithMailboxSize(9)},
			want:     with(func(s *quark.TypeSettings) { s.Mailbox = 9 }),
			wantSilo: with(func(s *quark.TypeSettings) { s.Mailbox = 7 }),
		},
		{
			name:     "collection age for the silo",
			silo:     []quark.SiloOption{quark.WithCollectionAge(time.Hour)},
			want:     with(func(s *quark.TypeSettings) { s.CollectAge = time.Hour }),
			wantSilo: with(func(s *quark.TypeSettings) { s.CollectAge = time.Hour }),
		},
		{
			name:     "collection age for the type overrides the silo's",
			silo:     []quark.SiloOption{quark.WithCollectionAge(time.Hour)},
			typ:      []quark.TypeOption{quark.WithCollectionAge(time.Minute)},
			want:     with(func(s *quark.TypeSettings) { s.CollectAge = time.Minute }),
			wantSilo: with(func(s *quark.TypeSettings) { s.CollectAge = time.Hour }),
		},
		{
			name:     "store for the silo",
			silo:     []quark.SiloOption{quark.WithStore(siloStore)},
			want:     with(func(s *quark.TypeSettings) { s.Store = siloStore }),
			wantSilo: with(func(s *quark.TypeSettings) { s.Store = siloStore }),
		},
		{
			name:     "store for the type",
			typ:      []quark.TypeOption{quark.WithStore(typeStore)},
			want:     with(func(s *quark.TypeSettings) { s.Store = typeStore }),
			wantSilo: def,
		},
		{
			name:     "store for the type overrides the silo's",
			silo:     []quark.SiloOption{quark.WithStore(siloStore)},
			typ:      []quark.TypeOption{quark.WithStore(typeStore)},
			want:     with(func(s *quark.TypeSettings) { s.Store = typeStore }),
			wantSilo: with(func(s *quark.TypeSettings) { s.Store = siloStore }),
		},
		{
			name:     "max workers for the type",
			typ:      []quark.TypeOption{quark.WithMaxWorkers(3)},
			want:     with(func(s *quark.TypeSettings) { s.MaxWorkers = 3 }),
			wantSilo: def,
		},
		{
			name: "the later option wins",
			silo: []quark.SiloOption{quark.WithMailboxSize(1), quark.WithMailboxSize(2)},
			typ:  []quark.TypeOption{quark.WithCollectionAge(time.Second), quark.WithCollectionAge(2 * time.Second)},
			want: with(func(s *quark.TypeSettings) {
				s.Mailbox, s.CollectAge = 2, 2*time.Second
			}),
			wantSilo: with(func(s *quark.TypeSettings) { s.Mailbox = 2 }),
		},
		{
			name:     "silo-only options leave the type settings alone",
			silo:     []quark.SiloOption{quark.WithCallTimeout(time.Second), quark.WithCollectionQuantum(time.Second)},
			want:     def,
			wantSilo: def,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := quark.NewSilo(append([]quark.SiloOption{quark.WithLogger(quiet)}, tc.silo...)...)
			if err != nil {
				t.Fatal(err)
			}
			h := &hooks{}
			must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe { return h.newProbe(a) }, tc.typ...))
			must(testactors.RegisterReentrantProbe(s, func(a *quark.Activation) testactors.ReentrantProbe { return h.newProbe(a) }))
			if got := quark.SettingsOf(s, testactors.ProbeType); got != tc.want {
				t.Errorf("Probe: %+v, want %+v", got, tc.want)
			}
			if got := quark.SettingsOf(s, testactors.ReentrantProbeType); got != tc.wantSilo {
				t.Errorf("ReentrantProbe: %+v, want %+v", got, tc.wantSilo)
			}
		})
	}
}

// TestOneOptionValueForSiloAndType: the same Option value configures a silo
// and a type; given to both, the type's setting is the one it names.
func TestOneOptionValueForSiloAndType(t *testing.T) {
	age := quark.WithCollectionAge(time.Hour)
	s, err := quark.NewSilo(quark.WithLogger(quiet), age)
	if err != nil {
		t.Fatal(err)
	}
	h := &hooks{}
	must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe { return h.newProbe(a) }, age))
	if got := quark.SettingsOf(s, testactors.ProbeType).CollectAge; got != time.Hour {
		t.Fatalf("collection age %v, want 1h", got)
	}
}

// TestTimerKeepAlive: a timer registered WithKeepAlive keeps its idle
// activation from being collected; TestTimerDiesWithActivationAndDoesNotKeepItAlive
// shows the default.
func TestTimerKeepAlive(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	var ticks atomic.Int64
	var act atomic.Pointer[quark.Activation]
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		if step == "start" {
			act.Store(p.a)
			// Due half-way between collections, so a tick is never in
			// flight at the instant the fake clock runs the collector.
			p.a.RegisterTimer(30*time.Second, time.Minute, func(context.Context) error { ticks.Add(1); return nil },
				quark.WithKeepAlive())
		}
		return step, nil
	}}
	s := newSilo(t, registerProbes(h), quark.WithClock(clk),
		quark.WithCollectionAge(5*time.Minute), quark.WithCollectionQuantum(time.Minute))
	if _, err := testactors.NewProbeRef(s, quark.StringKey("t")).Run(context.Background(), "start"); err != nil {
		t.Fatal(err)
	}
	// Four times the collection age of ticks, with the collector looking
	// every minute: the ticks count as use, so it never finds the actor idle.
	for i := 0; i < 20; i++ {
		prev := ticks.Load()
		clk.Advance(30 * time.Second) // a tick falls due
		waitFor(t, "the tick to run and the next to be scheduled", func() bool {
			_, scheduled := quark.TimerCounts(act.Load())
			return ticks.Load() > prev && scheduled == 1
		})
		clk.Advance(30 * time.Second) // the collector looks
		if n := s.Stats().Activations; n != 1 {
			t.Fatalf("after %d minutes: %d activations, want the kept-alive one", i+1, n)
		}
	}
	if h.created.Load() != 1 {
		t.Fatalf("factory called %d times, want 1", h.created.Load())
	}
}
