package codec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
)

// Sentinels registered once for the whole test binary. Names follow the
// "import/path.ErrName" convention; the package path is fictional so that no
// real package registers the same names.
var (
	errNotEnough  = errors.New("not enough")
	errLocked     = errors.New("locked")
	errTypedGone  = quarkerr.New(quarkerr.NotFound, "gone")
	errNeverSent  = errors.New("never registered")
	sentinelNames = []struct {
		name string
		err  error
	}{
		{"example.com/codectest.ErrNotEnough", errNotEnough},
		{"example.com/codectest.ErrLocked", errLocked},
		{"example.com/codectest.ErrTypedGone", errTypedGone},
	}
)

func init() {
	for _, s := range sentinelNames {
		codec.RegisterError(s.name, s.err)
	}
}

// wantCorrupt fails t unless err is an *quarkerr.Error with code Corrupt.
func wantCorrupt(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want a Corrupt error", what)
	}
	var qe *quarkerr.Error
	if !errors.As(err, &qe) || quarkerr.CodeOf(err) != quarkerr.Corrupt {
		t.Fatalf("%s: %v (%T), want an *quarkerr.Error with code Corrupt", what, err, err)
	}
}

// bytesPerRun reports the average number of heap bytes f allocates.
func bytesPerRun(runs int, f func()) uint64 {
	f() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

func TestReadArrayLen(t *testing.T) {
	// A 3-element array whose elements are 1-byte fixints.
	b := msgp.AppendArrayHeader(nil, 3)
	b = append(b, 1, 2, 3)
	n, rest, err := codec.ReadArrayLen(b)
	if err != nil || n != 3 || !bytes.Equal(rest, []byte{1, 2, 3}) {
		t.Fatalf("ReadArrayLen(exact) = %d, %x, %v", n, rest, err)
	}

	// One byte short of the declared length: rejected, input returned whole.
	n, rest, err = codec.ReadArrayLen(b[:len(b)-1])
	if err == nil || !errors.Is(err, msgp.ErrShortBytes) {
		t.Fatalf("ReadArrayLen(short) = %d, %v; want ErrShortBytes", n, err)
	}
	if n != 0 || len(rest) != len(b)-1 {
		t.Fatalf("ReadArrayLen(short) returned n=%d, %d bytes of rest; want 0 and the whole input", n, len(rest))
	}

	// Not an array, and empty input.
	if _, _, err := codec.ReadArrayLen(msgp.AppendString(nil, "x")); err == nil {
		t.Fatal("ReadArrayLen(string): no error")
	}
	if _, _, err := codec.ReadArrayLen(nil); err == nil {
		t.Fatal("ReadArrayLen(nil): no error")
	}
	// An empty array needs no bytes after it.
	if n, rest, err := codec.ReadArrayLen(msgp.AppendArrayHeader(nil, 0)); err != nil || n != 0 || len(rest) != 0 {
		t.Fatalf("ReadArrayLen(empty array) = %d, %x, %v", n, rest, err)
	}
}

func TestReadMapLen(t *testing.T) {
	// Two entries of two 1-byte fixints each.
	b := msgp.AppendMapHeader(nil, 2)
	b = append(b, 1, 2, 3, 4)
	n, rest, err := codec.ReadMapLen(b)
	if err != nil || n != 2 || len(rest) != 4 {
		t.Fatalf("ReadMapLen(exact) = %d, %x, %v", n, rest, err)
	}
	// Three bytes cannot hold two entries.
	n, rest, err = codec.ReadMapLen(b[:len(b)-1])
	if !errors.Is(err, msgp.ErrShortBytes) || n != 0 || len(rest) != len(b)-1 {
		t.Fatalf("ReadMapLen(short) = %d, %d bytes, %v; want 0, whole input, ErrShortBytes", n, len(rest), err)
	}
	if _, _, err := codec.ReadMapLen(msgp.AppendArrayHeader(nil, 0)); err == nil {
		t.Fatal("ReadMapLen(array): no error")
	}
	if n, _, err := codec.ReadMapLen(msgp.AppendMapHeader(nil, 0)); err != nil || n != 0 {
		t.Fatalf("ReadMapLen(empty map) = %d, %v", n, err)
	}
}

// TestHugeLengthsRejectedWithoutAllocating declares containers of up to
// 2^32-1 elements in a handful of bytes: the helpers reject them, and
// rejecting allocates only the error, never anything sized by the declared
// length.
func TestHugeLengthsRejectedWithoutAllocating(t *testing.T) {
	huge := []uint32{1 << 16, 1 << 31, 1<<32 - 1}
	for _, n := range huge {
		arr := append(msgp.AppendArrayHeader(nil, n), 1, 2, 3, 4, 5)
		m := append(msgp.AppendMapHeader(nil, n), 1, 2, 3, 4, 5)
		if _, _, err := codec.ReadArrayLen(arr); !errors.Is(err, msgp.ErrShortBytes) {
			t.Fatalf("array of %d: %v, want ErrShortBytes", n, err)
		}
		if _, _, err := codec.ReadMapLen(m); !errors.Is(err, msgp.ErrShortBytes) {
			t.Fatalf("map of %d: %v, want ErrShortBytes", n, err)
		}
		perRun := bytesPerRun(100, func() {
			codec.ReadArrayLen(arr)
			codec.ReadMapLen(m)
		})
		if perRun > 1024 {
			t.Errorf("rejecting a declared length of %d allocated %d bytes per call", n, perRun)
		}
	}
	// Accepting a length allocates nothing at all.
	ok := append(msgp.AppendArrayHeader(nil, 4), 1, 2, 3, 4)
	okMap := append(msgp.AppendMapHeader(nil, 2), 1, 2, 3, 4)
	if allocs := testing.AllocsPerRun(100, func() {
		codec.ReadArrayLen(ok)
		codec.ReadMapLen(okMap)
	}); allocs != 0 {
		t.Errorf("accepting a length allocated %v times", allocs)
	}
}

func TestCorrupt(t *testing.T) {
	if codec.Corrupt("x", nil) != nil {
		t.Fatal("Corrupt(nil) is not nil")
	}
	base := errors.New("bad byte")
	err := codec.Corrupt("Order.Lines", base)
	wantCorrupt(t, "Corrupt(plain)", err)
	if !errors.Is(err, base) {
		t.Fatal("Corrupt lost its cause")
	}
	if !strings.Contains(err.Error(), "Order.Lines") {
		t.Fatalf("Corrupt message %q does not name what failed", err)
	}
	// An error that already is Corrupt is returned as it is, not wrapped again.
	if again := codec.Corrupt("Order", err); again != err {
		t.Fatalf("Corrupt(Corrupt) = %v, want the same error", again)
	}
	// Another code becomes Corrupt.
	other := quarkerr.New(quarkerr.Timeout, "slow")
	wantCorrupt(t, "Corrupt(timeout)", codec.Corrupt("x", other))
}

func TestCheckDepth(t *testing.T) {
	for _, d := range []int{0, 1, codec.MaxDepth} {
		if err := codec.CheckDepth(d); err != nil {
			t.Fatalf("CheckDepth(%d) = %v", d, err)
		}
	}
	for _, d := range []int{codec.MaxDepth + 1, 1 << 20} {
		err := codec.CheckDepth(d)
		wantCorrupt(t, fmt.Sprintf("CheckDepth(%d)", d), err)
		if !errors.Is(err, codec.ErrTooDeep) {
			t.Fatalf("CheckDepth(%d) = %v, want ErrTooDeep", d, err)
		}
	}
}

func TestCheckSize(t *testing.T) {
	b := make([]byte, 10)
	if err := codec.CheckSize(b, 10); err != nil {
		t.Fatalf("CheckSize(10 bytes, 10) = %v", err)
	}
	// A message too large is well-formed as far as anyone knows: the
	// caller's argument, not corrupt bytes.
	err := codec.CheckSize(b, 9)
	if quarkerr.CodeOf(err) != quarkerr.InvalidArgument || !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("CheckSize(10 bytes, 9) = %v (code %v), want InvalidArgument wrapping ErrTooLarge", err, quarkerr.CodeOf(err))
	}
	// A maximum of 0 or less means DefaultMaxMessageSize.
	for _, max := range []int{0, -1} {
		if err := codec.CheckSize(make([]byte, codec.DefaultMaxMessageSize), max); err != nil {
			t.Fatalf("CheckSize(default size, %d) = %v", max, err)
		}
		err := codec.CheckSize(make([]byte, codec.DefaultMaxMessageSize+1), max)
		if !errors.Is(err, codec.ErrTooLarge) || quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
			t.Fatalf("CheckSize(default size + 1, %d) = %v", max, err)
		}
	}
	if err := codec.CheckSize(nil, 0); err != nil {
		t.Fatalf("CheckSize(nil) = %v", err)
	}
}

