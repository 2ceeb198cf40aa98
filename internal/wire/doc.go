// Package wire holds the byte forms in which Quark's runtime describes a
// call to another process. It does no I/O and never imports the root
// package: the root converts its own values (IDs, call contexts) to the
// plain values here and back.
//
// Today it holds the call context: the caller's remaining deadline, its call
// chain as a list of actor IDs with the bits cycle detection reads, and the
// propagated values. The envelope and the frames that carry it come with the
// transport. docs/wire.md ("Call context on the wire") documents the layout.
//
//	b, err := wire.AppendCallContext(nil, &cc)
//	...
//	var got wire.CallContext
//	err = wire.ReadCallContext(b, &got) // malformed bytes: CodeCorrupt
package wire
