// Package testactors holds actor interfaces used by Quark's own tests and
// benchmarks, with their generated proxies and dispatchers.
package testactors

//go:generate go run github.com/quarkgo/quark/cmd/quark gen .
