package quark_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// benchCounter is a Counter that does as little as possible, so benchmarks
// measure the runtime.
type benchCounter struct {
	total     int64
	processed *atomic.Int64 // Inc calls run, shared by all activations
}

func (c *benchCounter) Add(_ context.Context, n int64) (int64, error) {
	c.total += n
	return c.total, nil
}

func (c *benchCounter) Get(context.Context) (int64, error) { return c.total, nil }

func (c *benchCounter) Inc(_ context.Context, n int64) error {
	c.total += n
	c.processed.Add(1)
	return nil
}

// benchSilo returns a started silo hosting benchCounter, stopped at cleanup;
// Inc calls count into processed.
func benchSilo(b *testing.B, inline bool, processed *atomic.Int64) *quark.Silo {
	b.Helper()
	return newSilo(b, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(*quark.Activation) testactors.Counter {
			return &benchCounter{processed: processed}
		}))
	}, quark.WithInlineCalls(inline))
}

// benchModes runs f with the fast path on and off.
func benchModes(b *testing.B, f func(b *testing.B, inline bool)) {
	for _, inline := range []bool{true, false} {
		name := "queued"
		if inline {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) { f(b, inline) })
	}
}

// warmCounter activates ref's actor and fills the message pools.
func warmCounter(b *testing.B, ref testactors.CounterRef) {
	b.Helper()
	for range 100 {
		if _, err := ref.Add(context.Background(), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall measures a request/response call from one caller to one
// active actor.
func BenchmarkCall(b *testing.B) {
	benchModes(b, func(b *testing.B, inline bool) {
		s := benchSilo(b, inline, new(atomic.Int64))
		ref := testactors.NewCounterRef(s, quark.IntKey(1))
		warmCounter(b, ref)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ref.Add(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCallParallel measures request/response calls from parallel
// callers, each calling its own actor.
func BenchmarkCallParallel(b *testing.B) {
	benchModes(b, func(b *testing.B, inline bool) {
		s := benchSilo(b, inline, new(atomic.Int64))
		var next atomic.Int64
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ref := testactors.NewCounterRef(s, quark.IntKey(next.Add(1)))
			for pb.Next() {
				if _, err := ref.Add(ctx, 1); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkOneWay measures one-way messages from parallel senders, to one
// actor and round-robin over 1,000. A message refused as overloaded is sent
// again; the time includes processing every message sent.
func BenchmarkOneWay(b *testing.B) {
	for _, bc := range []struct {
		name   string
		actors int
	}{{"1actor", 1}, {"1000actors", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			processed := new(atomic.Int64)
			s := benchSilo(b, true, processed)
			refs := make([]testactors.CounterRef, bc.actors)
			for i := range refs {
				refs[i] = testactors.NewCounterRef(s, quark.IntKey(int64(i+1)))
				warmCounter(b, refs[i])
			}
			ctx := context.Background()
			var sent, retries, senders atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				k := int(senders.Add(1)*7919) % len(refs)
				var n, r int64
				defer func() {
					sent.Add(n)
					retries.Add(r)
				}()
				for pb.Next() {
					for {
						err := refs[k].Inc(ctx, 1)
						if err == nil {
							break
						}
						if quark.CodeOf(err) != quark.CodeOverloaded {
							b.Error(err)
							return
						}
						r++
						runtime.Gosched()
					}
					n++
					if k++; k == len(refs) {
						k = 0
					}
				}
			})
			deadline := time.Now().Add(time.Minute)
			for processed.Load() < sent.Load() {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d messages processed after a minute", processed.Load(), sent.Load())
				}
				runtime.Gosched()
			}
			b.StopTimer()
			b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/op")
		})
	}
}

// BenchmarkActivate measures a first call to a new actor: activation and
// one turn.
func BenchmarkActivate(b *testing.B) {
	s := benchSilo(b, true, new(atomic.Int64))
	ctx := context.Background()
	var key int64
	b.ReportAllocs()
	for b.Loop() {
		key++
		if _, err := testactors.NewCounterRef(s, quark.IntKey(key)).Add(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadonly measures a readonly call from one caller to one active
// actor.
func BenchmarkReadonly(b *testing.B) {
	b.Run("inline", func(b *testing.B) {
		s := benchSilo(b, true, new(atomic.Int64))
		ref := testactors.NewCounterRef(s, quark.IntKey(1))
		warmCounter(b, ref)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ref.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
