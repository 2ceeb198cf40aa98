package codec

// These tests run against the golden quark_gen.go of this case, overlaid by
// TestGeneratedCodeRuns in internal/gen.

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/gen/testdata/codec/in/geo"
	"github.com/quarkgo/quark/internal/gen/testdata/codec/in/shapes"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func ptr[T any](v T) *T { return &v }

func wantCorrupt(t *testing.T, what string, err error) {
	t.Helper()
	qe, ok := err.(*quarkerr.Error)
	if !ok || qe.Code != quarkerr.Corrupt {
		t.Fatalf("%s: %v (%T), want an *quarkerr.Error with code Corrupt", what, err, err)
	}
}

// appendArgs returns msg's encoded arguments appended to b, failing t if
// they cannot be encoded.
func appendArgs(t *testing.T, msg quark.Message, b []byte) []byte {
	t.Helper()
	b, err := msg.AppendArgs(b)
	if err != nil {
		t.Fatalf("AppendArgs: %v", err)
	}
	return b
}

// copyArgs deep-copies msg's arguments, failing t if they cannot be copied.
func copyArgs(t *testing.T, msg quark.Message) {
	t.Helper()
	if err := msg.CopyArgs(); err != nil {
		t.Fatalf("CopyArgs: %v", err)
	}
}

// TestUnencodableArgs: a protocol buffer message that proto.Marshal
// refuses (a string field holding invalid UTF-8) fails AppendArgs with
// code InvalidArgument naming the type and the cause, without a panic.
func TestUnencodableArgs(t *testing.T) {
	in := message(t, "Proto")
	setArgs(in, storeProtoArgs{Vs: []*wrapperspb.StringValue{wrapperspb.String("\xff")}})
	_, err := in.AppendArgs(nil)
	if quarkerr.CodeOf(err) != quarkerr.InvalidArgument || !strings.Contains(err.Error(), "wrapperspb.StringValue") {
		t.Fatalf("AppendArgs = %v, want an *quarkerr.Error with code InvalidArgument naming the type", err)
	}
}

// message returns a fresh message of Store's method name.
func message(t *testing.T, name string) quark.Message {
	t.Helper()
	for _, m := range StoreType.Methods {
		if m.Name == name {
			msg := StoreType.NewMessage(m.ID)
			if msg == nil || msg.Method() != m {
				t.Fatalf("NewMessage(%#x) = %v", m.ID, msg)
			}
			return msg
		}
	}
	t.Fatalf("no method %s", name)
	return nil
}

func sampleArgs() map[string]any {
	at := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC)
	tree := Tree{Label: "root", Kids: []Tree{{Label: "a"}, {Label: "b", Kids: []Tree{}}}}
	return map[string]any{
		"Scalars": storeScalarsArgs{S: Scalars{
			Bool: true, Int: -1 << 40, Int8: math.MinInt8, Int16: math.MaxInt16, Int32: -70000, Int64: math.MinInt64,
			Uint: 1 << 40, Uint8: 255, Uint16: 300, Uint32: math.MaxUint32, Uint64: math.MaxUint64, Uintptr: 7,
			Float32: -1.5, Float64: math.Pi, C64: complex(1, -2), C128: complex(math.Inf(1), 0.5),
			String: "héllo", Bytes: []byte{0, 1, 0xff}, Byte: 0xab, Rune: '世',
		}, F: 2.5, C: 3i},
		"Named": storeNamedArgs{C: -40, L: "label", B: Blob("blob"), U: UUID{1, 2, 3}, G: Grid{{1, 2, 3}, {4, 5, 6}},
			I: Index{"x": {1, 2}, "empty": {}, "nil": nil}, F: 0xbeef},
		"Containers": storeContainersArgs{
			M:      map[string][]Tree{"t": {tree}, "none": nil},
			A:      [3]*List{{Value: 1, Next: &List{Value: 2}}, nil, {Value: 3}},
			Pp:     ptr(ptr(42)),
			Nested: [][]map[int64]string{{{1: "one"}, nil, {}}, nil},
			Anon: struct {
				A int
				B []string
			}{A: 1, B: []string{"x"}},
			Bs: [][]byte{nil, {}, {1}},
			Ba: [4]byte{9, 8, 7, 6},
		},
		"Recursive": storeRecursiveArgs{
			E: &Expr{Op: "+", Args: []Arg{{Lit: ptr(1.5)}, {Sub: &Expr{Op: "-", Args: []Arg{{Lit: ptr(2.0)}}}}}},
			L: List{Value: 1, Next: &List{Value: 2, Next: &List{Value: 3}}},
		},
		"Structs": storeStructsArgs{
			T: Tagged{Name: "n", Plain: true, Empty: 3},
			D: Derived{Base: Base{ID: 7}, Meta: &Meta{Tags: []string{"a", "b"}}, Extra: "e"},
		},
		"Foreign": storeForeignArgs{
			P:    geo.Point{X: 1, Y: 2, Label: "p"},
			Path: geo.Path{{X: 3}, {Y: 4}},
			Q:    shapes.Point{Q: 5, R: 6},
			R:    geo.Region{Corners: []geo.Point{{X: 7}}},
			At:   at,
			D:    90 * time.Minute,
		},
		"Marshalers": storeMarshalersArgs{
			V:  Version{1, 2},
			L:  ptr(Level(3)),
			B:  Bag{items: []string{"x", "y z"}},
			Ls: []Level{0, 1, 2},
			S: Stdlib{
				At: at, Took: time.Second, Month: time.March,
				Addr: netip.MustParseAddr("10.0.0.1"), Prefix: netip.MustParsePrefix("fe80::/10"),
				Big: new(big.Int).Lsh(big.NewInt(1), 100), URL: url.URL{Scheme: "https", Host: "example.com", Path: "/a"},
				Network: map[netip.Addr]string{netip.MustParseAddr("::1"): "lo"},
				Stamped: Stamped{Time: at, Note: "kept"},
			},
		},
		"Proto": storeProtoArgs{
			Ts: timestamppb.New(at),
			Vs: []*wrapperspb.StringValue{wrapperspb.String("a"), nil, wrapperspb.String("")},
		},
		"Snapshot": storeSnapshotArgs{S: Snapshot{Items: []string{"s"}}, Ps: []Snapshot{{}, {Items: []string{}}}},
		"Shared":   storeSharedArgs{Items: []string{"i"}, M: map[string]int{"k": 1}},
		"Keys": storeKeysArgs{
			U: map[UUID]int{{1}: 1},
			T: map[time.Time]bool{at: true},
			F: map[float64]Celsius{1.5: 2},
			L: map[Level]bool{4: true},
			B: map[bool]uint8{true: 1, false: 0},
		},
		"Nothing": storeNothingArgs{Ids: []int64{1, 2, 3}},
	}
}

