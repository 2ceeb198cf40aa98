package firstparam

import "context"

//quark:actor
type Actor interface {
	Ok(ctx context.Context) error
	NotContext(n int, ctx context.Context) error
	ContextLater(name string) error
	VariadicContext(ctxs ...context.Context) error
}
