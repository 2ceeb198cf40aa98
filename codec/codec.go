// Package codec is the runtime half of Quark's generated serializers.
//
// `quark gen` writes, for every type reachable from an actor interface's
// parameters and results (and every type marked //quark:codec), an encoder
// that appends MessagePack to a byte slice and a decoder that reads it back,
// using the github.com/tinylib/msgp runtime's Append and Read helpers. The
// generated code calls the small helpers here for the checks every decoder
// needs: bounded container lengths, bounded nesting, typed errors.
//
// The rules of the format (structs keyed by field name, unknown fields
// skipped, what survives a schema change) are in docs/codec.md.
//
// Decoders never panic on hostile input. The input as a whole is checked
// against a maximum message size (DefaultMaxMessageSize unless configured;
// larger is an *quarkerr.Error with code InvalidArgument). A container's
// declared length is checked against the bytes that remain (every element
// takes at least one byte), and every allocation is charged, before it is
// made, to a Budget of AllocFactor times the input's size plus AllocBase,
// so no input can make a decode allocate more than that. Nesting deeper
// than MaxDepth is rejected. Every failure to decode is an *quarkerr.Error
// with code Corrupt.
package codec

import (
	"errors"
	"fmt"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
)

// DefaultMaxMessageSize bounds one encoded message unless configured
// otherwise: 16 MiB.
const DefaultMaxMessageSize = 16 << 20

// MaxDepth bounds the nesting of containers and structs a decoder accepts.
const MaxDepth = 100

// ErrTooDeep is wrapped by decode errors for input nested deeper than
// MaxDepth.
var ErrTooDeep = errors.New("nesting deeper than the maximum")

// ErrTooLarge is wrapped by decode errors for input larger than the maximum
// message size.
var ErrTooLarge = errors.New("larger than the maximum message size")

// ErrTrailing is wrapped by decode errors for input with bytes left over
// after the value.
var ErrTrailing = errors.New("trailing bytes after the value")

// Marshaler is implemented by generated code for types marked //quark:codec
// (durable state, for instance).
type Marshaler interface {
	// MarshalQuark appends the value's encoding to b. It fails, with an
	// *quarkerr.Error of code InvalidArgument (see Unencodable), when a
	// value in it cannot be encoded: a MarshalBinary or MarshalText method,
	// or proto.Marshal, returned an error. It never panics.
	MarshalQuark(b []byte) ([]byte, error)
}

// Unmarshaler is implemented by generated code for types marked
// //quark:codec.
type Unmarshaler interface {
	// UnmarshalQuark decodes b, which must hold exactly one value, into the
	// receiver. It returns an *quarkerr.Error with code Corrupt for bytes it
	// cannot decode and never panics.
	UnmarshalQuark(b []byte) error
}

// Corrupt wraps a decoding failure of what (a type or field name) as an
// *quarkerr.Error with code Corrupt, or returns nil for a nil err.
func Corrupt(what string, err error) error {
	if err == nil {
		return nil
	}
	if qe, ok := err.(*quarkerr.Error); ok && qe.Code == quarkerr.Corrupt {
		return err
	}
	return quarkerr.Errorf(quarkerr.Corrupt, "decode %s: %w", what, err)
}

// Unencodable wraps a failure to encode a value of type what (a
// MarshalBinary or MarshalText method or proto.Marshal that returned err)
// as an *quarkerr.Error with code InvalidArgument: the value is at fault,
// not bytes. Generated encoders return it instead of panicking.
func Unencodable(what string, err error) error {
	return quarkerr.Errorf(quarkerr.InvalidArgument, "encode %s: %w", what, err)
}

// Uncopyable wraps a failure to deep-copy a value of type what, which goes
// through the type's MarshalBinary and UnmarshalBinary (or MarshalText and
// UnmarshalText) methods, as an *quarkerr.Error with code InvalidArgument.
// Generated copies return it instead of panicking.
func Uncopyable(what string, err error) error {
	return quarkerr.Errorf(quarkerr.InvalidArgument, "copy %s: %w", what, err)
}

// CheckDepth returns an error once depth exceeds MaxDepth. Generated
// decoders call it on entering each struct, slice, array, map or pointer,
// with depth counting the containers around it.
func CheckDepth(depth int) error {
	if depth > MaxDepth {
		return Corrupt("value", ErrTooDeep)
	}
	return nil
}

// CheckSize returns an error if b is larger than max (or than
// DefaultMaxMessageSize when max is 0 or less): an *quarkerr.Error with
// code InvalidArgument wrapping ErrTooLarge. Size alone does not make bytes
// corrupt, so the code is not Corrupt; it is the argument (or result, or
// state) that is too large to take.
func CheckSize(b []byte, max int) error {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	if len(b) > max {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "message of %d bytes: %w (%d)", len(b), ErrTooLarge, max)
	}
	return nil
}

// CheckTrailing returns an error if rest is not empty.
func CheckTrailing(what string, rest []byte) error {
	if len(rest) != 0 {
		return Corrupt(what, fmt.Errorf("%d %w", len(rest), ErrTrailing))
	}
	return nil
}

// ReadArrayLen reads an array header and checks its length against the bytes
// that remain: each element takes at least one byte.
func ReadArrayLen(b []byte) (int, []byte, error) {
	n, rest, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return 0, b, err
	}
	if uint64(n) > uint64(len(rest)) {
		return 0, b, fmt.Errorf("array of %d elements in %d bytes: %w", n, len(rest), msgp.ErrShortBytes)
	}
	return int(n), rest, nil
}

// ReadMapLen reads a map header and checks its length against the bytes that
// remain: each entry takes at least two bytes.
func ReadMapLen(b []byte) (int, []byte, error) {
	n, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return 0, b, err
	}
	if 2*uint64(n) > uint64(len(rest)) {
		return 0, b, fmt.Errorf("map of %d entries in %d bytes: %w", n, len(rest), msgp.ErrShortBytes)
	}
	return int(n), rest, nil
}

// Skip skips one value of any type (an unknown struct field). Nesting is
// bounded by MaxDepth from the skipped value down, so a skipped field costs
// at most that much stack on top of the decoder's own bound.
func Skip(b []byte) ([]byte, error) { return skip(b, 0) }

func skip(b []byte, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return b, ErrTooDeep
	}
	if len(b) == 0 {
		return b, msgp.ErrShortBytes
	}
	var n int
	var err error
	switch msgp.NextType(b) {
	case msgp.ArrayType:
		if n, b, err = ReadArrayLen(b); err != nil {
			return b, err
		}
	case msgp.MapType:
		if n, b, err = ReadMapLen(b); err != nil {
			return b, err
		}
		n *= 2
	default:
		return msgp.Skip(b)
	}
	for range n {
		if b, err = skip(b, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// ReadKey reads a struct field's key (a str, or a bin as msgp also
// accepts) and returns its bytes, which alias b, and what follows. Keys of
// up to 31 bytes, the fixstr form, are read inline.
func ReadKey(b []byte) (key, rest []byte, err error) {
	if len(b) > 0 {
		if n := int(b[0]) - 0x9f; uint(n-1) < 32 && n <= len(b) {
			return b[1:n], b[n:], nil
		}
	}
	return msgp.ReadMapKeyZC(b)
}
