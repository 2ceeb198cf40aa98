package codectest_test

import (
	"bytes"
	"testing"

	"github.com/quarkgo/quark/internal/codectest"
	v1 "github.com/quarkgo/quark/internal/codectest/v1"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
	"pgregory.net/rapid"
)

// checkRoundTrip checks, for values of T drawn by rapid, that decoding the
// encoding into a fresh value gives the value back (with want applied to
// the original, for the parts that are not encoded, and pointers to nil
// pointers, slices or maps read as nil pointers); that MarshalQuark
// appends; that encoding is a function of the value (re-encoding the
// decoded value gives the same bytes, up to map order); and, for structs,
// that the order of the fields on the wire does not matter.
func checkRoundTrip[T any, P codecPtr[T]](t *testing.T, want func(*T)) {
	t.Helper()
	rapid.Check(t, func(rt *rapid.T) {
		v := gen[T]().Draw(rt, "v")
		nilify(rt, &v)
		b := marshal(rt, P(&v), nil)

		got, err := decode[T, P](rt, b)
		if err != nil {
			rt.Fatalf("UnmarshalQuark(MarshalQuark(v)) = %v\nbytes %x", err, b)
		}
		exp := v
		if want != nil {
			want(&exp)
		}
		collapseNilPointees(&exp)
		if d := diff(exp, got); d != "" {
			rt.Fatalf("round trip changed the value: %s\nbytes %x", d, b)
		}

		prefix := []byte("prefix")
		appended := marshal(rt, P(&v), prefix[:len(prefix):len(prefix)])
		if !bytes.HasPrefix(appended, prefix) {
			rt.Fatalf("MarshalQuark did not append to its argument: %x", appended)
		}
		if !bytes.Equal(canonicalOf(rt, appended[len(prefix):]), canonicalOf(rt, b)) {
			rt.Fatalf("appending encoded %x, want %x", appended[len(prefix):], b)
		}
		if again := marshal(rt, P(&got), nil); !bytes.Equal(canonicalOf(rt, again), canonicalOf(rt, b)) {
			rt.Fatalf("re-encoding the decoded value gave %x, want %x", again, b)
		}

		if isMap(b) {
			got, err := decode[T, P](rt, reverseMap(rt, b))
			if err != nil {
				rt.Fatalf("decoding with the fields reversed: %v", err)
			}
			if d := diff(exp, got); d != "" {
				rt.Fatalf("decoding with the fields reversed: %s", d)
			}
		}
	})
}

func isMap(b []byte) bool { return len(b) > 0 && (b[0]&0xf0 == 0x80 || b[0] == 0xde || b[0] == 0xdf) }

func TestRoundTripScalars(t *testing.T)    { checkRoundTrip[codectest.Scalars](t, nil) }
func TestRoundTripNamed(t *testing.T)      { checkRoundTrip[codectest.Named](t, nil) }
func TestRoundTripPoint(t *testing.T)      { checkRoundTrip[codectest.Point](t, nil) }
func TestRoundTripContainers(t *testing.T) { checkRoundTrip[codectest.Containers](t, nil) }
func TestRoundTripTimes(t *testing.T)      { checkRoundTrip[codectest.Times](t, nil) }
func TestRoundTripMarshalers(t *testing.T) { checkRoundTrip[codectest.Marshalers](t, nil) }
func TestRoundTripTree(t *testing.T)       { checkRoundTrip[codectest.Tree](t, nil) }
func TestRoundTripList(t *testing.T)       { checkRoundTrip[codectest.List](t, nil) }
func TestRoundTripDir(t *testing.T)        { checkRoundTrip[codectest.Dir](t, nil) }
func TestRoundTripExpr(t *testing.T)       { checkRoundTrip[codectest.Expr](t, nil) }
func TestRoundTripArg(t *testing.T)        { checkRoundTrip[codectest.Arg](t, nil) }
func TestRoundTripTags(t *testing.T)       { checkRoundTrip[codectest.Tags](t, nil) }
func TestRoundTripScores(t *testing.T)     { checkRoundTrip[codectest.Scores](t, nil) }
func TestRoundTripMatrix(t *testing.T)     { checkRoundTrip[codectest.Matrix](t, nil) }
func TestRoundTripTemperature(t *testing.T) {
	checkRoundTrip[codectest.Temperature](t, nil)
}
func TestRoundTripDerived(t *testing.T)   { checkRoundTrip[codectest.Derived](t, nil) }
func TestRoundTripKeys(t *testing.T)      { checkRoundTrip[codectest.Keys](t, nil) }
func TestRoundTripForeign(t *testing.T)   { checkRoundTrip[codectest.Foreign](t, nil) }
func TestRoundTripOrderLine(t *testing.T) { checkRoundTrip[codectest.OrderLine](t, nil) }
func TestRoundTripOrder(t *testing.T)     { checkRoundTrip[codectest.Order](t, nil) }
func TestRoundTripCustomerV1(t *testing.T) {
	checkRoundTrip[v1.Customer](t, nil)
}
func TestRoundTripCustomerV2(t *testing.T) {
	checkRoundTrip[v2.Customer](t, nil)
}

func TestRoundTripPointers(t *testing.T) { checkRoundTrip[codectest.Pointers](t, nil) }
func TestRoundTripWides(t *testing.T)    { checkRoundTrip[codectest.Wides](t, nil) }
func TestRoundTripSparse(t *testing.T)   { checkRoundTrip[codectest.Sparse](t, nil) }

// TestRoundTripTagged: a field tagged "-" and an unexported field do not
// travel.
func TestRoundTripTagged(t *testing.T) {
	checkRoundTrip[codectest.Tagged](t, func(v *codectest.Tagged) { v.Secret = "" })
}

func TestUnexportedAndSkippedFieldsStayHome(t *testing.T) {
	v := codectest.Tagged{Name: "n", Count: 3, Secret: "hunter2", Plain: true, Other: "o"}.WithHidden(42)
	got, err := decode[codectest.Tagged](t, encode(v))
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "" || got.Hidden() != 0 {
		t.Fatalf("Secret %q and hidden %d travelled", got.Secret, got.Hidden())
	}
	if got.Name != "n" || got.Count != 3 || !got.Plain || got.Other != "o" {
		t.Fatalf("decoded %+v", got)
	}
	if b := encode(v); bytes.Contains(b, []byte("hunter2")) {
		t.Fatalf("the skipped field's value is in the encoding: %x", b)
	}
}
