package codectest

import (
	"net/netip"
	"time"

	v1 "github.com/quarkgo/quark/internal/codectest/v1"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
)

// Scalars has one field of every scalar kind.
//
//quark:codec
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
	Byte    byte // alias of uint8
	Rune    rune // alias of int32
}

// Named types of the supported kinds.
type (
	Celsius float64
	Status  uint8
	Name    string
	Count   int32
	Flag    bool
	Blob    []byte
	Key     [4]byte
	Names   []Name
	Index   map[Name]Count
	Grid    [3][3]int8
)

// The values of Status.
const (
	Pending Status = iota
	Paid
	Shipped
	Cancelled
)

// Named has fields of named types, including named containers keyed and
// filled with named types.
//
//quark:codec
type Named struct {
	Temp     Celsius
	Status   Status
	Name     Name
	Count    Count
	Flag     Flag
	Blob     Blob
	Key      Key
	Names    Names
	Index    Index
	Grid     Grid
	Optional *Celsius
}

// Point is a small struct used inside containers.
//
//quark:codec
type Point struct {
	X, Y  float64
	Label string
}

// Containers has slices, arrays and maps of scalars, of containers and of
// structs.
//
//quark:codec
type Containers struct {
	Ints        []int64
	Strings     []string
	Nested      [][]int32
	Fixed       [4]uint16
	ByteArray   [8]byte
	StrMap      map[string]int
	IntKeys     map[int64]string
	UintKeys    map[uint16]bool
	MapOfSlices map[string][]float64
	SliceOfMaps []map[string]bool
	MapOfMaps   map[string]map[string]int8
	Points      []Point
	PointMap    map[string]Point
	PointPtrs   []*Point
	ByteSlices  [][]byte
}

// Pointers has pointers to scalars, structs, containers, times and other
// pointers.
//
//quark:codec
type Pointers struct {
	Int    *int
	String *string
	Point  *Point
	PtrPtr **int64
	Slice  *[]string
	Map    *map[string]int
	Array  *[2]int8
	Time   *time.Time
	Named  *Celsius
}

// Timeout is a named time.Duration.
type Timeout time.Duration

// Times has time.Time and time.Duration values, alone and in containers.
//
//quark:codec
type Times struct {
	At        time.Time
	Took      time.Duration
	Deadline  *time.Time
	Durations []time.Duration
	Schedule  map[string]time.Time
	Timeout   Timeout
}

// Marshalers has fields whose types encode themselves through
// encoding.BinaryMarshaler or encoding.TextMarshaler.
//
//quark:codec
type Marshalers struct {
	Version    Version
	Level      Level
	Color      Color
	VersionPtr *Version
	Levels     []Level
	ByLevel    map[string]Level
	Addr       netip.Addr
	Colors     map[string]Color // pointer-receiver marshalers on map values
	ColorList  []Color
	ColorPtr   *Color
}

// Tagged renames fields with tags and skips some.
//
//quark:codec
type Tagged struct {
	Name   string `quark:"n"`
	Count  int    `quark:"count"`
	Secret string `quark:"-"`
	Plain  bool
	Other  string `json:"other,omitempty"`
	Empty  int    `quark:""` // an empty name: the field's own
	Größe  int16  // a name beyond ASCII
	_      int64  // blank: never encoded
	hidden int    // unexported: never encoded
}

// Hidden returns the unexported field, which encoding ignores.
func (t Tagged) Hidden() int { return t.hidden }

// WithHidden returns t with its unexported field set.
func (t Tagged) WithHidden(n int) Tagged {
	t.hidden = n
	return t
}

// Base is embedded in Derived.
type Base struct {
	ID   int64
	Note string
}

// meta is embedded in Derived; being unexported, it is not encoded, nor are
// the fields Go promotes from it.
type meta struct {
	Owner string
}

// Derived embeds an exported struct, a pointer to a struct and an
// unexported struct. Embedded fields are not flattened: each is one field
// named after its type.
//
//quark:codec
type Derived struct {
	Base
	*Point
	meta
	Extra string
	Stamp Stamp
}

