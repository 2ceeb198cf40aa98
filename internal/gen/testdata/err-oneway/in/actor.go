package oneway

import "context"

//quark:actor
type Actor interface {
	//quark:oneway
	Ok(ctx context.Context) error
	// Sum cannot be one-way: its caller would never see the sum.
	//
	//quark:oneway
	Sum(ctx context.Context, a, b int) (int, error)
}
