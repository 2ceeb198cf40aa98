package codectest_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/codectest"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
)

// TestStructsAreMapsKeyedByFieldName checks the documented shape of a struct
// on the wire: a map from exported field name (or tag) to value.
func TestStructsAreMapsKeyedByFieldName(t *testing.T) {
	var names []string
	st := reflect.TypeFor[codectest.Scalars]()
	for i := range st.NumField() {
		names = append(names, st.Field(i).Name)
	}
	keys := mapKeys(t, encode(fixtureScalars()))
	slices.Sort(names)
	slices.Sort(keys)
	if !slices.Equal(keys, names) {
		t.Fatalf("Scalars keys %q, want the field names %q", keys, names)
	}

	keys = mapKeys(t, encode(fixtureTagged()))
	slices.Sort(keys)
	if want := []string{"Empty", "Größe", "Other", "Plain", "count", "n"}; !slices.Equal(keys, want) {
		t.Fatalf("Tagged keys %q, want %q", keys, want)
	}
}

// TestMarshalerWireForms checks that types with their own marshalers cross
// as what those return: a BinaryMarshaler as bin, a TextMarshaler as str.
func TestMarshalerWireForms(t *testing.T) {
	b := encode(fixtureMarshalers())

	v, _, err := msgp.ReadBytesBytes(field(t, b, "Version"), nil)
	if err != nil || string(v) != "\x00\x01\x00\x1a\x00\x03" {
		t.Errorf("Version on the wire: %x, %v; want bin 0001001a0003", v, err)
	}
	s, _, err := msgp.ReadStringBytes(field(t, b, "Level"))
	if err != nil || s != "warn" {
		t.Errorf("Level on the wire: %q, %v; want str \"warn\"", s, err)
	}
	s, _, err = msgp.ReadStringBytes(field(t, b, "Color"))
	if err != nil || s != "#12abff" {
		t.Errorf("Color (pointer-receiver TextMarshaler) on the wire: %q, %v; want str \"#12abff\"", s, err)
	}
}

// TestNilAndEmpty: a nil slice or map decodes as nil, an empty one as
// empty, at the top level, in fields and in elements.
func TestNilAndEmpty(t *testing.T) {
	for _, c := range []struct {
		name string
		v    codectest.Containers
	}{{"zero", codectest.Containers{}}, {"empty", fixtureEmptyContainers()}, {"mixed", fixtureContainers()}} {
		got, err := decode[codectest.Containers](t, encode(c.v))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d := diff(c.v, got); d != "" {
			t.Errorf("%s: %s", c.name, d)
		}
	}
	for _, bs := range [][]byte{nil, {}} {
		got, err := decode[codectest.Scalars](t, encode(codectest.Scalars{Bytes: bs}))
		if err != nil {
			t.Fatal(err)
		}
		if (got.Bytes == nil) != (bs == nil) || len(got.Bytes) != 0 {
			t.Errorf("Scalars.Bytes %#v came back as %#v", bs, got.Bytes)
		}
	}
	for _, tags := range []codectest.Tags{nil, {}} {
		got, err := decode[codectest.Tags](t, encode(tags))
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (tags == nil) || len(got) != 0 {
			t.Errorf("Tags %#v came back as %#v", tags, got)
		}
	}
}

// TestEmbeddedStructsAreFields: an embedded field is one field named after
// its type, not flattened; an unexported embedded type is not encoded.
func TestEmbeddedStructsAreFields(t *testing.T) {
	v := fixtureDerived()
	b := encode(v)
	keys := mapKeys(t, b)
	slices.Sort(keys)
	if want := []string{"Base", "Extra", "Point", "Stamp"}; !slices.Equal(keys, want) {
		t.Fatalf("Derived keys %q, want %q", keys, want)
	}
	if got := mapKeys(t, field(t, b, "Base")); !slices.Equal(got, []string{"ID", "Note"}) {
		t.Fatalf("Base keys %q", got)
	}
	// An embedded time.Time does not make the struct a time: its
	// promoted MarshalBinary is not used, and Source travels.
	if got := mapKeys(t, field(t, b, "Stamp")); !slices.Equal(got, []string{"Time", "Source"}) {
		t.Fatalf("Stamp keys %q, want [Time Source]", got)
	}
	got, err := decode[codectest.Derived](t, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner() != "" || got.ID != 11 || got.Label != "embedded pointer" || got.Stamp.Source != "clock" || !got.Stamp.Equal(placed) {
		t.Fatalf("decoded %+v (owner %q)", got, got.Owner())
	}
}

// TestForeignTypesEncodeByExportedShape: a type of another package is
// encoded as that package's own MarshalQuark encodes it.
func TestForeignTypesEncodeByExportedShape(t *testing.T) {
	v := fixtureForeign()
	b := encode(v)
	for name, want := range map[string][]byte{
		"Address":  encode(v.Address),
		"Customer": encode(*v.Customer),
	} {
		if got := field(t, b, name); !bytes.Equal(canonicalOf(t, got), canonicalOf(t, want)) {
			t.Errorf("%s encodes as %x inside Foreign, as %x by itself", name, got, want)
		}
	}
	var next []byte
	next = msgp.AppendArrayHeader(next, uint32(len(v.Next)))
	for _, a := range v.Next {
		next = append(next, encode(a)...)
	}
	if got := field(t, b, "Next"); !bytes.Equal(canonicalOf(t, got), canonicalOf(t, next)) {
		t.Errorf("Next encodes as %x, want %x", got, next)
	}
}

// TestTimes: a time decodes as the same instant, in the local time zone;
// the standard timestamp extension (-1) is read as well as msgp's own.
func TestTimes(t *testing.T) {
	at := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.FixedZone("X", -7*3600))
	got, err := decode[codectest.Times](t, encode(codectest.Times{At: at}))
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(at) || got.At.Location() != time.Local {
		t.Fatalf("At = %v in %v, want %v in Local", got.At, got.At.Location(), at)
	}
	for _, at := range []time.Time{
		time.Unix(1<<31, 0),                  // timestamp 32
		time.Unix(1<<33, 999_999_999),        // timestamp 64
		time.Unix(-62135596800, 1),           // timestamp 96: year 1
		time.Unix(253402300799, 999_999_999), // timestamp 96: year 9999
	} {
		got, err := decode[codectest.Times](t, obj("At", msgp.AppendTimeExt(nil, at)))
		if err != nil || !got.At.Equal(at) {
			t.Errorf("At from the timestamp extension of %v: %v, %v", at, got.At, err)
		}
	}
}

// TestFailingMarshalerIsAnError: a MarshalText that fails makes
// MarshalQuark, and the encoders of every type around it, return an
// InvalidArgument error naming the type and wrapping the cause; it never
// panics.
func TestFailingMarshalerIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    codec.Marshaler
	}{
		{"field", &codectest.Marshalers{Level: 7}},
		{"slice element", &codectest.Marshalers{Levels: []codectest.Level{codectest.Debug, 7}}},
		{"map value", &codectest.Marshalers{ByLevel: map[string]codectest.Level{"x": 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.MarshalQuark(nil)
			if quarkerr.CodeOf(err) != quarkerr.InvalidArgument || !strings.Contains(err.Error(), "encode codectest.Level") ||
				!strings.Contains(err.Error(), "level 7 has no name") {
				t.Fatalf("MarshalQuark = %v, want InvalidArgument naming codectest.Level and the cause", err)
			}
		})
	}
}
