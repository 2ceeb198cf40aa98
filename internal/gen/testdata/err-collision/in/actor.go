package collide

import "context"

// Actor has two methods whose IDs, FNV-1a hashes of "collide.Actor.Get280612"
// and "collide.Actor.Get1303080", are equal.
//
//quark:actor
type Actor interface {
	Get280612(ctx context.Context) error
	Other(ctx context.Context) error
	Get1303080(ctx context.Context) error
}

// Renamed declares the same methods under another type name: they no
// longer collide.
//
//quark:actor name=collide.Renamed
type Renamed interface {
	Get280612(ctx context.Context) error
	Get1303080(ctx context.Context) error
}
