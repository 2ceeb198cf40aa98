package quark_test

import (
	"context"
	"math/big"
	"net/url"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// mutator implements testactors.Mutator: it mutates whatever it is given and
// keeps it as its state.
type mutator struct {
	state  []int
	doc    *testactors.Doc
	index  map[string][]int
	frozen testactors.Frozen
	all    testactors.Everything
}

func (m *mutator) Fill(_ context.Context, xs []int) ([]int, error) {
	for i := range xs {
		xs[i] = 100 + i
	}
	m.state = xs
	return m.state, nil
}

func (m *mutator) Bump(context.Context) error {
	for i := range m.state {
		m.state[i]++
	}
	return nil
}

func (m *mutator) Snapshot(context.Context) ([]int, error) { return m.state, nil }

func (m *mutator) Edit(_ context.Context, doc *testactors.Doc) (*testactors.Doc, error) {
	for d := doc; d != nil; d = d.Next {
		d.Title += " (edited)"
		for i := range d.Tags {
			d.Tags[i] = "edited"
		}
		for k := range d.Meta {
			d.Meta[k] = "edited"
		}
		if d.Meta != nil {
			d.Meta["added"] = "by the actor"
		}
	}
	m.doc = doc
	return doc, nil
}

func (m *mutator) Merge(_ context.Context, index map[string][]int) (map[string][]int, error) {
	for _, xs := range index {
		for i := range xs {
			xs[i] = -xs[i]
		}
	}
	index["added"] = []int{1}
	m.index = index
	return index, nil
}

func (m *mutator) Record(_ context.Context, xs []int) error {
	for i := range xs {
		xs[i] += 1000
	}
	m.state = xs
	return nil
}

func (m *mutator) Keep(_ context.Context, xs []int) ([]int, error) {
	m.state = xs
	return m.state, nil
}

func (m *mutator) Freeze(_ context.Context, f testactors.Frozen) (testactors.Frozen, error) {
	m.frozen = f
	return m.frozen, nil
}

func (m *mutator) Scramble(_ context.Context, e testactors.Everything) (testactors.Everything, error) {
	scramble(reflect.ValueOf(&e).Elem())
	m.all = e
	return m.all, nil
}

func (m *mutator) ScrambleAgain(context.Context) error {
	scramble(reflect.ValueOf(&m.all).Elem())
	return nil
}

func (m *mutator) Current(context.Context) (testactors.Everything, error) { return m.all, nil }

var (
	bigIntType = reflect.TypeFor[*big.Int]()
	urlType    = reflect.TypeFor[*url.URL]()
)

// scramble changes, in place, every value reachable from v: every number,
// string and byte, through slices, arrays, maps, pointers and structs, and
// the insides of big.Int and url.URL values. It is deterministic, so
// scrambling equal values gives equal values.
func scramble(v reflect.Value) {
	switch {
	case v.Type() == bigIntType:
		if n := v.Interface().(*big.Int); n != nil {
			n.Lsh(n, 64).Add(n, big.NewInt(1))
		}
		return
	case v.Type() == urlType:
		if u := v.Interface().(*url.URL); u != nil {
			u.Path += "/scrambled"
		}
		return
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(2*v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(2*v.Uint() + 1)
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Pointer:
		if !v.IsNil() {
			scramble(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scramble(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scramble(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scramble(v.Field(i))
			}
		}
	}
}

// everything returns a new value with memory in every shape Everything has.
func everything() testactors.Everything {
	u, err := url.Parse("https://ada@example.com/notes/g?lang=en#b")
	if err != nil {
		panic(err)
	}
	doc := func(title string) testactors.Doc {
		return testactors.Doc{Title: title, Tags: []string{title + "-tag"}, Meta: map[string]string{"k": title}}
	}
	d1, d2, d3, d4 := doc("in map"), doc("pointed"), doc("inner"), doc("chained")
	d2.Next = &d4
	e := testactors.Everything{
		Ints:    []int{1, 2, 3},
		Bytes:   []byte("bytes"),
		Rows:    [2][]int{{4}, {5, 6}},
		Ptr:     new(int),
		PtrArr:  &[2]int{7, 8},
		Nested:  [][]string{{"a"}, {}, nil},
		Map:     map[string][]int{"m": {9}, "empty": {}},
		DocMap:  map[string]*testactors.Doc{"d": &d1, "nil": nil},
		Docs:    []testactors.Doc{doc("in slice")},
		DocPtrs: []*testactors.Doc{&d2, nil},
		Num:     new(big.Int).Lsh(big.NewInt(3), 100),
		Link:    u,
	}
	e.Inner.Tags = []string{"inner"}
	e.Inner.Doc = &d3
	return e
}

// sameEverything compares two Everything values, big.Int and url.URL by
// value.
func sameEverything(a, b testactors.Everything) bool {
	if (a.Num == nil) != (b.Num == nil) || a.Num != nil && a.Num.Cmp(b.Num) != 0 {
		return false
	}
	if (a.Link == nil) != (b.Link == nil) || a.Link != nil && a.Link.String() != b.Link.String() {
		return false
	}
	a.Num, b.Num, a.Link, b.Link = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

// scrambled returns everything() scrambled times times.
func scrambled(times int) testactors.Everything {
	e := everything()
	for range times {
		scramble(reflect.ValueOf(&e).Elem())
	}
	return e
}

// isolation runs f on a silo with a Mutator registered, with the fast path
// on and off, and with local calls deep-copying their arguments and results
// (the default) or routed through the codec. impl returns the activation's
// implementation, whose state f may read between calls: each call's return
// orders the actor's writes before those reads.
func isolation(t *testing.T, f func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, viaCodec bool)) {
	for _, viaCodec := range []bool{false, true} {
		name := "copy"
		if viaCodec {
			name = "codec"
		}
		t.Run(name, func(t *testing.T) {
			modes(t, func(t *testing.T, inline bool) {
				var last atomic.Pointer[mutator]
				s := newSilo(t, func(s *quark.Silo) {
					must(testactors.RegisterMutator(s, func(*quark.Activation) testactors.Mutator {
						m := &mutator{}
						last.Store(m)
						return m
					}))
				}, quark.WithInlineCalls(inline), quark.WithCodecRouting(viaCodec))
				f(t, testactors.NewMutatorRef(s, quark.StringKey("m")), last.Load, viaCodec)
			})
		})
	}
}

// same reports whether two non-empty slices share their first element.
func same[T any](a, b []T) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// sameMap reports whether two maps are the same map.
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestIsolationCalleeMutatingAnArgument(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, _ bool) {
		ctx := context.Background()
		xs := []int{1, 2, 3}
		ys, err := m.Fill(ctx, xs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(xs, []int{1, 2, 3}) {
			t.Fatalf("the callee's writes to its argument reached the caller: %v", xs)
		}
		if !slices.Equal(ys, []int{100, 101, 102}) {
			t.Fatalf("result %v", ys)
		}
		if same(xs, ys) || same(xs, impl().state) {
			t.Fatal("the argument's memory is shared with the result or the actor's state")
		}
		// The caller's later writes to its argument do not reach the actor.
		xs[0] = -1
		if snap, _ := m.Snapshot(ctx); !slices.Equal(snap, []int{100, 101, 102}) {
			t.Fatalf("the caller's write after the call reached the actor: %v", snap)
		}
	})
}

func TestIsolationReturnedSliceIsNotTheActorsState(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, _ bool) {
		ctx := context.Background()
		ys, err := m.Fill(ctx, []int{0, 0, 0})
		if err != nil {
			t.Fatal(err)
		}
		if same(ys, impl().state) {
			t.Fatal("Fill returned the actor's state itself")
		}
		// The actor keeps mutating its state: the caller's copy stays put.
		if err := m.Bump(ctx); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ys, []int{100, 101, 102}) {
			t.Fatalf("the actor's later writes reached a returned slice: %v", ys)
		}
		// The caller mutating what it got does not reach the actor.
		snap, err := m.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if same(snap, impl().state) {
			t.Fatal("the readonly Snapshot returned the actor's state itself")
		}
		ys[0], snap[1] = -1, -1
		if err := m.Bump(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Snapshot(ctx); !slices.Equal(got, []int{102, 103, 104}) {
			t.Fatalf("state after the caller wrote to returned slices: %v, want [102 103 104]", got)
		}
	})
}

// docChain returns a two-document chain with memory at every level.
func docChain() *testactors.Doc {
	return &testactors.Doc{
		Title: "first", Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"},
		Next: &testactors.Doc{Title: "second", Tags: []string{"c"}, Meta: map[string]string{"k2": "v2"}},
	}
}

func TestIsolationDeepCopies(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, _ bool) {
		ctx := context.Background()
		doc := docChain()
		got, err := m.Edit(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(doc, docChain()) {
			t.Fatalf("the callee's writes reached the caller's document: %+v / %+v", doc, doc.Next)
		}
		if got == nil || got.Next == nil || got.Next.Title != "second (edited)" || got.Tags[0] != "edited" || got.Meta["added"] != "by the actor" {
			t.Fatalf("result %+v", got)
		}
		kept := impl().doc
		for _, d := range [][2]*testactors.Doc{{doc, got}, {doc, kept}, {got, kept}} {
			a, b := d[0], d[1]
			for level := 0; a != nil && b != nil; level, a, b = level+1, a.Next, b.Next {
				if a == b || same(a.Tags, b.Tags) || sameMap(a.Meta, b.Meta) {
					t.Fatalf("level %d of the document is shared between caller, callee and result", level)
				}
			}
		}

		index := map[string][]int{"a": {1, 2}, "b": {3}}
		merged, err := m.Merge(ctx, index)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(index, map[string][]int{"a": {1, 2}, "b": {3}}) {
			t.Fatalf("the callee's writes reached the caller's map: %v", index)
		}
		if !reflect.DeepEqual(merged, map[string][]int{"a": {-1, -2}, "b": {-3}, "added": {1}}) {
			t.Fatalf("result %v", merged)
		}
		state := impl().index
		if sameMap(index, merged) || sameMap(merged, state) || sameMap(index, state) ||
			same(index["a"], merged["a"]) || same(merged["a"], state["a"]) || same(index["a"], state["a"]) {
			t.Fatal("the map or its slices are shared between caller, callee and result")
		}
	})
}

