package quark_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/storage"
)

var stateTestUUID = [16]byte{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}

// collidingKeys are pairs of distinct keys whose String forms are equal: the
// layout before storage keys kept both in one record.
var collidingKeys = []struct {
	name string
	a, b quark.Key
}{
	{"int and string", quark.IntKey(7), quark.StringKey("7")},
	{"compound and string with plus", quark.CompoundKey(quark.StringKey("a"), "b"), quark.StringKey("a+b")},
	{"uuid and its canonical string", quark.UUIDKey(stateTestUUID), quark.StringKey("123e4567-e89b-12d3-a456-426614174000")},
	{"empty extension and trailing plus", quark.CompoundKey(quark.StringKey("k"), ""), quark.StringKey("k+")},
	{"compound int and string", quark.CompoundKey(quark.IntKey(1), "eu"), quark.StringKey("1+eu")},
	{"extension with plus", quark.CompoundKey(quark.StringKey("a+b"), "c"), quark.CompoundKey(quark.StringKey("a"), "b+c")},
}

func TestStateKeysAreDistinct(t *testing.T) {
	everyStateStore(t, func(t *testing.T, st storage.Store) {
		ctx := context.Background()
		s1 := newSilo(t, registerDurable(nil), quark.WithStore(st))
		for _, c := range collidingKeys {
			if n, err := testactors.NewCounterRef(s1, c.a).Add(ctx, 1); err != nil || n != 1 {
				t.Fatalf("%s: Add(%v, 1) = %d, %v; want 1", c.name, c.a, n, err)
			}
			if n, err := testactors.NewCounterRef(s1, c.b).Add(ctx, 10); err != nil || n != 10 {
				t.Fatalf("%s: Add(%v, 10) after Add(%v, 1) = %d, %v; want 10: the two actors share a record", c.name, c.b, c.a, n, err)
			}
		}
		if err := s1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		// A new silo loads each actor's own record.
		s2 := newSilo(t, registerDurable(nil), quark.WithStore(st))
		for _, c := range collidingKeys {
			for k, want := range map[quark.Key]int64{c.a: 1, c.b: 10} {
				if n, err := testactors.NewCounterRef(s2, k).Get(ctx); err != nil || n != want {
					t.Fatalf("%s: reloaded %v = %d, %v; want %d", c.name, k, n, err, want)
				}
			}
		}
	})
}

func TestStorageKey(t *testing.T) {
	cases := []struct {
		id   quark.ID
		want string
	}{
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("alice")}, "bank.Account:str:alice"},
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("")}, "bank.Account:str:"},
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("7")}, "bank.Account:str:7"},
		{quark.ID{Type: "bank.Account", Key: quark.IntKey(7)}, "bank.Account:int:7"},
		{quark.ID{Type: "bank.Account", Key: quark.IntKey(-7)}, "bank.Account:int:-7"},
		{quark.ID{Type: "bank.Account", Key: quark.UUIDKey(stateTestUUID)}, "bank.Account:uuid:123e4567-e89b-12d3-a456-426614174000"},
		{quark.ID{Type: "bank.Account", Key: quark.CompoundKey(quark.StringKey("a"), "b")}, "bank.Account:str:a+b"},
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("a+b")}, "bank.Account:str:a%2Bb"},
		{quark.ID{Type: "bank.Account", Key: quark.CompoundKey(quark.StringKey("k"), "")}, "bank.Account:str:k+"},
		{quark.ID{Type: "bank.Account", Key: quark.CompoundKey(quark.IntKey(42), "eu/west")}, "bank.Account:int:42+eu%2Fwest"},
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("50% a/b:c")}, "bank.Account:str:50%25 a%2Fb%3Ac"},
		{quark.ID{Type: "bank.Account", Key: quark.StringKey("zürich\x00\n\xff")}, "bank.Account:str:zürich%00%0A%FF"},
		{quark.ID{Type: "odd/type:name", Key: quark.StringKey("x")}, "odd%2Ftype%3Aname:str:x"},
		{quark.ID{Type: "T", Key: quark.StringKey(`C:\dir`)}, "T:str:C%3A%5Cdir"},
	}
	for _, c := range cases {
		if got := c.id.StorageKey(); got != c.want {
			t.Errorf("%v (%v): StorageKey = %q, want %q", c.id, c.id.Key.Kind(), got, c.want)
		}
	}
}

// fuzzStateKey builds a key of any kind from fuzzed parts.
func fuzzStateKey(kind uint8, s string, n int64, compound bool, ext string) quark.Key {
	var k quark.Key
	switch kind % 3 {
	case 0:
		k = quark.StringKey(s)
	case 1:
		k = quark.IntKey(n)
	default:
		var u [16]byte
		copy(u[:], s)
		k = quark.UUIDKey(u)
	}
	if compound {
		k = quark.CompoundKey(k, ext)
	}
	return k
}

