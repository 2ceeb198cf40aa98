package main

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/quarkgo/quark/internal/codectest"
)

// tenFixture is the value BenchmarkTen in internal/codectest encodes and
// decodes (its fixtureTen): the codec target's ten-field message with a
// string, a slice and a map.
func tenFixture() codectest.Ten {
	return codectest.Ten{
		ID: 42, Version: 7, Score: 0.93, Active: true, Name: "sensor-17",
		Samples:  []int32{12, 15, 11, 19},
		Counters: map[string]int64{"ok": 1024, "err": 3},
		Updated:  time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
		Region:   3, Flags: 5,
	}
}

// opCost is what a single-goroutine loop measured: operations run, the time
// they took, and the heap allocations and bytes they made.
type opCost struct {
	n       int64
	elapsed time.Duration
	mallocs uint64
	bytes   uint64
}

func (c opCost) perOp() time.Duration { return c.elapsed / time.Duration(c.n) }
func (c opCost) allocs() float64      { return float64(c.mallocs) / float64(c.n) }
func (c opCost) heapBytes() float64   { return float64(c.bytes) / float64(c.n) }

// loopFor runs ops for about d on the calling goroutine, after a warm-up,
// and returns what they cost. ops(n) runs n operations in a loop of its
// own, as a testing.B loop does, so the loop costs no call per operation;
// the clock is read once per batch, so it does not count in an operation
// of a few hundred nanoseconds.
func loopFor(d time.Duration, ops func(n int) error) (opCost, error) {
	const batch = 256
	if err := ops(batch); err != nil { // warm up: buffers sized, caches filled
		return opCost{}, err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		if err := ops(batch); err != nil {
			return opCost{}, err
		}
		n += batch
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return opCost{
		n:       n,
		elapsed: elapsed,
		mallocs: after.Mallocs - before.Mallocs,
		bytes:   after.TotalAlloc - before.TotalAlloc,
	}, nil
}

// codecQuark measures the generated serializers on the ten-field message as
// BenchmarkTen's quark case does: encode into a reused buffer, decode into
// a fresh value. Encoding and decoding alone then run for half a pass each,
// for the notes.
func codecQuark(cfg config) ([]row, error) {
	v := tenFixture()
	buf, _ := v.MarshalQuark(nil)
	size := len(buf)
	both, err := loopFor(cfg.d, func(n int) error {
		for range n {
			var err error
			if buf, err = v.MarshalQuark(buf[:0]); err != nil {
				return err
			}
			var out codectest.Ten
			if err := out.UnmarshalQuark(buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	enc, err := loopFor(cfg.d/2, func(n int) error {
		for range n {
			var err error
			if buf, err = v.MarshalQuark(buf[:0]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	dec, err := loopFor(cfg.d/2, func(n int) error {
		for range n {
			var out codectest.Ten
			if err := out.UnmarshalQuark(buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out codectest.Ten
	if err := out.UnmarshalQuark(buf); err != nil {
		return nil, err
	}
	if out.Name != v.Name || out.Counters["ok"] != v.Counters["ok"] || !out.Updated.Equal(v.Updated) {
		return nil, fmt.Errorf("decoded %+v, want %+v", out, v)
	}
	return []row{codecRow("quark", both, fmt.Sprintf(
		"%s per encode+decode (encode %s, decode %s); %.0f B allocated per op; %d B encoded",
		fmtDur(both.perOp()), fmtDur(enc.perOp()), fmtDur(dec.perOp()), both.heapBytes(), size))}, nil
}

// codecJSON measures encoding/json on the same message and loop, for
// comparison.
func codecJSON(cfg config) ([]row, error) {
	v := tenFixture()
	var size int
	c, err := loopFor(cfg.d, func(n int) error {
		for range n {
			b, err := json.Marshal(&v)
			if err != nil {
				return err
			}
			size = len(b)
			var out codectest.Ten
			if err := json.Unmarshal(b, &out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []row{codecRow("encoding/json", c, fmt.Sprintf(
		"%s per encode+decode; %.0f B allocated per op; %d B encoded",
		fmtDur(c.perOp()), c.heapBytes(), size))}, nil
}

// codecGob measures encoding/gob on the same message, with a new encoder
// and decoder per message as BenchmarkTen does (a gob stream sends its
// type description once, so one message per stream is what a call costs).
func codecGob(cfg config) ([]row, error) {
	v := tenFixture()
	var size int
	c, err := loopFor(cfg.d, func(n int) error {
		for range n {
			var b bytes.Buffer
			if err := gob.NewEncoder(&b).Encode(&v); err != nil {
				return err
			}
			size = b.Len()
			var out codectest.Ten
			if err := gob.NewDecoder(&b).Decode(&out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []row{codecRow("encoding/gob", c, fmt.Sprintf(
		"%s per encode+decode, a stream per message; %.0f B allocated per op; %d B encoded",
		fmtDur(c.perOp()), c.heapBytes(), size))}, nil
}

func codecRow(mode string, c opCost, notes string) row {
	return row{
		scenario:  "(f) codec, ten fields",
		mode:      mode,
		rate:      float64(c.n) / c.elapsed.Seconds(),
		unit:      "ops/s",
		allocs:    c.allocs(),
		hasAllocs: true,
		notes:     notes,
	}
}
