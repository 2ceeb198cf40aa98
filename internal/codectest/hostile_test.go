package codectest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/codectest"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
)

// hostile is one input a decoder must refuse with a Corrupt error.
type hostile struct {
	name   string
	decode func(t tb, b []byte) error
	input  []byte
}

func decoderOf[T any, P codecPtr[T]]() func(t tb, b []byte) error {
	return func(t tb, b []byte) error {
		t.Helper()
		_, err := decode[T, P](t, b)
		return err
	}
}

// obj returns an encoded map with the given keys and encoded values.
func obj(kvs ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kvs)/2))
	for i := 0; i < len(kvs); i += 2 {
		b = msgp.AppendString(b, kvs[i].(string))
		b = append(b, kvs[i+1].([]byte)...)
	}
	return b
}

// raw returns the MessagePack encoding of v (nil, bool, numbers, strings,
// []byte, []any, map[string]any).
func raw(v any) []byte {
	b, err := msgp.AppendIntf(nil, v)
	if err != nil {
		panic(err)
	}
	return b
}

// tail is a few bytes of small elements after a huge declared length.
var tail = []byte{0x01, 0x02, 0x03, 0x04, 0x05}

// header32 returns a 32-bit length header with prefix and length n,
// followed by tail.
func header32(prefix byte, n uint32) []byte {
	return append([]byte{prefix, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, tail...)
}

func arr32(n uint32) []byte { return header32(0xdd, n) }
func map32(n uint32) []byte { return header32(0xdf, n) }
func str32(n uint32) []byte { return header32(0xdb, n) }
func bin32(n uint32) []byte { return header32(0xc6, n) }

// TestHugeDeclaredLengths: containers declaring up to 2^32-1 elements in a
// few bytes are refused before anything sized by the declared length is
// allocated.
func TestHugeDeclaredLengths(t *testing.T) {
	tags := decoderOf[codectest.Tags]()
	containers := decoderOf[codectest.Containers]()
	scalars := decoderOf[codectest.Scalars]()
	order := decoderOf[codectest.Order]()
	cases := []hostile{
		{"Tags: 2^31 elements", tags, arr32(1 << 31)},
		{"Tags: 2^32-1 elements", tags, arr32(1<<32 - 1)},
		{"Tags: 2^31-byte element", tags, append([]byte{0x91}, str32(1<<31)...)},
		{"Scores: 2^31 entries", decoderOf[codectest.Scores](), map32(1 << 31)},
		{"Matrix: 2^31 rows", decoderOf[codectest.Matrix](), arr32(1 << 31)},
		{"Order: 2^31 fields", order, map32(1 << 31)},
		{"Order.Lines: 2^31 lines", order, obj("Lines", arr32(1<<31))},
		{"Order.Attrs: 2^31 entries", order, obj("Attrs", map32(1<<31))},
		{"Scalars.String: 2^31 bytes", scalars, obj("String", str32(1<<31))},
		{"Scalars.Bytes: 2^31 bytes", scalars, obj("Bytes", bin32(1<<31))},
		{"Containers.Ints", containers, obj("Ints", arr32(1<<31))},
		{"Containers.Nested inner", containers, obj("Nested", append([]byte{0x91}, arr32(1<<31)...))},
		{"Containers.StrMap", containers, obj("StrMap", map32(1<<31))},
		{"Containers.MapOfMaps inner", containers, obj("MapOfMaps", append(append([]byte{0x81}, raw("k")...), map32(1<<31)...))},
		{"Containers.Points", containers, obj("Points", arr32(1<<31))},
		{"Containers.PointPtrs", containers, obj("PointPtrs", arr32(1<<31))},
		{"Containers.ByteSlices", containers, obj("ByteSlices", arr32(1<<31))},
		{"Containers.Fixed", containers, obj("Fixed", arr32(1<<31))},
		{"Tree.Children", decoderOf[codectest.Tree](), obj("Children", arr32(1<<31))},
		{"Dir.Sub", decoderOf[codectest.Dir](), obj("Sub", map32(1<<31))},
		{"Times.Durations", decoderOf[codectest.Times](), obj("Durations", arr32(1<<31))},
		{"Marshalers.Version: 2^31-byte bin", decoderOf[codectest.Marshalers](), obj("Version", bin32(1<<31))},
		{"Marshalers.Level: 2^31-byte str", decoderOf[codectest.Marshalers](), obj("Level", str32(1<<31))},
		{"unknown field: 2^31 elements", order, obj("Unknown", arr32(1<<31))},
	}
	if n := len(cases[0].input); n != 10 {
		t.Fatalf("the first input is %d bytes, want 10", n)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			allocated := heapBytes(func() { err = c.decode(t, c.input) })
			if !isCorrupt(err) {
				t.Fatalf("decoding %x: %v, want a Corrupt error", c.input, err)
			}
			if allocated > 64<<10 {
				t.Errorf("decoding %d bytes allocated %d bytes", len(c.input), allocated)
			}
		})
	}
	// The 10-byte input declaring 2^31 strings, counted in allocations.
	if allocs := testing.AllocsPerRun(20, func() { cases[0].decode(t, cases[0].input) }); allocs > 16 {
		t.Errorf("decoding a 10-byte input declaring 2^31 elements made %v allocations", allocs)
	}
}

