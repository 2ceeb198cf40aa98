// Package transport is the seam between a Quark process and the network: how
// a silo or a cluster client opens connections to other processes and
// exchanges frames with them. It holds interfaces only and imports nothing
// of the runtime, so that a transport can live in its own package with its
// own dependencies: package grpctransport carries frames over gRPC
// bidirectional streams, and quarktest.Network carries them in memory, with
// faults a test scripts.
//
// A frame is an opaque byte string the runtime encodes (docs/wire.md names
// its fields); a transport carries each one whole and in order, per
// connection, and never looks inside. A transport may coalesce frames queued
// together into one write, and must hand them to the receiver one by one.
//
// The runtime does its own handshake in the first frames of a connection
// (protocol version, cluster name, address and epoch): a transport only
// connects, carries and reports.
package transport

import (
	"context"
	"errors"
)

// ErrClosed is returned by Send on a connection that has closed, whichever
// side closed it or however it broke.
var ErrClosed = errors.New("transport: connection closed")

// Transport opens connections. Implementations are safe for concurrent
// use.
type Transport interface {
	// Listen accepts connections at addr (its form is the transport's:
	// "127.0.0.1:0" for a network transport) until the listener is closed.
	// For each accepted connection it calls accept, which returns the
	// Handler for its frames (accept must not block). The returned
	// listener's Addr is the bound address, to which others dial.
	Listen(addr string, accept func(Conn) Handler) (Listener, error)
	// Dial opens a connection to the process listening at addr; h receives
	// its frames. It returns when the connection is established (frames
	// may be sent at once), or with an error when it cannot be, or when ctx
	// ends first.
	Dial(ctx context.Context, addr string, h Handler) (Conn, error)
}

// Listener accepts connections.
type Listener interface {
	// Addr returns the bound address, in a form Dial accepts.
	Addr() string
	// Close stops accepting and closes every connection it accepted; it
	// returns once their handlers' Closed have returned.
	Close() error
}

// Conn is one connection between two processes.
type Conn interface {
	// Send queues frame for the peer, copying it before returning, so the
	// caller may reuse it. Frames sent on one connection arrive in the
	// order of their Send calls (calls that overlap in time are ordered
	// arbitrarily). Send may block while the peer is slow to read (flow
	// control); it returns ErrClosed, or an error wrapping it, once the
	// connection is closed, and an error naming the limit for a frame
	// larger than the transport carries. A nil error means the frame was
	// queued, not that the peer received it.
	Send(frame []byte) error
	// Close closes the connection; the peer's Handler.Closed is called,
	// and this side's. It is safe to call more than once and from any
	// goroutine.
	Close() error
	// RemoteAddr describes the peer, for logs.
	RemoteAddr() string
}

// Handler receives the frames of one connection.
type Handler interface {
	// Frame is called for each frame received, in order, from one
	// goroutine per connection. frame is valid only until Frame returns.
	// Frame should not block for long: it holds up the frames behind it.
	Frame(frame []byte)
	// Closed is called once, after the last Frame, when the connection has
	// ended: closed by either side (err nil when this side closed it) or
	// broken (err says how).
	Closed(err error)
}
