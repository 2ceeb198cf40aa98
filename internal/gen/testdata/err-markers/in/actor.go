package markers

import "context"

//quark:codec
type Iface interface{ M() }

//quark:immutable
type Iface2 interface{ M() }

//quark:codec
type Alias = int

//quark:codec
type Gen[T any] struct{ V T }

//quark:codec
type Ptr *int

//quark:codec
type HasMethod struct{}

// MarshalQuark is in the way of the generated one.
func (HasMethod) MarshalQuark(b []byte) ([]byte, error) { return b, nil }

//quark:codec
type HasField struct{ UnmarshalQuark int }

//quark:codec
//quark:codec
type Dup int

//quark:codec now
type Args int

//quark:codec
type Fn func()

//quark:codec
type Bad struct {
	C chan int
}

//quark:immutable
var x = 1

//quark:codec
func f() {}

func g() {
	//quark:codec
	type local int
}

// Fine is fine.
//
//quark:immutable
//quark:codec
type Fine []int

// Actor is marked immutable, which only methods can be.
//
//quark:actor
//quark:immutable
type Actor interface {
	//quark:immutable
	//quark:immutable
	Twice(ctx context.Context) error
	//quark:immutable yes
	Args(ctx context.Context) error
}
