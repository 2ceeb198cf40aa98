package notinterface

import "context"

// Impl is a struct, not an interface.
//
//quark:actor
type Impl struct{}

// Func is a func type.
//
//quark:actor
type Func func(ctx context.Context) error

// Both has type constraints.
//
//quark:actor
type Both interface {
	~int
	Do(ctx context.Context) error
}
