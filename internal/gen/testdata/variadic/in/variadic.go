package variadic

import "context"

// Summer takes variadic arguments.
//
//quark:actor
type Summer interface {
	// Sum adds xs.
	Sum(ctx context.Context, xs ...int) (int, error)
	// Join joins parts with sep.
	Join(ctx context.Context, sep string, parts ...string) (string, error)
	// Log records the lines of its unnamed variadic parameter.
	//
	//quark:oneway
	Log(context.Context, string, ...[]byte) error
}
