package instance

import (
	"context"
	"sync/atomic"
)

// Box is generic.
type Box[T any] struct{ V T }

// IntBox is an alias of an instance.
type IntBox = Box[int]

// Holder has a field of an instance type.
type Holder struct {
	B Box[string]
}

//quark:actor
type Actor interface {
	Param(ctx context.Context, b Box[int]) error
	Alias(ctx context.Context, b IntBox) error
	Nested(ctx context.Context, bs []*Box[bool]) error
	Field(ctx context.Context, h Holder) error
	Foreign(ctx context.Context, p *atomic.Pointer[int]) error
}