func TestCheckTrailing(t *testing.T) {
	if err := codec.CheckTrailing("Order", nil); err != nil {
		t.Fatalf("CheckTrailing(nil) = %v", err)
	}
	if err := codec.CheckTrailing("Order", []byte{}); err != nil {
		t.Fatalf("CheckTrailing(empty) = %v", err)
	}
	err := codec.CheckTrailing("Order", []byte{0xc0, 0xc0})
	wantCorrupt(t, "CheckTrailing", err)
	if !errors.Is(err, codec.ErrTrailing) {
		t.Fatalf("CheckTrailing: %v, want ErrTrailing", err)
	}
	if !strings.Contains(err.Error(), "Order") || !strings.Contains(err.Error(), "2") {
		t.Fatalf("CheckTrailing message %q names neither the type nor the count", err)
	}
}

func TestSkip(t *testing.T) {
	v := msgp.AppendMapHeader(nil, 1)
	v = msgp.AppendString(v, "k")
	v = msgp.AppendArrayHeader(v, 2)
	v = msgp.AppendInt64(v, -1<<40)
	v = msgp.AppendString(v, "s")
	tail := []byte{0x01}
	rest, err := codec.Skip(append(v, tail...))
	if err != nil || !bytes.Equal(rest, tail) {
		t.Fatalf("Skip = %x, %v; want %x", rest, err, tail)
	}
	if _, err := codec.Skip(v[:len(v)-1]); err == nil {
		t.Fatal("Skip(truncated): no error")
	}
	// A huge declared array in a few bytes fails fast.
	if _, err := codec.Skip(append(msgp.AppendArrayHeader(nil, 1<<31), 1, 2, 3)); err == nil {
		t.Fatal("Skip(huge array): no error")
	}
}

