package codectest_test

import (
	"bytes"
	"testing"

	"github.com/quarkgo/quark/internal/codectest"
	v1 "github.com/quarkgo/quark/internal/codectest/v1"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
	"github.com/tinylib/msgp/msgp"
)

// fuzzDecoder fuzzes T's decoder, seeded with every golden encoding (T's
// first) and a few hostile inputs. Decoding arbitrary bytes never panics,
// allocates no more than codec.AllocFactor times the input's size plus
// codec.AllocBase, and fails only with a Corrupt error; what decodes
// re-encodes to bytes that
// decode to an equal value, and encoding that value again gives the same
// bytes up to map order.
func fuzzDecoder[T any, P codecPtr[T]](f *testing.F, typeName string) {
	for _, b := range goldenSeeds(f, typeName) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})
	f.Add(append(msgp.AppendArrayHeader(nil, 1<<31), 1, 2, 3, 4, 5))
	f.Add(append(msgp.AppendMapHeader(nil, 1<<31), 1, 2, 3, 4, 5))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v T
		var err error
		if n := allocated(func() { v, err = decode[T, P](t, b) }); n > allocBound(len(b)) {
			t.Fatalf("decoding %x allocated %d bytes, more than %d", b, n, allocBound(len(b)))
		}
		if err != nil {
			if !isCorrupt(err) {
				t.Fatalf("UnmarshalQuark(%x) = %v (%T), want a Corrupt *quarkerr.Error", b, err, err)
			}
			return
		}
		enc := marshal(t, P(&v), nil)
		v2, err := decode[T, P](t, enc)
		if err != nil {
			t.Fatalf("%x decoded, but its re-encoding %x does not: %v", b, enc, err)
		}
		if d := diff(v, v2); d != "" {
			t.Fatalf("%x decoded, but its re-encoding %x decodes to another value: %s", b, enc, d)
		}
		if again := marshal(t, P(&v2), nil); !bytes.Equal(canonicalOf(t, again), canonicalOf(t, enc)) {
			t.Fatalf("encoding is not stable: %x, then %x", enc, again)
		}
	})
}

func FuzzScalars(f *testing.F)     { fuzzDecoder[codectest.Scalars](f, "Scalars") }
func FuzzNamed(f *testing.F)       { fuzzDecoder[codectest.Named](f, "Named") }
func FuzzPoint(f *testing.F)       { fuzzDecoder[codectest.Point](f, "Point") }
func FuzzContainers(f *testing.F)  { fuzzDecoder[codectest.Containers](f, "Containers") }
func FuzzPointers(f *testing.F)    { fuzzDecoder[codectest.Pointers](f, "Pointers") }
func FuzzTimes(f *testing.F)       { fuzzDecoder[codectest.Times](f, "Times") }
func FuzzMarshalers(f *testing.F)  { fuzzDecoder[codectest.Marshalers](f, "Marshalers") }
func FuzzTagged(f *testing.F)      { fuzzDecoder[codectest.Tagged](f, "Tagged") }
func FuzzTree(f *testing.F)        { fuzzDecoder[codectest.Tree](f, "Tree") }
func FuzzList(f *testing.F)        { fuzzDecoder[codectest.List](f, "List") }
func FuzzDir(f *testing.F)         { fuzzDecoder[codectest.Dir](f, "Dir") }
func FuzzExpr(f *testing.F)        { fuzzDecoder[codectest.Expr](f, "Expr") }
func FuzzArg(f *testing.F)         { fuzzDecoder[codectest.Arg](f, "Arg") }
func FuzzTags(f *testing.F)        { fuzzDecoder[codectest.Tags](f, "Tags") }
func FuzzScores(f *testing.F)      { fuzzDecoder[codectest.Scores](f, "Scores") }
func FuzzMatrix(f *testing.F)      { fuzzDecoder[codectest.Matrix](f, "Matrix") }
func FuzzTemperature(f *testing.F) { fuzzDecoder[codectest.Temperature](f, "Temperature") }
func FuzzDerived(f *testing.F)     { fuzzDecoder[codectest.Derived](f, "Derived") }
func FuzzKeys(f *testing.F)        { fuzzDecoder[codectest.Keys](f, "Keys") }
func FuzzForeign(f *testing.F)     { fuzzDecoder[codectest.Foreign](f, "Foreign") }
func FuzzOrderLine(f *testing.F)   { fuzzDecoder[codectest.OrderLine](f, "OrderLine") }
func FuzzOrder(f *testing.F)       { fuzzDecoder[codectest.Order](f, "Order") }
func FuzzWides(f *testing.F)       { fuzzDecoder[codectest.Wides](f, "Wides") }
func FuzzSparse(f *testing.F)      { fuzzDecoder[codectest.Sparse](f, "Sparse") }
func FuzzCustomerV1(f *testing.F)  { fuzzDecoder[v1.Customer](f, "CustomerV1") }
func FuzzCustomerV2(f *testing.F)  { fuzzDecoder[v2.Customer](f, "CustomerV2") }

// FuzzCustomerVersions decodes the same bytes as both versions of Customer:
// when both succeed they agree on every field the versions share.
func FuzzCustomerVersions(f *testing.F) {
	for _, b := range goldenSeeds(f, "CustomerV1") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c1, err1 := decode[v1.Customer](t, b)
		c2, err2 := decode[v2.Customer](t, b)
		for _, err := range []error{err1, err2} {
			if err != nil && !isCorrupt(err) {
				t.Fatalf("UnmarshalQuark(%x) = %v (%T), want a Corrupt *quarkerr.Error", b, err, err)
			}
		}
		if err1 != nil || err2 != nil {
			return
		}
		if d := diff(common1(c1), common2(c2)); d != "" {
			t.Fatalf("the versions disagree on %x: %s", b, d)
		}
	})
}