// FuzzStorageKeyInjective checks that two IDs share a storage key only when
// they are equal, and that no storage key can be mistaken for a key of the
// layout before (which always holds a '/').
func FuzzStorageKeyInjective(f *testing.F) {
	f.Add("T", uint8(0), "7", int64(0), false, "", "T", uint8(1), "", int64(7), false, "")
	f.Add("T", uint8(0), "a", int64(0), true, "b", "T", uint8(0), "a+b", int64(0), false, "")
	f.Add("T", uint8(0), "k", int64(0), true, "", "T", uint8(0), "k+", int64(0), false, "")
	f.Add("a/b", uint8(0), "c", int64(0), false, "", "a", uint8(0), "b/c", int64(0), false, "")
	f.Add("a:str:b", uint8(0), "c", int64(0), false, "", "a", uint8(0), "b:str:c", int64(0), false, "")
	f.Fuzz(func(t *testing.T, t1 string, k1 uint8, s1 string, n1 int64, c1 bool, e1 string,
		t2 string, k2 uint8, s2 string, n2 int64, c2 bool, e2 string) {
		a := quark.ID{Type: t1, Key: fuzzStateKey(k1, s1, n1, c1, e1)}
		b := quark.ID{Type: t2, Key: fuzzStateKey(k2, s2, n2, c2, e2)}
		ka, kb := a.StorageKey(), b.StorageKey()
		if (a == b) != (ka == kb) {
			t.Fatalf("%#v and %#v: storage keys %q and %q", a, b, ka, kb)
		}
		if strings.Contains(ka, "/") {
			t.Fatalf("storage key %q holds a '/'", ka)
		}
	})
}

