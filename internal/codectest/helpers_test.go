package codectest_test

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"time"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
	"pgregory.net/rapid"
)

// codecPtr is a pointer to a type with generated codec methods.
type codecPtr[T any] interface {
	*T
	codec.Marshaler
	codec.Unmarshaler
}

// tb is what the helpers need of a *testing.T, *testing.B or *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// encode returns v's encoding. It is for the tests' own values, which all
// encode: a failure is a broken fixture, and panics.
func encode[T any, P codecPtr[T]](v T) []byte {
	b, err := P(&v).MarshalQuark(nil)
	if err != nil {
		panic(fmt.Sprintf("a fixture does not encode: %v", err))
	}
	return b
}

// marshal returns MarshalQuark's encoding of m appended to b, failing t if
// the encoding fails.
func marshal(t tb, m codec.Marshaler, b []byte) []byte {
	t.Helper()
	b, err := m.MarshalQuark(b)
	if err != nil {
		t.Fatalf("MarshalQuark: %v", err)
	}
	return b
}

// decode decodes b into a fresh T, turning a panic into a test failure so
// that one bad decoder does not take the whole run down.
func decode[T any, P codecPtr[T]](t tb, b []byte) (v T, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("UnmarshalQuark(%x) into %T panicked: %v", b, v, r)
		}
	}()
	err = P(&v).UnmarshalQuark(b)
	return v, err
}

// isCorrupt reports whether err is an *quarkerr.Error with code Corrupt.
func isCorrupt(err error) bool {
	var qe *quarkerr.Error
	return errors.As(err, &qe) && quarkerr.CodeOf(err) == quarkerr.Corrupt
}

var timeType = reflect.TypeFor[time.Time]()

// diff returns "" when got equals want and else a description of the first
// difference. It is reflect.DeepEqual with the codec's notion of equality:
// times are compared with Equal (the location and monotonic reading do not
// travel), floats by their bits (so NaN equals NaN), structs with only
// unexported fields (Version, netip.Addr) by their marshalled form, other
// unexported fields not at all (they are not encoded), and nil and empty
// slices and maps are different.
func diff(want, got any) string {
	return diffValues(reflect.ValueOf(want), reflect.ValueOf(got), "")
}