// Stamp embeds a time.Time, whose methods (MarshalBinary among them) it
// gets by promotion: it is still encoded as a struct, keeping Source.
type Stamp struct {
	time.Time
	Source string
}

// Owner returns the unexported embedded field's field.
func (d Derived) Owner() string { return d.meta.Owner }

// WithOwner returns d with the unexported embedded field's field set.
func (d Derived) WithOwner(owner string) Derived {
	d.meta.Owner = owner
	return d
}

// Keys has maps keyed by every supported kind of key.
//
//quark:codec
type Keys struct {
	Bools    map[bool]int8
	Ints     map[int]string
	Uints    map[uint64]bool
	Floats   map[float64]string
	Strings  map[string]string
	Names    map[Name]Count
	Arrays   map[Key]string
	Times    map[time.Time]int
	Levels   map[Level]bool
	Versions map[Version]string
	Addrs    map[netip.Addr]Flag
	Colors   map[Color]int8 // a key with pointer-receiver marshalers
}

// Foreign has fields of types declared in other packages, which are
// encoded by their exported shape.
//
//quark:codec
type Foreign struct {
	Address  v1.Address
	Customer *v1.Customer
	Next     []v2.Address
	ByCity   map[string]v2.Customer
	Prefix   netip.Prefix
}

// Tree is recursive through a slice of values.
//
//quark:codec
type Tree struct {
	Label    string
	Weight   int32
	Children []Tree
}

// List is recursive through a pointer.
//
//quark:codec
type List struct {
	Value int64
	Next  *List
}

// Dir is recursive through a map of pointers.
//
//quark:codec
type Dir struct {
	Name string
	Size int64
	Sub  map[string]*Dir
}

// Expr and Arg are mutually recursive.
//
//quark:codec
type Expr struct {
	Op   string
	Args []Arg
}

// Arg is an operand of an Expr: a literal or a subexpression.
//
//quark:codec
type Arg struct {
	Lit *float64
	Sub *Expr
}

// Tags is a named slice with its own codec methods.
//
//quark:codec
type Tags []string

// Scores is a named map with its own codec methods.
//
//quark:codec
type Scores map[string]float64

// Matrix is a named array of arrays with its own codec methods.
//
//quark:codec
type Matrix [2][3]int16

// Temperature is a named scalar with its own codec methods.
//
//quark:codec
type Temperature float64

// OrderLine is one line of an Order.
//
//quark:codec
type OrderLine struct {
	SKU      string
	Quantity int32
	Price    int64 // cents
}

// Order is a typical message: ten fields including a string, a slice and a
// map. The benchmarks encode and decode it.
//
//quark:codec
type Order struct {
	ID       uint64
	Customer string
	Lines    []OrderLine
	Attrs    map[string]string
	Placed   time.Time
	Total    int64 // cents
	Currency string
	Status   Status
	Discount float64
	Gift     bool
}

// Ten is the benchmark's lean message: ten fields, one of them a string, one
// a slice and one a map.
//
//quark:codec
type Ten struct {
	ID       int64
	Version  uint32
	Score    float64
	Active   bool
	Name     string
	Samples  []int32
	Counters map[string]int64
	Updated  time.Time
	Region   int16
	Flags    uint8
}

// Wide is 512 bytes in memory and one byte on the wire when all its fields
// are zero and left out (an empty map): the shape that makes a decoder
// allocate far more than its input.
type Wide struct {
	Words [64]uint64
}

// Wides is a slice of Wide values with its own codec methods.
//
//quark:codec
type Wides []Wide

// Sparse has containers whose elements are much larger in memory than the
// least input that encodes them: every way a decoder allocates (slices,
// maps, pointers, strings) nested in another.
//
//quark:codec
type Sparse struct {
	Wides  []Wide
	Ptrs   []*Wide
	Maps   []map[string]int64
	ByKey  map[int32]Wide
	Grid   [][]Wide
	Lists  [][]string
	Labels []string
	Blobs  [][]byte
}
