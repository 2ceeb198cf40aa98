// Package stale holds a quark_gen.go generated for an older version of its
// interface, which would not compile against the current one.
package stale

import "context"

// Counter lost its Old method and gained New since the file was generated.
//
//quark:actor
type Counter interface {
	Add(ctx context.Context, n int) (int, error)
	New(ctx context.Context, n string) error
}