func diffValues(x, y reflect.Value, path string) string {
	if path == "" {
		path = "value"
	}
	if x.Type() != y.Type() {
		return fmt.Sprintf("%s: type %v, got %v", path, x.Type(), y.Type())
	}
	t := x.Type()
	if t == timeType {
		a, b := x.Interface().(time.Time), y.Interface().(time.Time)
		if !a.Equal(b) {
			return fmt.Sprintf("%s: %v, got %v", path, a, b)
		}
		return ""
	}
	if a, aerr, ok := marshalled(x); ok && opaque(t) {
		b, berr, _ := marshalled(y)
		if !bytes.Equal(a, b) || fmt.Sprint(aerr) != fmt.Sprint(berr) {
			return fmt.Sprintf("%s: marshals to %q (%v), got %q (%v)", path, a, aerr, b, berr)
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Bool:
		if x.Bool() != y.Bool() {
			return fmt.Sprintf("%s: %v, got %v", path, x.Bool(), y.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x.Int() != y.Int() {
			return fmt.Sprintf("%s: %d, got %d", path, x.Int(), y.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if x.Uint() != y.Uint() {
			return fmt.Sprintf("%s: %d, got %d", path, x.Uint(), y.Uint())
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(x.Float()) != math.Float64bits(y.Float()) {
			return fmt.Sprintf("%s: %v, got %v", path, x.Float(), y.Float())
		}
	case reflect.Complex64, reflect.Complex128:
		a, b := x.Complex(), y.Complex()
		if math.Float64bits(real(a)) != math.Float64bits(real(b)) || math.Float64bits(imag(a)) != math.Float64bits(imag(b)) {
			return fmt.Sprintf("%s: %v, got %v", path, a, b)
		}
	case reflect.String:
		if x.String() != y.String() {
			return fmt.Sprintf("%s: %q, got %q", path, x.String(), y.String())
		}
	case reflect.Pointer:
		if x.IsNil() || y.IsNil() {
			if x.IsNil() != y.IsNil() {
				return fmt.Sprintf("%s: nil is %v, got %v", path, x.IsNil(), y.IsNil())
			}
			return ""
		}
		return diffValues(x.Elem(), y.Elem(), "(*"+path+")")
	case reflect.Slice:
		if x.IsNil() != y.IsNil() {
			return fmt.Sprintf("%s: nil is %v, got %v (len %d, %d)", path, x.IsNil(), y.IsNil(), x.Len(), y.Len())
		}
		fallthrough
	case reflect.Array:
		if x.Len() != y.Len() {
			return fmt.Sprintf("%s: len %d, got %d", path, x.Len(), y.Len())
		}
		for i := range x.Len() {
			if d := diffValues(x.Index(i), y.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if x.IsNil() != y.IsNil() {
			return fmt.Sprintf("%s: nil is %v, got %v (len %d, %d)", path, x.IsNil(), y.IsNil(), x.Len(), y.Len())
		}
		if x.Len() != y.Len() {
			return fmt.Sprintf("%s: len %d, got %d", path, x.Len(), y.Len())
		}
		// Keys == cannot find (NaN, times in another location) are
		// matched, with their values, to an unused entry of y equal in
		// the codec's sense.
		type entry struct{ k, v reflect.Value }
		var rest []entry
		var unfound []entry
		for it := x.MapRange(); it.Next(); {
			yv := y.MapIndex(it.Key())
			if !yv.IsValid() {
				unfound = append(unfound, entry{it.Key(), it.Value()})
				continue
			}
			if d := diffValues(it.Value(), yv, fmt.Sprintf("%s[%v]", path, it.Key())); d != "" {
				return d
			}
		}
		if len(unfound) > 0 {
			for it := y.MapRange(); it.Next(); {
				if !x.MapIndex(it.Key()).IsValid() {
					rest = append(rest, entry{it.Key(), it.Value()})
				}
			}
		}
	next:
		for _, e := range unfound {
			for i, r := range rest {
				if diffValues(e.k, r.k, "") == "" && diffValues(e.v, r.v, "") == "" {
					rest = slices.Delete(rest, i, i+1)
					continue next
				}
			}
			return fmt.Sprintf("%s: entry %v: %v missing", path, e.k, e.v)
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if d := diffValues(x.Field(i), y.Field(i), path+"."+t.Field(i).Name); d != "" {
				return d
			}
		}
	default:
		return fmt.Sprintf("%s: cannot compare kind %v", path, t.Kind())
	}
	return ""
}

// opaque reports whether t is a struct with no exported fields, which
// diff can only compare through its marshalers.
func opaque(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

// marshalled returns v's encoding.BinaryMarshaler or TextMarshaler form,
// when its type or a pointer to it has one.
func marshalled(v reflect.Value) ([]byte, error, bool) {
	p := reflect.New(v.Type())
	p.Elem().Set(v)
	switch m := p.Interface().(type) {
	case encoding.BinaryMarshaler:
		b, err := m.MarshalBinary()
		return b, err, true
	case encoding.TextMarshaler:
		b, err := m.MarshalText()
		return b, err, true
	}
	return nil, nil, false
}

// nilify walks the value p points to and sets each empty slice or map to
// nil or leaves it empty, as rt draws: rapid's reflective generators never
// make nil ones, and the codec must keep the two apart.
func nilify(rt *rapid.T, p any) {
	nilifyValue(rt, reflect.ValueOf(p).Elem())
}

func nilifyValue(rt *rapid.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			nilifyValue(rt, v.Elem())
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && rapid.Bool().Draw(rt, "nil slice") {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := range v.Len() {
			nilifyValue(rt, v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			nilifyValue(rt, v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 {
			if !v.IsNil() && rapid.Bool().Draw(rt, "nil map") {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		v.Set(mapWith(v, func(e reflect.Value) { nilifyValue(rt, e) }))
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				nilifyValue(rt, v.Field(i))
			}
		}
	}
}

// collapseNilPointees sets to nil every pointer, in the value p points to,
// that points to a nil pointer, slice or map. MessagePack has one nil, so
// such a pointer is encoded as nil and decodes as a nil pointer.
func collapseNilPointees(p any) {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			walk(v.Elem())
			switch e := v.Elem(); e.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map:
				if e.IsNil() && v.CanSet() {
					v.Set(reflect.Zero(v.Type()))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			if !v.IsNil() && v.CanSet() {
				v.Set(mapWith(v, walk))
			}
		case reflect.Struct:
			if v.Type() == timeType {
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(p).Elem())
}

// mapWith returns a new map with m's entries, f having been applied to a
// settable copy of each value. (A map cannot be updated in place when it
// has NaN keys.)
func mapWith(m reflect.Value, f func(reflect.Value)) reflect.Value {
	out := reflect.MakeMapWithSize(m.Type(), m.Len())
	for it := m.MapRange(); it.Next(); {
		e := reflect.New(m.Type().Elem()).Elem()
		e.Set(it.Value())
		f(e)
		out.SetMapIndex(it.Key(), e)
	}
	return out
}

// canonical returns the one MessagePack value at the start of b with the
// entries of every map sorted by their encoded keys (and values, for equal
// keys), and what follows it.
// Everything else is kept byte for byte, so two encodings are canonically
// equal exactly when they differ at most in the order of map entries (which
// follows Go's map iteration order).
func canonical(b []byte) (out, rest []byte, err error) {
	switch msgp.NextType(b) {
	case msgp.MapType:
		n, r, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return nil, b, err
		}
		out = slices.Clone(b[:len(b)-len(r)])
		type entry struct{ k, v []byte }
		var entries []entry
		for range n {
			var e entry
			if e.k, r, err = canonical(r); err != nil {
				return nil, b, err
			}
			if e.v, r, err = canonical(r); err != nil {
				return nil, b, err
			}
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(a, b entry) int {
			if c := bytes.Compare(a.k, b.k); c != 0 {
				return c
			}
			return bytes.Compare(a.v, b.v) // equal keys: NaNs
		})
		for _, e := range entries {
			out = append(append(out, e.k...), e.v...)
		}
		return out, r, nil
	case msgp.ArrayType:
		n, r, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return nil, b, err
		}
		out = slices.Clone(b[:len(b)-len(r)])
		for range n {
			var e []byte
			if e, r, err = canonical(r); err != nil {
				return nil, b, err
			}
			out = append(out, e...)
		}
		return out, r, nil
	default:
		r, err := msgp.Skip(b)
		if err != nil {
			return nil, b, err
		}
		return slices.Clone(b[:len(b)-len(r)]), r, nil
	}
}

// canonicalOf is canonical for b holding exactly one value.
func canonicalOf(t tb, b []byte) []byte {
	t.Helper()
	out, rest, err := canonical(b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("not one MessagePack value (%v, %d bytes left): %x", err, len(rest), b)
	}
	return out
}

// reverseMap returns b, one encoded map, with its top-level entries in
// reverse order: the same value with its fields in another order.
func reverseMap(t tb, b []byte) []byte {
	t.Helper()
	n, r, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("not a map: %v", err)
	}
	out := slices.Clone(b[:len(b)-len(r)])
	var entries [][]byte
	for range n {
		start := r
		if r, err = msgp.Skip(r); err == nil {
			r, err = msgp.Skip(r)
		}
		if err != nil {
			t.Fatalf("bad map entry: %v", err)
		}
		entries = append(entries, start[:len(start)-len(r)])
	}
	for _, e := range slices.Backward(entries) {
		out = append(out, e...)
	}
	return out
}

// mapKeys returns the keys of the encoded map b, in order.
func mapKeys(t tb, b []byte) []string {
	t.Helper()
	n, r, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("not a map: %v: %x", err, b)
	}
	var keys []string
	for range n {
		var k []byte
		if k, r, err = msgp.ReadMapKeyZC(r); err == nil {
			r, err = msgp.Skip(r)
		}
		if err != nil {
			t.Fatalf("bad map entry: %v", err)
		}
		keys = append(keys, string(k))
	}
	return keys
}

// field returns the encoded value of the entry named key in the encoded map b.
func field(t tb, b []byte, key string) []byte {
	t.Helper()
	n, r, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("not a map: %v", err)
	}
	for range n {
		var k []byte
		if k, r, err = msgp.ReadMapKeyZC(r); err != nil {
			t.Fatalf("bad key: %v", err)
		}
		start := r
		if r, err = msgp.Skip(r); err != nil {
			t.Fatalf("bad value: %v", err)
		}
		if string(k) == key {
			return start[:len(start)-len(r)]
		}
	}
	t.Fatalf("no field %q in %x", key, b)
	return nil
}

// heapBytes returns the bytes f allocates on the heap.
func heapBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
