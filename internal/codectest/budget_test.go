package codectest_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/codectest"
	"github.com/tinylib/msgp/msgp"
	"pgregory.net/rapid"
)

// allocBound is the most decoding n bytes of input may allocate.
func allocBound(n int) uint64 { return uint64(codec.AllocFactor*n + codec.AllocBase) }

// repeated returns an array header for n elements followed by n copies of
// elem.
func repeated(n int, elem []byte) []byte {
	return append(msgp.AppendArrayHeader(nil, uint32(n)), bytes.Repeat(elem, n)...)
}

// amplifierSize is the size of each amplifier's input.
const amplifierSize = 64 << 10

// fill returns the array of as many copies of elem as make the whole of
// wrap's output amplifierSize bytes long.
func fill(elem []byte, wrap func([]byte) []byte) []byte {
	// A 16-bit length takes 2 bytes more than the empty header.
	over := len(wrap(repeated(0, elem))) + 2
	return wrap(repeated((amplifierSize-over)/len(elem), elem))
}

// names returns a map of as many entries, keyed by distinct short strings
// and each holding val, as make the whole of wrap's output about size
// bytes long.
func names(size int, val []byte, wrap func([]byte) []byte) []byte {
	var entries []byte
	n := 0
	for len(wrap(entries)) < size-8 {
		entries = append(msgp.AppendString(entries, strconv.Itoa(n)), val...)
		n++
	}
	return wrap(append(msgp.AppendMapHeader(nil, uint32(n)), entries...))
}

// keyed returns a map of as many entries, keyed 0, 1, 2… and each holding
// val, as make the whole of wrap's output about size bytes long.
func keyed(size int, val []byte, wrap func([]byte) []byte) []byte {
	var entries []byte
	n := 0
	for len(wrap(entries)) < size-8 {
		entries = append(msgp.AppendInt64(entries, int64(n)), val...)
		n++
	}
	return wrap(append(msgp.AppendMapHeader(nil, uint32(n)), entries...))
}

// amplifier is an input whose decoded form is far larger than it is, and
// whether the decoder must refuse it (it would take more than the budget)
// or take it (its elements are small enough).
type amplifier struct {
	hostile
	refused bool
}

// amplifiers are 64 KiB of the least bytes that encode an element, in every
// kind of container that allocates per element, recursive types included.
func amplifiers() []amplifier {
	none := func(b []byte) []byte { return b }
	field := func(name string) func([]byte) []byte {
		return func(b []byte) []byte { return obj(name, b) }
	}
	sparse := decoderOf[codectest.Sparse]()
	emptyMap, emptyArr := []byte{0x80}, []byte{0x90}
	return []amplifier{
		{hostile{"Wides: empty maps", decoderOf[codectest.Wides](), fill(emptyMap, none)}, true},
		{hostile{"Sparse.Wides: empty maps", sparse, fill(emptyMap, field("Wides"))}, true},
		{hostile{"Sparse.Ptrs: empty maps", sparse, fill(emptyMap, field("Ptrs"))}, true},
		{hostile{"Sparse.Maps: empty maps", sparse, fill(emptyMap, field("Maps"))}, false},
		{hostile{"Sparse.ByKey: keys to empty maps", sparse, keyed(amplifierSize, emptyMap, field("ByKey"))}, true},
		{hostile{"Sparse.Grid: one empty map each", sparse, fill([]byte{0x91, 0x80}, field("Grid"))}, true},
		{hostile{"Sparse.Grid: empty arrays", sparse, fill(emptyArr, field("Grid"))}, false},
		{hostile{"Sparse.Lists: empty arrays", sparse, fill(emptyArr, field("Lists"))}, false},
		{hostile{"Sparse.Labels: one-byte strings", sparse, fill([]byte{0xa1, 'x'}, field("Labels"))}, false},
		{hostile{"Sparse.Blobs: empty bins", sparse, fill([]byte{0xc4, 0x00}, field("Blobs"))}, false},
		{hostile{"Sparse: Wides paid for by a long label", sparse, obj("Labels", raw([]any{string(bytes.Repeat([]byte{'x'}, 60_000))}), "Wides", repeated(6500, emptyMap))}, false},
		{hostile{"Sparse: more Wides than a long label pays for", sparse, obj("Labels", raw([]any{string(bytes.Repeat([]byte{'x'}, 60_000))}), "Wides", repeated(8000, emptyMap))}, true},
		{hostile{"Containers.SliceOfMaps: empty maps", decoderOf[codectest.Containers](), fill(emptyMap, field("SliceOfMaps"))}, false},
		{hostile{"Containers.PointPtrs: empty maps", decoderOf[codectest.Containers](), fill(emptyMap, field("PointPtrs"))}, true},
		{hostile{"Tree.Children: empty maps", decoderOf[codectest.Tree](), fill(emptyMap, field("Children"))}, false},
		{hostile{"Tree.Children: one child each", decoderOf[codectest.Tree](), fill(append([]byte{0x81, 0xa8}, append([]byte("Children"), 0x91, 0x80)...), field("Children"))}, false},
		{hostile{"Dir.Sub: names to empty maps", decoderOf[codectest.Dir](), names(amplifierSize, emptyMap, field("Sub"))}, false},
		{hostile{"Expr.Args: empty subexpressions", decoderOf[codectest.Expr](), fill(append([]byte{0x81, 0xa3}, append([]byte("Sub"), 0x80)...), field("Args"))}, false},
		{hostile{"List: nested to the depth limit", decoderOf[codectest.List](), nest(50, obj(), func(inner []byte) []byte { return obj("Next", inner) })}, false},
	}
}

