package testactors

import (
	"context"
	"math/big"
	"net/url"
)

// Mutator mutates the arguments it is given and keeps mutating the state it
// returns, to prove that a call shares no mutable memory between caller and
// callee unless a method or type opts out with //quark:immutable.
//
//quark:actor
type Mutator interface {
	// Fill overwrites xs in place, keeps it as the actor's state and
	// returns that state.
	Fill(ctx context.Context, xs []int) ([]int, error)
	// Bump increments every element of the state in place.
	Bump(ctx context.Context) error
	// Snapshot returns the state itself.
	//
	//quark:readonly
	Snapshot(ctx context.Context) ([]int, error)
	// Edit rewrites doc at every level (fields, slices, maps, pointers),
	// keeps it and returns it.
	Edit(ctx context.Context, doc *Doc) (*Doc, error)
	// Merge adds to index in place, appends to its slices in place, keeps it
	// and returns it.
	Merge(ctx context.Context, index map[string][]int) (map[string][]int, error)
	// Record keeps xs as the state without the caller waiting.
	//
	//quark:oneway
	Record(ctx context.Context, xs []int) error
	// Keep keeps xs as the state and returns it, and promises to mutate
	// neither: its arguments and results are shared, not copied.
	//
	//quark:immutable
	Keep(ctx context.Context, xs []int) ([]int, error)
	// Freeze keeps f and returns it; Frozen is immutable, so it is shared.
	Freeze(ctx context.Context, f Frozen) (Frozen, error)
	// Scramble overwrites every value reachable from e in place, keeps e
	// and returns it.
	Scramble(ctx context.Context, e Everything) (Everything, error)
	// ScrambleAgain overwrites the value Scramble kept, in place.
	ScrambleAgain(ctx context.Context) error
	// Current returns the value Scramble kept.
	//
	//quark:readonly
	Current(ctx context.Context) (Everything, error)
}

// Doc is a document with mutable memory at every level.
type Doc struct {
	Title string
	Tags  []string
	Meta  map[string]string
	Next  *Doc
}

// Frozen is a slice its users promise never to mutate, so calls share it
// instead of copying it.
//
//quark:immutable
type Frozen []int

// Everything holds mutable memory in every shape a deep copy must reach.
type Everything struct {
	Ints    []int
	Bytes   []byte
	Rows    [2][]int
	Ptr     *int
	PtrArr  *[2]int
	Nested  [][]string
	Map     map[string][]int
	DocMap  map[string]*Doc
	Docs    []Doc
	DocPtrs []*Doc
	Num     *big.Int // memory behind unexported fields, with marshaler methods
	Link    *url.URL
	Inner   struct {
		Tags []string
		Doc  *Doc
	}
}
