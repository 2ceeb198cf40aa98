// Package noactors used to declare an actor; its generated file is stale
// and no new one is produced.
package noactors

import "context"

// Counter is no longer an actor.
type Counter interface {
	Add(ctx context.Context, n int) (int, error)
}