// roundTrip encodes err and decodes it, failing t on a decode error or on
// bytes left over.
func roundTrip(t *testing.T, err error) error {
	t.Helper()
	b := codec.AppendError([]byte{0xAA}, err) // appends, keeping the prefix
	if b[0] != 0xAA {
		t.Fatal("AppendError overwrote the buffer's prefix")
	}
	out, rest, derr := codec.ReadError(b[1:])
	if derr != nil {
		t.Fatalf("ReadError(AppendError(%v)) = %v", err, derr)
	}
	if len(rest) != 0 {
		t.Fatalf("ReadError left %d bytes", len(rest))
	}
	return out
}

// asQuark returns err as an *quarkerr.Error, failing t when it is not one.
func asQuark(t *testing.T, err error) *quarkerr.Error {
	t.Helper()
	qe, ok := err.(*quarkerr.Error)
	if !ok {
		t.Fatalf("decoded error %v is %T, want *quarkerr.Error", err, err)
	}
	return qe
}

func TestErrorRoundTripNil(t *testing.T) {
	b := codec.AppendError(nil, nil)
	if !bytes.Equal(b, []byte{0xc0}) {
		t.Fatalf("AppendError(nil) = %x, want c0", b)
	}
	if out := roundTrip(t, nil); out != nil {
		t.Fatalf("nil error came back as %v", out)
	}
}

