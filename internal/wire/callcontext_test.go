package wire_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/quarkerr"
	"pgregory.net/rapid"
)

// genCallContext draws call contexts within the limits, in the normal form
// ReadCallContext returns (nil rather than empty slices).
func genCallContext() *rapid.Generator[wire.CallContext] {
	return rapid.Custom(func(t *rapid.T) wire.CallContext {
		var c wire.CallContext
		if rapid.Bool().Draw(t, "deadline") {
			c.HasDeadline = true
			c.Remaining = time.Duration(rapid.Int64Range(0, 1<<62).Draw(t, "remaining"))
		}
		n := rapid.IntRange(0, 8).Draw(t, "links")
		for i := 0; i < n; i++ {
			l := wire.Link{
				Type:     rapid.StringN(0, 20, wire.MaxTypeName).Draw(t, "type"),
				Pinned:   rapid.Bool().Draw(t, "pinned"),
				Readonly: rapid.Bool().Draw(t, "readonly"),
			}
			if k := rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "key"); len(k) > 0 {
				l.Key = k
			}
			c.Chain = append(c.Chain, l)
		}
		v := rapid.IntRange(0, 4).Draw(t, "values")
		for i := 0; i < 2*v; i++ {
			c.Values = append(c.Values, rapid.String().Draw(t, "value"))
		}
		return c
	})
}

func TestCallContextRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCallContext().Draw(t, "c")
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "prefix")
		b, err := wire.AppendCallContext(append([]byte(nil), prefix...), &c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("append lost the prefix")
		}
		var got wire.CallContext
		if err := wire.ReadCallContext(b[len(prefix):], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
		}
	})
}

// TestCallContextNegativeRemaining: a deadline already passed travels as no
// time left, not as a huge unsigned value.
func TestCallContextNegativeRemaining(t *testing.T) {
	b, err := wire.AppendCallContext(nil, &wire.CallContext{HasDeadline: true, Remaining: -time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got wire.CallContext
	if err := wire.ReadCallContext(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.HasDeadline || got.Remaining != 0 {
		t.Fatalf("got %+v, want a deadline with 0 remaining", got)
	}
}

func TestAppendCallContextLimits(t *testing.T) {
	long := strings.Repeat("x", wire.MaxValueLen+1)
	for name, c := range map[string]wire.CallContext{
		"chain too deep":  {Chain: make([]wire.Link, wire.MaxChain+1)},
		"odd values":      {Values: []string{"k"}},
		"too many values": {Values: make([]string, 2*wire.MaxValues+2)},
		"value too long":  {Values: []string{"k", long}},
		"type too long":   {Chain: []wire.Link{{Type: long}}},
		"key too long":    {Chain: []wire.Link{{Key: []byte(long)}}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := wire.AppendCallContext([]byte{7}, &c)
			if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
				t.Fatalf("err = %v, want CodeInvalidArgument", err)
			}
			if !bytes.Equal(b, []byte{7}) {
				t.Fatalf("a refused context left bytes behind: %x", b)
			}
		})
	}
}

func TestReadCallContextCorrupt(t *testing.T) {
	valid, err := wire.AppendCallContext(nil, &wire.CallContext{
		HasDeadline: true, Remaining: time.Second,
		Chain:  []wire.Link{{Type: "bank.Account", Key: []byte{1, 2, 'a', 'b'}, Readonly: true}},
		Values: []string{"traceparent", "00-abc"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":                        {},
		"unknown flags":                {0x80, 0, 0},
		"truncated":                    valid[:len(valid)-1],
		"trailing bytes":               append(append([]byte(nil), valid...), 0),
		"bad varint":                   {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"remaining overflow":           {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0},
		"chain count beyond the bytes": {0, 100, 0},
		"chain beyond the limit":       append([]byte{0, 0x81, 0x02}, make([]byte, 3*300)...),
		"unknown link flags":           {0, 1, 4, 0, 0, 0},
		"type beyond the bytes":        {0, 1, 0, 9, 'a', 0, 0},
		"values beyond the limit":      append([]byte{0, 0, 65}, make([]byte, 200)...),
	} {
		t.Run(name, func(t *testing.T) {
			c := wire.CallContext{Values: []string{"stale", "x"}}
			err := wire.ReadCallContext(b, &c)
			if quarkerr.CodeOf(err) != quarkerr.Corrupt {
				t.Fatalf("err = %v, want CodeCorrupt", err)
			}
			if !reflect.DeepEqual(c, wire.CallContext{}) {
				t.Fatalf("a refused context left values behind: %+v", c)
			}
		})
	}
}

// FuzzReadCallContext: any bytes decode or fail with CodeCorrupt, never
// panic, and whatever decodes encodes back to the same bytes.
func FuzzReadCallContext(f *testing.F) {
	for _, c := range []wire.CallContext{
		{},
		{HasDeadline: true, Remaining: time.Millisecond},
		{Chain: []wire.Link{{Type: "a", Key: []byte{1, 1, 'k'}, Pinned: true}, {Type: "b", Readonly: true}}, Values: []string{"k", "v"}},
	} {
		b, err := wire.AppendCallContext(nil, &c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c wire.CallContext
		if err := wire.ReadCallContext(b, &c); err != nil {
			if quarkerr.CodeOf(err) != quarkerr.Corrupt {
				t.Fatalf("err = %v, want CodeCorrupt", err)
			}
			return
		}
		out, err := wire.AppendCallContext(nil, &c)
		if err != nil {
			t.Fatalf("a decoded context does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}
