package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// timed runs body on n goroutines started together and tells them to stop
// after d. It returns the time from the start until the last one returned;
// the first error stops the others early.
func timed(d time.Duration, n int, body func(i int, stop *atomic.Bool) error) (time.Duration, error) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, n)
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			if errs[i] = body(i, &stop); errs[i] != nil {
				stop.Store(true)
			}
		})
	}
	start := time.Now()
	close(ready)
	t := time.AfterFunc(d, func() { stop.Store(true) })
	wg.Wait()
	elapsed := time.Since(start)
	t.Stop()
	return elapsed, errors.Join(errs...)
}

func modeName(inline bool) string {
	if inline {
		return "inline"
	}
	return "queued"
}

// calls measures request/response: callers goroutines, caller i calling
// Add on actor i in a loop. A throughput pass counts calls; a separate
// latency pass times each one.
func calls(cfg config, scenario string, callers int, inline bool) (rows []row, err error) {
	s, err := startSilo(inline, new(atomic.Int64))
	if err != nil {
		return nil, err
	}
	defer stopSilo(s, &err)
	ctx := context.Background()
	refs := make([]testactors.CounterRef, callers)
	for i := range refs {
		refs[i] = testactors.NewCounterRef(s, quark.IntKey(int64(i)))
		for range 100 { // activate and warm the message pools
			if _, err := refs[i].Add(ctx, 1); err != nil {
				return nil, err
			}
		}
	}

	// Throughput pass.
	counts := make([]int64, callers)
	runtime.GC()
	m0 := mallocs()
	elapsed, err := timed(cfg.d, callers, func(i int, stop *atomic.Bool) error {
		ref := refs[i]
		var n int64
		for !stop.Load() {
			if _, err := ref.Add(ctx, 1); err != nil {
				return err
			}
			n++
		}
		counts[i] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	m1 := mallocs()
	var total int64
	for _, n := range counts {
		total += n
	}

	// Latency pass, with room for twice the calls the throughput pass made:
	// timing each call slows the loop down, but with many callers the
	// scheduler makes passes vary.
	const chunk = 1 << 12
	pool := newSamplePool(int(2*total)+callers*chunk, chunk)
	runtime.GC()
	var truncated atomic.Bool
	_, err = timed(cfg.d, callers, func(i int, stop *atomic.Bool) error {
		ref := refs[i]
		var buf []time.Duration
		for j := 0; !stop.Load(); j++ {
			if j == len(buf) {
				if buf, j = pool.take(), 0; buf == nil {
					truncated.Store(true)
					return nil
				}
			}
			t0 := time.Now()
			if _, err := ref.Add(ctx, 1); err != nil {
				return err
			}
			buf[j] = time.Since(t0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lat := summarize(pool.samples())

	notes := fmt.Sprintf("latency pass %d calls", lat.n)
	if truncated.Load() {
		notes += " (sample buffer full, pass cut short)"
	}
	if callers > 1 {
		notes = fmt.Sprintf("calls/caller min %d max %d, every caller within %.1f%% of the mean; %s",
			slices.Min(counts), slices.Max(counts), spread(counts), notes)
	}
	return []row{{
		scenario:  scenario,
		mode:      modeName(inline),
		rate:      float64(total) / elapsed.Seconds(),
		unit:      "ops/s",
		lat:       lat,
		allocs:    float64(m1-m0) / float64(total),
		hasAllocs: true,
		notes:     notes,
	}}, nil
}

// spread returns how far, in percent of the mean, the count furthest from
// the mean lies from it.
func spread(counts []int64) float64 {
	var total int64
	for _, n := range counts {
		total += n
	}
	mean := float64(total) / float64(len(counts))
	if mean == 0 {
		return 0
	}
	var worst float64
	for _, n := range counts {
		worst = max(worst, math.Abs(float64(n)-mean))
	}
	return 100 * worst / mean
}

// oneWay measures one-way messages: senders send Inc for cfg.d,
// round-robin over actors keys, retrying a message the runtime refused as
// overloaded. The rate counts messages processed by the time all sent ones
// were.
func oneWay(cfg config, actors, senders int) (rows []row, err error) {
	processed := new(atomic.Int64)
	s, err := startSilo(true, processed)
	if err != nil {
		return nil, err
	}
	defer stopSilo(s, &err)
	ctx := context.Background()
	refs := make([]testactors.CounterRef, actors)
	for i := range refs {
		refs[i] = testactors.NewCounterRef(s, quark.IntKey(int64(i)))
		if _, err := refs[i].Add(ctx, 0); err != nil { // activate
			return nil, err
		}
	}

	sent := make([]int64, senders)
	retries := make([]int64, senders)
	runtime.GC()
	m0, b0 := heapTotals()
	start := time.Now()
	sendTime, err := timed(cfg.d, senders, func(i int, stop *atomic.Bool) error {
		k := i * actors / senders
		var n, r int64
		for !stop.Load() {
			for {
				err := refs[k].Inc(ctx, 1)
				if err == nil {
					break
				}
				if quark.CodeOf(err) != quark.CodeOverloaded {
					return err
				}
				r++
				runtime.Gosched()
			}
			n++
			if k++; k == actors {
				k = 0
			}
		}
		sent[i], retries[i] = n, r
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total, retried int64
	for i := range senders {
		total += sent[i]
		retried += retries[i]
	}
	deadline := time.Now().Add(time.Minute)
	for processed.Load() < total {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d one-way messages processed after a minute", processed.Load(), total)
		}
		time.Sleep(50 * time.Microsecond)
	}
	elapsed := time.Since(start)
	m1, b1 := heapTotals()

	scenario := "(c) one-way, 1 sender"
	if senders > 1 {
		scenario = fmt.Sprintf("(c) one-way, %d senders", senders)
	}
	mode := "1 actor"
	if actors > 1 {
		mode = fmt.Sprintf("%d actors", actors)
	}
	return []row{{
		scenario:  scenario,
		mode:      mode,
		rate:      float64(total) / elapsed.Seconds(),
		unit:      "msg/s",
		allocs:    float64(m1-m0) / float64(total),
		hasAllocs: true,
		notes: fmt.Sprintf("%.0f B allocated per message; %d sent; %d Overloaded retries; sending took %v, processing ended %v later",
			float64(b1-b0)/float64(total), total, retried, sendTime.Round(time.Millisecond),
			(elapsed - sendTime).Round(time.Millisecond)),
	}}, nil
}

// activationRun measures many activations once, for the (d) and (e) rows.
type activationRun struct {
	done bool
	res  activationResult
	err  error
}

type activationResult struct {
	n        int
	workers  int
	elapsed  time.Duration // creating the activations
	allocs   float64       // heap allocations per activation
	heapPer  float64       // live heap bytes per idle activation
	gBefore  int           // goroutines before creating them
	gAfter   int           // goroutines with all of them idle
	stopTime time.Duration // stopping the silo that holds them
	implSize uintptr
}

func (r *activationRun) get(cfg config) (activationResult, error) {
	if !r.done {
		r.res, r.err = measureActivations(cfg.n)
		r.done = true
	}
	return r.res, r.err
}

func (r *activationRun) activateRows(cfg config) ([]row, error) {
	res, err := r.get(cfg)
	if err != nil {
		return nil, err
	}
	return []row{{
		scenario:  "(d) activate",
		mode:      fmt.Sprintf("first call, %d goroutines", res.workers),
		rate:      float64(res.n) / res.elapsed.Seconds(),
		unit:      "activations/s",
		allocs:    res.allocs,
		hasAllocs: true,
		notes: fmt.Sprintf("%d actors; heap %.0f B per idle activation, runtime overhead %.0f B (implementation %d B); stop took %v",
			res.n, res.heapPer, res.heapPer-float64(res.implSize), res.implSize, res.stopTime.Round(time.Millisecond)),
	}}, nil
}

func (r *activationRun) goroutineRows(cfg config) ([]row, error) {
	res, err := r.get(cfg)
	if err != nil {
		return nil, err
	}
	return []row{{
		scenario: "(e) goroutines",
		mode:     "idle activations",
		notes:    fmt.Sprintf("before %d, after %d idle activations %d", res.gBefore, res.n, res.gAfter),
	}}, nil
}

// measureActivations makes first calls to n distinct actors from
// GOMAXPROCS goroutines, then measures the heap and goroutines they hold
// while idle.
func measureActivations(n int) (res activationResult, err error) {
	s, err := startSilo(true, new(atomic.Int64))
	if err != nil {
		return res, err
	}
	stopped := false
	defer func() {
		if !stopped {
			stopSilo(s, &err)
		}
	}()
	ctx := context.Background()
	res.n = n
	res.workers = runtime.GOMAXPROCS(0)
	res.implSize = unsafe.Sizeof(counter{})

	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res.gBefore = runtime.NumGoroutine()

	var next atomic.Int64
	res.elapsed, err = timed(time.Hour, res.workers, func(_ int, stop *atomic.Bool) error {
		for !stop.Load() {
			k := next.Add(1) - 1
			if k >= int64(n) {
				return nil
			}
			if _, err := testactors.NewCounterRef(s, quark.IntKey(k)).Add(ctx, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.allocs = float64(mallocs()-before.Mallocs) / float64(n)

	// Let goroutines that are on their way out (drainers, the workers
	// above) exit.
	settle := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > res.gBefore && time.Now().Before(settle) {
		time.Sleep(time.Millisecond)
	}
	res.gAfter = runtime.NumGoroutine()

	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.heapPer = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	if live := s.Stats().Activations; live != int64(n) {
		return res, fmt.Errorf("%d activations live, want %d", live, n)
	}

	t0 := time.Now()
	stopped = true
	stopSilo(s, &err)
	res.stopTime = time.Since(t0)
	return res, err
}
