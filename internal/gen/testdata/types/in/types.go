// Package types exercises the parameter types an actor method may have.
package types

import "context"

// Holder is a struct with fields that could not be parameters themselves:
// struct fields are not looked into.
type Holder struct {
	C  chan int
	F  func()
	ID int
}

// Pair is generic.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

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
	// Structs passes structs holding channels and funcs.
	Structs(ctx context.Context, h Holder, hp *Holder, hs []Holder) (Holder, error)
	// Containers passes pointers, slices, arrays and maps.
	Containers(ctx context.Context, p *int, s []string, a [4]byte, m map[string][]int) ([2]float64, error)
	// Generic passes an instantiated generic type.
	Generic(ctx context.Context, p Pair[string, int]) (Pair[int, Names], error)
	// Anonymous passes literal struct and interface types.
	Anonymous(ctx context.Context, s struct{ A, B int }, v interface{ Error() string }, x any) (error, error)
	// Recursive passes recursive types.
	Recursive(ctx context.Context, t *Tree, n Nested) error
	// Alias returns an alias of error.
	Alias(ctx context.Context) Err
}
