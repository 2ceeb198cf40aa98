package codec

import (
	"errors"
	"math"
	"strings"

	"github.com/tinylib/msgp/msgp"
)

// AllocFactor and AllocBase bound what one decode may allocate: at most
// AllocFactor bytes for each byte of its input, plus AllocBase, whatever
// the input holds. A container's declared length is checked against the
// bytes that remain (every element takes at least one), but an element
// can take hundreds of times more memory than the one byte that encodes
// it (an empty map decoded as a 512-byte struct), so the lengths alone let
// 64 KiB of input allocate 190 MB. The generated decoders therefore charge
// every allocation to a Budget before making it, and fail with
// ErrOverBudget once the input cannot pay for it.
//
// Of the AllocFactor bytes, stringReserve are set aside for the copies of
// strings and byte slices, which are not charged one by one: a copy of n
// input bytes takes at most the allocator's 16-byte minimum or a fifth
// more than n, and its encoding takes at least n+1 bytes (n+2 for a byte
// slice), so such copies take at most 8 bytes per byte of input in all.
// The rest pays for what is charged.
//
// The factor leaves room for every ordinary message: a long slice of empty
// strings takes 16 bytes of budget per byte of input, of nil slices 24, of
// empty maps 56 (all of the rest). What it refuses is a value made, at
// scale, of parts that are far larger in memory than on the wire: long
// runs of structs or arrays sent as empty maps, maps of one or two tiny
// entries (each map takes a table of at least eight slots), pointers to
// empty values. AllocBase lets small messages decode whatever their shape.
const (
	AllocFactor = 64
	AllocBase   = 64 << 10
)

// stringReserve is the part of AllocFactor kept for copies of strings and
// byte slices.
const stringReserve = 8

// ErrOverBudget is wrapped by decode errors for input whose decoded value
// would take more memory than AllocFactor times the input's size plus
// AllocBase.
var ErrOverBudget = errors.New("decoded value needs more memory than its encoding pays for")

// A Budget is what is left to allocate in one decode: one per call of
// ReadArgs, ReadResults or UnmarshalQuark, passed by pointer to every
// decoder it calls. It is not safe for concurrent use, nor meant for any:
// a decode runs on one goroutine.
//
// A charge is counted as the Go allocator rounds it, so that the budget
// bounds what the heap really hands out: a quarter more than the bytes
// asked for, but at most 8 KiB more, plus 16. Size classes, up to 32 KiB,
// waste less than a fifth of a request, and any request may take 16 bytes;
// larger objects take whole 8 KiB pages.
type Budget struct {
	left int
	strs strings.Builder // the chunk short strings are copied into (see ReadString)
}

// NewBudget returns the budget for decoding n bytes of input: what
// AllocFactor×n + AllocBase leaves once the copies of strings and byte
// slices are provided for.
func NewBudget(n int) Budget {
	const factor = AllocFactor - stringReserve
	if n > (math.MaxInt-AllocBase)/factor {
		return Budget{left: math.MaxInt}
	}
	return Budget{left: factor*n + AllocBase}
}

// Left returns what is left of the budget, in bytes.
func (b *Budget) Left() int { return b.left }

// Alloc charges one allocation of n values of size bytes each (a slice's
// backing array, or a new value for a pointer when n is 1), or returns
// ErrOverBudget, charging nothing, if that would exceed the budget.
// Nothing is charged for zero bytes, which Go does not allocate. size must
// be positive; generated code passes a constant.
func (b *Budget) Alloc(n, size int) error {
	if n > b.left/size {
		return ErrOverBudget
	}
	c := n * size
	if c == 0 {
		return nil
	}
	return b.take(c + min(c>>2, 8<<10) + 16)
}

// Map charges a map of n entries whose key and value take slot bytes
// together in the map's table, indirect of them allocated apart for each
// entry (Go keeps a key or value larger than 128 bytes outside the table),
// or returns ErrOverBudget, charging nothing.
//
// The charge follows Go's map layout: a 48-byte header; for one to eight
// entries, one group of eight slots and eight control bytes; for more,
// tables kept at most 7/8 full whose sizes are powers of two, so up to
// 16/7 slots an entry, counted as three.
func (b *Budget) Map(n, slot, indirect int) error {
	const header = 48
	if n == 0 {
		return b.take(header)
	}
	each := 3 * (slot + 1)
	if indirect > 0 {
		each += indirect + indirect>>2 + 16
	}
	if n > (b.left-header)/each {
		return ErrOverBudget
	}
	c := n * each
	if n <= 8 {
		c = (8*(slot+1))*5/4 + 16 + n*(each-3*(slot+1))
	}
	return b.take(header + c)
}

// take charges c bytes.
func (b *Budget) take(c int) error {
	if c > b.left {
		return ErrOverBudget
	}
	b.left -= c
	return nil
}

// Strings of up to shortString bytes are copied into shared chunks of at
// most stringChunk bytes; longer ones get their own allocation.
const (
	shortString = 32
	firstChunk  = 16
	stringChunk = 256
)

// ReadString reads one string from b and returns a copy of its bytes, and
// what follows it. Nothing it returns aliases b, which the caller may reuse.
//
// Short strings (up to shortString bytes) of one decode share backing
// arrays: a chunk takes the copies of the strings that follow until one no
// longer fits, and the next chunk is a new array, never the old one grown.
// Strings are immutable, so the sharing is not observable, except that one
// retained string keeps its whole chunk (at most stringChunk bytes) alive.
// It saves an allocation per string, and the copies stay within their part
// of the budget (stringReserve), as one copy per string did: chunks start
// at firstChunk bytes and double up to stringChunk, so those smaller than
// stringChunk take at most 240 bytes in all (well within AllocBase),
// unless one is sized by the input left, and then it holds every string
// that remains; a chunk of stringChunk bytes is left at least seven eighths
// full, as a new one is started only for a string of at most shortString
// bytes that does not fit; and a string of n bytes is encoded in at least
// n+1. The chunk a Budget holds is its own: a Budget must not be copied
// once used (its strings.Builder panics if it is).
func (b *Budget) ReadString(in []byte) (string, []byte, error) {
	var s []byte
	if len(in) > 0 && in[0]&0xe0 == 0xa0 && int(in[0]&0x1f) < len(in) {
		// fixstr, the form of every string of up to 31 bytes.
		n := int(in[0]&0x1f) + 1
		s, in = in[1:n], in[n:]
	} else {
		var err error
		if s, in, err = msgp.ReadStringZC(in); err != nil {
			return "", in, err
		}
	}
	return b.copyString(s, len(in)), in, nil
}

// copyString returns a copy of s, which rest more bytes of input follow.
func (b *Budget) copyString(s []byte, rest int) string {
	n := len(s)
	switch {
	case n == 0:
		return ""
	case n > shortString:
		return string(s)
	}
	if c := b.strs.Cap(); c-b.strs.Len() < n {
		// A new chunk, not grown from the old one: the strings already
		// handed out keep theirs. Its bytes are not zeroed first.
		b.strs.Reset()
		b.strs.Grow(min(n+rest, max(firstChunk, 2*c), stringChunk))
	}
	i := b.strs.Len()
	b.strs.Write(s)
	// A Builder never changes the bytes it has written: String shares
	// them, and later writes go after them or into a new chunk.
	return b.strs.String()[i:]
}
