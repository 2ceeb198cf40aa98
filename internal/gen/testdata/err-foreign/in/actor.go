package foreign

import "context"

//quark:actor
type Actor interface {
	Do(ctx context.Context) error
}
