// Package base declares interfaces that actors of another package embed.
package base

import "context"

// Named has a name.
type Named interface {
	// Rename changes the name.
	Rename(ctx context.Context, name string) error
	// Name returns the name.
	//
	//quark:readonly
	Name(ctx context.Context) (string, error)
}
