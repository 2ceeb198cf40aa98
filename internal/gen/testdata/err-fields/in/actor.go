package fields

import (
	"context"
	"unsafe"

	"github.com/quarkgo/quark/internal/gen/testdata/err-fields/in/lib"
)

// Holder has fields that cannot be encoded.
type Holder struct {
	C    chan int
	F    func()
	P    unsafe.Pointer
	Deep map[string][]chan bool
	Fine int
	ok   chan int // unexported: not encoded, not checked
}

// Outer holds a Holder, whose fields are reported once.
type Outer struct {
	H Holder
}

//quark:actor
type Actor interface {
	Param(ctx context.Context, h Holder) error
	Nested(ctx context.Context, o []Outer) (Outer, error)
	Foreign(ctx context.Context, e lib.Event) error
	Anonymous(ctx context.Context, s struct{ F func() }) error
}
