package codec_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/quarkgo/quark/codec"
	"github.com/tinylib/msgp/msgp"
)

// stringsInput encodes strings of every length from 0 to 40, repeated, so
// that short ones fill several chunks and long ones are among them.
func stringsInput() ([]byte, []string) {
	var b []byte
	var want []string
	for r := range 30 {
		for n := range 41 {
			s := strings.Repeat(string(rune('a'+(r+n)%26)), n)
			b = msgp.AppendString(b, s)
			want = append(want, s)
		}
	}
	return b, want
}

// TestReadStringCopies: the strings ReadString returns are what was
// encoded, and stay so when the input is overwritten afterwards (frames
// are reused) and when later strings are read into the same chunk.
func TestReadStringCopies(t *testing.T) {
	in, want := stringsInput()
	budget := codec.NewBudget(len(in))
	var got []string
	rest := in
	for range want {
		var s string
		var err error
		if s, rest, err = budget.ReadString(rest); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left", len(rest))
	}
	for i := range in {
		in[i] = 0xff
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// TestReadStringErrors: ReadString accepts and refuses what
// msgp.ReadStringBytes does, with the same errors and the same rest.
func TestReadStringErrors(t *testing.T) {
	inputs := [][]byte{
		nil,
		{0xa3, 'a', 'b'},       // fixstr cut short
		{0xa3, 'a', 'b', 'c'},  // fixstr
		{0xa0},                 // empty
		{0xd9, 0x02, 'a', 'b'}, // str8
		{0xd9, 0x05, 'a'},      // str8 cut short
		{0xc4, 0x01, 'a'},      // bin
		{0x01},                 // int
		{0xc0},                 // nil
		msgp.AppendString(nil, strings.Repeat("x", 100)),
	}
	for _, in := range inputs {
		want, wantRest, wantErr := msgp.ReadStringBytes(in)
		budget := codec.NewBudget(len(in))
		got, rest, err := budget.ReadString(in)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("% x: error %v, want %v", in, err, wantErr)
			continue
		}
		if err == nil && (got != want || !bytes.Equal(rest, wantRest)) {
			t.Errorf("% x: %q, rest % x; want %q, % x", in, got, rest, want, wantRest)
		}
	}
}

// TestShortStringsWithinReserve: many short strings, which share chunks,
// take far less than the 8 bytes per byte of input that NewBudget keeps
// for copies of strings, and no more than when each had its own
// allocation (16 bytes for the smallest).
func TestShortStringsWithinReserve(t *testing.T) {
	for _, n := range []int{1, 2, 3, 31, 32, 33} {
		var in []byte
		for range 10000 {
			in = msgp.AppendString(in, strings.Repeat("s", n))
		}
		got := ^uint64(0)
		for range 3 {
			budget := codec.NewBudget(len(in))
			strs := make([]string, 0, 10000)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rest := in
			for range 10000 {
				var s string
				var err error
				if s, rest, err = budget.ReadString(rest); err != nil {
					t.Fatal(err)
				}
				strs = append(strs, s)
			}
			runtime.ReadMemStats(&after)
			sinkStrings = strs
			got = min(got, after.TotalAlloc-before.TotalAlloc)
		}
		limit := uint64(8 * len(in))
		if n <= 32 {
			// Chunks at least 7/8 full, and rounding.
			limit = uint64(len(in)) * 3 / 2
		}
		if got > limit {
			t.Errorf("10000 strings of %d bytes (%d of input) allocated %d, more than %d", n, len(in), got, limit)
		}
	}
}
