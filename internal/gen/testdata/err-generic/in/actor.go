package generic

import "context"

// Box is generic.
//
//quark:actor
type Box[T any] interface {
	Get(ctx context.Context) (T, error)
	//quark:readonly
	Peek(ctx context.Context) (T, error)
}
