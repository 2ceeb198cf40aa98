package redisstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
)

// benchActors is the number of keys the throughput and arrival benchmarks
// write: one per actor.
const benchActors = 1000

// BenchmarkSaturation measures writes of 256-byte values to 1,000 actors'
// keys from a number of concurrent writers, each saving its share of the
// keys in turn (closed loop: a writer's next save starts when its last one
// returns), and reports writes/s and the save latency percentiles.
func BenchmarkSaturation(b *testing.B) {
	for _, writers := range []int{100, 1000} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			value := make([]byte, 256)
			per := b.N/writers + 1
			lat := make([][]time.Duration, writers)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range writers {
				wg.Go(func() {
					var keys []string
					for k := w; k < benchActors; k += writers {
						keys = append(keys, fmt.Sprintf("sat/%d", k))
					}
					etags := make([]string, len(keys))
					lat[w] = make([]time.Duration, 0, per)
					for i := range per {
						j := i % len(keys)
						start := time.Now()
						etag, err := s.Write(ctx, keys[j], value, etags[j])
						if err != nil {
							b.Error(err)
							return
						}
						lat[w] = append(lat[w], time.Since(start))
						etags[j] = etag
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "writes/s")
			reportPercentiles(b, "save", slices.Concat(lat...))
		})
	}
}

// BenchmarkArrival measures save and load latency at fixed arrival rates
// (open loop: saves and loads are issued on schedule whatever the earlier
// ones are doing, so a slow store builds a queue instead of slowing the
// load down). Saves go to 1,000 actors' keys in turn at the given rate, and
// loads of other keys at the same rate alongside; each latency is measured
// from the operation's scheduled time, so time spent queued behind a late
// generator counts. b.N is the number of saves (and of loads): run with
// -benchtime 20000x or so for a few seconds per rate. lag-* is how late the
// generator itself issued operations: latency the machine adds (a busy
// core, a late timer), not the store.
func BenchmarkArrival(b *testing.B) {
	for _, rate := range []int{5000, 10000, 20000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			value := make([]byte, 256)
			// Every key exists before the clock starts, so loads find
			// records.
			etags := make([]string, benchActors)
			keys := make([]string, benchActors)
			for k := range keys {
				keys[k] = fmt.Sprintf("arr/%d", k)
				e, err := s.Write(ctx, keys[k], value, "")
				if err != nil {
					b.Fatal(err)
				}
				etags[k] = e
			}
			// The save to a key waits for the one before it (one actor
			// saves one state at a time); at these rates a key's saves are
			// at least 50 ms apart, so the wait is for a store past
			// saturation.
			var keyMu [benchActors]sync.Mutex
			saves := make([]time.Duration, b.N)
			loads := make([]time.Duration, b.N)
			lags := make([]time.Duration, b.N)
			var failed, conflicts sync.Map
			period := time.Second / time.Duration(rate)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				due := start.Add(time.Duration(i) * period)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				lags[i] = time.Since(due)
				wg.Go(func() {
					k := i % benchActors
					keyMu[k].Lock()
					e, err := s.Write(ctx, keys[k], value, etags[k])
					if err == nil {
						etags[k] = e
					}
					keyMu[k].Unlock()
					saves[i] = time.Since(due)
					if quarkerr.CodeOf(err) == quarkerr.Conflict {
						conflicts.Store(i, err)
					} else if err != nil {
						failed.Store(i, err)
					}
				})
				wg.Go(func() {
					_, err := s.Read(ctx, keys[(i+benchActors/2)%benchActors])
					loads[i] = time.Since(due)
					if err != nil {
						failed.Store(-i-1, err)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			failed.Range(func(k, v any) bool { b.Error(v); return false })
			conflicts.Range(func(k, v any) bool { b.Error(v); return false })
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			reportPercentiles(b, "save", saves)
			reportPercentiles(b, "load", loads)
			// How late the generator issued operations (the machine's
			// share of the latencies above, not the store's).
			reportPercentiles(b, "lag", lags)
		})
	}
}

// reportPercentiles reports the 50th, 99th and 99.9th percentiles of lat,
// in microseconds, as what-p50-µs and so on.
func reportPercentiles(b *testing.B, what string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		i := int(q * float64(len(lat)))
		if i >= len(lat) {
			i = len(lat) - 1
		}
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), what+"-p50-µs")
	b.ReportMetric(at(0.99), what+"-p99-µs")
	b.ReportMetric(at(0.999), what+"-p99.9-µs")
}
