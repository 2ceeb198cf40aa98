package badfunc

import "context"

// Handler is a named func type.
type Handler func(string) error

//quark:actor
type Actor interface {
	Param(ctx context.Context, f func()) error
	Result(ctx context.Context) (func(int) int, error)
	Named(ctx context.Context, h Handler) error
	Deep(ctx context.Context, hs map[string][]*Handler) error
}
