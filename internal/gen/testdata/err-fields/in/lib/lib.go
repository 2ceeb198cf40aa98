// Package lib declares a struct with a channel field.
package lib

// Event signals on Done.
type Event struct {
	Name string
	Done chan struct{}
}
