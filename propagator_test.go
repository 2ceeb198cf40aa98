package quark_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// valuePropagator carries the string value of one context key under a
// carrier key: what a test needs to carry a principal or a trace ID.
type valuePropagator struct {
	name string
	key  any
}

func (p valuePropagator) Inject(ctx context.Context, c quark.Carrier) {
	if v, ok := ctx.Value(p.key).(string); ok {
		c.Set(p.name, v)
	}
}

func (p valuePropagator) Extract(ctx context.Context, c quark.Carrier) context.Context {
	if v := c.Get(p.name); v != "" {
		return context.WithValue(ctx, p.key, v)
	}
	return ctx
}

// TestPropagatorsCarryValues: what the silo's propagators inject from the
// caller's context reaches the callee's, inline and queued, and on to a
// nested callee; a context value no propagator carries does not; a one-way
// message carries none.
func TestPropagatorsCarryValues(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		type seen struct{ user, trace, tenant any }
		got := make(chan seen, 3)
		var s *quark.Silo
		look := func(ctx context.Context) seen {
			return seen{ctx.Value(userKey{}), ctx.Value(traceKey{}), ctx.Value(tenantKey{})}
		}
		h := &hooks{
			run: func(ctx context.Context, _ *probe, step string) (string, error) {
				got <- look(ctx)
				if step == "nest" {
					return testactors.NewProbeRef(s, quark.StringKey("leaf")).Run(ctx, "leaf")
				}
				return step, nil
			},
			tell: func(ctx context.Context, _ *probe, _ string) error { got <- look(ctx); return nil },
		}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline),
			quark.WithPropagators(valuePropagator{"trace", traceKey{}}),
			quark.WithPropagators(valuePropagator{"tenant", tenantKey{}}))
		ctx := context.WithValue(context.Background(), userKey{}, "secret")
		ctx = context.WithValue(ctx, traceKey{}, "span-1")
		ctx = context.WithValue(ctx, tenantKey{}, "acme")
		if _, err := testactors.NewProbeRef(s, quark.StringKey("root")).Run(ctx, "nest"); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"callee", "nested callee"} {
			if v := <-got; v != (seen{nil, "span-1", "acme"}) {
				t.Errorf("%s saw %+v; want the propagated trace and tenant and not the user", who, v)
			}
		}
		if err := testactors.NewProbeRef(s, quark.StringKey("root")).Tell(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		if v := <-got; v != (seen{}) {
			t.Errorf("one-way message saw %+v; want no values", v)
		}
	})
}

// TestNoPropagatorsNoValues: without propagators a callee sees none of its
// caller's values.
func TestNoPropagatorsNoValues(t *testing.T) {
	got := make(chan any, 1)
	h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) {
		got <- ctx.Value(traceKey{})
		return step, nil
	}}
	s := newSilo(t, registerProbes(h))
	ctx := context.WithValue(context.Background(), traceKey{}, "span-1")
	if _, err := testactors.NewProbeRef(s, quark.StringKey("a")).Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != nil {
		t.Fatalf("callee saw %v with no propagator configured", v)
	}
}

// TestCarrier: Set replaces a key's value, Get reads it back ("" when
// unset), Keys lists each key once.
func TestCarrier(t *testing.T) {
	type view struct {
		a, b, missing string
		keys          int
	}
	got := make(chan view, 1)
	// Extract runs for every context the silo makes (OnActivate's too);
	// the first view is enough.
	p := carrierProbe{got: func(c quark.Carrier) {
		select {
		case got <- view{c.Get("a"), c.Get("b"), c.Get("missing"), len(c.Keys())}:
		default:
		}
	}}
	s := newSilo(t, registerProbes(&hooks{}), quark.WithPropagators(p))
	if _, err := testactors.NewProbeRef(s, quark.StringKey("a")).Run(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != (view{"2", "3", "", 2}) {
		t.Fatalf("carrier read %+v, want a=2 b=3, nothing else, two keys", v)
	}
}

// carrierProbe writes keys, one twice, and reports what Extract reads.
type carrierProbe struct{ got func(quark.Carrier) }

func (carrierProbe) Inject(_ context.Context, c quark.Carrier) {
	c.Set("a", "1")
	c.Set("b", "3")
	c.Set("a", "2")
}

func (p carrierProbe) Extract(ctx context.Context, c quark.Carrier) context.Context {
	p.got(c)
	return ctx
}

// BenchmarkPropagatedCall measures an inline call through a silo with one
// propagator carrying one value: what propagation costs when it is used
// (BenchmarkCall measures a silo without propagators).
func BenchmarkPropagatedCall(b *testing.B) {
	var processed atomic.Int64
	s := newSilo(b, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(*quark.Activation) testactors.Counter {
			return &benchCounter{processed: &processed}
		}))
	}, quark.WithPropagators(valuePropagator{"trace", traceKey{}}))
	ref := testactors.NewCounterRef(s, quark.IntKey(1))
	warmCounter(b, ref)
	ctx := context.WithValue(context.Background(), traceKey{}, "span-1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ref.Add(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}