// counterValue decodes the counter state stored under key.
func counterValue(t *testing.T, st storage.Store, key string) (testactors.CounterState, bool) {
	t.Helper()
	rec, err := st.Read(context.Background(), key)
	if quark.CodeOf(err) == quark.CodeNotFound {
		return testactors.CounterState{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var v testactors.CounterState
	if err := v.UnmarshalQuark(rec.Value); err != nil {
		t.Fatal(err)
	}
	return v, true
}

func writeLegacy(t *testing.T, st storage.Store, key string, total int64) {
	t.Helper()
	v := testactors.CounterState{Total: total, Updates: 1}
	b, err := v.MarshalQuark(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(context.Background(), key, b, ""); err != nil {
		t.Fatal(err)
	}
}

func counterID(k quark.Key) quark.ID { return quark.ID{Type: testactors.CounterType.Name, Key: k} }

func TestStateLegacyRecordMigrates(t *testing.T) {
	everyStateStore(t, func(t *testing.T, st storage.Store) {
		ctx := context.Background()
		// Records written by the layout before storage keys: "type/key".
		writeLegacy(t, st, "testactors.Counter/alice", 5)
		writeLegacy(t, st, "testactors.Counter/", 8) // StringKey("")
		s := newSilo(t, registerDurable(nil), quark.WithStore(st))
		for k, want := range map[quark.Key]int64{quark.StringKey("alice"): 6, quark.StringKey(""): 9} {
			if n, err := testactors.NewCounterRef(s, k).Add(ctx, 1); err != nil || n != want {
				t.Fatalf("Add(%v, 1) over a legacy record = %d, %v; want %d", k, n, err, want)
			}
			if v, ok := counterValue(t, st, counterID(k).StorageKey()); !ok || v.Total != want {
				t.Fatalf("%v: new record %+v (%v), want total %d", k, v, ok, want)
			}
			if _, ok := counterValue(t, st, counterID(k).String()); ok {
				t.Fatalf("%v: the legacy record is still there after the migration", k)
			}
		}
	})
}

func mustReadRecord(t *testing.T, st storage.Store, key string) storage.Record {
	t.Helper()
	rec, err := st.Read(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestStateLegacyAmbiguousRecordIsAnError(t *testing.T) {
	cases := []struct {
		legacy string
		key    quark.Key
	}{
		{"testactors.Counter/7", quark.IntKey(7)},
		{"testactors.Counter/7", quark.StringKey("7")},
		{"testactors.Counter/a+b", quark.StringKey("a+b")},
		{"testactors.Counter/a+b", quark.CompoundKey(quark.StringKey("a"), "b")},
		{"testactors.Counter/123e4567-e89b-12d3-a456-426614174000", quark.UUIDKey(stateTestUUID)},
		{"testactors.Counter/123e4567-e89b-12d3-a456-426614174000", quark.StringKey("123e4567-e89b-12d3-a456-426614174000")},
		{"testactors.Counter/x/y", quark.StringKey("x/y")},
	}
	everyStateStore(t, func(t *testing.T, st storage.Store) {
		ctx := context.Background()
		for _, c := range cases {
			writeLegacy(t, st, c.legacy, 5)
			s := newSilo(t, registerDurable(nil), quark.WithStore(st))
			_, err := testactors.NewCounterRef(s, c.key).Get(ctx)
			if quark.CodeOf(err) != quark.CodeCorrupt || !strings.Contains(err.Error(), c.legacy) {
				t.Fatalf("%v over the ambiguous legacy record %q: %v; want CodeCorrupt naming the record", c.key, c.legacy, err)
			}
			if v, ok := counterValue(t, st, c.legacy); !ok || v.Total != 5 {
				t.Fatalf("the legacy record %q changed: %+v, %v", c.legacy, v, ok)
			}
			// The owner, named explicitly, takes the record.
			moved, err := quark.MigrateLegacyState(ctx, st, counterID(c.key))
			if err != nil || !moved {
				t.Fatalf("MigrateLegacyState(%v) = %v, %v", c.key, moved, err)
			}
			if n, err := testactors.NewCounterRef(s, c.key).Add(ctx, 1); err != nil || n != 6 {
				t.Fatalf("%v after MigrateLegacyState: %d, %v; want 6", c.key, n, err)
			}
			if _, ok := counterValue(t, st, c.legacy); ok {
				t.Fatalf("legacy record %q left after MigrateLegacyState", c.legacy)
			}
			if moved, err := quark.MigrateLegacyState(ctx, st, counterID(c.key)); err != nil || moved {
				t.Fatalf("second MigrateLegacyState(%v) = %v, %v; want nothing to move", c.key, moved, err)
			}
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, counterID(c.key).StorageKey(), mustReadRecord(t, st, counterID(c.key).StorageKey()).ETag); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestMigrateLegacyStateRefusesToOverwrite(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	id := counterID(quark.IntKey(7))
	writeLegacy(t, st, id.String(), 5)
	writeLegacy(t, st, id.StorageKey(), 9)
	moved, err := quark.MigrateLegacyState(ctx, st, id)
	if quark.CodeOf(err) != quark.CodeConflict || moved {
		t.Fatalf("MigrateLegacyState over an existing record = %v, %v; want CodeConflict", moved, err)
	}
	if v, _ := counterValue(t, st, id.StorageKey()); v.Total != 9 {
		t.Fatalf("the existing record changed: %+v", v)
	}
	if v, _ := counterValue(t, st, id.String()); v.Total != 5 {
		t.Fatalf("the legacy record changed: %+v", v)
	}
}

// legacyGateStore holds the first gated Reads of one key, once they have read,
// until released: the readers act on what they read after the store has
// moved on.
type legacyGateStore struct {
	storage.Store
	key     string
	gated   int32
	reads   atomic.Int32
	reached sync.WaitGroup
	release chan struct{}
}

func newLegacyGateStore(st storage.Store, key string, gated int32) *legacyGateStore {
	g := &legacyGateStore{Store: st, key: key, gated: gated, release: make(chan struct{})}
	g.reached.Add(int(gated))
	return g
}

func (g *legacyGateStore) Read(ctx context.Context, key string) (storage.Record, error) {
	rec, err := g.Store.Read(ctx, key)
	if key == g.key && g.reads.Add(1) <= g.gated {
		g.reached.Done()
		<-g.release
	}
	return rec, err
}

func TestStateLegacyMigrationRace(t *testing.T) {
	// Two activations of one actor (two silos, as during a partition) both
	// find the legacy record and migrate it at once.
	mem := storage.NewMemory()
	ctx := context.Background()
	id := counterID(quark.StringKey("bob"))
	writeLegacy(t, mem, id.String(), 100)
	g := newLegacyGateStore(mem, id.String(), 2)
	s1 := newSilo(t, registerDurable(nil), quark.WithStore(g))
	s2 := newSilo(t, registerDurable(nil), quark.WithStore(g))
	type result struct {
		n   int64
		err error
	}
	results := make(chan result, 2)
	for _, s := range []*quark.Silo{s1, s2} {
		go func() {
			n, err := testactors.NewCounterRef(s, quark.StringKey("bob")).Add(ctx, 1)
			results <- result{n, err}
		}()
	}
	g.reached.Wait() // both read the legacy record's key
	close(g.release)
	// Each add that succeeded built on the migrated value; the one that
	// lost a race, if any, conflicted and changed nothing.
	var ok, last int64
	for range 2 {
		r := <-results
		switch quark.CodeOf(r.err) {
		case quark.CodeOK:
			ok++
			last = max(last, r.n)
		case quark.CodeConflict:
		default:
			t.Fatalf("unexpected: %v", r.err)
		}
	}
	if v, found := counterValue(t, mem, id.StorageKey()); !found || v.Total != 100+ok || last != v.Total {
		t.Fatalf("stored %+v (%v) after %d adds (last result %d); want the legacy 100 plus each add", v, found, ok, last)
	}
	if _, found := counterValue(t, mem, id.String()); found {
		t.Fatal("the legacy record is still there")
	}
}

func TestClearRemovesLeftoverLegacyRecord(t *testing.T) {
	// A migration whose delete of the legacy record failed left it beside
	// the new record; clearing the actor must not bring it back.
	st := storage.NewMemory()
	ctx := context.Background()
	id := quark.ID{Type: testactors.ProbeType.Name, Key: quark.StringKey("p")}
	writeLegacy(t, st, id.String(), 5)
	writeLegacy(t, st, id.StorageKey(), 7)
	var created atomic.Int64
	s1 := newSilo(t, registerStateProbe(&created), quark.WithStore(st))
	p := testactors.NewProbeRef(s1, id.Key)
	if got, err := p.Run(ctx, "add 0"); err != nil || got != "7" {
		t.Fatalf("load: %q, %v; want the new record's 7", got, err)
	}
	if _, err := p.Run(ctx, "clear"); err != nil {
		t.Fatal(err)
	}
	if err := s1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := newSilo(t, registerStateProbe(&created), quark.WithStore(st))
	if got, err := testactors.NewProbeRef(s2, id.Key).Peek(ctx, ""); err != nil || got != "0" {
		t.Fatalf("after clear and reload: %q, %v; want 0", got, err)
	}
}

func TestRemindersOfCollidingKeysAreDistinct(t *testing.T) {
	// Reminders name their actor by Key.MarshalBinary, which keeps the
	// kind and the extension apart: actors whose IDs read the same have
	// reminders of their own.
	st := storage.NewMemory()
	ctx := context.Background()
	h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
		return step, p.a.RegisterReminder(ctx, "daily", time.Hour, 24*time.Hour)
	}}
	s := newSilo(t, registerProbes(h), quark.WithStore(st))
	for _, c := range collidingKeys {
		for _, k := range []quark.Key{c.a, c.b} {
			if _, err := testactors.NewProbeRef(s, k).Run(ctx, "register"); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := st.Reminders(ctx, 0, math.MaxUint32)
	if err != nil {
		t.Fatal(err)
	}
	keys := make(map[quark.Key]bool)
	for _, c := range collidingKeys {
		keys[c.a], keys[c.b] = true, true
	}
	if len(all) != len(keys) {
		t.Fatalf("%d reminders stored for %d actors", len(all), len(keys))
	}
}

func TestStateLegacyMigrationFromAStaleReadIsUndone(t *testing.T) {
	// Activation A reads the legacy record; before it creates the new
	// record, activation B (another silo) migrates the record and clears
	// the actor. A's create then succeeds, the storage key being empty, but
	// must not bring the cleared value back.
	mem := storage.NewMemory()
	ctx := context.Background()
	id := quark.ID{Type: testactors.ProbeType.Name, Key: quark.StringKey("bob")}
	writeLegacy(t, mem, id.String(), 100)
	g := newLegacyGateStore(mem, id.String(), 1)
	var created atomic.Int64
	s1 := newSilo(t, registerStateProbe(&created), quark.WithStore(g))
	s2 := newSilo(t, registerStateProbe(&created), quark.WithStore(g))
	type result struct {
		got string
		err error
	}
	a := make(chan result, 1)
	go func() {
		got, err := testactors.NewProbeRef(s1, id.Key).Run(ctx, "add 1")
		a <- result{got, err}
	}()
	g.reached.Wait() // A found the storage key empty and has read the legacy record
	b := testactors.NewProbeRef(s2, id.Key)
	if got, err := b.Run(ctx, "add 0"); err != nil || got != "100" {
		t.Fatalf("B over the legacy record: %q, %v; want 100", got, err)
	}
	if _, err := b.Run(ctx, "clear"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	r := <-a
	if r.err != nil || r.got != "1" {
		t.Fatalf("A after B migrated and cleared: %q, %v; want 1 (the cleared 100 came back)", r.got, r.err)
	}
	if v, ok := counterValue(t, mem, id.StorageKey()); !ok || v.Total != 1 {
		t.Fatalf("stored %+v (%v), want total 1", v, ok)
	}
	if _, ok := counterValue(t, mem, id.String()); ok {
		t.Fatal("the legacy record is back")
	}
}
