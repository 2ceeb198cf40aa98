// Package wire holds the byte forms in which Quark's runtime describes a
// call to another process. It does no I/O and never imports the root
// package: the root converts its own values (IDs, call contexts) to the
// plain values here and back.
//
// It holds the call context (the caller's remaining deadline, its call chain
// as a list of actor IDs with the bits cycle detection reads, and the
// propagated values) and the frames a connection carries: Hello and Refuse
// for the handshake, Call, Reply and Cancel for calls. docs/wire.md ("Call
// context on the wire", "Frames") documents the layouts.
//
// Encoders append to a buffer the caller owns and refuse a value beyond a
// limit with CodeInvalidArgument, leaving the buffer as it was. Decoders
// never panic, allocate in proportion to their input, and refuse malformed
// bytes with CodeCorrupt. A call's arguments and a reply's results are not
// encoded here: the caller appends the codec's bytes right after the frame's
// header, and the reader hands back the rest of the frame, aliased.
//
//	b, err := wire.AppendCall(buf[:0], &wire.Call{ID: id, Type: typ, Key: key, Method: m, Context: cc})
//	if err == nil {
//		b, err = msg.AppendArgs(b) // the arguments, written once
//	}
//	...
//	switch kind, err := wire.FrameKind(frame); kind {
//	case wire.KindCall:
//		var c wire.Call
//		err = wire.ReadCall(frame, &c) // c.Key and c.Args alias frame
//	}
package wire
