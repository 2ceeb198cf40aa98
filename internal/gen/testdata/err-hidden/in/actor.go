package hidden

import (
	"context"
	"sync"
	"text/template"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/gen/testdata/err-hidden/in/lib"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Holder has a field whose type, of another package, has unexported fields.
type Holder struct {
	Mu sync.Mutex
	N  int
}

// MyTime is defined from time.Time, whose fields are unexported; the
// methods of time.Time are not MyTime's.
type MyTime time.Time

//quark:actor
type Actor interface {
	Template(ctx context.Context, t *template.Template) error
	Key(ctx context.Context, k quark.Key) error
	Ident(ctx context.Context, id quark.ID) error
	Field(ctx context.Context, h Holder) error
	Lib(ctx context.Context, s lib.Secret, w []lib.Wrapper) error
	Defined(ctx context.Context, t MyTime) error
	ProtoValue(ctx context.Context, ts timestamppb.Timestamp) error
	ProtoPointer(ctx context.Context, ts *timestamppb.Timestamp) error
}