func TestIsolationOneWayArgument(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, _ bool) {
		ctx := context.Background()
		xs := []int{1, 2, 3}
		if err := m.Record(ctx, xs); err != nil {
			t.Fatal(err)
		}
		// Written while the actor may be running Record: shared memory would
		// be a data race and would change what the actor kept.
		xs[0] = -1
		if got, _ := m.Snapshot(ctx); !slices.Equal(got, []int{1001, 1002, 1003}) {
			t.Fatalf("state after a one-way Record: %v, want [1001 1002 1003]", got)
		}
		if !slices.Equal(xs, []int{-1, 2, 3}) {
			t.Fatalf("the callee's writes reached the sender: %v", xs)
		}
	})
}

// TestIsolationImmutableOptOut: an argument or result of a method or type
// marked //quark:immutable is shared on a local call, as documented; routed
// through the codec, nothing can be shared.
func TestIsolationImmutableOptOut(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, viaCodec bool) {
		ctx := context.Background()
		xs := []int{7, 8, 9}
		ys, err := m.Keep(ctx, xs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ys, xs) {
			t.Fatalf("Keep returned %v, want %v", ys, xs)
		}
		shared := same(xs, ys) && same(xs, impl().state)
		if shared == viaCodec {
			t.Fatalf("immutable method: argument, result and state shared: %v; want %v", shared, !viaCodec)
		}
		// A method that is not immutable still copies the same state.
		if snap, _ := m.Snapshot(ctx); same(snap, xs) {
			t.Fatal("Snapshot shared the state Keep kept")
		}

		f := testactors.Frozen{4, 5}
		g, err := m.Freeze(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g, f) {
			t.Fatalf("Freeze returned %v, want %v", g, f)
		}
		shared = same(f, g) && same(f, impl().frozen)
		if shared == viaCodec {
			t.Fatalf("immutable type: argument, result and state shared: %v; want %v", shared, !viaCodec)
		}
	})
}

