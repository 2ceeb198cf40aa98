package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/quarkerr"
)

// frame is any of the frame values, encoded and decoded through the
// functions for its kind.
type frame interface{}

// appendFrame encodes f, with the arguments or results of a call or reply
// appended after it as the runtime appends them.
func appendFrame(b []byte, f frame) ([]byte, error) {
	switch f := f.(type) {
	case *wire.Hello:
		return wire.AppendHello(b, f)
	case *wire.Refuse:
		return wire.AppendRefuse(b, f)
	case *wire.Call:
		b, err := wire.AppendCall(b, f)
		if err != nil {
			return b, err
		}
		return append(b, f.Args...), nil
	case *wire.Reply:
		b, err := wire.AppendReply(b, f)
		if err != nil {
			return b, err
		}
		return append(b, f.Results...), nil
	case *wire.Cancel:
		return wire.AppendCancel(b, f)
	}
	panic("unknown frame type")
}

// readFrame decodes b with the reader for kind, into a new value.
func readFrame(kind wire.Kind, b []byte) (frame, error) {
	switch kind {
	case wire.KindHello:
		var h wire.Hello
		return &h, wire.ReadHello(b, &h)
	case wire.KindRefuse:
		var r wire.Refuse
		return &r, wire.ReadRefuse(b, &r)
	case wire.KindCall:
		var c wire.Call
		return &c, wire.ReadCall(b, &c)
	case wire.KindReply:
		var r wire.Reply
		return &r, wire.ReadReply(b, &r)
	case wire.KindCancel:
		var c wire.Cancel
		return &c, wire.ReadCancel(b, &c)
	}
	panic("unknown kind")
}

// isZero reports whether the value f points to is the zero value.
func isZero(f frame) bool {
	return reflect.ValueOf(f).Elem().IsZero()
}

var allKinds = []wire.Kind{wire.KindHello, wire.KindRefuse, wire.KindCall, wire.KindReply, wire.KindCancel}

// validFrames are frames of every kind, in the normal form the readers
// return (nil rather than empty slices), with their kind.
func validFrames() []struct {
	name string
	kind wire.Kind
	f    frame
} {
	return []struct {
		name string
		kind wire.Kind
		f    frame
	}{
		{"hello client", wire.KindHello, &wire.Hello{Version: wire.Version, Epoch: 1, Role: wire.RoleClient}},
		{"hello silo", wire.KindHello, &wire.Hello{
			Version: wire.Version, Cluster: "prod", Addr: "10.0.0.1:7000", Epoch: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano(),
			Role: wire.RoleSilo, Members: []string{"10.0.0.1:7000", "10.0.0.2:7000", ""},
		}},
		{"hello max epoch", wire.KindHello, &wire.Hello{Version: wire.Version, Epoch: math.MaxInt64}},
		{"refuse", wire.KindRefuse, &wire.Refuse{Code: uint8(quarkerr.Unavailable), Message: "foreign cluster \"b\""}},
		{"refuse empty", wire.KindRefuse, &wire.Refuse{}},
		{"call", wire.KindCall, &wire.Call{
			ID: 1<<64 - 1, ReadOnly: true, Type: "bank.Account", Key: []byte{1, 2, 'a', 'b'}, Method: math.MaxUint32,
			Context: wire.CallContext{
				HasDeadline: true, Remaining: time.Second,
				Chain:  []wire.Link{{Type: "bank.Teller", Key: []byte{1, 1, 't'}, Pinned: true}},
				Values: []string{"traceparent", "00-abc"},
			},
			Args: []byte{0x92, 0x01, 0x02},
		}},
		{"call without args", wire.KindCall, &wire.Call{ID: 7, Type: "t", Key: []byte{0}}},
		{"one-way", wire.KindCall, &wire.Call{ID: 9, OneWay: true, Type: "t", Key: []byte{0}, Method: 3, Args: []byte{0xc0}}},
		{"reply with results", wire.KindReply, &wire.Reply{ID: 300, Results: []byte{0x91, 0x2a}}},
		{"reply with error", wire.KindReply, &wire.Reply{ID: 1, Error: []byte{0x81, 0xa1, 'c', 0x05}}},
		{"reply empty", wire.KindReply, &wire.Reply{ID: 1}},
		{"cancel", wire.KindCancel, &wire.Cancel{ID: 1 << 40}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range validFrames() {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte{0xee}
			b, err := appendFrame(append([]byte(nil), prefix...), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, prefix) {
				t.Fatal("append lost the prefix")
			}
			b = b[len(prefix):]
			if k, err := wire.FrameKind(b); err != nil || k != tc.kind {
				t.Fatalf("FrameKind = %v, %v; want %v", k, err, tc.kind)
			}
			got, err := readFrame(tc.kind, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.f) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.f)
			}
			// The other readers refuse it.
			for _, k := range allKinds {
				if k == tc.kind {
					continue
				}
				if f, err := readFrame(k, b); quarkerr.CodeOf(err) != quarkerr.Corrupt || !isZero(f) {
					t.Errorf("reader of kind %d: %+v, %v; want CodeCorrupt", k, f, err)
				}
			}
		})
	}
}