func TestErrorRoundTripPlain(t *testing.T) {
	plain := errors.New("disk full")
	out := asQuark(t, roundTrip(t, plain))
	if out.Code != quarkerr.Unknown || out.Message != "disk full" {
		t.Fatalf("plain error came back as code %v message %q", out.Code, out.Message)
	}
	if errors.Unwrap(out) != nil {
		t.Fatalf("unregistered error came back with a cause: %v", errors.Unwrap(out))
	}
	// A wrapped plain error keeps its full text.
	wrapped := fmt.Errorf("save account 7: %w", plain)
	out = asQuark(t, roundTrip(t, wrapped))
	if out.Code != quarkerr.Unknown || out.Message != "save account 7: disk full" {
		t.Fatalf("wrapped error came back as code %v message %q", out.Code, out.Message)
	}
	// The concrete type does not survive: only code and message.
	if errors.Is(out, plain) {
		t.Fatal("an unregistered error matched after the round trip")
	}
}

func TestErrorRoundTripCodes(t *testing.T) {
	for c := quarkerr.Unknown; c <= quarkerr.Corrupt; c++ {
		in := quarkerr.New(c, "message for "+c.String())
		out := asQuark(t, roundTrip(t, in))
		if out.Code != c || out.Message != in.Message {
			t.Fatalf("%v came back as %v %q", c, out.Code, out.Message)
		}
		if out.Error() != in.Error() {
			t.Fatalf("Error() changed: %q → %q", in.Error(), out.Error())
		}
		if !errors.Is(out, &quarkerr.Error{Code: c}) {
			t.Fatalf("%v does not match its code after the round trip", c)
		}
	}
	// An empty message stays empty.
	out := asQuark(t, roundTrip(t, quarkerr.New(quarkerr.Timeout, "")))
	if out.Code != quarkerr.Timeout || out.Message != "" || out.Error() != "quark timeout" {
		t.Fatalf("empty-message timeout came back as %v", out)
	}
	// A code this build does not know still travels as its number.
	out = asQuark(t, roundTrip(t, quarkerr.New(quarkerr.Code(200), "future")))
	if out.Code != 200 || out.Message != "future" {
		t.Fatalf("code 200 came back as %v", out)
	}
	// An *Error wrapped by fmt.Errorf keeps its code; the message is the
	// whole chain's text.
	inner := quarkerr.New(quarkerr.Conflict, "etag mismatch")
	wrapped := fmt.Errorf("save: %w", inner)
	out = asQuark(t, roundTrip(t, wrapped))
	if out.Code != quarkerr.Conflict || out.Message != wrapped.Error() {
		t.Fatalf("wrapped conflict came back as %v %q", out.Code, out.Message)
	}
	// Context errors map to their codes.
	out = asQuark(t, roundTrip(t, fmt.Errorf("wait: %w", context.Canceled)))
	if out.Code != quarkerr.Canceled {
		t.Fatalf("context.Canceled came back with code %v", out.Code)
	}
}

func TestErrorRoundTripSentinels(t *testing.T) {
	cases := []struct {
		name     string
		in       error
		sentinel error
		code     quarkerr.Code
	}{
		{"bare", errNotEnough, errNotEnough, quarkerr.Unknown},
		{"wrapped %w", fmt.Errorf("withdraw 60 from 40: %w", errNotEnough), errNotEnough, quarkerr.Unknown},
		{"twice wrapped", fmt.Errorf("transfer: %w", fmt.Errorf("withdraw: %w", errLocked)), errLocked, quarkerr.Unknown},
		{"in an *Error", quarkerr.Errorf(quarkerr.Conflict, "update: %w", errLocked), errLocked, quarkerr.Conflict},
		{"an *Error sentinel", errTypedGone, errTypedGone, quarkerr.NotFound},
		{"wrapped *Error sentinel", fmt.Errorf("load: %w", errTypedGone), errTypedGone, quarkerr.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := asQuark(t, roundTrip(t, c.in))
			if !errors.Is(out, c.sentinel) {
				t.Fatalf("%v: errors.Is(sentinel) is false after the round trip", c.in)
			}
			if out.Code != c.code {
				t.Fatalf("code %v, want %v", out.Code, c.code)
			}
			if out.Error() == "" || !strings.Contains(out.Error(), c.sentinel.Error()) {
				t.Fatalf("message %q lost the sentinel's text", out.Error())
			}
			// It matches only its own sentinel.
			for _, s := range sentinelNames {
				if s.err != c.sentinel && errors.Is(out, s.err) {
					t.Fatalf("also matches %s", s.name)
				}
			}
		})
	}
	// An error matching two sentinels names the first registered.
	both := errors.Join(errLocked, errNotEnough)
	out := roundTrip(t, both)
	if !errors.Is(out, errNotEnough) {
		t.Fatalf("joined error: first registered sentinel lost: %v", out)
	}
	// An unregistered sentinel does not match after the trip.
	if out := roundTrip(t, errNeverSent); errors.Is(out, errNeverSent) {
		t.Fatal("unregistered sentinel matched after the round trip")
	}
}

