package quark_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/quarkerr"
	"pgregory.net/rapid"
)

// TestChainThroughWireDecidesAlike builds a live call chain ending in the
// probe b, and from b makes the same call twice: once with b's own context
// (the live chain) and once with the context a call from b would have on
// another process, rebuilt from the encoded chain. Cycle detection must
// decide alike: deadlock, reentrant callback, readonly rejoin, pinned hooks.
func TestChainThroughWireDecidesAlike(t *testing.T) {
	type outcome struct{ live, far quark.Code }
	cases := []struct {
		name string
		// start begins the chain on s; it reaches b.Run("probe").
		start func(ctx context.Context, s *quark.Silo) error
		// target is the call b makes.
		target func(ctx context.Context, s *quark.Silo) error
		want   quark.Code
	}{
		{"callback into a non-reentrant caller", startRun, runProbe("a"), quark.CodeDeadlock},
		{"callback into itself", startRun, runProbe("b"), quark.CodeDeadlock},
		{"callback into a reentrant caller", startReentrant, runReentrant("a"), quark.CodeOK},
		{"readonly rejoin of a readonly caller", startPeek, peekProbe("a"), quark.CodeOK},
		{"write call into a readonly caller", startPeek, runProbe("a"), quark.CodeDeadlock},
		{"readonly call into a writing caller", startRun, peekProbe("a"), quark.CodeDeadlock},
		{"callback into OnActivate", startActivate, runProbe("pin"), quark.CodeDeadlock},
		{"readonly callback into OnActivate", startActivate, peekProbe("pin"), quark.CodeDeadlock},
		{"callback into a reentrant OnActivate", startReentrantActivate, runReentrant("pin"), quark.CodeDeadlock},
		{"call into a stateless caller", startStateless, runStateless("a"), quark.CodeOK},
		{"actor outside the chain", startRun, runProbe("c"), quark.CodeOK},
		{"same key, other type", startRun, runReentrant("a"), quark.CodeOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				got := make(chan outcome, 1)
				var s *quark.Silo
				probeB := func(ctx context.Context) (string, error) {
					var o outcome
					o.live = quark.CodeOf(tc.target(ctx, s))
					b, err := quark.CallContextBytes(s, ctx)
					if err != nil {
						return "", err
					}
					far, end, err := quark.ReceivedContext(s, b)
					if err != nil {
						return "", err
					}
					defer end()
					o.far = quark.CodeOf(tc.target(far, s))
					got <- o
					return "", nil
				}
				h := &hooks{
					run: func(ctx context.Context, p *probe, step string) (string, error) {
						switch step {
						case "probe":
							return probeB(ctx)
						case "to-b":
							return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "probe")
						}
						return step, nil
					},
					peek: func(ctx context.Context, p *probe, step string) (string, error) {
						if step == "to-b" {
							return testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "probe")
						}
						return step, nil
					},
					activate: func(ctx context.Context, p *probe) error {
						if p.a.ID().Key == quark.StringKey("pin") {
							_, err := testactors.NewProbeRef(s, quark.StringKey("b")).Run(ctx, "probe")
							return err
						}
						return nil
					},
				}
				s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := tc.start(ctx, s); err != nil {
					t.Fatal(err)
				}
				o := <-got
				if o.live != tc.want || o.far != tc.want {
					t.Fatalf("live chain: %v, chain through the wire: %v; want %v", o.live, o.far, tc.want)
				}
			})
		})
	}
}

// The chains start at the probe "a" (or "pin", whose OnActivate calls b)
// and reach b.Run("probe").

func startRun(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewProbeRef(s, quark.StringKey("a")).Run(ctx, "to-b")
	return err
}

func startPeek(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewProbeRef(s, quark.StringKey("a")).Peek(ctx, "to-b")
	return err
}

func startReentrant(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewReentrantProbeRef(s, quark.StringKey("a")).Run(ctx, "to-b")
	return err
}

func startStateless(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewStatelessProbeRef(s, quark.StringKey("a")).Run(ctx, "to-b")
	return err
}

func startActivate(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewProbeRef(s, quark.StringKey("pin")).Run(ctx, "noop")
	return err
}

func startReentrantActivate(ctx context.Context, s *quark.Silo) error {
	_, err := testactors.NewReentrantProbeRef(s, quark.StringKey("pin")).Run(ctx, "noop")
	return err
}

func runProbe(key string) func(context.Context, *quark.Silo) error {
	return func(ctx context.Context, s *quark.Silo) error {
		_, err := testactors.NewProbeRef(s, quark.StringKey(key)).Run(ctx, "leaf")
		return err
	}
}

func peekProbe(key string) func(context.Context, *quark.Silo) error {
	return func(ctx context.Context, s *quark.Silo) error {
		_, err := testactors.NewProbeRef(s, quark.StringKey(key)).Peek(ctx, "leaf")
		return err
	}
}

func runReentrant(key string) func(context.Context, *quark.Silo) error {
	return func(ctx context.Context, s *quark.Silo) error {
		_, err := testactors.NewReentrantProbeRef(s, quark.StringKey(key)).Run(ctx, "leaf")
		return err
	}
}

