package noparams

import "context"

//quark:actor
type Actor interface {
	Ok(ctx context.Context) error
	// Nothing has no parameters.
	Nothing() error
}
