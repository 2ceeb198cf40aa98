package quark_test

import (
	"context"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

func TestKeyKinds(t *testing.T) {
	u := [16]byte{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}
	cases := []struct {
		key  quark.Key
		kind quark.KeyKind
		str  string
	}{
		{quark.StringKey("alice"), quark.KeyString, "alice"},
		{quark.StringKey(""), quark.KeyString, ""},
		{quark.IntKey(42), quark.KeyInt, "42"},
		{quark.IntKey(-7), quark.KeyInt, "-7"},
		{quark.UUIDKey(u), quark.KeyUUID, "123e4567-e89b-12d3-a456-426614174000"},
		{quark.CompoundKey(quark.IntKey(42), "eu"), quark.KeyInt, "42+eu"},
		{quark.CompoundKey(quark.StringKey("alice"), "savings"), quark.KeyString, "alice+savings"},
		{quark.CompoundKey(quark.UUIDKey(u), ""), quark.KeyUUID, "123e4567-e89b-12d3-a456-426614174000+"},
	}
	seen := make(chan quark.ID, len(cases))
	h := &hooks{run: func(_ context.Context, p *probe, step string) (string, error) {
		seen <- p.a.ID()
		return step, nil
	}}
	s := newSilo(t, registerProbes(h))
	for _, c := range cases {
		if c.key.Kind() != c.kind || c.key.String() != c.str {
			t.Errorf("%v: kind %v string %q, want %v %q", c.key, c.key.Kind(), c.key.String(), c.kind, c.str)
		}
		if _, err := testactors.NewProbeRef(s, c.key).Run(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		if id := <-seen; id.Key != c.key {
			t.Errorf("activation key %v, want %v", id.Key, c.key)
		}
	}
	// Every key above is distinct, so each got its own activation.
	if n := s.Stats().Activations; n != int64(len(cases)) {
		t.Fatalf("%d activations for %d distinct keys", n, len(cases))
	}
	if got := quark.UUIDKey(u).UUID(); got != u {
		t.Fatalf("UUID round trip: %x", got)
	}
	if ext, ok := quark.CompoundKey(quark.IntKey(1), "x").Extension(); !ok || ext != "x" {
		t.Fatalf("Extension = %q, %v", ext, ok)
	}
	if _, ok := quark.IntKey(1).Extension(); ok {
		t.Fatal("plain key reports an extension")
	}
	if quark.IntKey(1) == quark.CompoundKey(quark.IntKey(1), "") {
		t.Fatal("a compound key with an empty extension equals the plain key")
	}
	if quark.StringKey("1") == quark.IntKey(1) {
		t.Fatal("keys of different kinds compare equal")
	}
	if !(quark.Key{}).IsZero() || quark.IntKey(0).IsZero() {
		t.Fatal("IsZero")
	}
}

func TestKeyBinaryRoundTrip(t *testing.T) {
	u := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, k := range []quark.Key{
		{}, quark.StringKey(""), quark.StringKey("alice"), quark.IntKey(-1), quark.IntKey(1 << 62),
		quark.UUIDKey(u), quark.CompoundKey(quark.IntKey(7), "eu"), quark.CompoundKey(quark.StringKey("a"), ""),
	} {
		b, err := k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got quark.Key
		if err := got.UnmarshalBinary(b); err != nil || got != k {
			t.Fatalf("%v: round trip gave %v, %v", k, got, err)
		}
	}
	for _, bad := range [][]byte{{9}, {byte(quark.KeyInt), 1}, {byte(quark.KeyString), 5, 'a'}, {byte(quark.KeyUUID), 1, 2}, {byte(quark.KeyInt), 0, 0, 0, 0, 0, 0, 0, 1, 9}} {
		var k quark.Key
		if err := k.UnmarshalBinary(bad); quark.CodeOf(err) != quark.CodeCorrupt {
			t.Errorf("%x: err = %v, want CodeCorrupt", bad, err)
		}
	}
}

func FuzzKeyUnmarshalBinary(f *testing.F) {
	for _, k := range []quark.Key{quark.StringKey("alice"), quark.IntKey(42), quark.CompoundKey(quark.IntKey(1), "x")} {
		b, _ := k.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var k quark.Key
		if err := k.UnmarshalBinary(b); err != nil {
			return
		}
		again, _ := k.MarshalBinary()
		var k2 quark.Key
		if err := k2.UnmarshalBinary(again); err != nil || k2 != k {
			t.Fatalf("re-decode of %x: %v, %v", again, k2, err)
		}
	})
}
