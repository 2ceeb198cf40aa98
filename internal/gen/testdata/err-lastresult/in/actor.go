package lastresult

import "context"

//quark:actor
type Actor interface {
	Ok(ctx context.Context) (int, error)
	NoResults(ctx context.Context)
	NoError(ctx context.Context) int
	ErrorFirst(ctx context.Context) (error, int)
	CustomError(ctx context.Context) MyError
}

// MyError is an error type, but not error.
type MyError interface {
	error
	Code() int
}