func runStateless(key string) func(context.Context, *quark.Silo) error {
	return func(ctx context.Context, s *quark.Silo) error {
		_, err := testactors.NewStatelessProbeRef(s, quark.StringKey(key)).Run(ctx, "leaf")
		return err
	}
}

// TestReceivedDeadlineIsRemainingTime: a received call's deadline is the
// time that remained to the caller's, counted from when it is received; never
// earlier than the caller's, and later by no more than the time between
// sending and receiving.
func TestReceivedDeadlineIsRemainingTime(t *testing.T) {
	s := newSilo(t, registerProbes(&hooks{}))
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	b, err := quark.CallContextBytes(s, ctx)
	if err != nil {
		t.Fatal(err)
	}
	far, end, err := quark.ReceivedContext(s, b)
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	elapsed := time.Since(start)
	got, ok := far.Deadline()
	if !ok || got.Before(deadline) || got.Sub(deadline) > elapsed {
		t.Fatalf("received deadline %v (ok %v), want within %v after the caller's %v", got, ok, elapsed, deadline)
	}
	if far.Value(userKey{}) != nil {
		t.Fatal("a received context carries a value no propagator carried")
	}
}

// TestReceivedChainRefusesBadLinks: links that name no actor, or whose key
// does not decode, make the received call context CodeCorrupt.
func TestReceivedChainRefusesBadLinks(t *testing.T) {
	s := newSilo(t, registerProbes(&hooks{}))
	for name, l := range map[string]wire.Link{
		"no type":      {Key: []byte{1, 1, 'a'}},
		"no key":       {Type: "testactors.Probe"},
		"corrupt key":  {Type: "testactors.Probe", Key: []byte{1, 9, 'a'}},
		"unknown kind": {Type: "testactors.Probe", Key: []byte{9}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := wire.AppendCallContext(nil, &wire.CallContext{Chain: []wire.Link{l}})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := quark.ReceivedContext(s, b); quarkerr.CodeOf(err) != quarkerr.Corrupt {
				t.Fatalf("err = %v, want CodeCorrupt", err)
			}
		})
	}
}

// TestPropagatedValuesThroughWire: what the caller's propagators inject
// travels in the call context, and the receiving silo's propagators extract
// it; a receiver with none sees no values.
func TestPropagatedValuesThroughWire(t *testing.T) {
	trace := quark.WithPropagators(valuePropagator{"trace", traceKey{}})
	caller := newSilo(t, registerProbes(&hooks{}), trace)
	ctx := context.WithValue(context.WithValue(context.Background(), traceKey{}, "span-1"), userKey{}, "secret")
	b, err := quark.CallContextBytes(caller, ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		receiver  *quark.Silo
		wantTrace any
	}{
		{"receiver with the propagator", newSilo(t, registerProbes(&hooks{}), trace), "span-1"},
		{"receiver without propagators", newSilo(t, registerProbes(&hooks{})), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			far, end, err := quark.ReceivedContext(c.receiver, b)
			if err != nil {
				t.Fatal(err)
			}
			defer end()
			if v := far.Value(traceKey{}); v != c.wantTrace {
				t.Errorf("trace = %v, want %v", v, c.wantTrace)
			}
			if v := far.Value(userKey{}); v != nil {
				t.Errorf("a value no propagator carries arrived: %v", v)
			}
		})
	}
}

// TestReceivedChainResends: a chain received from another process and sent
// on from there (A on one silo, B on a second, a call from B to a third)
// carries the same links: rebuilding loses nothing cycle detection reads,
// and the remaining time only shrinks.
func TestReceivedChainResends(t *testing.T) {
	s := newSilo(t, registerProbes(&hooks{}))
	rapid.Check(t, func(t *rapid.T) {
		in := wire.CallContext{
			HasDeadline: true,
			Remaining:   time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "remaining")),
		}
		for i, n := 0, rapid.IntRange(0, 6).Draw(t, "links"); i < n; i++ {
			key := quark.StringKey(rapid.StringMatching(`[a-z]{1,4}`).Draw(t, "key"))
			if rapid.Bool().Draw(t, "int key") {
				key = quark.IntKey(rapid.Int64().Draw(t, "int"))
			}
			kb, err := key.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			in.Chain = append(in.Chain, wire.Link{
				Type:     rapid.SampledFrom([]string{"testactors.Probe", "testactors.ReentrantProbe", "other.Type"}).Draw(t, "type"),
				Key:      kb,
				Pinned:   rapid.Bool().Draw(t, "pinned"),
				Readonly: rapid.Bool().Draw(t, "readonly"),
			})
		}
		b, err := wire.AppendCallContext(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		far, end, err := quark.ReceivedContext(s, b)
		if err != nil {
			t.Fatal(err)
		}
		defer end()
		b2, err := quark.CallContextBytes(s, far)
		if err != nil {
			t.Fatal(err)
		}
		var out wire.CallContext
		if err := wire.ReadCallContext(b2, &out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Chain, in.Chain) {
			t.Fatalf("chain sent on:\n%+v\nwant\n%+v", out.Chain, in.Chain)
		}
		if !out.HasDeadline || out.Remaining > in.Remaining {
			t.Fatalf("remaining %v (deadline %v), want at most %v", out.Remaining, out.HasDeadline, in.Remaining)
		}
	})
}
