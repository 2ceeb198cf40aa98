package typeerror

import "context"

//quark:actor
type Actor interface {
	Get(ctx context.Context) (Missing, error)
}

func broken() int {
	return "not an int"
}
