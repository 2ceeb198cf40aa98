package testactors

import "context"

// Probe is an actor whose behaviour each test supplies: every method hands
// its step to a function the test's factory installed.
//
//quark:actor
type Probe interface {
	// Run runs step in an exclusive turn.
	Run(ctx context.Context, step string) (string, error)
	// Peek runs step in a shared turn.
	//
	//quark:readonly
	Peek(ctx context.Context, step string) (string, error)
	// Tell runs step without the caller waiting.
	//
	//quark:oneway
	Tell(ctx context.Context, step string) error
	// Split returns two results to exercise multi-result methods.
	Split(ctx context.Context, s string, at int) (head string, tail string, err error)
}

// ReentrantProbe is Probe marked reentrant: its turn is released while a
// method waits on an outgoing actor call.
//
//quark:actor
//quark:reentrant
type ReentrantProbe interface {
	Run(ctx context.Context, step string) (string, error)
	//quark:readonly
	Peek(ctx context.Context, step string) (string, error)
}

// StatelessProbe is Probe as a stateless worker: several activations per key
// on one silo, any of which serves a call.
//
//quark:actor
//quark:stateless
type StatelessProbe interface {
	Run(ctx context.Context, step string) (string, error)
}
