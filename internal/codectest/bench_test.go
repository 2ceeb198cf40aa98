package codectest_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/codectest"
)

// BenchmarkOrder encodes and decodes the same Order, into a fresh value
// each time, with the generated codec, encoding/json and encoding/gob. The
// gob case writes a self-contained message each time (a new Encoder, so the
// type description travels with every value, as each quark message must
// stand alone); gob-stream reuses one Encoder and Decoder, so the type is
// described once, as on a long-lived connection. B/msg is the encoded size.
func BenchmarkOrder(b *testing.B) {
	order := fixtureOrder()

	b.Run("quark", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = order.MarshalQuark(buf[:0]); err != nil {
				b.Fatal(err)
			}
			var out codectest.Order
			if err := out.UnmarshalQuark(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "B/msg")
	})

	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = json.Marshal(&order); err != nil {
				b.Fatal(err)
			}
			var out codectest.Order
			if err := json.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "B/msg")
	})

	b.Run("gob", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		var n int
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&order); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
			var out codectest.Order
			if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "B/msg")
	})

	b.Run("gob-stream", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc, dec := gob.NewEncoder(&buf), gob.NewDecoder(&buf)
		var n int
		for b.Loop() {
			if err := enc.Encode(&order); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
			var out codectest.Order
			if err := dec.Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "B/msg")
	})
}

// BenchmarkOrderEncode and BenchmarkOrderDecode split the quark case.
func BenchmarkOrderEncode(b *testing.B) {
	order := fixtureOrder()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = order.MarshalQuark(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOrderDecode(b *testing.B) {
	buf := encode(fixtureOrder())
	b.ReportAllocs()
	for b.Loop() {
		var out codectest.Order
		if err := out.UnmarshalQuark(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchmarkCodecsAgree makes sure the benchmark compares like with like:
// every codec gets the same Order back.
func TestBenchmarkCodecsAgree(t *testing.T) {
	order := fixtureOrder()
	q, err := decode[codectest.Order](t, encode(order))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(&order)
	if err != nil {
		t.Fatal(err)
	}
	var j codectest.Order
	if err := json.Unmarshal(js, &j); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&order); err != nil {
		t.Fatal(err)
	}
	var g codectest.Order
	if err := gob.NewDecoder(&buf).Decode(&g); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]codectest.Order{"quark": q, "json": j, "gob": g} {
		if d := diff(order, got); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}

func fixtureTen() codectest.Ten {
	return codectest.Ten{
		ID: 42, Version: 7, Score: 0.93, Active: true, Name: "sensor-17",
		Samples:  []int32{12, 15, 11, 19},
		Counters: map[string]int64{"ok": 1024, "err": 3},
		Updated:  time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
		Region:   3, Flags: 5,
	}
}

// BenchmarkTen is the codec target's workload: encode and decode of a
// 10-field struct with a string, a slice and a map.
func BenchmarkTen(b *testing.B) {
	v := fixtureTen()
	b.Run("quark", func(b *testing.B) {
		buf := marshal(b, &v, nil)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = v.MarshalQuark(buf[:0]); err != nil {
				b.Fatal(err)
			}
			var out codectest.Ten
			if err := out.UnmarshalQuark(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, err := json.Marshal(&v)
			if err != nil {
				b.Fatal(err)
			}
			var out codectest.Ten
			if err := json.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
				b.Fatal(err)
			}
			var out codectest.Ten
			if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTenEncode and BenchmarkTenDecode split BenchmarkTen's quark
// case.
func BenchmarkTenEncode(b *testing.B) {
	v := fixtureTen()
	buf := marshal(b, &v, nil)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = v.MarshalQuark(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTenDecode(b *testing.B) {
	v := fixtureTen()
	buf := marshal(b, &v, nil)
	b.ReportAllocs()
	for b.Loop() {
		var out codectest.Ten
		if err := out.UnmarshalQuark(buf); err != nil {
			b.Fatal(err)
		}
	}
}
