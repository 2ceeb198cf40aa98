package codectest_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// The actor messages' codecs: every method of every test actor type, its
// arguments and its results, decoded from bytes into a message made by the
// type's NewMessage, as a call arriving from another silo would be.

var actorTypes = []*quark.TypeDesc{
	testactors.CounterType,
	testactors.ProbeType,
	testactors.ReentrantProbeType,
	testactors.StatelessProbeType,
	testactors.MutatorType,
}

// half is the arguments or the results of one method.
type half struct {
	name    string
	typ     *quark.TypeDesc
	method  *quark.MethodDesc
	results bool
}

func (h half) new(t tb) quark.Message {
	t.Helper()
	m := h.typ.NewMessage(h.method.ID)
	if m == nil {
		t.Fatalf("%s: NewMessage(%#x) = nil", h.name, h.method.ID)
	}
	if m.Method() != h.method {
		t.Fatalf("%s: NewMessage(%#x) made a message of %s", h.name, h.method.ID, m.Method().Name)
	}
	return m
}

// encode returns m's encoding of this half.
func (h half) encode(t tb, m quark.Message) []byte {
	t.Helper()
	enc := m.AppendArgs
	if h.results {
		enc = m.AppendResults
	}
	b, err := enc(nil)
	if err != nil {
		t.Fatalf("%s: %v", h.name, err)
	}
	return b
}

// read decodes b into m, turning a panic into a test failure.
func (h half) read(t tb, m quark.Message, b []byte) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: decoding %x panicked: %v", h.name, b, r)
		}
	}()
	if h.results {
		return m.ReadResults(b)
	}
	return m.ReadArgs(b)
}

func halves() []half {
	var hs []half
	for _, typ := range actorTypes {
		for _, m := range typ.Methods {
			hs = append(hs,
				half{fmt.Sprintf("%s.%s args", typ.Name, m.Name), typ, m, false},
				half{fmt.Sprintf("%s.%s results", typ.Name, m.Name), typ, m, true})
		}
	}
	return hs
}

func TestNewMessageUnknownMethod(t *testing.T) {
	for _, typ := range actorTypes {
		if m := typ.NewMessage(0); m != nil {
			t.Errorf("%s.NewMessage(0) = %s, want nil", typ.Name, m.Method().Name)
		}
	}
}

// TestMessagesRefuseHostileInput: what a decoder refuses, ReadArgs and
// ReadResults refuse too, with a Corrupt error and without panicking.
func TestMessagesRefuseHostileInput(t *testing.T) {
	for _, h := range halves() {
		t.Run(h.name, func(t *testing.T) {
			m := h.new(t)
			defer m.Release()
			zero := h.encode(t, m)
			if err := h.read(t, m, zero); err != nil {
				t.Fatalf("decoding the zero value's encoding %x: %v", zero, err)
			}
			inputs := map[string][]byte{
				"empty":              nil,
				"invalid":            {0xc1},
				"a string":           raw("args"),
				"an array":           raw([]any{}),
				"trailing":           append(bytes.Clone(zero), 0xc0),
				"2^31 fields":        map32(1 << 31),
				"deep unknown field": obj("Zz", append(bytes.Repeat([]byte{0x91}, 200_000), 0x01)),
			}
			for i := range len(zero) {
				inputs[fmt.Sprintf("truncated to %d", i)] = zero[:i]
			}
			for name, in := range inputs {
				if err := h.read(t, m, in); !isCorrupt(err) {
					t.Errorf("%s: %v, want Corrupt", name, err)
				}
			}
		})
	}
}

// TestMessageAllocationIsBounded: ReadArgs and ReadResults keep the
// decoders' allocation bound, each with a budget of its own input's size:
// 64 KiB of short keys to empty slices, decoded as Mutator.Merge's
// arguments and results.
func TestMessageAllocationIsBounded(t *testing.T) {
	for _, h := range halves() {
		if h.method.Name != "Merge" {
			continue
		}
		m := h.new(t)
		field := "Index"
		if h.results {
			field = "R0"
		}
		in := obj(field, names(64<<10, []byte{0x90}, func(b []byte) []byte { return b }))
		var err error
		n := heapBytes(func() { err = h.read(t, m, in) })
		if n > allocBound(len(in)) {
			t.Errorf("%s: decoding %d bytes allocated %d, more than %d", h.name, len(in), n, allocBound(len(in)))
		}
		if err != nil {
			t.Errorf("%s: %v", h.name, err)
		}
		m.Release()
	}
}

// TestMessageFieldsAreSkippedAndDefaulted: an unknown key in the arguments
// is skipped and a missing one leaves its field zero, as for any struct.
func TestMessageFieldsAreSkippedAndDefaulted(t *testing.T) {
	h := half{"Counter.Add args", testactors.CounterType, testactors.CounterType.Methods[0], false}
	if h.method.Name != "Add" {
		t.Fatalf("method 0 of Counter is %s", h.method.Name)
	}
	m := h.new(t)
	defer m.Release()
	in := obj("Extra", raw([]any{"x", int64(1)}), "N", raw(int64(41)))
	if err := h.read(t, m, in); err != nil {
		t.Fatal(err)
	}
	if keys := mapKeys(t, h.encode(t, m)); len(keys) != 1 || keys[0] != "N" {
		t.Fatalf("Add's arguments are keyed %q, want [N]", keys)
	}
	if got := field(t, h.encode(t, m), "N"); !bytes.Equal(got, raw(int64(41))) {
		t.Fatalf("N = %x after decoding %x", got, in)
	}
	if err := h.read(t, m, obj()); err != nil {
		t.Fatal(err)
	}
}

// FuzzMessages decodes arbitrary bytes as the arguments or results of any
// test actor method, picked by the first byte: never a panic, no more
// allocated than the budget allows, only Corrupt errors, and what decodes
// re-encodes stably.
func FuzzMessages(f *testing.F) {
	hs := halves()
	for i, h := range hs {
		m := h.new(f)
		f.Add(append([]byte{byte(i)}, h.encode(f, m)...))
		m.Release()
	}
	f.Add(append([]byte{0}, obj("N", raw(int64(-1)), "X", raw(nil))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		h := hs[int(b[0])%len(hs)]
		m := h.new(t)
		defer m.Release()
		var err error
		if n := allocated(func() { err = h.read(t, m, b[1:]) }); n > allocBound(len(b)-1) {
			t.Fatalf("%s: decoding %x allocated %d bytes, more than %d", h.name, b[1:], n, allocBound(len(b)-1))
		}
		if err != nil {
			if !isCorrupt(err) {
				t.Fatalf("%s: %v (%T), want a Corrupt *quarkerr.Error", h.name, err, err)
			}
			return
		}
		enc := h.encode(t, m)
		m2 := h.new(t)
		defer m2.Release()
		if err := h.read(t, m2, enc); err != nil {
			t.Fatalf("%s: %x decoded, but its re-encoding %x does not: %v", h.name, b[1:], enc, err)
		}
		if again := h.encode(t, m2); !bytes.Equal(canonicalOf(t, again), canonicalOf(t, enc)) {
			t.Fatalf("%s: encoding is not stable: %x, then %x", h.name, enc, again)
		}
	})
}
