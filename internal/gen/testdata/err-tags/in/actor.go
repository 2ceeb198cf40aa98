package tags

import (
	"context"

	"github.com/quarkgo/quark/internal/gen/testdata/err-tags/in/lib"
)

// Dup uses keys twice.
type Dup struct {
	A string `quark:"a"`
	B string `quark:"a"`
	C int    `quark:"D"`
	D int
	E int `quark:"-"`
	F int `quark:"-"`
}

//quark:actor
type Actor interface {
	Local(ctx context.Context, d Dup) error
	Foreign(ctx context.Context, d lib.Dup) error
}
