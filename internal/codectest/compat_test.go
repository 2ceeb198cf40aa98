package codectest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/codectest"
	v1 "github.com/quarkgo/quark/internal/codectest/v1"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
	"github.com/tinylib/msgp/msgp"
	"pgregory.net/rapid"
)

// shared is what both versions of Customer hold: the same fields under the
// same keys (Balance in v1 is Credit in v2, both tagged "balance").
type shared struct {
	ID      int64
	Name    string
	Tags    []string
	Balance int64
	Street  string
	City    string
}

func common1(c v1.Customer) shared {
	return shared{c.ID, c.Name, c.Tags, c.Balance, c.Address.Street, c.Address.City}
}

func common2(c v2.Customer) shared {
	return shared{c.ID, c.Name, c.Tags, c.Credit, c.Address.Street, c.Address.City}
}

func TestV1WriterV2Reader(t *testing.T) {
	old := fixtureCustomerV1()
	got, err := decode[v2.Customer](t, encode(old))
	if err != nil {
		t.Fatalf("v2 cannot read v1: %v", err)
	}
	if d := diff(common1(old), common2(got)); d != "" {
		t.Fatalf("v2 read v1's shared fields wrong: %s", d)
	}
	// Fields v1 does not have are left zero.
	if got.Phone != "" || got.Loyalty != nil || !got.Since.IsZero() || got.Referrer != nil || got.Address.Country != "" {
		t.Fatalf("fields v1 never wrote are set: %+v", got)
	}
}

func TestV2WriterV1Reader(t *testing.T) {
	cur := fixtureCustomerV2()
	got, err := decode[v1.Customer](t, encode(cur))
	if err != nil {
		t.Fatalf("v1 cannot read v2: %v", err)
	}
	if d := diff(common2(cur), common1(got)); d != "" {
		t.Fatalf("v1 read v2's shared fields wrong: %s", d)
	}
	// v2's new fields (a string, a map of slices, a time, a nested record)
	// are skipped; the fields v2 dropped are left zero.
	if got.Email != "" || got.Notes != nil || got.Address.Zip != "" {
		t.Fatalf("fields v2 never wrote are set: %+v", got)
	}
}

// TestVersionsThereAndBack: a v1 record rewritten by v2 keeps the shared
// fields and loses only v1's own.
func TestVersionsThereAndBack(t *testing.T) {
	old := fixtureCustomerV1()
	mid, err := decode[v2.Customer](t, encode(old))
	if err != nil {
		t.Fatal(err)
	}
	mid.Phone = "+44 20 7946 0000"
	back, err := decode[v1.Customer](t, encode(mid))
	if err != nil {
		t.Fatal(err)
	}
	want := old
	want.Email, want.Notes, want.Address.Zip = "", nil, ""
	if d := diff(want, back); d != "" {
		t.Fatalf("v1 → v2 → v1: %s", d)
	}
}

func TestVersionsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		a := gen[v1.Customer]().Draw(rt, "v1")
		nilify(rt, &a)
		b, err := decode[v2.Customer](rt, encode(a))
		if err != nil {
			rt.Fatalf("v2 cannot read v1: %v", err)
		}
		if d := diff(common1(a), common2(b)); d != "" {
			rt.Fatalf("v1 → v2: %s", d)
		}
		c := gen[v2.Customer]().Draw(rt, "v2")
		nilify(rt, &c)
		d, err := decode[v1.Customer](rt, encode(c))
		if err != nil {
			rt.Fatalf("v1 cannot read v2: %v", err)
		}
		if df := diff(common2(c), common1(d)); df != "" {
			rt.Fatalf("v2 → v1: %s", df)
		}
	})
}

func TestRenamedFieldKeepsItsKey(t *testing.T) {
	for name, b := range map[string][]byte{"v1": encode(fixtureCustomerV1()), "v2": encode(fixtureCustomerV2())} {
		keys := mapKeys(t, b)
		if !slices.Contains(keys, "balance") || slices.Contains(keys, "Balance") || slices.Contains(keys, "Credit") {
			t.Errorf("%s keys %q: want the tagged key \"balance\" only", name, keys)
		}
	}
}

