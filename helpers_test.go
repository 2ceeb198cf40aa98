package quark_test

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" { // a silo process of process_test.go
		runChildSilo()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.DiscardHandler)

// newSilo returns a started silo that the test stops at cleanup.
func newSilo(t testing.TB, register func(*quark.Silo), opts ...quark.SiloOption) *quark.Silo {
	t.Helper()
	s, err := quark.NewSilo(append([]quark.SiloOption{quark.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	register(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// modes runs f with the fast path on and off.
func modes(t *testing.T, f func(t *testing.T, inline bool)) {
	for _, inline := range []bool{true, false} {
		name := "queued"
		if inline {
			name = "inline"
		}
		t.Run(name, func(t *testing.T) { f(t, inline) })
	}
}

// hooks is a probe's behaviour; nil hooks echo the step.
type hooks struct {
	run        func(ctx context.Context, p *probe, step string) (string, error)
	peek       func(ctx context.Context, p *probe, step string) (string, error)
	tell       func(ctx context.Context, p *probe, step string) error
	activate   func(ctx context.Context, p *probe) error
	remind     func(ctx context.Context, p *probe, name string, due time.Time) error
	deactivate func(p *probe, reason quark.DeactivationReason)
	created    atomic.Int64
}

// probe implements testactors.Probe, ReentrantProbe and StatelessProbe.
type probe struct {
	a *quark.Activation
	h *hooks
	n int // state touched without synchronisation: the race detector guards turns
}

func (p *probe) Run(ctx context.Context, step string) (string, error) {
	p.n++
	if p.h.run != nil {
		return p.h.run(ctx, p, step)
	}
	return step, nil
}

func (p *probe) Peek(ctx context.Context, step string) (string, error) {
	if p.h.peek != nil {
		return p.h.peek(ctx, p, step)
	}
	return step, nil
}

func (p *probe) Tell(ctx context.Context, step string) error {
	p.n++
	if p.h.tell != nil {
		return p.h.tell(ctx, p, step)
	}
	return nil
}

func (p *probe) Split(_ context.Context, s string, at int) (string, string, error) {
	if at < 0 || at > len(s) {
		return "", "", quark.Errorf(quark.CodeInvalidArgument, "split %q at %d", s, at)
	}
	return s[:at], s[at:], nil
}

func (p *probe) ReceiveReminder(ctx context.Context, name string, due time.Time) error {
	if p.h.remind != nil {
		return p.h.remind(ctx, p, name, due)
	}
	return nil
}

func (p *probe) OnActivate(ctx context.Context) error {
	if p.h.activate != nil {
		return p.h.activate(ctx, p)
	}
	return nil
}

func (p *probe) OnDeactivate(_ context.Context, reason quark.DeactivationReason) {
	if p.h.deactivate != nil {
		p.h.deactivate(p, reason)
	}
}

func (h *hooks) newProbe(a *quark.Activation) *probe {
	h.created.Add(1)
	return &probe{a: a, h: h}
}

// blockAndExpire returns hooks under which the step "block" waits until
// release is closed and the step "expire" counts its runs in ran. Call it
// inside the synctest bubble, if any, that uses release.
func blockAndExpire() (h *hooks, release chan struct{}, ran *atomic.Int64) {
	release, ran = make(chan struct{}), new(atomic.Int64)
	h = &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
		switch step {
		case "block":
			<-release
		case "expire":
			ran.Add(1)
		}
		return step, nil
	}}
	return h, release, ran
}

// registerProbes registers the three probe types with h's behaviour.
func registerProbes(h *hooks, opts ...quark.TypeOption) func(*quark.Silo) {
	return func(s *quark.Silo) {
		must(testactors.RegisterProbe(s, func(a *quark.Activation) testactors.Probe { return h.newProbe(a) }, opts...))
		must(testactors.RegisterReentrantProbe(s, func(a *quark.Activation) testactors.ReentrantProbe { return h.newProbe(a) }, opts...))
		must(testactors.RegisterStatelessProbe(s, func(a *quark.Activation) testactors.StatelessProbe { return h.newProbe(a) }, opts...))
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// waitFor polls cond until it holds or a generous bound passes; it is a
// liveness check, never a speed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
