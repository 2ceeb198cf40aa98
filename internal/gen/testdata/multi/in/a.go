// Package multi has actors in several files; the generated file has them in
// file order, then declaration order.
package multi

import "context"

// Zeroth is declared in the first file.
//
//quark:actor
type Zeroth interface {
	// Zed comes before Alpha in the source, and so in the output.
	Zed(ctx context.Context) error
	Alpha(ctx context.Context) error
}