// TestDecodeAllocationIsBounded: whatever the input, decoding allocates at
// most codec.AllocFactor bytes per byte of input plus codec.AllocBase,
// however much larger in memory than on the wire its elements are; what
// the budget cannot pay for is refused before it is allocated, and what
// it can decodes.
func TestDecodeAllocationIsBounded(t *testing.T) {
	for _, c := range amplifiers() {
		t.Run(c.name, func(t *testing.T) {
			var err error
			allocated := heapBytes(func() { err = c.decode(t, c.input) })
			t.Logf("%d bytes: %d allocated (%.1f per byte), err %v", len(c.input), allocated, float64(allocated)/float64(len(c.input)), err)
			if bound := allocBound(len(c.input)); allocated > bound {
				t.Errorf("decoding %d bytes allocated %d bytes (%.0f per byte of input), more than %d",
					len(c.input), allocated, float64(allocated)/float64(len(c.input)), bound)
			}
			switch {
			case c.refused && (!isCorrupt(err) || !errors.Is(err, codec.ErrOverBudget)):
				t.Errorf("decoding: %v, want Corrupt wrapping codec.ErrOverBudget", err)
			case !c.refused && err != nil:
				t.Errorf("decoding: %v, want it decoded", err)
			}
		})
	}
}

// allocated returns the bytes the heap handed out while f ran. Unlike
// heapBytes it does not collect garbage first, which is slow, so that it
// can measure many decodes.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkAllocBound decodes b with decode and fails if that allocated more
// than allocBound(len(b)), or failed other than with a Corrupt error.
func checkAllocBound(t tb, name string, decode func(t tb, b []byte) error, b []byte) {
	t.Helper()
	var err error
	if n := allocated(func() { err = decode(t, b) }); n > allocBound(len(b)) {
		t.Fatalf("%s: decoding %d bytes allocated %d, more than %d", name, len(b), n, allocBound(len(b)))
	}
	if err != nil && !isCorrupt(err) {
		t.Fatalf("%s: %v, want nil or Corrupt", name, err)
	}
}

// TestDecodeAllocationBoundOverCorpus: the bound holds for every golden
// encoding, decoded as its own type and as every other (recursive types
// among them), and for each of them with bytes flipped, cut short, or
// repeated in an array.
func TestDecodeAllocationBoundOverCorpus(t *testing.T) {
	cases := goldenCases()
	var inputs [][]byte
	for _, c := range cases {
		b := c.encode(t)
		inputs = append(inputs, b, b[:len(b)/2], repeated(100, b))
		for i := 0; i < len(b); i += 7 {
			flipped := bytes.Clone(b)
			flipped[i] ^= 0x5a
			inputs = append(inputs, flipped)
		}
	}
	for _, a := range amplifiers() {
		inputs = append(inputs, a.input)
	}
	for _, c := range cases {
		for i, b := range inputs {
			checkAllocBound(t, fmt.Sprintf("%s from input %d", c.name, i), c.decode, b)
		}
	}
}