// unknownValues are values of every MessagePack type, to be skipped as
// fields a reader does not know.
func unknownValues() map[string][]byte {
	ext, err := msgp.AppendExtension(nil, &msgp.RawExtension{Type: 42, Data: []byte{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	nested := msgp.AppendMapHeader(nil, 2)
	nested = msgp.AppendString(nested, "a")
	nested = msgp.AppendArrayHeader(nested, 3)
	nested = msgp.AppendNil(nested)
	nested = msgp.AppendBytes(nested, []byte{0xc1}) // a reserved byte, but inside a bin
	nested = msgp.AppendMapHeader(nested, 0)
	nested = msgp.AppendInt64(nested, 1)
	nested = msgp.AppendTime(nested, time.Unix(1, 2))
	return map[string][]byte{
		"nil":    msgp.AppendNil(nil),
		"bool":   msgp.AppendBool(nil, false),
		"int":    msgp.AppendInt64(nil, -1<<60),
		"uint":   msgp.AppendUint64(nil, 1<<63),
		"float":  msgp.AppendFloat64(nil, 1.5),
		"f32":    msgp.AppendFloat32(nil, 2.5),
		"string": msgp.AppendString(nil, "surprise"),
		"bin":    msgp.AppendBytes(nil, make([]byte, 300)),
		"ext":    ext,
		"nested": nested,
	}
}

// withField returns the encoded map b with one more entry, key: value, at
// the front or at the back.
func withField(t tb, b []byte, key string, value []byte, front bool) []byte {
	t.Helper()
	n, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("not a map: %v", err)
	}
	entry := append(msgp.AppendString(nil, key), value...)
	out := msgp.AppendMapHeader(nil, n+1)
	if front {
		return append(append(out, entry...), rest...)
	}
	return append(append(out, rest...), entry...)
}

func TestUnknownFieldsAreSkipped(t *testing.T) {
	order := fixtureOrder()
	b := encode(order)
	for name, v := range unknownValues() {
		for _, front := range []bool{true, false} {
			got, err := decode[codectest.Order](t, withField(t, b, "Unknown"+name, v, front))
			if err != nil {
				t.Fatalf("unknown %s field (front %v): %v", name, front, err)
			}
			if d := diff(order, got); d != "" {
				t.Fatalf("unknown %s field (front %v): %s", name, front, d)
			}
		}
	}
	// A key that differs from a field's only in case is another key.
	got, err := decode[codectest.Order](t, withField(t, encode(codectest.Order{}), "customer", msgp.AppendString(nil, "x"), true))
	if err != nil || got.Customer != "" {
		t.Fatalf("lower-case key: %q, %v", got.Customer, err)
	}
}

func TestMissingFieldsAreZero(t *testing.T) {
	got, err := decode[codectest.Order](t, msgp.AppendMapHeader(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(codectest.Order{}, got); d != "" {
		t.Fatalf("empty map: %s", d)
	}
	only := msgp.AppendMapHeader(nil, 1)
	only = msgp.AppendString(only, "Customer")
	only = msgp.AppendString(only, "Ada")
	got, err = decode[codectest.Order](t, only)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(codectest.Order{Customer: "Ada"}, got); d != "" {
		t.Fatalf("one field: %s", d)
	}
}

// TestUnknownKeysOfKnownLengths: a key as long as a field's, differing only
// in its last byte, is another key, skipped whatever its value, wherever
// it comes: decoders match keys by length first.
func TestUnknownKeysOfKnownLengths(t *testing.T) {
	ten := fixtureTen()
	b := marshal(t, &ten, nil)
	for _, key := range []string{"ID", "Version", "Score", "Active", "Name", "Samples", "Counters", "Updated", "Region", "Flags"} {
		other := key[:len(key)-1] + "~"
		for name, v := range unknownValues() {
			for _, front := range []bool{true, false} {
				var got codectest.Ten
				if err := got.UnmarshalQuark(withField(t, b, other, v, front)); err != nil {
					t.Fatalf("key %q, %s value (front %v): %v", other, name, front, err)
				}
				if d := diff(ten, got); d != "" {
					t.Fatalf("key %q, %s value (front %v): %s", other, name, front, d)
				}
			}
		}
	}
}
