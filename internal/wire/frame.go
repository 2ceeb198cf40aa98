package wire

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/quarkgo/quark/quarkerr"
)

// Version is the protocol version this process speaks, carried by Hello.
// Two processes talk only when their versions are equal.
const Version = 1

// Limits on frames, beyond those of the call context. As there, a decoder
// refuses anything larger with CodeCorrupt before allocating for it, and an
// encoder refuses it with CodeInvalidArgument.
const (
	// MaxClusterName is the longest cluster name, in bytes.
	MaxClusterName = 256
	// MaxAddr is the longest address (a Hello's Addr and each member), in
	// bytes.
	MaxAddr = 512
	// MaxMembers is the most members a Hello lists.
	MaxMembers = 1024
	// MaxRefuseMessage is the longest message of a Refuse, in bytes.
	MaxRefuseMessage = 4096
)

// ErrVersion is wrapped by the error ReadHello returns for a Hello of
// another protocol version.
var ErrVersion = errors.New("protocol version mismatch")

// Kind is the kind of a frame: its first byte.
type Kind byte

// The kinds of frame.
const (
	// KindHello opens a connection, each side sending one first.
	KindHello Kind = 1
	// KindRefuse tells the peer why this side closes the connection.
	KindRefuse Kind = 2
	// KindCall carries a call or a one-way message.
	KindCall Kind = 3
	// KindReply carries the outcome of a call.
	KindReply Kind = 4
	// KindCancel tells the callee the caller gave up on a call.
	KindCancel Kind = 5
)

// FrameKind returns the kind of frame: its first byte. An empty frame or an
// unknown kind is an error with CodeCorrupt.
func FrameKind(frame []byte) (Kind, error) {
	if len(frame) == 0 {
		return 0, quarkerr.New(quarkerr.Corrupt, "decode frame: empty")
	}
	k := Kind(frame[0])
	if k < KindHello || k > KindCancel {
		return 0, quarkerr.Errorf(quarkerr.Corrupt, "decode frame: unknown kind %d", k)
	}
	return k, nil
}

// Role says what kind of process sent a Hello.
type Role byte

// The roles.
const (
	// RoleSilo: a silo, which hosts actors.
	RoleSilo Role = 0
	// RoleClient: a cluster client, which hosts none and only calls.
	RoleClient Role = 1
)

// Hello is the first frame each side of a connection sends.
type Hello struct {
	// Version is the sender's protocol version (Version).
	Version uint32
	// Cluster is the sender's cluster name, at most MaxClusterName bytes;
	// it may be empty.
	Cluster string
	// Addr is the sender's listen address, "" for a client; at most
	// MaxAddr bytes.
	Addr string
	// Epoch is the sender's incarnation, > 0: for instance its start time
	// in Unix nanoseconds, so that a restarted process is told from the one
	// it replaces.
	Epoch int64
	// Role is what kind of process the sender is.
	Role Role
	// Members is the static member list the sender serves, at most
	// MaxMembers addresses of at most MaxAddr bytes each; it may be empty.
	Members []string
}

// AppendHello appends a hello frame to b:
//
//	kind    byte 1
//	version uvarint, at most 2³²−1
//	cluster uvarint length and bytes
//	addr    uvarint length and bytes
//	epoch   uvarint, > 0 and at most 2⁶³−1
//	role    byte, 0 or 1
//	members uvarint count, then each a uvarint length and bytes
//
// The version comes right after the kind byte, and every later version of
// the protocol keeps it there, so that a process can read the version of a
// peer whose frames it cannot otherwise read (see ReadHello).
//
// It fails with CodeInvalidArgument, and b as it was, when h exceeds a limit
// above, has an Epoch ≤ 0 or an unknown Role. It writes h.Version as given,
// which is Version except in tests.
func AppendHello(b []byte, h *Hello) ([]byte, error) {
	switch {
	case len(h.Cluster) > MaxClusterName:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: cluster name of %d bytes exceeds %d", len(h.Cluster), MaxClusterName)
	case len(h.Addr) > MaxAddr:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: address of %d bytes exceeds %d", len(h.Addr), MaxAddr)
	case h.Epoch <= 0:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: epoch %d is not positive", h.Epoch)
	case h.Role != RoleSilo && h.Role != RoleClient:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: unknown role %d", h.Role)
	case len(h.Members) > MaxMembers:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: %d members exceed %d", len(h.Members), MaxMembers)
	}
	for i, m := range h.Members {
		if len(m) > MaxAddr {
			return b, quarkerr.Errorf(quarkerr.InvalidArgument, "hello: member %d of %d bytes exceeds %d", i, len(m), MaxAddr)
		}
	}
	b = append(b, byte(KindHello))
	b = binary.AppendUvarint(b, uint64(h.Version))
	b = appendString(b, h.Cluster)
	b = appendString(b, h.Addr)
	b = binary.AppendUvarint(b, uint64(h.Epoch))
	b = append(b, byte(h.Role))
	b = binary.AppendUvarint(b, uint64(len(h.Members)))
	for _, m := range h.Members {
		b = appendString(b, m)
	}
	return b, nil
}

