package builtins

import "context"

// min predates the builtin and hides it from the generated code.
func min(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

var clear = func() {}

//quark:actor
type Actor interface {
	Fill(ctx context.Context, xs []int) ([]int, error)
}

//quark:codec
type T struct{ Xs []int }

var _ = min(1, 2)