// TestLargeOrdinaryValuesDecode: the budget refuses nothing of an ordinary
// shape, however large: values of tens of thousands of elements, far past
// codec.AllocBase, decode and equal what was encoded.
func TestLargeOrdinaryValuesDecode(t *testing.T) {
	const n = 30_000
	order := fixtureOrder()
	order.Lines, order.Attrs = nil, map[string]string{}
	for i := range n {
		order.Lines = append(order.Lines, codectest.OrderLine{SKU: strconv.Itoa(i), Quantity: 1, Price: int64(i)})
		order.Attrs[strconv.Itoa(i)] = ""
	}
	var tags codectest.Tags
	var scores = codectest.Scores{}
	tree := codectest.Tree{Label: "root"}
	var c codectest.Containers
	for i := range n {
		tags = append(tags, "")
		scores[strconv.Itoa(i)] = 0
		tree.Children = append(tree.Children, codectest.Tree{Children: []codectest.Tree{}})
		c.Ints = append(c.Ints, 0)
		c.Nested = append(c.Nested, nil)
		c.Points = append(c.Points, codectest.Point{})
		c.SliceOfMaps = append(c.SliceOfMaps, map[string]bool{})
		c.ByteSlices = append(c.ByteSlices, []byte{})
	}
	checkLarge(t, "Order", order)
	checkLarge(t, "Tags", tags)
	checkLarge(t, "Scores", scores)
	checkLarge(t, "Tree", tree)
	checkLarge(t, "Containers", c)
}

func checkLarge[T any, P codecPtr[T]](t *testing.T, name string, v T) {
	t.Helper()
	b := marshal(t, P(&v), nil)
	got, err := decode[T, P](t, b)
	if err != nil {
		t.Fatalf("%s of %d bytes: %v", name, len(b), err)
	}
	if d := diff(v, got); d != "" {
		t.Fatalf("%s: %s", name, d)
	}
}

// fieldNames are the keys of the codec types' fields that hold
// containers or pointers, for shapes to put their containers under.
var fieldNames = []string{
	"Wides", "Ptrs", "Maps", "ByKey", "Grid", "Lists", "Labels", "Blobs", "Words",
	"Children", "Sub", "Next", "Args", "Lit", "Points", "PointPtrs", "SliceOfMaps",
	"MapOfMaps", "MapOfSlices", "PointMap", "Nested", "Ints", "Strings", "StrMap",
	"ByteSlices", "Lines", "Attrs", "Index", "Names", "Optional", "Slice", "Map",
	"Array", "Point", "Schedule", "Durations", "Levels", "ByLevel", "Colors",
	"ColorList", "Next", "ByCity", "Customer",
}

// shapeGen draws MessagePack values built to be cheap on the wire and
// costly in memory: empty containers and nils, fields named like the codec
// types' container fields, and one element repeated many times in an
// array or map.
func shapeGen(depth int) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		kind := 0
		if depth > 0 {
			kind = rapid.IntRange(0, 3).Draw(t, "kind")
		}
		switch kind {
		case 0: // a leaf
			return rapid.SampledFrom([][]byte{{0xc0}, {0x80}, {0x90}, {0x00}, {0xa0}, {0xa1, 'x'}, {0xc4, 0x00}}).Draw(t, "leaf")
		case 1: // an element repeated in an array
			elem := shapeGen(depth-1).Draw(t, "elem")
			n := rapid.IntRange(0, 20_000/len(elem)).Draw(t, "n")
			return repeated(n, elem)
		case 2: // a map of distinct small keys to one value
			val := shapeGen(depth-1).Draw(t, "val")
			n := rapid.IntRange(0, 20_000/(len(val)+3)).Draw(t, "n")
			b := msgp.AppendMapHeader(nil, uint32(n))
			for i := range n {
				if rapid.Bool().Draw(t, "int keys") {
					b = msgp.AppendInt64(b, int64(i))
				} else {
					b = msgp.AppendString(b, strconv.Itoa(i))
				}
				b = append(b, val...)
			}
			return b
		default: // a struct's fields
			n := rapid.IntRange(1, 3).Draw(t, "fields")
			b := msgp.AppendMapHeader(nil, uint32(n))
			for range n {
				b = msgp.AppendString(b, rapid.SampledFrom(fieldNames).Draw(t, "field"))
				b = append(b, shapeGen(depth-1).Draw(t, "value")...)
			}
			return b
		}
	})
}

// TestDecodeAllocationBoundProperty: over random shapes of up to a few
// hundred kilobytes, decoded as every codec type (recursive ones among
// them), what a decode allocates stays within the bound.
func TestDecodeAllocationBoundProperty(t *testing.T) {
	cases := goldenCases()
	rapid.Check(t, func(rt *rapid.T) {
		b := shapeGen(4).Draw(rt, "input")
		for _, c := range cases {
			checkAllocBound(rt, c.name, c.decode, b)
		}
	})
}
