// Package codeconly declares no actors, only a type marked //quark:codec:
// it gets a generated file with the type's serializers, and its error
// variables are not registered.
package codeconly

import "errors"

// ErrNotRegistered is not registered: the package has no actors.
var ErrNotRegistered = errors.New("not registered")

// Balance is durable state.
//
//quark:codec
type Balance struct {
	Cents   int64
	History []Entry
}

// Entry is reached from Balance: it gets helpers, not methods.
type Entry struct {
	Cents int64
	Memo  string `quark:"m"`
}
