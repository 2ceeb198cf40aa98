package markers

import "context"

// Cache is a reentrant stateless worker with a type name of its own.
//
//quark:actor name=example.com/cache.Cache
//quark:reentrant
//quark:stateless
type Cache interface {
	// Lookup is read-only.
	//
	//quark:readonly
	Lookup(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Store is one-way.
	//
	//quark:oneway
	Store(ctx context.Context, key string, value []byte) error
	// Touch is both.
	//
	//quark:readonly
	//quark:oneway
	Touch(ctx context.Context, key string) error
}

// Only the first of these is an actor; the doc comments of grouped type
// declarations belong to each spec.
type (
	// Plain is an actor with no markers but //quark:actor.
	//
	//quark:actor
	Plain interface {
		Do(ctx context.Context) error
	}

	// NotAnActor is an ordinary interface.
	NotAnActor interface {
		Do(ctx context.Context) error
	}
)

// Reentrant is only reentrant.
//
//quark:actor
//quark:reentrant
type Reentrant interface {
	Do(ctx context.Context) error
}