// nest returns the encoding of depth values, each inside the one before:
// wrap(inner) makes one level around inner.
func nest(depth int, innermost []byte, wrap func(inner []byte) []byte) []byte {
	b := innermost
	for range depth {
		b = wrap(b)
	}
	return b
}

// TestDeepNesting: input nested deeper than codec.MaxDepth is refused with
// ErrTooDeep, whichever recursive path it takes; shallow nesting is fine.
func TestDeepNesting(t *testing.T) {
	deep := 2*codec.MaxDepth + 10
	list := func(inner []byte) []byte { return obj("Value", raw(int64(1)), "Next", inner) }
	tree := func(inner []byte) []byte { return obj("Label", raw("t"), "Children", append([]byte{0x91}, inner...)) }
	dir := func(inner []byte) []byte {
		return obj("Name", raw("d"), "Sub", append(append([]byte{0x81}, raw("s")...), inner...))
	}
	expr := func(inner []byte) []byte {
		return obj("Op", raw("+"), "Args", append([]byte{0x91}, obj("Sub", inner)...))
	}
	cases := []struct {
		name   string
		decode func(t tb, b []byte) error
		wrap   func([]byte) []byte
	}{
		{"List.Next", decoderOf[codectest.List](), list},
		{"Tree.Children", decoderOf[codectest.Tree](), tree},
		{"Dir.Sub", decoderOf[codectest.Dir](), dir},
		{"Expr.Args.Sub", decoderOf[codectest.Expr](), expr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.decode(t, nest(10, obj(), c.wrap)); err != nil {
				t.Fatalf("10 levels: %v", err)
			}
			err := c.decode(t, nest(deep, obj(), c.wrap))
			if !isCorrupt(err) || !errors.Is(err, codec.ErrTooDeep) {
				t.Fatalf("%d levels: %v, want a Corrupt error wrapping codec.ErrTooDeep", deep, err)
			}
		})
	}

	// The boundary: each struct, slice, array, map and pointer entered
	// counts one level below the outermost value's. A list of 51 nodes
	// (a struct, then a pointer and a struct per further node) reaches
	// level 100 and decodes; 52 nodes do not.
	chain := func(n int) codectest.List {
		l := &codectest.List{Value: int64(n)}
		for i := n - 1; i > 0; i-- {
			l = &codectest.List{Value: int64(i), Next: l}
		}
		return *l
	}
	if _, err := decode[codectest.List](t, encode(chain(51))); err != nil {
		t.Fatalf("a list of 51 nodes: %v", err)
	}
	if _, err := decode[codectest.List](t, encode(chain(52))); !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("a list of 52 nodes: %v, want ErrTooDeep", err)
	}

	// Encoding a value that deep works; decoding it is refused.
	l := &codectest.List{}
	for range deep {
		l = &codectest.List{Value: 1, Next: l}
	}
	if _, err := decode[codectest.List](t, encode(*l)); !errors.Is(err, codec.ErrTooDeep) || !isCorrupt(err) {
		t.Fatalf("decoding a list %d long: %v, want ErrTooDeep", deep, err)
	}

	// Deep arrays where a shallow slice is expected.
	arrays := nest(deep, raw(int64(1)), func(inner []byte) []byte { return append([]byte{0x91}, inner...) })
	if _, err := decode[codectest.Containers](t, obj("Nested", arrays)); !isCorrupt(err) {
		t.Fatalf("deep arrays in Containers.Nested: %v, want Corrupt", err)
	}
}

