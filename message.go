package quark

import (
	"context"
	"sync/atomic"
)

// SupportPackageIsVersion4 is referenced by generated code. A build that pairs
// generated code with a runtime that lacks the constant its generator named
// fails to compile, instead of misbehaving at run time. Version 2 added the
// serializers and copies of the Message interface; version 3, the decoders'
// allocation budget (codec.Budget); version 4, encoders that return an error
// (AppendArgs, AppendResults, MarshalQuark) and copies that return one
// (CopyArgs, CopyResults) instead of panicking.
const SupportPackageIsVersion4 = true

// MethodDesc describes one actor method. Generated code declares one per
// method; the runtime and interceptors read it and never change it.
type MethodDesc struct {
	// ID is a stable 32-bit hash of the actor type name and the method name
	// (FNV-1a over "Type.Method"); it names the method on the wire and does
	// not change when methods are reordered.
	ID uint32
	// Name is the Go method name.
	Name string
	// ReadOnly methods take a shared turn: several may run at once on one
	// activation, never together with another method (//quark:readonly).
	ReadOnly bool
	// OneWay methods return to the caller once the message is queued
	// (//quark:oneway).
	OneWay bool
}

// TypeDesc describes an actor type. Generated code declares one per actor
// interface (for example AccountType); pass it to Silo.Register through the
// generated RegisterX function.
type TypeDesc struct {
	// Name identifies the type in actor IDs, logs and on the wire:
	// "package.Interface" unless the interface overrides it.
	Name string
	// Reentrant types release their turn while a method waits on an outgoing
	// actor call (//quark:reentrant).
	Reentrant bool
	// Stateless worker types may have several activations per key on a silo,
	// any of which serves a call (//quark:stateless).
	Stateless bool
	// Methods lists the type's methods.
	Methods []*MethodDesc
	// NewMessage returns an empty message for the method with the given ID,
	// or nil for an unknown ID: how a call decoded from bytes gets its
	// message.
	NewMessage func(methodID uint32) Message
}

// Message is one call of one actor method: its arguments, its results and the
// runtime's bookkeeping (an embedded Envelope). Generated code declares a
// message type per method and pools its values; user code never sees one,
// except interceptors, which may read Target and Method.
type Message interface {
	// Method describes the called method.
	Method() *MethodDesc
	// Invoke calls the method on actor, which is the activation's
	// implementation, storing results in the message.
	Invoke(ctx context.Context, actor any) error
	// Release resets the message and returns it to its pool. The runtime
	// calls it for one-way messages once they have run; proxies call it
	// after reading results, when Reclaim allows.
	Release()
	// Target is the called actor.
	Target() ID

	// AppendArgs appends the encoded arguments to b. It fails, with code
	// CodeInvalidArgument, when an argument cannot be encoded (its
	// MarshalBinary or MarshalText method, or proto.Marshal, returned an
	// error); it never panics.
	AppendArgs(b []byte) ([]byte, error)
	// ReadArgs decodes the arguments from b, which holds exactly one
	// encoded value; it fails with CodeCorrupt and never panics, and
	// allocates at most codec.AllocFactor bytes per byte of b plus
	// codec.AllocBase.
	ReadArgs(b []byte) error
	// AppendResults appends the encoded results (not the error) to b, or
	// fails as AppendArgs does.
	AppendResults(b []byte) ([]byte, error)
	// ReadResults decodes the results from b, as ReadArgs does.
	ReadResults(b []byte) error
	// CopyArgs replaces the arguments that hold mutable memory with deep
	// copies, so that caller and callee share none; it does nothing for
	// immutable ones. The copy of a marshaler type goes through its
	// methods: when one fails, CopyArgs fails with code CodeInvalidArgument
	// (and never panics).
	CopyArgs() error
	// CopyResults does the same for the results.
	CopyResults() error

	envelope() *Envelope
}

// Envelope is the runtime's part of a Message: target, deadline, call chain,
// mailbox link and reply signal. Generated message types embed it; its fields
// are private to the runtime.
type Envelope struct {
	next   *Envelope // mailbox, resume-list or wake-list link
	msg    Message   // the message that embeds this envelope
	target ID
	typ    *actorType
	loc    location // the caller's location-cache entry for target (see route)
	act    *Activation
	ctx    *callCtx    // the callee's context, made per call
	err    error       // the call's outcome
	wire   []byte      // the encoded arguments, when the silo routes local calls through the codec
	rcall  *remoteCall // a call received from another process: where its reply goes
	state  atomic.Uint32
	refs   atomic.Int32 // holders of a one-way message: the runtime, and Send while interceptors run
	oneWay bool
	shared bool // runs in a shared (readonly) turn
	turn   turnRecord

	reply *reply        // how a queued local call's caller learns it is over (see reply)
	done  chan struct{} // signalled once when a call sent to another process completes
	wake  chan struct{} // signalled when a suspended turn is handed back
}

// turnRecord is how a message takes and keeps its turn, guarded by the
// activation's mu (see turns) once the message is submitted; a one-way
// message gathered into a drainer's batch (turns.gather) is the drainer's
// alone until the batch's finish.
type turnRecord struct {
	// rejoin: a readonly call whose own call chain holds a readonly turn
	// of the target; it shares that turn at once, ahead of waiting
	// writers.
	rejoin bool
	// inChain: a call back into a reentrant actor whose turn waits, in
	// this call's own chain, for the call to return.
	inChain bool
	// drainer: the activation's drainer goroutine runs the message; a
	// reentrant suspension clears it (the role passes on).
	drainer bool
	// resuming: it waits on the resume list.
	resuming bool
	// out counts the outgoing calls of its reentrant method that released
	// the turn.
	out int32
}

// Envelope states.
const (
	envIdle      uint32 = iota // not in flight: the caller owns it
	envPending                 // submitted, not finished
	envDone                    // finished; results valid
	envAbandoned               // the caller gave up (timeout or cancel)
)

func (e *Envelope) envelope() *Envelope { return e }

// Target returns the called actor's ID.
func (e *Envelope) Target() ID { return e.target }

// Reclaim reports whether the runtime has let go of the message, so that its
// results may be read and it may be released to its pool. It is false after a
// call that timed out or was cancelled while the message was still queued or
// running: such a message is left to the garbage collector. Generated proxies
// call it; user code does not.
func (e *Envelope) Reclaim() bool {
	if e.state.Load() == envAbandoned {
		return false
	}
	e.reset()
	return true
}

// reset clears the runtime's per-call fields.
func (e *Envelope) reset() {
	e.next = nil
	e.msg = nil
	e.target = ID{}
	e.typ = nil
	e.loc = location{}
	e.act = nil
	e.ctx = nil
	e.err = nil
	e.wire = nil
	e.rcall = nil
	e.state.Store(envIdle)
	e.oneWay = false
	e.shared = false
	e.turn = turnRecord{}
	e.reply = nil
	e.done = nil
	e.wake = nil
}