// TestFrameAliases: the key, arguments, error and results alias the frame,
// capped, so that appending to one does not write over the frame.
func TestFrameAliases(t *testing.T) {
	b, _ := wire.AppendCall(nil, &wire.Call{ID: 1, Type: "t", Key: []byte{9}})
	b = append(b, 'x', 'y')
	var c wire.Call
	if err := wire.ReadCall(b, &c); err != nil {
		t.Fatal(err)
	}
	if &c.Args[0] != &b[len(b)-2] || &c.Key[0] != &b[bytes.IndexByte(b, 9)] {
		t.Fatal("key or arguments do not alias the frame")
	}
	_ = append(c.Key, 0xff)
	if err := wire.ReadCall(b, &c); err != nil || !bytes.Equal(c.Args, []byte("xy")) {
		t.Fatalf("appending to the key changed the frame: %v, args %q", err, c.Args)
	}

	b, _ = wire.AppendReply(nil, &wire.Reply{ID: 1, Error: []byte{1, 2}})
	b = append(b, 'r')
	var r wire.Reply
	if err := wire.ReadReply(b, &r); err != nil {
		t.Fatal(err)
	}
	if &r.Error[0] != &b[len(b)-3] || &r.Results[0] != &b[len(b)-1] {
		t.Fatal("error or results do not alias the frame")
	}
	_ = append(r.Error, 0xff)
	if b[len(b)-1] != 'r' {
		t.Fatal("appending to the error changed the results")
	}
}

