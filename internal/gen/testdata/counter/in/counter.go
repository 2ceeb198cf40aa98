// Package counter imports nothing but context: the generated file brings in
// sync and quark itself.
package counter

import "context"

// Counter keeps a running total.
//
//quark:actor
type Counter interface {
	// Add adds n and returns the new total.
	Add(ctx context.Context, n int64) (total int64, err error)
	// Get returns the total.
	//
	//quark:readonly
	Get(ctx context.Context) (int64, error)
	// Inc adds n without waiting for the turn.
	//
	//quark:oneway
	Inc(ctx context.Context, n int64) error
	// Reset sets the total to zero.
	Reset(ctx context.Context) error
}