// ReadHello decodes a hello frame written by AppendHello into h, which it
// overwrites; h keeps no reference to frame.
//
// It reads the version first. When the version is not Version it stops
// there, since the rest may be laid out otherwise, and returns an error
// with CodeUnavailable wrapping ErrVersion that names both versions, with
// h.Version set and the other fields zero: the caller can refuse the peer
// saying why.
//
// Malformed input (another kind, truncated, trailing bytes, an overlong
// varint, a length, count or value out of range) is an error with
// CodeCorrupt, and h zero; it never panics and allocates in proportion to
// the frame's length.
func ReadHello(frame []byte, h *Hello) error {
	*h = Hello{}
	r := reader{b: frame, what: "hello frame"}
	r.kind(KindHello)
	v := r.uvarint()
	if r.err == nil && v > math.MaxUint32 {
		r.fail("version out of range")
	}
	if r.err != nil {
		return r.err
	}
	if v != Version {
		h.Version = uint32(v)
		return quarkerr.Errorf(quarkerr.Unavailable, "hello: peer speaks protocol version %d, this process version %d: %w", v, Version, ErrVersion)
	}
	h.Version = uint32(v)
	h.Cluster = string(r.bytes(MaxClusterName))
	h.Addr = string(r.bytes(MaxAddr))
	epoch := r.uvarint()
	if r.err == nil && (epoch == 0 || epoch > math.MaxInt64) {
		r.fail("epoch out of range")
	}
	h.Epoch = int64(epoch)
	role := Role(r.byte())
	if r.err == nil && role != RoleSilo && role != RoleClient {
		r.fail("unknown role")
	}
	h.Role = role
	// Each member takes at least one byte.
	if n := r.count(MaxMembers, 1); n > 0 {
		h.Members = make([]string, n)
		for i := 0; i < n && r.err == nil; i++ {
			h.Members[i] = string(r.bytes(MaxAddr))
		}
	}
	r.end()
	if r.err != nil {
		*h = Hello{}
	}
	return r.err
}

// Refuse is the last frame a side sends on a connection it will not serve,
// saying why: a peer of another version or cluster, for instance.
type Refuse struct {
	// Code is the quarkerr code of the refusal.
	Code uint8
	// Message says why, at most MaxRefuseMessage bytes.
	Message string
}

// AppendRefuse appends a refuse frame to b:
//
//	kind    byte 2
//	code    byte
//	message uvarint length and bytes
//
// It fails with CodeInvalidArgument, and b as it was, when the message is
// longer than MaxRefuseMessage.
func AppendRefuse(b []byte, r *Refuse) ([]byte, error) {
	if len(r.Message) > MaxRefuseMessage {
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "refuse: message of %d bytes exceeds %d", len(r.Message), MaxRefuseMessage)
	}
	b = append(b, byte(KindRefuse), r.Code)
	return appendString(b, r.Message), nil
}

// ReadRefuse decodes a refuse frame into r, which it overwrites; r keeps no
// reference to frame. Malformed input (another kind, truncated, trailing
// bytes, a message beyond the limit) is an error with CodeCorrupt, and r
// zero.
func ReadRefuse(frame []byte, r *Refuse) error {
	*r = Refuse{}
	rd := reader{b: frame, what: "refuse frame"}
	rd.kind(KindRefuse)
	r.Code = rd.byte()
	r.Message = string(rd.bytes(MaxRefuseMessage))
	rd.end()
	if rd.err != nil {
		*r = Refuse{}
	}
	return rd.err
}

// Call is a call or a one-way message to an actor.
type Call struct {
	// ID numbers the frame among the calls and one-way messages sent on
	// this connection, never 0: the Reply and a Cancel of a call name it,
	// and the receiver takes a second frame with an ID it has seen for a
	// duplicate.
	ID uint64
	// OneWay: the sender expects no reply.
	OneWay bool
	// ReadOnly: the method is readonly.
	ReadOnly bool
	// Type is the target actor's type name, non-empty and at most
	// MaxTypeName bytes.
	Type string
	// Key is the target's key as quark.Key.MarshalBinary writes it,
	// non-empty and at most MaxKey bytes.
	Key []byte
	// Method is the method's ID.
	Method uint32
	// Context is the caller's context.
	Context CallContext
	// Args holds the encoded arguments, nil when the frame ends with the
	// context. ReadCall sets it; AppendCall ignores it, as the caller
	// appends the arguments itself.
	Args []byte
}

