package testactors

// CounterState is the durable state of the state-backed Counter the
// runtime's tests use.
//
//quark:codec
type CounterState struct {
	Total   int64
	Updates int64
	// Blob is filled only by tests of state size limits.
	Blob []byte
}
