// Package grpctransport implements transport.Transport over gRPC: each
// connection is one long-lived bidirectional stream
// ("/quark.Transport/Connect", declared without a .proto file), whose
// messages are batches of frames, each frame a uvarint length then its
// bytes (docs/wire.md, "Frames on a gRPC stream").
//
// A process listens and dials with the same Transport:
//
//	t := grpctransport.New()
//	ln, err := t.Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
//		return handlerFor(c)
//	})
//	...
//	conn, err := t.Dial(ctx, ln.Addr(), h)
//	err = conn.Send(frame)
//
// A silo takes it as quark.WithTransport(grpctransport.New()).
//
// Sending: Send copies the frame into the connection's pending batch; when
// no write is in progress the calling goroutine becomes the writer: it
// yields once (runtime.Gosched), so that goroutines about to send queue
// their frames into the same batch, then writes, and keeps writing until
// nothing is pending, so frames queued meanwhile by other goroutines share
// its next stream message. An idle connection costs
// no goroutine hand-off and no timer. A batch is cut at 1 MiB (one frame
// alone may be larger, up to the maximum frame size). Batch buffers are
// pooled: gRPC returns each to the pool through the buffer's Free once it
// has written it, not when SendMsg returns.
//
// Receiving: one goroutine per connection reads stream messages and hands
// their frames to the Handler, without copying them out of gRPC's buffers.
//
// Closing: Conn.Close ends the stream (on the dialling side, also the
// grpc.ClientConn the Conn owns); it does not wait for the Handlers. A
// peer's close, a reset TCP connection or a keepalive timeout ends the
// connection with an error given to Closed; so does bad input from the peer
// (ErrMalformedBatch, ErrFrameTooLarge), which is also logged.
// Listener.Close returns once the Closed of every accepted connection has
// returned, so it must not be called from one of their Handlers.
//
// Security: plain TCP is the default, meant for loopback development.
// WithTLS (or TLSFromFiles) secures connections with TLS or mutual TLS.
package grpctransport
