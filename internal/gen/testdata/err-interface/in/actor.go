package badiface

import (
	"context"
	"fmt"
	"io"
)

// Holder has fields of interface types.
type Holder struct {
	R   io.Reader
	Any []any
	n   any // unexported: not encoded, not checked
}

//quark:actor
type Actor interface {
	Param(ctx context.Context, x any) error
	Result(ctx context.Context) (error, error)
	Nested(ctx context.Context, m map[string][]fmt.Stringer) error
	Field(ctx context.Context, h Holder) error
	Literal(ctx context.Context, v interface{ Close() error }) error
	Ok(ctx context.Context, n int) error
}
