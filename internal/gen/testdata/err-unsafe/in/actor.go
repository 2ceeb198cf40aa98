package badunsafe

import (
	"context"
	"unsafe"
)

// Raw is a named unsafe.Pointer.
type Raw unsafe.Pointer

//quark:actor
type Actor interface {
	Param(ctx context.Context, p unsafe.Pointer) error
	Result(ctx context.Context) ([]unsafe.Pointer, error)
	Named(ctx context.Context, r *Raw) error
}
