package multi

import "context"

// Second is declared in the second file.
//
//quark:actor
type Second interface {
	Two(ctx context.Context) error
}

// helper is not an actor.
type helper interface {
	Help()
}

// First is declared after Second in this file, so it comes after it.
//
//quark:actor
type First interface {
	One(ctx context.Context) error
}