// TestFrameTruncated: every proper prefix of a frame without arguments or
// results is refused by its reader.
func TestFrameTruncated(t *testing.T) {
	for _, tc := range validFrames() {
		switch f := tc.f.(type) {
		case *wire.Call:
			if len(f.Args) > 0 {
				continue
			}
		case *wire.Reply:
			if len(f.Results) > 0 {
				continue
			}
		}
		b, err := appendFrame(nil, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(b) {
			f, err := readFrame(tc.kind, b[:i])
			if quarkerr.CodeOf(err) != quarkerr.Corrupt || !isZero(f) {
				t.Errorf("%s cut to %d of %d bytes: %+v, %v; want CodeCorrupt", tc.name, i, len(b), f, err)
			}
		}
	}
}

// TestFrameTrailing: a hello, refuse or cancel frame is the whole of its
// bytes; after a call or a reply, what follows is the arguments or results.
func TestFrameTrailing(t *testing.T) {
	for _, tc := range validFrames() {
		b, err := appendFrame(nil, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, 0)
		f, err := readFrame(tc.kind, b)
		switch tc.kind {
		case wire.KindCall:
			if err != nil || !bytes.HasSuffix(f.(*wire.Call).Args, []byte{0}) {
				t.Errorf("%s: %v; want the byte in the arguments", tc.name, err)
			}
		case wire.KindReply:
			if err != nil || !bytes.HasSuffix(f.(*wire.Reply).Results, []byte{0}) {
				t.Errorf("%s: %v; want the byte in the results", tc.name, err)
			}
		default:
			if quarkerr.CodeOf(err) != quarkerr.Corrupt || !isZero(f) {
				t.Errorf("%s with a trailing byte: %+v, %v; want CodeCorrupt", tc.name, f, err)
			}
		}
	}
}

func uv(n uint64) []byte { return binary.AppendUvarint(nil, n) }

func str(s string) []byte { return append(uv(uint64(len(s))), s...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// overlong is 1 written in two bytes.
var overlong = []byte{0x81, 0x00}

func ctxBytes(t testing.TB, c wire.CallContext) []byte {
	b, err := wire.AppendCallContext(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFrameCorrupt(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	var (
		ver   = uv(wire.Version)
		ctx   = ctxBytes(t, wire.CallContext{})
		hello = func(cluster, addr, epoch, role, members []byte) []byte {
			return cat([]byte{1}, ver, cluster, addr, epoch, role, members)
		}
		call = func(flags byte, id, typ, key, method, ctx []byte) []byte {
			return cat([]byte{3, flags}, id, typ, key, method, ctx)
		}
		lp = func(b []byte) []byte { return cat(uv(uint64(len(b))), b) }
	)
	tooManyMembers := cat(uv(wire.MaxMembers + 1))
	for range wire.MaxMembers + 1 {
		tooManyMembers = append(tooManyMembers, str("a")...)
	}
	for _, tc := range []struct {
		name string
		kind wire.Kind
		b    []byte
	}{
		// Checks that the table's base frames are valid are below.
		{"hello: version overlong", wire.KindHello, cat([]byte{1}, overlong, str(""), str(""), uv(1), []byte{0}, uv(0))},
		{"hello: cluster length overlong", wire.KindHello, hello([]byte{0x80, 0x00}, str(""), uv(1), []byte{0}, uv(0))},
		{"hello: cluster too long", wire.KindHello, hello(str(long(wire.MaxClusterName+1)), str(""), uv(1), []byte{0}, uv(0))},
		{"hello: cluster beyond the bytes", wire.KindHello, hello(uv(5), str(""), uv(1), []byte{0}, uv(0))},
		{"hello: addr too long", wire.KindHello, hello(str(""), str(long(wire.MaxAddr+1)), uv(1), []byte{0}, uv(0))},
		{"hello: epoch 0", wire.KindHello, hello(str(""), str(""), uv(0), []byte{0}, uv(0))},
		{"hello: epoch beyond int64", wire.KindHello, hello(str(""), str(""), uv(1<<63), []byte{0}, uv(0))},
		{"hello: epoch overlong", wire.KindHello, hello(str(""), str(""), overlong, []byte{0}, uv(0))},
		{"hello: unknown role", wire.KindHello, hello(str(""), str(""), uv(1), []byte{2}, uv(0))},
		{"hello: members beyond the limit", wire.KindHello, hello(str(""), str(""), uv(1), []byte{0}, tooManyMembers)},
		{"hello: members beyond the bytes", wire.KindHello, hello(str(""), str(""), uv(1), []byte{0}, cat(uv(3), str("a"), str("b")))},
		{"hello: member too long", wire.KindHello, hello(str(""), str(""), uv(1), []byte{0}, cat(uv(1), str(long(wire.MaxAddr+1))))},
		{"hello: members overlong", wire.KindHello, hello(str(""), str(""), uv(1), []byte{0}, overlong)},

		{"refuse: message too long", wire.KindRefuse, cat([]byte{2, 1}, str(long(wire.MaxRefuseMessage+1)))},
		{"refuse: message overlong", wire.KindRefuse, cat([]byte{2, 1}, []byte{0x80, 0x00})},

		{"call: unknown flags", wire.KindCall, call(4, uv(1), str("t"), str("k"), uv(0), lp(ctx))},
		{"call: id 0", wire.KindCall, call(0, uv(0), str("t"), str("k"), uv(0), lp(ctx))},
		{"call: one-way with id 0", wire.KindCall, call(1, uv(0), str("t"), str("k"), uv(0), lp(ctx))},
		{"call: id overlong", wire.KindCall, call(0, overlong, str("t"), str("k"), uv(0), lp(ctx))},
		{"call: empty type", wire.KindCall, call(0, uv(1), str(""), str("k"), uv(0), lp(ctx))},
		{"call: type too long", wire.KindCall, call(0, uv(1), str(long(wire.MaxTypeName+1)), str("k"), uv(0), lp(ctx))},
		{"call: empty key", wire.KindCall, call(0, uv(1), str("t"), str(""), uv(0), lp(ctx))},
		{"call: key too long", wire.KindCall, call(0, uv(1), str("t"), str(long(wire.MaxKey+1)), uv(0), lp(ctx))},
		{"call: method beyond uint32", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(1<<32), lp(ctx))},
		{"call: method overlong", wire.KindCall, call(0, uv(1), str("t"), str("k"), overlong, lp(ctx))},
		{"call: context beyond the bytes", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(0), uv(2))},
		{"call: context length overlong", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(0), cat(overlong, ctx))},
		{"call: context trailing within its length", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(0), lp(cat(ctx, []byte{0})))},
		{"call: context malformed", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(0), lp([]byte{0x80, 0, 0}))},
		{"call: context empty", wire.KindCall, call(0, uv(1), str("t"), str("k"), uv(0), uv(0))},

		{"reply: id 0", wire.KindReply, cat([]byte{4}, uv(0), uv(0))},
		{"reply: id overlong", wire.KindReply, cat([]byte{4}, overlong, uv(0))},
		{"reply: error beyond the bytes", wire.KindReply, cat([]byte{4}, uv(1), uv(3), []byte{1, 2})},
		{"reply: error length overlong", wire.KindReply, cat([]byte{4}, uv(1), []byte{0x80, 0x00})},

		{"cancel: id 0", wire.KindCancel, cat([]byte{5}, uv(0))},
		{"cancel: id overlong", wire.KindCancel, cat([]byte{5}, overlong)},
		{"cancel: id overflows", wire.KindCancel, cat([]byte{5}, bytes.Repeat([]byte{0xff}, 10), []byte{1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readFrame(tc.kind, tc.b)
			if quarkerr.CodeOf(err) != quarkerr.Corrupt {
				t.Fatalf("err = %v, want CodeCorrupt", err)
			}
			if !isZero(f) {
				t.Fatalf("a refused frame left values behind: %+v", f)
			}
		})
	}

	// The frames above differ from these valid ones in one part.
	for _, b := range [][]byte{
		hello(str(""), str(""), uv(1), []byte{0}, uv(0)),
		hello(str(long(wire.MaxClusterName)), str(long(wire.MaxAddr)), uv(math.MaxInt64), []byte{1}, cat(uv(1), str(long(wire.MaxAddr)))),
	} {
		if _, err := readFrame(wire.KindHello, b); err != nil {
			t.Errorf("base hello: %v", err)
		}
	}
	if _, err := readFrame(wire.KindRefuse, cat([]byte{2, 1}, str(long(wire.MaxRefuseMessage)))); err != nil {
		t.Errorf("base refuse: %v", err)
	}
	for _, b := range [][]byte{
		call(0, uv(1), str("t"), str("k"), uv(0), lp(ctx)),
		call(3, uv(1), str(long(wire.MaxTypeName)), str(long(wire.MaxKey)), uv(math.MaxUint32), lp(ctx)),
	} {
		if _, err := readFrame(wire.KindCall, b); err != nil {
			t.Errorf("base call: %v", err)
		}
	}
	if _, err := readFrame(wire.KindReply, cat([]byte{4}, uv(1), uv(2), []byte{1, 2})); err != nil {
		t.Errorf("base reply: %v", err)
	}
	if _, err := readFrame(wire.KindCancel, cat([]byte{5}, uv(1<<64-1))); err != nil {
		t.Errorf("base cancel: %v", err)
	}
}

func TestFrameKind(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {6}, {0xff, 1}} {
		if k, err := wire.FrameKind(b); quarkerr.CodeOf(err) != quarkerr.Corrupt || k != 0 {
			t.Errorf("FrameKind(%x) = %v, %v; want CodeCorrupt", b, k, err)
		}
	}
	for _, k := range allKinds {
		if got, err := wire.FrameKind([]byte{byte(k)}); err != nil || got != k {
			t.Errorf("FrameKind(%d) = %v, %v", k, got, err)
		}
	}
}

func TestAppendFrameLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	hello := func(mod func(*wire.Hello)) *wire.Hello {
		h := &wire.Hello{Version: wire.Version, Epoch: 1}
		mod(h)
		return h
	}
	call := func(mod func(*wire.Call)) *wire.Call {
		c := &wire.Call{ID: 1, Type: "t", Key: []byte{1}}
		mod(c)
		return c
	}
	for name, f := range map[string]frame{
		"hello: cluster too long":  hello(func(h *wire.Hello) { h.Cluster = long(wire.MaxClusterName + 1) }),
		"hello: addr too long":     hello(func(h *wire.Hello) { h.Addr = long(wire.MaxAddr + 1) }),
		"hello: epoch 0":           hello(func(h *wire.Hello) { h.Epoch = 0 }),
		"hello: epoch negative":    hello(func(h *wire.Hello) { h.Epoch = -1 }),
		"hello: unknown role":      hello(func(h *wire.Hello) { h.Role = 2 }),
		"hello: too many members":  hello(func(h *wire.Hello) { h.Members = make([]string, wire.MaxMembers+1) }),
		"hello: member too long":   hello(func(h *wire.Hello) { h.Members = []string{"a", long(wire.MaxAddr + 1)} }),
		"refuse: message too long": &wire.Refuse{Message: long(wire.MaxRefuseMessage + 1)},
		"call: id 0":               call(func(c *wire.Call) { c.ID = 0 }),
		"call: one-way with id 0":  call(func(c *wire.Call) { c.OneWay, c.ID = true, 0 }),
		"call: empty type":         call(func(c *wire.Call) { c.Type = "" }),
		"call: type too long":      call(func(c *wire.Call) { c.Type = long(wire.MaxTypeName + 1) }),
		"call: empty key":          call(func(c *wire.Call) { c.Key = nil }),
		"call: key too long":       call(func(c *wire.Call) { c.Key = []byte(long(wire.MaxKey + 1)) }),
		"call: context too deep":   call(func(c *wire.Call) { c.Context.Chain = make([]wire.Link, wire.MaxChain+1) }),
		"call: context value long": call(func(c *wire.Call) { c.Context.Values = []string{"k", long(wire.MaxValueLen + 1)} }),
		"reply: id 0":              &wire.Reply{},
		"cancel: id 0":             &wire.Cancel{},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := appendFrame([]byte{7}, f)
			if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
				t.Fatalf("err = %v, want CodeInvalidArgument", err)
			}
			if !bytes.Equal(b, []byte{7}) {
				t.Fatalf("a refused frame left bytes behind: %x", b)
			}
		})
	}
	// At the limits, they encode.
	for name, f := range map[string]frame{
		"hello":  &wire.Hello{Epoch: 1, Cluster: long(wire.MaxClusterName), Addr: long(wire.MaxAddr), Members: []string{long(wire.MaxAddr)}},
		"call":   &wire.Call{ID: 1, Type: long(wire.MaxTypeName), Key: []byte(long(wire.MaxKey))},
		"refuse": &wire.Refuse{Message: long(wire.MaxRefuseMessage)},
	} {
		if _, err := appendFrame(nil, f); err != nil {
			t.Errorf("%s at the limits: %v", name, err)
		}
	}
}