// TestDeepUnknownField: an unknown field is skipped by codec.Skip, which
// msgp bounds at a far greater depth than MaxDepth; beyond that bound the
// input is refused, and nothing panics or overflows the stack either way.
func TestDeepUnknownField(t *testing.T) {
	arrays := func(depth int) []byte { return append(bytes.Repeat([]byte{0x91}, depth), 0x01) }
	base := encode(fixtureOrder())
	// Skipping an unknown field is bounded by MaxDepth too.
	if _, err := decode[codectest.Order](t, withField(t, base, "Deep", arrays(codec.MaxDepth), false)); err != nil {
		t.Fatalf("unknown field %d deep: %v, want it skipped", codec.MaxDepth, err)
	}
	if _, err := decode[codectest.Order](t, withField(t, base, "Deep", arrays(codec.MaxDepth+2), false)); !isCorrupt(err) || !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("unknown field %d deep: %v, want Corrupt wrapping ErrTooDeep", codec.MaxDepth+2, err)
	}
	if _, err := decode[codectest.Order](t, withField(t, base, "Deep", arrays(200_000), false)); !isCorrupt(err) {
		t.Fatalf("unknown field 200000 deep: %v, want Corrupt", err)
	}
}

// TestTruncated: no strict prefix of an encoding decodes.
func TestTruncated(t *testing.T) {
	for _, c := range goldenCases() {
		b := c.encode(t)
		for i := range len(b) {
			if err := c.decode(t, b[:i]); !isCorrupt(err) {
				t.Fatalf("%s truncated to %d of %d bytes: %v, want Corrupt", c.name, i, len(b), err)
			}
		}
	}
}

// TestTrailingBytes: UnmarshalQuark takes exactly one value.
func TestTrailingBytes(t *testing.T) {
	for _, c := range goldenCases() {
		b := c.encode(t)
		for _, extra := range [][]byte{{0xc0}, {0x00}, b} {
			err := c.decode(t, append(b[:len(b):len(b)], extra...))
			if !isCorrupt(err) || !errors.Is(err, codec.ErrTrailing) {
				t.Fatalf("%s followed by %x: %v, want Corrupt wrapping codec.ErrTrailing", c.name, extra, err)
			}
		}
	}
}

