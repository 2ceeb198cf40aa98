package mapkey

import (
	"context"
	"net/netip"
	"time"
)

// Key is a struct: maps keyed by it cannot be encoded.
type Key struct{ A int }

// Holder has a map field with an unsupported key.
type Holder struct {
	M map[Key]int
}

//quark:actor
type Actor interface {
	Struct(ctx context.Context, m map[Key]int) error
	Pointer(ctx context.Context, m map[*int]bool) error
	Array(ctx context.Context, m map[[2]int]string) error
	Field(ctx context.Context, h Holder) error
	Ok(ctx context.Context, a map[[16]byte]int, b map[string]int, c map[time.Time]int, d map[netip.Addr]int, e map[float32]bool) error
}