// TestIsolationEverything: the callee overwrites every value reachable from
// its argument, through every shape of memory, and keeps on doing so to its
// state after returning it; the caller sees none of it, and the caller's
// writes to what it got back do not reach the actor.
func TestIsolationEverything(t *testing.T) {
	isolation(t, func(t *testing.T, m testactors.MutatorRef, impl func() *mutator, _ bool) {
		ctx := context.Background()
		arg := everything()
		got, err := m.Scramble(ctx, arg)
		if err != nil {
			t.Fatal(err)
		}
		if !sameEverything(arg, everything()) {
			t.Fatalf("the callee's writes reached the caller's argument: %+v", arg)
		}
		if !sameEverything(got, scrambled(1)) {
			t.Fatalf("result %+v, want %+v", got, scrambled(1))
		}
		if err := m.ScrambleAgain(ctx); err != nil {
			t.Fatal(err)
		}
		if !sameEverything(got, scrambled(1)) {
			t.Fatalf("the actor's later writes reached the result: %+v", got)
		}
		scramble(reflect.ValueOf(&got).Elem())
		scramble(reflect.ValueOf(&arg).Elem())
		cur, err := m.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !sameEverything(cur, scrambled(2)) {
			t.Fatalf("the caller's writes reached the actor's state: %+v", cur)
		}
		if !sameEverything(impl().all, scrambled(2)) {
			t.Fatal("the actor's state changed")
		}
	})
}
