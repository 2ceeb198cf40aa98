// Package lib declares a type with unexported fields.
package lib

// Secret keeps its value to itself.
type Secret struct {
	Public string
	value  int
}

// Wrapper has only exported fields, one of them a Secret.
type Wrapper struct {
	S Secret
}