// Flag bits of a call.
const (
	callOneWay   = 1 << 0
	callReadOnly = 1 << 1
)

// AppendCall appends a call frame to b, without the arguments:
//
//	kind    byte 3
//	flags   byte: bit 0 OneWay, bit 1 ReadOnly; other bits 0
//	id      uvarint, never 0
//	type    uvarint length and bytes
//	key     uvarint length and bytes
//	method  uvarint, at most 2³²−1
//	context uvarint length, then AppendCallContext's bytes
//	args    the rest of the frame
//
// The caller appends the encoded arguments right after (msg.AppendArgs), so
// that they are written once, straight into the frame; they take the rest
// of the frame and carry no length.
//
// It fails with CodeInvalidArgument, and b as it was, when c exceeds a limit
// (its own or its context's), has an empty type or key, or ID 0.
func AppendCall(b []byte, c *Call) ([]byte, error) {
	switch {
	case c.ID == 0:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call: id 0")
	case c.Type == "" || len(c.Type) > MaxTypeName:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call: type name of %d bytes, want 1 to %d", len(c.Type), MaxTypeName)
	case len(c.Key) == 0 || len(c.Key) > MaxKey:
		return b, quarkerr.Errorf(quarkerr.InvalidArgument, "call: key of %d bytes, want 1 to %d", len(c.Key), MaxKey)
	}
	start := len(b)
	var flags byte
	if c.OneWay {
		flags |= callOneWay
	}
	if c.ReadOnly {
		flags |= callReadOnly
	}
	b = append(b, byte(KindCall), flags)
	b = binary.AppendUvarint(b, c.ID)
	b = appendString(b, c.Type)
	b = binary.AppendUvarint(b, uint64(len(c.Key)))
	b = append(b, c.Key...)
	b = binary.AppendUvarint(b, uint64(c.Method))
	// The context's length is not known before it is encoded: encode it
	// after the frame, then move it into place behind its length.
	mark := len(b)
	b, err := AppendCallContext(b, &c.Context)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - mark
	var lenBuf [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(lenBuf[:], uint64(n))
	b = append(b, lenBuf[:w]...)
	copy(b[mark+w:], b[mark:mark+n])
	copy(b[mark:], lenBuf[:w])
	return b, nil
}

// ReadCall decodes a call frame into c, which it overwrites. c.Key and
// c.Args alias frame and are valid while frame is; the context is decoded
// as ReadCallContext decodes it, and keeps no reference to frame.
//
// Malformed input (another kind, truncated, unknown flags, an ID that does
// not agree with the one-way flag, an empty or too long type or key, an
// overlong varint, a method or length out of range, a malformed context) is
// an error with CodeCorrupt, and c zero; it never panics and allocates in
// proportion to the frame's length.
func ReadCall(frame []byte, c *Call) error {
	*c = Call{}
	r := reader{b: frame, what: "call frame"}
	r.kind(KindCall)
	flags := r.byte()
	if flags&^(callOneWay|callReadOnly) != 0 {
		r.fail("unknown flags")
	}
	c.OneWay = flags&callOneWay != 0
	c.ReadOnly = flags&callReadOnly != 0
	c.ID = r.id()
	c.Type = string(r.nonEmpty(MaxTypeName))
	c.Key = r.nonEmpty(MaxKey)
	m := r.uvarint()
	if r.err == nil && m > math.MaxUint32 {
		r.fail("method out of range")
	}
	c.Method = uint32(m)
	ctx := r.bytes(len(frame))
	if r.err == nil {
		r.err = ReadCallContext(ctx, &c.Context)
	}
	if r.err != nil {
		*c = Call{}
		return r.err
	}
	if len(r.b) > 0 {
		c.Args = r.b
	}
	return nil
}

// Reply is the outcome of a call.
type Reply struct {
	// ID is the call's ID, never 0.
	ID uint64
	// Error is the call's error as codec.AppendError writes it; nil or
	// empty for none.
	Error []byte
	// Results holds the encoded results, nil when the frame ends with the
	// error. ReadReply sets it; AppendReply ignores it, as the sender
	// appends the results itself.
	Results []byte
}

// AppendReply appends a reply frame to b, without the results:
//
//	kind    byte 4
//	id      uvarint, not 0
//	error   uvarint length and bytes; length 0 for no error
//	results the rest of the frame
//
// The sender appends the encoded results right after (msg.AppendResults),
// so that they are written once, straight into the frame. It fails with
// CodeInvalidArgument, and b as it was, when ID is 0.
func AppendReply(b []byte, r *Reply) ([]byte, error) {
	if r.ID == 0 {
		return b, quarkerr.New(quarkerr.InvalidArgument, "reply: call id 0")
	}
	b = append(b, byte(KindReply))
	b = binary.AppendUvarint(b, r.ID)
	b = binary.AppendUvarint(b, uint64(len(r.Error)))
	return append(b, r.Error...), nil
}

// ReadReply decodes a reply frame into r, which it overwrites. r.Error (nil
// when there is no error) and r.Results alias frame and are valid while
// frame is. Malformed input (another kind, truncated, an ID of 0, an
// overlong varint, an error length beyond the frame) is an error with
// CodeCorrupt, and r zero; ReadReply does not decode the error itself.
func ReadReply(frame []byte, r *Reply) error {
	*r = Reply{}
	rd := reader{b: frame, what: "reply frame"}
	rd.kind(KindReply)
	r.ID = rd.id()
	if e := rd.bytes(len(frame)); len(e) > 0 {
		r.Error = e
	}
	if rd.err != nil {
		*r = Reply{}
		return rd.err
	}
	if len(rd.b) > 0 {
		r.Results = rd.b
	}
	return nil
}

// Cancel tells the callee that the caller no longer waits for a call: its
// context was cancelled.
type Cancel struct {
	// ID is the call's ID, never 0.
	ID uint64
}

// AppendCancel appends a cancel frame to b:
//
//	kind byte 5
//	id   uvarint, not 0
//
// It fails with CodeInvalidArgument, and b as it was, when ID is 0.
func AppendCancel(b []byte, c *Cancel) ([]byte, error) {
	if c.ID == 0 {
		return b, quarkerr.New(quarkerr.InvalidArgument, "cancel: call id 0")
	}
	b = append(b, byte(KindCancel))
	return binary.AppendUvarint(b, c.ID), nil
}

// ReadCancel decodes a cancel frame into c. Malformed input (another kind,
// truncated, trailing bytes, an ID of 0, an overlong varint) is an error
// with CodeCorrupt, and c zero.
func ReadCancel(frame []byte, c *Cancel) error {
	*c = Cancel{}
	r := reader{b: frame, what: "cancel frame"}
	r.kind(KindCancel)
	c.ID = r.id()
	r.end()
	if r.err != nil {
		*c = Cancel{}
	}
	return r.err
}

// CallID returns the call ID a call, reply or cancel frame carries, when
// the bytes up to and including it are well formed, whatever follows: so
// that a frame too large to take, or malformed further on, fails the one
// call it was for (IsOneWay tells whether it expects a reply). It returns
// false for other kinds, and when the bytes up to the ID are malformed.
func CallID(frame []byte) (uint64, bool) {
	kind, err := FrameKind(frame)
	if err != nil {
		return 0, false
	}
	r := reader{b: frame[1:], what: "frame"}
	switch kind {
	case KindCall:
		flags := r.byte()
		if flags&^(callOneWay|callReadOnly) != 0 {
			return 0, false
		}
	case KindReply, KindCancel:
	default:
		return 0, false
	}
	id := r.id()
	return id, r.err == nil
}

// kind reads the kind byte and checks it is want.
func (r *reader) kind(want Kind) {
	if k := Kind(r.byte()); r.err == nil && k != want {
		r.fail("not a " + r.what)
	}
}

// id reads a call ID, which is never 0.
func (r *reader) id() uint64 {
	id := r.uvarint()
	if r.err == nil && id == 0 {
		r.fail("call id 0")
	}
	return id
}

// nonEmpty reads a length-prefixed byte string of 1 to limit bytes,
// aliasing the input.
func (r *reader) nonEmpty(limit int) []byte {
	v := r.bytes(limit)
	if r.err == nil && len(v) == 0 {
		r.fail("empty name or key")
	}
	return v
}

// end fails when bytes remain.
func (r *reader) end() {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
}

// IsOneWay reports whether frame is a call frame whose flags mark a one-way
// message, whatever follows them.
func IsOneWay(frame []byte) bool {
	return len(frame) >= 2 && Kind(frame[0]) == KindCall && frame[1]&callOneWay != 0
}