// wireError builds an error's wire form by hand: a map of the given keys
// and values, each appended by its function.
func wireError(entries ...func([]byte) []byte) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(entries)))
	for _, e := range entries {
		b = e(b)
	}
	return b
}

func kv(k string, v any) func([]byte) []byte {
	return func(b []byte) []byte {
		b = msgp.AppendString(b, k)
		b, err := msgp.AppendIntf(b, v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

func TestReadErrorUnknownSentinelName(t *testing.T) {
	b := wireError(kv("c", uint8(quarkerr.NotFound)), kv("m", "no such thing"), kv("s", "example.com/elsewhere.ErrNoSuchThing"))
	err, rest, derr := codec.ReadError(b)
	if derr != nil || len(rest) != 0 {
		t.Fatalf("ReadError = %v, %d bytes left", derr, len(rest))
	}
	out := asQuark(t, err)
	if out.Code != quarkerr.NotFound || out.Message != "no such thing" || errors.Unwrap(out) != nil {
		t.Fatalf("unknown sentinel: got %v (cause %v)", out, errors.Unwrap(out))
	}
}

func TestReadErrorTolerance(t *testing.T) {
	// Keys in any order, unknown keys skipped, a zero code read as Unknown,
	// missing keys left empty, trailing bytes returned.
	b := wireError(kv("x", []any{int64(1), "two", map[string]any{"3": 3.0}}), kv("m", "late"), kv("c", uint8(0)))
	b = append(b, 0x07)
	err, rest, derr := codec.ReadError(b)
	if derr != nil || !bytes.Equal(rest, []byte{0x07}) {
		t.Fatalf("ReadError = %v, rest %x", derr, rest)
	}
	out := asQuark(t, err)
	if out.Code != quarkerr.Unknown || out.Message != "late" {
		t.Fatalf("got %v %q", out.Code, out.Message)
	}
	err, _, derr = codec.ReadError(wireError())
	if derr != nil || quarkerr.CodeOf(err) != quarkerr.Unknown || asQuark(t, err).Message != "" {
		t.Fatalf("empty map: %v, %v", err, derr)
	}
	// A nil error followed by more bytes.
	err, rest, derr = codec.ReadError([]byte{0xc0, 0x01, 0x02})
	if err != nil || derr != nil || !bytes.Equal(rest, []byte{0x01, 0x02}) {
		t.Fatalf("nil then bytes: %v, %x, %v", err, rest, derr)
	}
}

func TestReadErrorMalformed(t *testing.T) {
	good := codec.AppendError(nil, fmt.Errorf("x: %w", errNotEnough))
	cases := map[string][]byte{
		"empty":             nil,
		"not a map":         msgp.AppendString(nil, "error"),
		"an array":          msgp.AppendArrayHeader(nil, 0),
		"code is a string":  wireError(kv("c", "timeout")),
		"code overflows":    wireError(kv("c", int64(300))),
		"negative code":     wireError(kv("c", int64(-1))),
		"message is an int": wireError(kv("m", int64(5))),
		"sentinel is a map": wireError(kv("s", map[string]any{})),
		"key is an int":     append(msgp.AppendMapHeader(nil, 1), 0x01, 0x01),
		"huge map":          append(msgp.AppendMapHeader(nil, 1<<31), 0xa1, 'c', 0x01),
		"bad unknown value": append(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "z"), 0xc1),
		"invalid prefix":    {0xc1},
	}
	for i := 1; i < len(good); i++ {
		cases[fmt.Sprintf("truncated to %d of %d", i, len(good))] = good[:i]
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			err, rest, derr := codec.ReadError(b)
			wantCorrupt(t, "ReadError", derr)
			if err != nil {
				t.Fatalf("malformed input also returned error value %v", err)
			}
			if !bytes.Equal(rest, b) {
				t.Fatalf("malformed input: rest is %x, want the whole input", rest)
			}
		})
	}
}

