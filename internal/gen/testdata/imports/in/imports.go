// Package imports uses types of other packages, two of them with the same
// name, and declares names that clash with the generated file's imports.
package imports

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/quarkgo/quark/internal/gen/testdata/imports/in/geo"
	othergeo "github.com/quarkgo/quark/internal/gen/testdata/imports/in/other/geo"
)

// sync and codec clash with imports of the generated file, so those are
// imported under other names.
var (
	sync  = "not the package"
	codec = 1
)

// Local is a type of this package, unqualified in the generated code.
type Local struct{ N int }

// Renderer uses types of other packages.
//
//quark:actor
type Renderer interface {
	// Plot takes types of two packages with the same name: their helpers
	// are told apart by the packages' names in the generated file.
	Plot(ctx context.Context, p geo.Point, q othergeo.Point) (*othergeo.Point, error)
	// Schedule takes standard library types.
	Schedule(ctx context.Context, at time.Time, every time.Duration, from netip.Addr) error
	// Seed takes a type from a package whose name is not its path's last
	// element.
	Seed(ctx context.Context, src *rand.PCG) error
	// Locals takes types of this package.
	Locals(ctx context.Context, l Local, ls []*Local) (map[string]Local, error)
}
