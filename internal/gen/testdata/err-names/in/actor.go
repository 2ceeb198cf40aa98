package names

import "context"

// CounterRef is the user's own, and is in the way of the generated one.
type CounterRef struct{}

//quark:actor
type Counter interface {
	Add(ctx context.Context, n int) error
	// XAdd needs the names counterXAdd..., as does CounterX's Add.
	XAdd(ctx context.Context, n int) error
}

//quark:actor
type CounterX interface {
	Add(ctx context.Context, n int) error
}
