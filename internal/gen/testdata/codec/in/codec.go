// Package codec exercises every kind of type the serializers support.
package codec

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Sentinel errors are registered so that errors.Is matches them after the
// wire.
var (
	ErrNotFound = errors.New("not found")
	errInternal = errors.New("internal")
	// ErrWrapped is an error variable too, whatever its value.
	ErrWrapped = fmt.Errorf("wrapped: %w", ErrNotFound)
)

// NotAnError is not registered.
var NotAnError = "no"

// Scalars has one field of every scalar kind.
type Scalars struct {
	Bool    bool
	Int     int
	Int8    int8
	Int16   int16
	Int32   int32
	Int64   int64
	Uint    uint
	Uint8   uint8
	Uint16  uint16
	Uint32  uint32
	Uint64  uint64
	Uintptr uintptr
	Float32 float32
	Float64 float64
	C64     complex64
	C128    complex128
	String  string
	Bytes   []byte
	Byte    byte
	Rune    rune
}

// Named types of every kind, encoded as their underlying types.
type (
	Celsius float64
	Label   string
	Blob    []byte
	UUID    [16]byte
	Grid    [2][3]int8
	Index   map[Label][]int
	Stack   []*Frame
	Link    *Frame
	Flags   uint16
)

// Frame is a struct reached through named containers.
type Frame struct {
	Name string
	Up   Link
}

// Tree is recursive through a slice of values.
type Tree struct {
	Label string
	Kids  []Tree
}

// List is recursive through a pointer.
type List struct {
	Value int64
	Next  *List
}

// Expr and Arg are mutually recursive.
type Expr struct {
	Op   string
	Args []Arg
}

// Arg is a literal or a subexpression.
type Arg struct {
	Lit *float64
	Sub *Expr
}

// Tagged renames, skips and hides fields.
type Tagged struct {
	Name   string `quark:"n"`
	Secret string `quark:"-"`
	Plain  bool   `json:"plain"`
	Empty  int    `quark:""`
	hidden []int
	_      int
}

// Base is embedded by Derived.
type Base struct {
	ID int64
}

// Meta is embedded by pointer.
type Meta struct {
	Tags []string
}

// inner is embedded, but unexported: its fields are not encoded.
type inner struct {
	Lost int
}

// Derived embeds structs: each is encoded as one field named after its type.
type Derived struct {
	Base
	*Meta
	inner
	Extra string
}

// Version crosses the wire through encoding.BinaryMarshaler: its fields are
// unexported.
type Version struct {
	major, minor uint16
}

// MarshalBinary returns four bytes.
func (v Version) MarshalBinary() ([]byte, error) {
	return []byte{byte(v.major >> 8), byte(v.major), byte(v.minor >> 8), byte(v.minor)}, nil
}

// UnmarshalBinary reads what MarshalBinary wrote.
func (v *Version) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return errors.New("version: want 4 bytes")
	}
	v.major, v.minor = uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])
	return nil
}

// Level crosses the wire as text.
type Level int

// MarshalText returns the level's name.
func (l Level) MarshalText() ([]byte, error) {
	if l < 0 {
		return nil, errors.New("negative level")
	}
	return []byte(fmt.Sprint(int(l))), nil
}

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	_, err := fmt.Sscan(string(b), (*int)(l))
	return err
}

// Bag holds memory behind unexported fields and marshals itself: copying
// it goes through its encoding.
type Bag struct {
	items []string
}

// MarshalText joins the items, one per line.
func (b *Bag) MarshalText() ([]byte, error) { return []byte(strings.Join(b.items, "\n")), nil }

// UnmarshalText splits them.
func (b *Bag) UnmarshalText(t []byte) error {
	b.items = strings.Split(string(t), "\n")
	return nil
}

// Stamped embeds a time.Time, whose marshaler methods it gets by promotion:
// they do not count, and it is encoded as a struct.
type Stamped struct {
	time.Time
	Note string
}

// Snapshot holds a slice, but is marked immutable: values are shared.
//
//quark:immutable
type Snapshot struct {
	Items []string
}

// Unused fields of standard library types.
type Stdlib struct {
	At      time.Time
	Took    time.Duration
	Month   time.Month
	Addr    netip.Addr
	Prefix  netip.Prefix
	Big     *big.Int
	URL     url.URL
	Network map[netip.Addr]string
	Stamped Stamped
}

// State is durable state: it gets MarshalQuark and UnmarshalQuark.
//
//quark:codec
type State struct {
	Owner   string
	Balance int64
	History []int64
	Opened  time.Time
	Limits  map[string]Celsius
}

// Counts is a named map with codec methods.
//
//quark:codec
type Counts map[string]int

// Temperature is a named scalar with codec methods, used by no actor.
//
//quark:codec
//quark:immutable
type Temperature float64