// TestReadErrorDepthLimit: an unknown field of an error is skipped within
// MaxDepth, as every decoder skips one, not within msgp's own bound.
func TestReadErrorDepthLimit(t *testing.T) {
	nested := func(depth int) []byte {
		b := msgp.AppendString(msgp.AppendMapHeader(nil, 1), "x")
		return append(append(b, bytes.Repeat([]byte{0x91}, depth)...), 0x01)
	}
	if _, _, derr := codec.ReadError(nested(codec.MaxDepth)); derr != nil {
		t.Fatalf("an unknown field %d deep: %v, want it skipped", codec.MaxDepth, derr)
	}
	for _, depth := range []int{codec.MaxDepth + 2, 10_000} {
		b := nested(depth)
		err, rest, derr := codec.ReadError(b)
		wantCorrupt(t, "ReadError", derr)
		if !errors.Is(derr, codec.ErrTooDeep) {
			t.Fatalf("an unknown field %d deep: %v, want ErrTooDeep", depth, derr)
		}
		if err != nil || !bytes.Equal(rest, b) {
			t.Fatalf("an unknown field %d deep: error value %v, %d bytes left; want none and the whole input", depth, err, len(rest))
		}
	}
}

func TestRegisterError(t *testing.T) {
	// The same value again is fine.
	codec.RegisterError(sentinelNames[0].name, sentinelNames[0].err)
	defer func() {
		if recover() == nil {
			t.Fatal("registering a second value under a taken name did not panic")
		}
	}()
	codec.RegisterError(sentinelNames[0].name, errors.New("impostor"))
}

func FuzzReadError(f *testing.F) {
	for _, err := range []error{
		nil,
		errors.New("plain"),
		quarkerr.New(quarkerr.Timeout, "slow"),
		quarkerr.New(quarkerr.Code(250), ""),
		fmt.Errorf("wrapped: %w", errNotEnough),
		quarkerr.Errorf(quarkerr.Conflict, "c: %w", errLocked),
		errTypedGone,
	} {
		f.Add(codec.AppendError(nil, err))
	}
	f.Add(wireError(kv("s", "example.com/elsewhere.ErrX"), kv("q", []any{nil, true})))
	f.Add(append(msgp.AppendMapHeader(nil, 1<<31), 0xa1, 'c'))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		err, rest, derr := codec.ReadError(b)
		if derr != nil {
			wantCorrupt(t, "ReadError", derr)
			if err != nil {
				t.Fatalf("decode failure returned error value %v", err)
			}
			return
		}
		if len(rest) > len(b) || !bytes.Equal(rest, b[len(b)-len(rest):]) {
			t.Fatalf("rest %x is not a suffix of the input %x", rest, b)
		}
		// What decodes re-encodes to an error with the same code, message
		// and sentinel.
		again, rest2, derr := codec.ReadError(codec.AppendError(nil, err))
		if derr != nil || len(rest2) != 0 {
			t.Fatalf("re-decoding %v: %v, %d bytes left", err, derr, len(rest2))
		}
		if err == nil {
			if again != nil {
				t.Fatalf("nil came back as %v", again)
			}
			return
		}
		e1, e2 := asQuark(t, err), asQuark(t, again)
		if e1.Code != e2.Code || e1.Message != e2.Message {
			t.Fatalf("re-decoded %v as %v", e1, e2)
		}
		if cause := errors.Unwrap(e1); cause != nil && !errors.Is(e2, cause) {
			t.Fatalf("re-decoded %v lost its sentinel %v", e1, cause)
		}
	})
}
