package wire

import (
	"encoding/binary"
	"time"

	"github.com/quarkgo/quark/quarkerr"
)

// Limits on a call context. A decoder refuses anything larger with
// CodeCorrupt before allocating for it; an encoder refuses it with
// CodeInvalidArgument, so a call that could not be decoded on the other side
// fails where it is made.
const (
	// MaxChain is the most links a call chain carries: a chain deeper than
	// this is almost certainly runaway recursion.
	MaxChain = 256
	// MaxTypeName is the longest actor type name, in bytes.
	MaxTypeName = 512
	// MaxKey is the longest binary key (quark.Key.MarshalBinary), in bytes.
	MaxKey = 4096
	// MaxValues is the most propagated key/value pairs.
	MaxValues = 64
	// MaxValueLen is the longest propagated key or value, in bytes.
	MaxValueLen = 4096
)

// Link is one actor waiting in a call chain, described by what another
// process needs to decide whether a call into that actor is a cycle.
type Link struct {
	// Type is the actor's type name, Key its key as quark.Key.MarshalBinary
	// writes it.
	Type string
	Key  []byte
	// Pinned: the actor's turn is held while it waits (it is in OnActivate
	// or OnDeactivate), so a call back into it is a deadlock even for a
	// reentrant type.
	Pinned bool
	// Readonly: the actor waits in a readonly turn, which a readonly call
	// back into it rejoins.
	Readonly bool
}

// CallContext is what a call carries of its caller's context.
type CallContext struct {
	// HasDeadline says whether Remaining is set. A one-way message carries
	// none: its deadline starts when it runs.
	HasDeadline bool
	// Remaining is the time left until the caller's deadline when the call
	// was sent, never negative: a deadline already passed travels as 0.
	// Remaining time, not an instant, so that clocks need not agree.
	Remaining time.Duration
	// Chain lists the actors waiting on this call, the nearest caller first.
	Chain []Link
	// Values holds propagated values as alternating keys and values, as the
	// caller's propagators injected them.
	Values []string
}

// Flag bits of a call context and of a link.
const (
	flagDeadline = 1 << 0

	linkPinned   = 1 << 0
	linkReadonly = 1 << 1
)

// AppendCallContext appends the encoding of c to b:
//
//	flags     byte: bit 0 set when a deadline follows
//	remaining uvarint nanoseconds, only with bit 0
//	links     uvarint count, then per link:
//	            flags byte (bit 0 pinned, bit 1 readonly),
//	            type  uvarint length and bytes,
//	            key   uvarint length and bytes
//	values    uvarint count of pairs, then per pair the key and the value,
//	          each a uvarint length and bytes
//
// It fails with CodeInvalidArgument, and b as it was, when c exceeds a limit
// above or has an odd number of Values.
func AppendCallContext(b []byte, c *CallContext) ([]byte, error) {
	start := len(b)
	switch {
	case len(c.Chain) > MaxChain:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call context: chain of %d links exceeds %d", len(c.Chain), MaxChain)
	case len(c.Values)%2 != 0:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call context: odd number of propagated keys and values")
	case len(c.Values)/2 > MaxValues:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call context: %d propagated values exceed %d", len(c.Values)/2, MaxValues)
	}
	var flags byte
	if c.HasDeadline {
		flags |= flagDeadline
	}
	b = append(b, flags)
	if c.HasDeadline {
		b = binary.AppendUvarint(b, uint64(max(c.Remaining, 0)))
	}
	b = binary.AppendUvarint(b, uint64(len(c.Chain)))
	for i := range c.Chain {
		l := &c.Chain[i]
		if len(l.Type) > MaxTypeName || len(l.Key) > MaxKey {
			return b[:start], quarkerr.Errorf(quarkerr.InvalidArgument, "call context: link %d: type name or key too long", i)
		}
		var lf byte
		if l.Pinned {
			lf |= linkPinned
		}
		if l.Readonly {
			lf |= linkReadonly
		}
		b = append(b, lf)
		b = appendString(b, l.Type)
		b = binary.AppendUvarint(b, uint64(len(l.Key)))
		b = append(b, l.Key...)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Values)/2))
	for i, v := range c.Values {
		if len(v) > MaxValueLen {
			return b[:start], quarkerr.Errorf(quarkerr.InvalidArgument, "call context: propagated value %d is %d bytes, more than %d", i/2, len(v), MaxValueLen)
		}
		b = appendString(b, v)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ReadCallContext decodes a call context written by AppendCallContext into
// c, which it overwrites. The whole of b must be the one call context.
// Malformed input (truncated, trailing bytes, unknown flags, a count or
// length beyond the limits) is an error with CodeCorrupt; it never panics,
// and allocates in proportion to b's length. c keeps no reference to
// b.
func ReadCallContext(b []byte, c *CallContext) error {
	r := reader{b: b, what: "call context"}
	*c = CallContext{}
	flags := r.byte()
	if flags&^flagDeadline != 0 {
		r.fail("unknown flags")
	}
	if flags&flagDeadline != 0 {
		n := r.uvarint()
		if n > 1<<63-1 {
			r.fail("remaining time out of range")
		}
		c.HasDeadline = true
		c.Remaining = time.Duration(n)
	}
	// Each link takes at least three bytes, each value one.
	n := r.count(MaxChain, 3)
	if n > 0 {
		c.Chain = make([]Link, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		l := &c.Chain[i]
		lf := r.byte()
		if lf&^(linkPinned|linkReadonly) != 0 {
			r.fail("unknown link flags")
		}
		l.Pinned = lf&linkPinned != 0
		l.Readonly = lf&linkReadonly != 0
		l.Type = string(r.bytes(MaxTypeName))
		if k := r.bytes(MaxKey); k != nil {
			l.Key = append([]byte(nil), k...)
		}
	}
	pairs := r.count(MaxValues, 2)
	if pairs > 0 {
		c.Values = make([]string, 2*pairs)
	}
	for i := 0; i < 2*pairs && r.err == nil; i++ {
		c.Values[i] = string(r.bytes(MaxValueLen))
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		*c = CallContext{}
	}
	return r.err
}

// reader decodes from b, recording the first error; after one, every read
// returns zero values.
type reader struct {
	b    []byte
	err  error
	what string // what is decoded, for the error text
}

// fail records why decoding failed, unless an earlier failure is recorded.
func (r *reader) fail(why string) {
	if r.err == nil {
		r.err = quarkerr.Errorf(quarkerr.Corrupt, "decode %s: %s", r.what, why)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, w := binary.Uvarint(r.b)
	if w <= 0 || w > 1 && r.b[w-1] == 0 {
		// Overlong or overflowing; a varint has one encoding, so that
		// every call context has one.
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[w:]
	return v
}

// count reads a count of at most limit items, each of which takes at least
// minSize bytes of what remains.
func (r *reader) count(limit, minSize int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(limit) || n*uint64(minSize) > uint64(len(r.b)) {
		r.fail("count out of range")
		return 0
	}
	return int(n)
}

// bytes reads a length-prefixed byte string of at most limit bytes. The
// result aliases the input.
func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.fail("length out of range")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
