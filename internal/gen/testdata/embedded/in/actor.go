// Package embedded has actors whose methods come partly from embedded
// interfaces.
package embedded

import (
	"context"

	"github.com/quarkgo/quark/internal/gen/testdata/embedded/in/base"
)

// Getter is a generic interface an actor embeds instantiated.
type Getter[T any] interface {
	// Get returns the value.
	//
	//quark:readonly
	Get(ctx context.Context) (T, error)
}

// resettable is embedded, not an actor itself; its marker applies to the
// actors that embed it.
type resettable interface {
	// Reset forgets everything.
	//
	//quark:oneway
	Reset(ctx context.Context) error
}

// Person is an actor made mostly of embedded interfaces.
//
//quark:actor
type Person interface {
	// Greet returns a greeting.
	Greet(ctx context.Context, greeting string) (string, error)
	base.Named
	resettable
	Getter[int]
	// Age returns the age.
	Age(ctx context.Context) (int, error)
}
