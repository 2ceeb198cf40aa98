package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// row is one line of the table.
type row struct {
	scenario  string
	mode      string
	rate      float64 // per second; shown when unit is set
	unit      string  // "ops/s", "msg/s", "activations/s"
	lat       *latencies
	allocs    float64 // heap allocations per operation
	hasAllocs bool
	// siloAllocs is the heap allocations per operation in the silo
	// process, for the remote scenarios.
	siloAllocs    float64
	hasSiloAllocs bool
	notes         string
}

// latencies summarises a latency pass.
type latencies struct {
	n                     int
	p50, p99, p999, p9999 time.Duration
	max                   time.Duration
}

// summarize sorts samples in place and returns their percentiles.
func summarize(samples []time.Duration) *latencies {
	if len(samples) == 0 {
		return nil
	}
	slices.Sort(samples)
	return &latencies{
		n:     len(samples),
		p50:   percentile(samples, 0.50),
		p99:   percentile(samples, 0.99),
		p999:  percentile(samples, 0.999),
		p9999: percentile(samples, 0.9999),
		max:   samples[len(samples)-1],
	}
}

// percentile returns the nearest-rank p-quantile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// samplePool is preallocated room for the samples of a latency pass, handed
// out to callers in chunks so they share one buffer without contending on
// every sample. Unused slots hold -1.
type samplePool struct {
	buf   []time.Duration
	next  atomic.Int64
	chunk int
}

// newSamplePool returns a pool of about n samples. Every slot is written
// now, so the pass does not fault pages in while timing.
func newSamplePool(n, chunk int) *samplePool {
	buf := make([]time.Duration, n)
	for i := range buf {
		buf[i] = -1
	}
	return &samplePool{buf: buf, chunk: chunk}
}

// take returns the next free chunk, or nil when the pool is exhausted.
func (p *samplePool) take() []time.Duration {
	end := int(p.next.Add(int64(p.chunk)))
	start := end - p.chunk
	if start >= len(p.buf) {
		return nil
	}
	return p.buf[start:min(end, len(p.buf))]
}

// samples compacts the recorded samples in place and returns them.
func (p *samplePool) samples() []time.Duration {
	used := p.buf[:min(int(p.next.Load()), len(p.buf))]
	return slices.DeleteFunc(used, func(d time.Duration) bool { return d < 0 })
}

// mallocs returns the cumulative count of heap allocations.
func mallocs() uint64 {
	n, _ := heapTotals()
	return n
}

// heapTotals returns the cumulative count of heap allocations and of the
// bytes they allocated.
func heapTotals() (mallocs, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}

// fmtDur formats d with three significant digits.
func fmtDur(d time.Duration) string {
	d = time.Duration(round3(float64(d)))
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	}
	return sig3(d.Seconds()) + "s"
}

// fmtRate formats a per-second rate with an SI suffix.
func fmtRate(r float64) string {
	r = round3(r)
	switch {
	case r >= 1e9:
		return sig3(r/1e9) + "G"
	case r >= 1e6:
		return sig3(r/1e6) + "M"
	case r >= 1e3:
		return sig3(r/1e3) + "k"
	}
	return sig3(r)
}

// round3 rounds v to three significant digits, before fmtDur and fmtRate
// choose a unit, so that 999.7k is 1.00M rather than 1000k.
func round3(v float64) float64 {
	if v <= 0 {
		return v
	}
	unit := math.Pow(10, math.Floor(math.Log10(v))-2)
	return math.Round(v/unit) * unit
}

// sig3 formats v, rounded to three significant digits, without exponent.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
