// Package lib declares a struct with two fields under one key.
package lib

// Dup has two fields encoded as "x".
type Dup struct {
	X int
	Y int `quark:"X"`
}