// TestWrongTypes: a value of the wrong type, one that does not fit its
// field, or one the field's own unmarshaler rejects is a Corrupt error.
func TestWrongTypes(t *testing.T) {
	scalars := decoderOf[codectest.Scalars]()
	containers := decoderOf[codectest.Containers]()
	times := decoderOf[codectest.Times]()
	marshalers := decoderOf[codectest.Marshalers]()
	ext, _ := msgp.AppendExtension(nil, &msgp.RawExtension{Type: 42, Data: []byte{1, 2, 3}})
	cases := []hostile{
		{"Scalars: a string", scalars, raw("Scalars")},
		{"Scalars: an array", scalars, raw([]any{int64(1)})},
		{"Scalars: an int", scalars, raw(int64(1))},
		{"Scalars: an int key", scalars, []byte{0x81, 0x01, 0x01}},
		{"Bool: an int", scalars, obj("Bool", raw(int64(1)))},
		{"Int8: 300", scalars, obj("Int8", raw(int64(300)))},
		{"Int8: -129", scalars, obj("Int8", raw(int64(-129)))},
		{"Int16: 1<<15", scalars, obj("Int16", raw(int64(1<<15)))},
		{"Int32: 1<<31", scalars, obj("Int32", raw(int64(1<<31)))},
		{"Int64: 1<<63", scalars, obj("Int64", raw(uint64(1<<63)))},
		{"Uint8: 256", scalars, obj("Uint8", raw(int64(256)))},
		{"Uint8: -1", scalars, obj("Uint8", raw(int64(-1)))},
		{"Uint: -1", scalars, obj("Uint", raw(int64(-1)))},
		{"Uint64: -1", scalars, obj("Uint64", raw(int64(-1)))},
		{"Int: a string", scalars, obj("Int", raw("1"))},
		{"Float64: a string", scalars, obj("Float64", raw("1.5"))},
		{"Float32: an array", scalars, obj("Float32", raw([]any{}))},
		{"String: an int", scalars, obj("String", raw(int64(5)))},
		{"String: a map", scalars, obj("String", raw(map[string]any{}))},
		{"Bytes: a bool", scalars, obj("Bytes", raw(true))},
		{"Rune: a float", scalars, obj("Rune", raw(1.5))},
		{"invalid byte c1", scalars, obj("Bool", []byte{0xc1})},
		{"Ints: a string", containers, obj("Ints", raw("x"))},
		{"Ints: a string element", containers, obj("Ints", raw([]any{int64(1), "two"}))},
		{"Fixed: a map", containers, obj("Fixed", raw(map[string]any{}))},
		{"StrMap: an array", containers, obj("StrMap", raw([]any{int64(1), int64(2)}))},
		{"StrMap: an int key", containers, obj("StrMap", []byte{0x81, 0x01, 0x01})},
		{"IntKeys: a string key", containers, obj("IntKeys", raw(map[string]any{"a": "b"}))},
		{"Points: an int element", containers, obj("Points", raw([]any{int64(5)}))},
		{"Point.X: a string", containers, obj("Points", raw([]any{map[string]any{"X": "x"}}))},
		{"Nested: 3 levels", containers, obj("Nested", raw([]any{[]any{[]any{}}}))},
		{"At: a string", times, obj("At", raw("2024-02-29"))},
		{"At: an int", times, obj("At", raw(int64(1709212455)))},
		{"At: another extension", times, obj("At", ext)},
		{"Took: a string", times, obj("Took", raw("1s"))},
		{"Level: an unknown name", marshalers, obj("Level", raw("loud"))},
		{"Level: an int", marshalers, obj("Level", raw(int64(1)))},
		{"Version: 3 bytes", marshalers, obj("Version", raw([]byte{1, 2, 3}))},
		{"Version: a map", marshalers, obj("Version", raw(map[string]any{}))},
		{"Color: not a colour", marshalers, obj("Color", raw("red"))},
		{"Addr: 5 bytes", marshalers, obj("Addr", raw([]byte{1, 2, 3, 4, 5}))},
		{"Tags: a map", decoderOf[codectest.Tags](), raw(map[string]any{})},
		{"Tags: an int element", decoderOf[codectest.Tags](), raw([]any{int64(1)})},
		{"Scores: an array", decoderOf[codectest.Scores](), raw([]any{})},
		{"Scores: a string value", decoderOf[codectest.Scores](), raw(map[string]any{"a": "b"})},
		{"Temperature: a string", decoderOf[codectest.Temperature](), raw("warm")},
		{"Order.Lines: a string element", decoderOf[codectest.Order](), obj("Lines", raw([]any{"line"}))},
		{"Order.Placed: a bool", decoderOf[codectest.Order](), obj("Placed", raw(false))},
		{"empty input", decoderOf[codectest.Order](), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.decode(t, c.input); !isCorrupt(err) {
				t.Fatalf("decoding %x: %v, want a Corrupt error", c.input, err)
			}
		})
	}
}

// TestArrayLengthChanges: an array decodes from an encoding of another
// length, as a struct does from one with other fields: elements beyond the
// array's length are skipped, missing ones are zero.
func TestArrayLengthChanges(t *testing.T) {
	ints := func(xs ...int64) []byte {
		b := msgp.AppendArrayHeader(nil, uint32(len(xs)))
		for _, x := range xs {
			b = msgp.AppendInt64(b, x)
		}
		return b
	}
	for _, c := range []struct {
		in   []byte
		want [4]uint16
	}{
		{ints(1, 2, 3, 4, 5, 6), [4]uint16{1, 2, 3, 4}},
		{ints(1, 2), [4]uint16{1, 2, 0, 0}},
		{ints(), [4]uint16{}},
	} {
		got, err := decode[codectest.Containers](t, obj("Fixed", c.in))
		if err != nil || got.Fixed != c.want {
			t.Errorf("Fixed from %x: %v, %v; want %v", c.in, got.Fixed, err, c.want)
		}
	}
	// Elements beyond the length are still checked as MessagePack.
	if _, err := decode[codectest.Containers](t, obj("Fixed", append(msgp.AppendArrayHeader(nil, 5), 1, 2, 3, 4, 0xc1))); !isCorrupt(err) {
		t.Errorf("a malformed fifth element: %v, want Corrupt", err)
	}
	m, err := decode[codectest.Matrix](t, raw([]any{[]any{int64(1)}, []any{}, []any{int64(9)}}))
	if err != nil || m != (codectest.Matrix{{1, 0, 0}, {0, 0, 0}}) {
		t.Errorf("Matrix from 3 rows: %v, %v", m, err)
	}
	// A byte array takes a bin of any length the same way.
	for in, want := range map[string][8]byte{"quark-codec": [8]byte([]byte("quark-co")), "qu": {'q', 'u'}} {
		got, err := decode[codectest.Containers](t, obj("ByteArray", msgp.AppendBytes(nil, []byte(in))))
		if err != nil || got.ByteArray != want {
			t.Errorf("ByteArray from %q: %q, %v", in, got.ByteArray, err)
		}
	}
}

