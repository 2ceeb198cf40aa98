package codectest_test

import (
	"math"
	"net/netip"
	"reflect"
	"time"

	"github.com/quarkgo/quark/internal/codectest"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
	"pgregory.net/rapid"
)

// Generators for the parts rapid.Make cannot produce on its own: strings
// that are not valid UTF-8, special floats, times, types with unexported
// fields or a restricted set of values, and bounded recursive types.

var stringGen = rapid.OneOf(
	rapid.String(),
	rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
)

var float64Gen = rapid.OneOf(
	rapid.Float64(),
	rapid.SampledFrom([]float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.MaxFloat64}),
)

var float32Gen = rapid.OneOf(
	rapid.Float32(),
	rapid.SampledFrom([]float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}),
)

// The range of instants time.Time can represent with a year of 1 to 9999.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

var zones = []*time.Location{time.UTC, time.Local, time.FixedZone("UTC+5:30", 5*3600+1800), time.FixedZone("UTC-11", -11*3600)}

var timeGen = rapid.OneOf(
	rapid.Just(time.Time{}),
	rapid.Map(rapid.Just(0), func(int) time.Time { return time.Now() }), // with a monotonic reading
	rapid.Custom(func(t *rapid.T) time.Time {
		sec := rapid.Int64Range(minUnix, maxUnix).Draw(t, "sec")
		nsec := rapid.Int64Range(0, 999_999_999).Draw(t, "nsec")
		return time.Unix(sec, nsec).In(rapid.SampledFrom(zones).Draw(t, "zone"))
	}),
)

var utcTimeGen = rapid.Custom(func(t *rapid.T) time.Time {
	return time.Unix(rapid.Int64Range(minUnix, maxUnix).Draw(t, "sec"), rapid.Int64Range(0, 999_999_999).Draw(t, "nsec")).UTC()
})

var versionGen = rapid.Custom(func(t *rapid.T) codectest.Version {
	return codectest.NewVersion(rapid.Uint16().Draw(t, "major"), rapid.Uint16().Draw(t, "minor"), rapid.Uint16().Draw(t, "patch"))
})

var addrGen = rapid.OneOf(
	rapid.Just(netip.Addr{}),
	rapid.Map(rapid.SliceOfN(rapid.Byte(), 4, 4), func(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }),
	rapid.Map(rapid.SliceOfN(rapid.Byte(), 16, 16), func(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b)) }),
	rapid.Just(netip.MustParseAddr("fe80::1%eth0")),
)

func treeGen(depth int) *rapid.Generator[codectest.Tree] {
	return rapid.Custom(func(t *rapid.T) codectest.Tree {
		tr := codectest.Tree{Label: stringGen.Draw(t, "label"), Weight: rapid.Int32().Draw(t, "weight")}
		if depth > 0 {
			tr.Children = rapid.SliceOfN(treeGen(depth-1), 0, 3).Draw(t, "children")
		}
		return tr
	})
}

var listGen = rapid.Custom(func(t *rapid.T) codectest.List {
	vals := rapid.SliceOfN(rapid.Int64(), 1, 20).Draw(t, "values")
	var next *codectest.List
	for _, v := range vals[1:] {
		next = &codectest.List{Value: v, Next: next}
	}
	return codectest.List{Value: vals[0], Next: next}
})

func dirGen(depth int) *rapid.Generator[codectest.Dir] {
	return rapid.Custom(func(t *rapid.T) codectest.Dir {
		d := codectest.Dir{Name: stringGen.Draw(t, "name"), Size: rapid.Int64().Draw(t, "size")}
		if depth > 0 {
			d.Sub = rapid.MapOfN(stringGen, rapid.Ptr(dirGen(depth-1), true), 0, 3).Draw(t, "sub")
		}
		return d
	})
}

func exprGen(depth int) *rapid.Generator[codectest.Expr] {
	return rapid.Custom(func(t *rapid.T) codectest.Expr {
		e := codectest.Expr{Op: rapid.SampledFrom([]string{"+", "-", "*", "neg", ""}).Draw(t, "op")}
		n := rapid.IntRange(0, 3).Draw(t, "args")
		if n > 0 {
			e.Args = make([]codectest.Arg, n)
		}
		for i := range e.Args {
			if rapid.Bool().Draw(t, "lit") {
				e.Args[i].Lit = rapid.Ptr(float64Gen, true).Draw(t, "value")
			} else if depth > 0 {
				e.Args[i].Sub = rapid.Ptr(exprGen(depth-1), true).Draw(t, "sub")
			}
		}
		return e
	})
}

// makeConfig configures rapid.MakeCustom for every type in these tests.
func makeConfig() rapid.MakeConfig {
	leafCustomer := rapid.MakeCustom[v2.Customer](rapid.MakeConfig{
		Types:  baseTypes(),
		Kinds:  baseKinds(),
		Fields: map[reflect.Type]map[string]*rapid.Generator[any]{reflect.TypeFor[v2.Customer](): {"Referrer": rapid.Just((*v2.Customer)(nil)).AsAny()}},
	})
	return rapid.MakeConfig{
		Types: baseTypes(),
		Kinds: baseKinds(),
		Fields: map[reflect.Type]map[string]*rapid.Generator[any]{
			reflect.TypeFor[v2.Customer](): {"Referrer": rapid.Ptr(leafCustomer, true).AsAny()},
			// Times equal as instants but in different locations are
			// different keys in Go and one key once decoded: keep to UTC.
			reflect.TypeFor[codectest.Keys](): {"Times": rapid.MapOf(utcTimeGen, rapid.Int()).AsAny()},
		},
	}
}

func baseTypes() map[reflect.Type]*rapid.Generator[any] {
	return map[reflect.Type]*rapid.Generator[any]{
		reflect.TypeFor[time.Time]():         timeGen.AsAny(),
		reflect.TypeFor[codectest.Version](): versionGen.AsAny(),
		reflect.TypeFor[codectest.Level]():   rapid.SampledFrom(codectest.Levels).AsAny(),
		reflect.TypeFor[netip.Addr]():        addrGen.AsAny(),
		reflect.TypeFor[codectest.Tree]():    treeGen(3).AsAny(),
		reflect.TypeFor[codectest.List]():    listGen.AsAny(),
		reflect.TypeFor[codectest.Dir]():     dirGen(3).AsAny(),
		reflect.TypeFor[codectest.Expr]():    exprGen(4).AsAny(),
	}
}

func baseKinds() map[reflect.Kind]*rapid.Generator[any] {
	return map[reflect.Kind]*rapid.Generator[any]{
		reflect.String:  stringGen.AsAny(),
		reflect.Float64: float64Gen.AsAny(),
		reflect.Float32: float32Gen.AsAny(),
		reflect.Complex64: rapid.Custom(func(t *rapid.T) complex64 {
			return complex(float32Gen.Draw(t, "re"), float32Gen.Draw(t, "im"))
		}).AsAny(),
		reflect.Complex128: rapid.Custom(func(t *rapid.T) complex128 {
			return complex(float64Gen.Draw(t, "re"), float64Gen.Draw(t, "im"))
		}).AsAny(),
	}
}

// gen returns the generator of T values.
func gen[T any]() *rapid.Generator[T] { return rapid.MakeCustom[T](makeConfig()) }
