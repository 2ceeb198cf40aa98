package directives

import "context"

// Actor has markers that are unknown, repeated or malformed.
//
//quark:actor name=
//quark:actor
//quark:reentrant yes
//quark:readonly
//quark:unknown
//quark:actor colour=blue
type Actor interface {
	//quark:readonly
	//quark:readonly
	Get(ctx context.Context) (int, error)
	//quark:oneway now
	//quark:reentrant
	Put(ctx context.Context, n int) error
	//quark:actor
	Other(ctx context.Context) error
	//quark:later
	Later(ctx context.Context) error
}

// NotActor has an actor marker without being an actor.
//
//quark:reentrant
//quark:stateless
type NotActor interface {
	// A method marker is fine on any interface: the interface may be
	// embedded in an actor.
	//
	//quark:readonly
	Get(ctx context.Context) (int, error)
}

// Struct is not an interface.
//
//quark:actor
type Struct struct {
	//quark:readonly
	N int
}

//quark:oneway
func helper() {}

// Alias is an alias.
//
//quark:actor
type Alias = NotActor

//quark:stateless
var x = 1

// Loose comments are checked too.
//quark:actor

//quark:actor name=a.One name=a.Two
type TwoNames interface {
	Do(ctx context.Context) error
}

func local() {
	//quark:actor
	type Local interface {
		Do(ctx context.Context) error
	}
}