// argsOf returns the unexported args field of msg.
func argsOf(msg quark.Message) reflect.Value {
	f := reflect.ValueOf(msg).Elem().FieldByName("args")
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func setArgs(msg quark.Message, v any) { argsOf(msg).Set(reflect.ValueOf(v)) }

func getArgs(msg quark.Message) any { return argsOf(msg).Interface() }

// equal compares decoded values: times by instant, protocol buffers with
// proto.Equal, big integers by value.
func equal(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(v any) any {
	switch v := v.(type) {
	case storeForeignArgs:
		v.At = v.At.UTC()
		return v
	case storeMarshalersArgs:
		v.S.At = v.S.At.UTC()
		v.S.Stamped.Time = v.S.Stamped.Time.UTC()
		v.S.Big = nil
		return v
	case storeKeysArgs:
		t := make(map[int64]bool)
		for k, b := range v.T {
			t[k.UnixNano()] = b
		}
		v.T = nil
		return []any{v, t}
	case storeProtoArgs:
		var out []any
		out = append(out, v.Ts.AsTime().UnixNano())
		for _, s := range v.Vs {
			if s == nil {
				out = append(out, nil)
			} else {
				out = append(out, s.GetValue())
			}
		}
		return out
	}
	return v
}

func TestArgsRoundTrip(t *testing.T) {
	for name, want := range sampleArgs() {
		t.Run(name, func(t *testing.T) {
			in := message(t, name)
			setArgs(in, want)
			b := appendArgs(t, in, []byte("prefix"))[len("prefix"):]
			out := message(t, name)
			if err := out.ReadArgs(b); err != nil {
				t.Fatalf("ReadArgs: %v", err)
			}
			if got := getArgs(out); !equal(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
			if again := appendArgs(t, out, nil); len(again) != len(b) {
				t.Fatalf("re-encoding is %d bytes, want %d", len(again), len(b))
			}
			// One value, exactly.
			wantCorrupt(t, "trailing byte", message(t, name).ReadArgs(append(b, 0xc0)))
			for i := range b {
				if err := message(t, name).ReadArgs(b[:i]); err == nil {
					t.Fatalf("ReadArgs of %d of %d bytes succeeded", i, len(b))
				} else {
					wantCorrupt(t, "truncated", err)
				}
			}
			if name == "Marshalers" {
				got := getArgs(out).(storeMarshalersArgs)
				if got.S.Big.Cmp(want.(storeMarshalersArgs).S.Big) != 0 {
					t.Fatalf("big.Int %v, want %v", got.S.Big, want.(storeMarshalersArgs).S.Big)
				}
			}
		})
	}
}

func TestNilAndEmpty(t *testing.T) {
	in := message(t, "Named")
	setArgs(in, storeNamedArgs{I: Index{"e": {}, "n": nil}})
	out := message(t, "Named")
	if err := out.ReadArgs(appendArgs(t, in, nil)); err != nil {
		t.Fatal(err)
	}
	got := getArgs(out).(storeNamedArgs)
	if got.B != nil || got.I["n"] != nil || got.I["e"] == nil || len(got.I["e"]) != 0 {
		t.Fatalf("nil and empty not kept apart: %#v", got)
	}
}

// TestDecodersNeverPanic feeds every method's decoders mutations of valid
// encodings.
func TestDecodersNeverPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, want := range sampleArgs() {
		in := message(t, name)
		setArgs(in, want)
		b := appendArgs(t, in, nil)
		for range 2000 {
			m := append([]byte(nil), b...)
			for range 1 + r.IntN(4) {
				switch r.IntN(3) {
				case 0:
					m[r.IntN(len(m))] = byte(r.Uint32())
				case 1:
					i := r.IntN(len(m))
					m = append(m[:i], m[i+1:]...)
				case 2:
					i := r.IntN(len(m))
					m = append(m[:i], append([]byte{byte(r.Uint32())}, m[i:]...)...)
				}
				if len(m) == 0 {
					break
				}
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s: ReadArgs(%x) panicked: %v", name, m, p)
					}
				}()
				for _, read := range []func([]byte) error{message(t, name).ReadArgs, message(t, name).ReadResults} {
					if err := read(m); err != nil {
						wantCorrupt(t, name, err)
					}
				}
			}()
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := &List{}
	for range codec.MaxDepth + 5 {
		deep = &List{Next: deep}
	}
	in := message(t, "Recursive")
	setArgs(in, storeRecursiveArgs{L: *deep})
	err := message(t, "Recursive").ReadArgs(appendArgs(t, in, nil))
	wantCorrupt(t, "too deep", err)
	if !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("%v, want ErrTooDeep", err)
	}
}

func TestSchemaChanges(t *testing.T) {
	// A writer with an extra field, an unknown key, fields reordered and a
	// longer array.
	b := msgp.AppendMapHeader(nil, 4)
	b = msgp.AppendString(b, "Unknown")
	b = msgp.AppendArrayHeader(b, 1)
	b = msgp.AppendMapHeader(b, 0)
	b = msgp.AppendString(b, "Balance")
	b = msgp.AppendInt64(b, 5)
	b = msgp.AppendString(b, "Owner")
	b = msgp.AppendString(b, "ann")
	b = msgp.AppendString(b, "History")
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendInt64(b, 1)
	b = msgp.AppendInt64(b, 2)
	var s State
	if err := s.UnmarshalQuark(b); err != nil {
		t.Fatal(err)
	}
	if s.Owner != "ann" || s.Balance != 5 || len(s.History) != 2 || s.Limits != nil {
		t.Fatalf("got %+v", s)
	}
	// Arrays of another length.
	g := msgp.AppendArrayHeader(nil, 3)
	for _, n := range []uint32{1, 4, 0} {
		g = msgp.AppendArrayHeader(g, n)
		for i := range n {
			g = msgp.AppendInt8(g, int8(i+1))
		}
	}
	grid := Grid{{9, 9, 9}, {9, 9, 9}}
	budget := codec.NewBudget(len(g))
	if _, err := quarkDecodeGrid(g, &grid, 0, &budget); err != nil {
		t.Fatal(err)
	}
	if grid != (Grid{{1, 0, 0}, {1, 2, 3}}) {
		t.Fatalf("grid %v", grid)
	}
}

func TestMarshalQuark(t *testing.T) {
	s := State{Owner: "o", Balance: -3, History: []int64{1}, Opened: time.Unix(10, 0), Limits: map[string]Celsius{"max": 30}}
	b, err := s.MarshalQuark([]byte{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalQuark(b[2:]); err != nil {
		t.Fatal(err)
	}
	if !got.Opened.Equal(s.Opened) {
		t.Fatalf("time %v, want %v", got.Opened, s.Opened)
	}
	got.Opened = s.Opened
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("got %+v, want %+v", got, s)
	}
	wantCorrupt(t, "trailing", got.UnmarshalQuark(append(b[2:], 0)))
	if err := got.UnmarshalQuark(make([]byte, codec.DefaultMaxMessageSize+1)); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("too large: %v, want an *quarkerr.Error with code InvalidArgument", err)
	}
	c := Counts{"a": 1}
	var c2 Counts
	cb, err := c.MarshalQuark(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.UnmarshalQuark(cb); err != nil || !reflect.DeepEqual(c, c2) {
		t.Fatalf("%v %v", c2, err)
	}
	var _ codec.Marshaler = new(Temperature)
	var _ codec.Unmarshaler = new(Temperature)
}

func TestCopyShareNothing(t *testing.T) {
	for name, want := range sampleArgs() {
		msg := message(t, name)
		setArgs(msg, want)
		copyArgs(t, msg)
		if got := getArgs(msg); !equal(got, want) {
			t.Fatalf("%s: the copy differs:\n got %+v\nwant %+v", name, got, want)
		}
	}
	// Mutations of the caller's values do not reach the copy.
	a := sampleArgs()["Containers"].(storeContainersArgs)
	msg := message(t, "Containers")
	setArgs(msg, a)
	copyArgs(t, msg)
	a.M["t"][0].Kids[0].Label = "changed"
	a.A[0].Next.Value = 99
	**a.Pp = 7
	a.Nested[0][0][1] = "changed"
	a.Bs[2][0] = 9
	a.Anon.B[0] = "changed"
	got := getArgs(msg).(storeContainersArgs)
	if got.M["t"][0].Kids[0].Label != "a" || got.A[0].Next.Value != 2 || **got.Pp != 42 ||
		got.Nested[0][0][1] != "one" || got.Bs[2][0] != 1 || got.Anon.B[0] != "x" {
		t.Fatalf("the copy shares memory with the original: %+v", got)
	}
	if got.Bs[0] != nil || got.Bs[1] == nil {
		t.Fatal("the copy does not keep nil and empty apart")
	}

	// Marshalers that hold memory are copied through their encoding.
	m := sampleArgs()["Marshalers"].(storeMarshalersArgs)
	msg = message(t, "Marshalers")
	setArgs(msg, m)
	copyArgs(t, msg)
	m.B.items[0] = "changed"
	m.S.Big.SetInt64(1)
	*m.L = 9
	got2 := getArgs(msg).(storeMarshalersArgs)
	if got2.B.items[0] != "x" || got2.S.Big.Cmp(big.NewInt(1)) == 0 || *got2.L != 3 {
		t.Fatalf("the copy shares memory: %+v", got2)
	}

	// Protocol buffers are cloned.
	p := sampleArgs()["Proto"].(storeProtoArgs)
	msg = message(t, "Proto")
	setArgs(msg, p)
	copyArgs(t, msg)
	p.Ts.Seconds = 1
	if got := getArgs(msg).(storeProtoArgs); got.Ts.Seconds == 1 || !proto.Equal(got.Vs[0], p.Vs[0]) || got.Vs[0] == p.Vs[0] {
		t.Fatal("the proto copy is shared")
	}

	// Immutable types and methods share.
	s := sampleArgs()["Snapshot"].(storeSnapshotArgs)
	msg = message(t, "Snapshot")
	setArgs(msg, s)
	copyArgs(t, msg)
	s.S.Items[0] = "shared"
	if getArgs(msg).(storeSnapshotArgs).S.Items[0] != "shared" {
		t.Fatal("an immutable type was copied")
	}
	sh := sampleArgs()["Shared"].(storeSharedArgs)
	msg = message(t, "Shared")
	setArgs(msg, sh)
	copyArgs(t, msg)
	sh.Items[0] = "shared"
	if getArgs(msg).(storeSharedArgs).Items[0] != "shared" {
		t.Fatal("an immutable method's argument was copied")
	}
	f := sampleArgs()["Foreign"].(storeForeignArgs)
	msg = message(t, "Foreign")
	setArgs(msg, f)
	copyArgs(t, msg)
	f.R.Corners[0].X = 100
	f.Path[0].X = 100
	if got := getArgs(msg).(storeForeignArgs); got.R.Corners[0].X != 100 || got.Path[0].X == 100 {
		t.Fatal("geo.Region is marked immutable in its package and must be shared; geo.Path must be copied")
	}
}

func TestCopyDoesNotAllocateForScalars(t *testing.T) {
	msg := message(t, "Scalars")
	setArgs(msg, storeScalarsArgs{F: 1})
	if n := testing.AllocsPerRun(100, func() { _ = msg.CopyResults() }); n != 0 {
		t.Fatalf("CopyResults of scalars allocates %v times", n)
	}
	nothing := message(t, "Shared")
	if n := testing.AllocsPerRun(100, func() { _ = nothing.CopyArgs() }); n != 0 {
		t.Fatalf("CopyArgs of an immutable method allocates %v times", n)
	}
}

func TestSentinelsRegistered(t *testing.T) {
	// ErrWrapped is registered too, but it matches ErrNotFound, registered
	// first, which is what the wire then carries.
	for _, sentinel := range []error{ErrNotFound, errInternal} {
		err, _, derr := codec.ReadError(codec.AppendError(nil, sentinel))
		if derr != nil || !errors.Is(err, sentinel) {
			t.Fatalf("%v does not survive the wire: %v, %v", sentinel, err, derr)
		}
	}
}

func TestUnknownMethod(t *testing.T) {
	if m := StoreType.NewMessage(0); m != nil {
		t.Fatalf("NewMessage(0) = %v", m)
	}
}