// TestCallContextLengths: a context whose encoding takes more than 127
// bytes has a length of more than one byte ahead of it, which AppendCall
// makes room for.
func TestCallContextLengths(t *testing.T) {
	for _, n := range []int{0, 1, 120, 126, 127, 128, 200, 16383, 16384, 20000} {
		c := wire.Call{ID: 1, Type: "t", Key: []byte{1}, Context: wire.CallContext{Values: []string{"k", strings.Repeat("v", n%wire.MaxValueLen)}}}
		for len(c.Context.Values)/2 < n/wire.MaxValueLen+1 {
			c.Context.Values = append(c.Context.Values, "k", strings.Repeat("v", wire.MaxValueLen))
		}
		b, err := wire.AppendCall([]byte{0xee}, &c)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, 'a')
		var got wire.Call
		if err := wire.ReadCall(b[1:], &got); err != nil {
			t.Fatalf("context of about %d bytes: %v", n, err)
		}
		c.Args = []byte{'a'}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("context of about %d bytes did not round-trip", n)
		}
	}
}

// TestHelloOtherVersion: a hello from another version, whatever follows the
// version, reads as that version with an error naming both.
func TestHelloOtherVersion(t *testing.T) {
	next, err := wire.AppendHello(nil, &wire.Hello{Version: wire.Version + 1, Cluster: "c", Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"same layout":   next,
		"other layout":  cat([]byte{1}, uv(wire.Version+1), []byte{0xff, 0xff, 0xff}),
		"version alone": cat([]byte{1}, uv(wire.Version+1)),
		"version 0":     cat([]byte{1}, uv(0), str("")),
		"highest":       cat([]byte{1}, uv(math.MaxUint32)),
	} {
		t.Run(name, func(t *testing.T) {
			var h wire.Hello
			err := wire.ReadHello(b, &h)
			if !errors.Is(err, wire.ErrVersion) || quarkerr.CodeOf(err) != quarkerr.Unavailable {
				t.Fatalf("err = %v, want ErrVersion with CodeUnavailable", err)
			}
			v, _ := binary.Uvarint(b[1:])
			if uint64(h.Version) != v || !reflect.DeepEqual(h, wire.Hello{Version: h.Version}) {
				t.Fatalf("got %+v, want only Version %d", h, v)
			}
			want := "peer speaks protocol version " + strconv.FormatUint(v, 10) + ", this process version " + strconv.Itoa(wire.Version)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		})
	}
	// A version beyond 32 bits, or a malformed one, is corrupt, not
	// another version.
	for _, b := range [][]byte{cat([]byte{1}, uv(1<<32)), cat([]byte{1}, overlong), {1}} {
		var h wire.Hello
		if err := wire.ReadHello(b, &h); quarkerr.CodeOf(err) != quarkerr.Corrupt || h.Version != 0 {
			t.Errorf("ReadHello(%x) = %v, version %d; want CodeCorrupt", b, err, h.Version)
		}
	}
}

func TestCallID(t *testing.T) {
	for _, tc := range validFrames() {
		b, err := appendFrame(nil, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		switch f := tc.f.(type) {
		case *wire.Call:
			want = f.ID
		case *wire.Reply:
			want = f.ID
		case *wire.Cancel:
			want = f.ID
		}
		// The bytes after the id do not matter: cut them, or spoil them.
		n := 1 + len(uv(want))
		if tc.kind == wire.KindCall {
			n++
		}
		for _, b := range [][]byte{b, b[:min(n, len(b))], append(b[:min(n, len(b)):min(n, len(b))], 0xff, 0xff)} {
			id, ok := wire.CallID(b)
			if id != want || ok != (want != 0) {
				t.Errorf("%s: CallID(%x) = %d, %t; want %d, %t", tc.name, b, id, ok, want, want != 0)
			}
		}
	}
	for _, b := range [][]byte{
		nil, {0}, {9, 1}, {3}, {3, 0}, {3, 4, 1}, {3, 0, 0}, {3, 1, 0}, {1, 1}, {2, 1}, {3, 0, 0x81, 0},
		{4}, {4, 0}, {4, 0x80}, {4, 0x81, 0}, {5}, {5, 0}, {5, 0x81, 0},
	} {
		if id, ok := wire.CallID(b); ok || id != 0 {
			t.Errorf("CallID(%x) = %d, %t; want 0, false", b, id, ok)
		}
	}
	// A one-way call carries an id too; IsOneWay tells it apart.
	for _, tc := range []struct {
		b      []byte
		oneWay bool
	}{{[]byte{3, 1, 5}, true}, {[]byte{3, 3, 5}, true}, {[]byte{3, 0, 5}, false}, {[]byte{3, 2, 5}, false}, {[]byte{4, 1, 5}, false}} {
		if id, ok := wire.CallID(tc.b); !ok || id != 5 && tc.b[0] == 3 {
			t.Errorf("CallID(%x) = %d, %t; want 5, true", tc.b, id, ok)
		}
		if got := wire.IsOneWay(tc.b); got != tc.oneWay {
			t.Errorf("IsOneWay(%x) = %t, want %t", tc.b, got, tc.oneWay)
		}
	}
}

// TestFrameReadersAllocateInProportion: a frame that claims more than its
// bytes hold is refused before the readers allocate for the claim.
func TestFrameReadersAllocateInProportion(t *testing.T) {
	for name, tc := range map[string]struct {
		kind wire.Kind
		b    []byte
	}{
		"hello members":     {wire.KindHello, cat([]byte{1}, uv(wire.Version), str(""), str(""), uv(1), []byte{0}, uv(wire.MaxMembers), str("a"))},
		"call context":      {wire.KindCall, cat([]byte{3, 0}, uv(1), str("t"), str("k"), uv(0), uv(4), []byte{0, 0x81, 0x02, 0})},
		"call context vals": {wire.KindCall, cat([]byte{3, 0}, uv(1), str("t"), str("k"), uv(0), uv(4), []byte{0, 0, 64, 0})},
	} {
		t.Run(name, func(t *testing.T) {
			got := uint64(math.MaxUint64)
			for range 3 {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for range 100 {
					if _, err := readFrame(tc.kind, tc.b); quarkerr.CodeOf(err) != quarkerr.Corrupt {
						t.Fatalf("err = %v, want CodeCorrupt", err)
					}
				}
				runtime.ReadMemStats(&after)
				got = min(got, (after.TotalAlloc-before.TotalAlloc)/100)
			}
			// The value read into and the error; nothing in proportion
			// to the claimed count.
			if limit := uint64(512 + 16*len(tc.b)); got > limit {
				t.Fatalf("refusing a %d-byte frame allocated %d bytes, more than %d", len(tc.b), got, limit)
			}
		})
	}
}

// FuzzReadFrame: any bytes, read by each reader, decode or fail with
// CodeCorrupt (or, for a hello of another version, ErrVersion), never
// panic, and whatever decodes encodes back to the same bytes. CallID agrees
// with what the readers decode.
func FuzzReadFrame(f *testing.F) {
	for _, tc := range validFrames() {
		b, err := appendFrame(nil, tc.f)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(cat([]byte{1}, uv(wire.Version+1), []byte{0xff}))
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, kerr := wire.FrameKind(b)
		if kerr != nil && quarkerr.CodeOf(kerr) != quarkerr.Corrupt {
			t.Fatalf("FrameKind: %v, want CodeCorrupt", kerr)
		}
		id, idOK := wire.CallID(b)
		for _, k := range allKinds {
			f, err := readFrame(k, b)
			if err != nil {
				if k == wire.KindHello && errors.Is(err, wire.ErrVersion) {
					h := f.(*wire.Hello)
					if h.Version == wire.Version || !reflect.DeepEqual(*h, wire.Hello{Version: h.Version}) {
						t.Fatalf("another version read as %+v", h)
					}
					continue
				}
				if quarkerr.CodeOf(err) != quarkerr.Corrupt {
					t.Fatalf("reader of kind %d: err = %v, want CodeCorrupt", k, err)
				}
				if !isZero(f) {
					t.Fatalf("reader of kind %d left values behind: %+v", k, f)
				}
				continue
			}
			if kerr != nil || kind != k {
				t.Fatalf("reader of kind %d took a frame of kind %d (%v)", k, kind, kerr)
			}
			out, err := appendFrame(nil, f)
			if err != nil {
				t.Fatalf("a decoded frame does not encode: %v", err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
			}
			var want uint64
			switch f := f.(type) {
			case *wire.Call:
				want = f.ID
			case *wire.Reply:
				want = f.ID
			case *wire.Cancel:
				want = f.ID
			}
			if id != want || idOK != (want != 0) {
				t.Fatalf("CallID = %d, %t; the frame decodes with id %d", id, idOK, want)
			}
		}
	})
}

// BenchmarkCallFrame encodes and decodes a small call (with a deadline) and
// its reply into reused buffers, as the runtime does per remote call.
func BenchmarkCallFrame(b *testing.B) {
	c := wire.Call{ID: 42, Type: "bank.Account", Key: []byte{1, 5, 'a', 'l', 'i', 'c', 'e'}, Method: 2,
		Context: wire.CallContext{HasDeadline: true, Remaining: 5 * time.Second}}
	args := []byte{0x91, 0x64}
	var buf, rbuf []byte
	var got wire.Call
	var reply wire.Reply
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = wire.AppendCall(buf[:0], &c)
		buf = append(buf, args...)
		if err := wire.ReadCall(buf, &got); err != nil {
			b.Fatal(err)
		}
		rbuf, _ = wire.AppendReply(rbuf[:0], &wire.Reply{ID: got.ID})
		rbuf = append(rbuf, 0x91, 0x01)
		if err := wire.ReadReply(rbuf, &reply); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "call-bytes")
	b.ReportMetric(float64(len(rbuf)), "reply-bytes")
}
