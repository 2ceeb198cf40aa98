package codec

import (
	"context"
	"time"

	"github.com/quarkgo/quark/internal/gen/testdata/codec/in/geo"
	"github.com/quarkgo/quark/internal/gen/testdata/codec/in/shapes"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Store passes every kind of value.
//
//quark:actor
type Store interface {
	// Scalars passes every scalar kind.
	Scalars(ctx context.Context, s Scalars, f float32, c complex128) (Scalars, error)
	// Named passes named types of every kind.
	Named(ctx context.Context, c Celsius, l Label, b Blob, u UUID, g Grid, i Index, f Flags) (Stack, Link, error)
	// Containers passes unnamed containers, nested.
	Containers(ctx context.Context, m map[string][]Tree, a [3]*List, pp **int, nested [][]map[int64]string,
		anon struct {
			A int
			B []string
		}, bs [][]byte, ba [4]byte) ([2]map[Label]*Tree, error)
	// Recursive passes recursive types.
	Recursive(ctx context.Context, e *Expr, l List) (Tree, error)
	// Structs passes tagged and embedding structs.
	Structs(ctx context.Context, t Tagged, d Derived) (*Derived, error)
	// Foreign passes types of other packages.
	Foreign(ctx context.Context, p geo.Point, path geo.Path, q shapes.Point, r geo.Region, at time.Time, d time.Duration) (*geo.Point, []shapes.Point, error)
	// Marshalers passes types that encode themselves.
	Marshalers(ctx context.Context, v Version, l *Level, b Bag, ls []Level, s Stdlib) (map[Level]Version, error)
	// Proto passes protocol buffers.
	Proto(ctx context.Context, ts *timestamppb.Timestamp, vs []*wrapperspb.StringValue) (*timestamppb.Timestamp, error)
	// Snapshot passes a type marked immutable.
	Snapshot(ctx context.Context, s Snapshot, ps []Snapshot) (Snapshot, error)
	// Shared passes its arguments and results without copying them.
	//
	//quark:immutable
	Shared(ctx context.Context, items []string, m map[string]int) ([]byte, error)
	// Keys passes maps with keys of every supported kind.
	Keys(ctx context.Context, u map[UUID]int, t map[time.Time]bool, f map[float64]Celsius, l map[Level]bool, b map[bool]uint8) error
	// Nothing passes nothing.
	//
	//quark:oneway
	Nothing(ctx context.Context, ids ...int64) error
}
