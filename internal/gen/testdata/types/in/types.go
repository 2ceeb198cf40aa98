// Package types exercises the parameter types an actor method may have.
package types

import "context"

// Holder is a struct with unexported fields that could not be encoded:
// only its exported fields travel.
type Holder struct {
	c  chan int
	f  func()
	ID int
}

// Pair is generic.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// IntPair is a defined type whose underlying type is an instance of Pair:
// not itself generic, so it can be encoded.
type IntPair Pair[int, string]

// Names is a named slice.
type Names []string

// Tree refers to itself.
type Tree struct {
	Kids []*Tree
}

// Nested is a recursive named type.
type Nested []Nested

// Err is an alias of error.
type Err = error

// Shapes covers the types that are allowed.
//
//quark:actor
type Shapes interface {
	// Structs passes structs holding channels and funcs in unexported
	// fields.
	Structs(ctx context.Context, h Holder, hp *Holder, hs []Holder) (Holder, error)
	// Containers passes pointers, slices, arrays and maps.
	Containers(ctx context.Context, p *int, s []string, a [4]byte, m map[string][]int) ([2]float64, error)
	// Defined passes a type defined from a generic instance.
	Defined(ctx context.Context, p IntPair) (Names, error)
	// Anonymous passes a literal struct type.
	Anonymous(ctx context.Context, s struct{ A, B int }) (struct{ N Names }, error)
	// Recursive passes recursive types.
	Recursive(ctx context.Context, t *Tree, n Nested) error
	// Empty passes values with nothing in them.
	Empty(ctx context.Context, z [0]int, e struct{}, es []struct{}, set map[string]struct{}) ([0]*Tree, error)
	// Alias returns an alias of error.
	Alias(ctx context.Context) Err
}