// TestNoPanicOnCorruptedGoldens flips every bit of every golden encoding in
// turn: the decoder may accept or refuse the result, but never panics and
// refuses only with a Corrupt error.
func TestNoPanicOnCorruptedGoldens(t *testing.T) {
	for _, c := range goldenCases() {
		b := c.encode(t)
		mutated := make([]byte, len(b))
		for i := range len(b) * 8 {
			copy(mutated, b)
			mutated[i/8] ^= 1 << (i % 8)
			if err := c.decode(t, mutated); err != nil && !isCorrupt(err) {
				t.Fatalf("%s with bit %d flipped: %v (%T), want nil or a Corrupt error", c.name, i, err, err)
			}
		}
	}
}

// TestMessageSizeLimit: UnmarshalQuark refuses input larger than
// codec.DefaultMaxMessageSize with InvalidArgument, and takes input of
// exactly that size.
func TestMessageSizeLimit(t *testing.T) {
	// One string in an array: a 1-byte array header and a 5-byte str32
	// header around the string.
	fits := strings.Repeat("x", codec.DefaultMaxMessageSize-6)
	b := encode(codectest.Tags{fits})
	if len(b) != codec.DefaultMaxMessageSize {
		t.Fatalf("encoded %d bytes, want %d", len(b), codec.DefaultMaxMessageSize)
	}
	if got, err := decode[codectest.Tags](t, b); err != nil || len(got) != 1 || got[0] != fits {
		t.Fatalf("decoding exactly the maximum: %v", err)
	}
	b = encode(codectest.Tags{fits + "x"})
	// Too large is not corrupt: the bytes may well be a good encoding.
	if _, err := decode[codectest.Tags](t, b); quarkerr.CodeOf(err) != quarkerr.InvalidArgument || !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("decoding one byte more than the maximum: %v, want InvalidArgument wrapping codec.ErrTooLarge", err)
	}
}

// TestUpFrontAllocationIsCharged: a declared length the input could hold,
// of elements much larger in memory than on the wire, followed by garbage,
// costs no more than the allocation budget of the input's size. The
// decoder allocates the whole length it has charged at once (growing a
// container as elements arrive would allocate up to five times as much in
// all), so this is all the bound there is: a well-formed input can make a
// decoder allocate as much.
func TestUpFrontAllocationIsCharged(t *testing.T) {
	const n = 1 << 20
	junk := bytes.Repeat([]byte{0xc1}, 2*n) // invalid, so the first element fails
	withHeader := func(h []byte) []byte { return append(h[:len(h)-len(tail)], junk...) }
	containers := decoderOf[codectest.Containers]()
	for _, c := range []hostile{
		{"Containers.Points", containers, obj("Points", withHeader(arr32(n)))},
		{"Containers.StrMap", containers, obj("StrMap", withHeader(map32(n)))},
		{"Containers.MapOfSlices", containers, obj("MapOfSlices", withHeader(map32(n)))},
		{"Order.Lines", decoderOf[codectest.Order](), obj("Lines", withHeader(arr32(n)))},
		{"Tags", decoderOf[codectest.Tags](), withHeader(arr32(n))},
	} {
		var err error
		allocated := heapBytes(func() { err = c.decode(t, c.input) })
		if !isCorrupt(err) {
			t.Fatalf("%s: %v, want Corrupt", c.name, err)
		}
		if allocated > allocBound(len(c.input)) {
			t.Errorf("%s: declaring %d elements allocated %d bytes before the first failed, more than %d", c.name, n, allocated, allocBound(len(c.input)))
		}
	}
}
