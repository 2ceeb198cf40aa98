package reserved

import (
	"context"

	"github.com/quarkgo/quark"
)

//quark:actor
type Actor interface {
	Ok(ctx context.Context) error
	// ID would clash with the generated reference's ID method.
	ID(ctx context.Context) (quark.ID, error)
}

// Fielded's ref method would clash with the generated FieldedRef's field.
//
//quark:actor
type Fielded interface {
	ref(ctx context.Context) error
}
