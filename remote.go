package quark

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/transport"
)

// The errors a handshake between two processes fails with, on both sides:
// the side that refuses sends the reason before it closes the connection.
// They cross the wire (errors.Is holds on the refused side) and are
// wrapped in an *Error with CodeInvalidArgument, since only a change of
// configuration or version makes the two processes compatible.
var (
	// ErrProtocolVersion: the peer speaks another version of the wire
	// protocol (docs/wire.md).
	ErrProtocolVersion = errors.New("quark: incompatible protocol version")
	// ErrForeignCluster: the peer belongs to another cluster
	// (WithClusterName).
	ErrForeignCluster = errors.New("quark: peer of another cluster")
	// ErrMemberMismatch: the peer is a silo of a static cluster with
	// another member list (WithStaticCluster).
	ErrMemberMismatch = errors.New("quark: static cluster member lists differ")
)

func init() {
	codec.RegisterError("quark.ErrProtocolVersion", ErrProtocolVersion)
	codec.RegisterError("quark.ErrForeignCluster", ErrForeignCluster)
	codec.RegisterError("quark.ErrMemberMismatch", ErrMemberMismatch)
}

// frameSlack bounds what a frame adds to its arguments or results (ID,
// call context, header); a frame larger than the message limit plus this is
// refused before it is decoded.
const frameSlack = 1 << 20

// messenger is a process's side of the transport: its listener, its
// connections to other processes, and the calls in flight on them. A silo
// with a transport has one (Silo.remote), and so does a client, whose silo
// hosts no actors.
//
// A call to another process is a Call frame on the connection to the
// actor's home; the caller waits on its envelope's done channel, which the
// Reply frame (read on the connection's goroutine), the caller's own
// deadline or cancellation (which sends a Cancel frame), or the connection's
// end (CodeUnavailable at once) completes, whichever comes first. A call
// received from another process is decoded into a fresh message and routed
// like any other, queued (never run on the connection's goroutine); its
// completion (Silo.complete) sends the Reply.
type messenger struct {
	s     *Silo
	t     transport.Transport
	hello wire.Hello // what this process says of itself in handshakes
	log   *slog.Logger

	// view places actors: nil until a silo listens, or a client has
	// learned the ring from a gateway; it never changes once set.
	view atomic.Pointer[view]

	ln transport.Listener

	mu       sync.Mutex
	peers    map[string]*peer
	conns    map[*conn]struct{}
	closed   bool
	gateways []string // a client's gateways, in the order given
	next     atomic.Uint32

	maxFrame int
}

func newMessenger(s *Silo, role wire.Role) *messenger {
	m := &messenger{
		s:        s,
		t:        s.cfg.transport,
		log:      s.log,
		peers:    make(map[string]*peer),
		conns:    make(map[*conn]struct{}),
		maxFrame: s.cfg.maxMessage + frameSlack,
	}
	m.hello = wire.Hello{
		Version: wire.Version,
		Cluster: s.cfg.clusterName,
		Epoch:   time.Now().UnixNano(),
		Role:    role,
	}
	return m
}

// listen binds the silo's listen address and sets up its placement: the
// static cluster's ring, or a ring of itself alone (so that clients learn
// that every actor lives here).
//
// It runs in Start before the silo takes calls, and once.
func (m *messenger) listen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln != nil || m.closed {
		return Errorf(CodeInvalidArgument, "silo %q: already started", m.s.cfg.name)
	}
	ln, err := m.t.Listen(m.s.cfg.listenAddr, m.accept)
	if err != nil {
		return Errorf(CodeUnavailable, "silo %q: listen at %q: %w", m.s.cfg.name, m.s.cfg.listenAddr, err)
	}
	self := ln.Addr()
	members := m.s.cfg.members
	if len(members) == 0 {
		members = []string{self}
	} else if !slices.Contains(members, self) {
		ln.Close()
		return Errorf(CodeInvalidArgument, "silo %q: listening at %q, which is not in the static cluster %q",
			m.s.cfg.name, self, members)
	}
	m.ln = ln
	m.hello.Addr = self
	m.hello.Members = members
	m.view.Store(m.newView(members, self))
	m.log.Info("listening", slog.String("addr", self), slog.Int("members", len(members)))
	return nil
}

// view is where actors live as a process sees it: the ring, its own
// address on it ("" for a client, which hosts none), and the peer of each
// member (nil for itself), so that a call finds its peer without a lock.
type view struct {
	ring  *ring
	self  string
	peers []*peer // by index in ring.members
}

// newView is called with m.mu held.
func (m *messenger) newView(members []string, self string) *view {
	v := &view{ring: newRing(members), self: self}
	v.peers = make([]*peer, len(v.ring.members))
	for i, addr := range v.ring.members {
		if addr != self {
			v.peers[i] = m.peerLocked(addr)
		}
	}
	return v
}

// self returns the silo's address; "" before it listens, and for a client.
func (m *messenger) self() string {
	if v := m.view.Load(); v != nil {
		return v.self
	}
	return ""
}

// close closes the listener and every connection: calls waiting on them
// fail with CodeUnavailable.
func (m *messenger) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	conns := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	if m.ln != nil {
		m.ln.Close()
	}
	for _, c := range conns {
		c.tc.Close()
	}
}

// home returns the peer where e's target lives, or nil when it lives here.
// A stateless worker is local wherever it is called. A client with no ring
// yet has nowhere to send (nil peer and an error).
func (m *messenger) home(e *Envelope) (*peer, error) {
	if e.typ != nil && e.typ.desc.Stateless {
		return nil, nil
	}
	v := m.view.Load()
	if v == nil {
		if m.hello.Role == wire.RoleClient {
			return nil, Errorf(CodeUnavailable, "call %s.%s: no gateway reached yet", e.target, e.msg.Method().Name)
		}
		return nil, nil
	}
	return v.peers[v.ring.ownerIndex(idHash(e.target))], nil
}

// peer returns the record of the process at addr, made on first use.
func (m *messenger) peer(addr string) *peer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peerLocked(addr)
}

// peerLocked is peer with m.mu held.
func (m *messenger) peerLocked(addr string) *peer {
	p := m.peers[addr]
	if p == nil {
		p = &peer{m: m, addr: addr}
		m.peers[addr] = p
	}
	return p
}

// track records a live connection, or refuses it when the messenger has
// closed.
func (m *messenger) track(c *conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

func (m *messenger) untrack(c *conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

// accept is the listener's callback: a new connection waits for the
// dialer's Hello.
func (m *messenger) accept(tc transport.Conn) transport.Handler {
	c := newConn(m, tc, false)
	if !m.track(c) {
		go tc.Close() // not from inside the listener's callback
		return c
	}
	// A peer that connects and says nothing does not hold a connection
	// for long. On the silo's Clock, so that tests can move it.
	t := m.s.cfg.clock.AfterFunc(handshakeTimeout, func() {
		if !c.up.Load() {
			m.log.Warn("connection closed: no hello in time", slog.String("peer", tc.RemoteAddr()),
				slog.Duration("timeout", handshakeTimeout))
			c.handshakeDone(Errorf(CodeUnavailable, "no hello from %s within %v", tc.RemoteAddr(), handshakeTimeout))
			tc.Close()
		}
	})
	c.hsTimer.Store(&t)
	return c
}

// handshakeTimeout is how long an accepted connection may wait for the
// peer's Hello.
const handshakeTimeout = 10 * time.Second

// dial connects to addr and completes the handshake.
func (m *messenger) dial(ctx context.Context, addr string) (*conn, error) {
	c := newConn(m, nil, true)
	tc, err := m.t.Dial(ctx, addr, c)
	if err != nil {
		close(c.started)
		return nil, err
	}
	c.tc = tc
	close(c.started)
	if !m.track(c) {
		tc.Close()
		return nil, Errorf(CodeUnavailable, "dial %s: %s is stopping", addr, m.s.cfg.name)
	}
	b, err := wire.AppendHello(nil, &m.hello)
	if err == nil {
		err = tc.Send(b)
	}
	if err != nil {
		tc.Close()
		return nil, err
	}
	select {
	case <-c.ready:
	case <-ctx.Done():
		tc.Close()
		return nil, ctx.Err()
	}
	if c.herr != nil {
		tc.Close()
		return nil, c.herr
	}
	return c, nil
}

// checkHello reports why this process refuses a peer that said h.
func (m *messenger) checkHello(h *wire.Hello) error {
	switch {
	case h.Version != wire.Version:
		return Errorf(CodeInvalidArgument, "peer %q speaks protocol version %d, this process version %d: %w",
			h.Addr, h.Version, wire.Version, ErrProtocolVersion)
	case h.Cluster != m.hello.Cluster:
		return Errorf(CodeInvalidArgument, "peer %q belongs to cluster %q, this process to %q: %w",
			h.Addr, h.Cluster, m.hello.Cluster, ErrForeignCluster)
	case h.Role == wire.RoleSilo && h.Addr == "":
		return Errorf(CodeInvalidArgument, "a silo peer gave no address")
	}
	if h.Role == wire.RoleSilo && m.hello.Role == wire.RoleSilo {
		if v := m.view.Load(); v != nil && !v.ring.same(h.Members) {
			return Errorf(CodeInvalidArgument, "silo %q has the static cluster %q, this silo %q: %w",
				h.Addr, h.Members, v.ring.members, ErrMemberMismatch)
		}
	}
	if h.Role == wire.RoleSilo && m.hello.Role == wire.RoleClient {
		if len(h.Members) == 0 {
			return Errorf(CodeInvalidArgument, "gateway %q named no members", h.Addr)
		}
		if v := m.view.Load(); v != nil && !v.ring.same(h.Members) {
			return Errorf(CodeInvalidArgument, "gateway %q has the static cluster %q, another gateway %q: %w",
				h.Addr, h.Members, v.ring.members, ErrMemberMismatch)
		}
	}
	return nil
}

// peer is another process this one sends calls to, by address: its current
// connection, made on demand and again after it breaks, with a growing
// pause between failed attempts so that calls for a silo that is down fail
// at once rather than each waiting on a dial.
type peer struct {
	m    *messenger
	addr string

	mu      sync.Mutex
	c       *conn         // the connection calls go on; nil when none
	dialing chan struct{} // closed when the dial under way ends; nil when none
	err     error         // why the last dial failed
	retry   time.Time     // no dial before this, after a failure
	backoff time.Duration
}

const (
	minRedial = 50 * time.Millisecond
	maxRedial = 2 * time.Second
)

// conn returns the connection to the peer, dialling when there is none.
func (p *peer) conn(ctx context.Context) (*conn, error) {
	for {
		p.mu.Lock()
		if c := p.c; c != nil {
			p.mu.Unlock()
			return c, nil
		}
		if ch := p.dialing; ch != nil {
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if time.Now().Before(p.retry) {
			err := p.err
			p.mu.Unlock()
			return nil, Errorf(CodeUnavailable, "%s is unreachable: %w", p.addr, err)
		}
		ch := make(chan struct{})
		p.dialing = ch
		p.mu.Unlock()

		c, err := p.m.dial(ctx, p.addr)

		p.mu.Lock()
		p.dialing = nil
		close(ch)
		if err != nil {
			if ctx.Err() == nil {
				p.err = err
				p.backoff = min(max(2*p.backoff, minRedial), maxRedial)
				p.retry = time.Now().Add(p.backoff)
			}
			p.mu.Unlock()
			if CodeOf(err) == CodeInvalidArgument {
				return nil, err
			}
			return nil, Errorf(CodeUnavailable, "connect to %s: %w", p.addr, err)
		}
		p.c, p.err, p.backoff, p.retry = c, nil, 0, time.Time{}
		c.peer = p
		p.mu.Unlock()
		return c, nil
	}
}

// adopt takes an accepted connection from the silo at the peer's address
// as the one to send on, when there is none.
func (p *peer) adopt(c *conn) {
	p.mu.Lock()
	if p.c == nil {
		p.c, p.err, p.backoff, p.retry = c, nil, 0, time.Time{}
		c.peer = p
	}
	p.mu.Unlock()
}

// lost forgets c, which has ended.
func (p *peer) lost(c *conn) {
	p.mu.Lock()
	if p.c == c {
		p.c = nil
	}
	p.mu.Unlock()
}

// conn is one connection to another process: the calls this process made
// on it and waits for (out), and the calls it received on it and runs (in).
// It is the transport's Handler for the connection: Frame and Closed come
// from the connection's one goroutine.
type conn struct {
	m      *messenger
	tc     transport.Conn
	dialed bool
	peer   *peer // set once the connection carries calls to a peer

	started chan struct{} // closed once tc is set
	ready   chan struct{} // closed when the handshake has ended, well or not
	up      atomic.Bool   // the handshake succeeded
	herr    error         // why the handshake failed; read after ready
	hello   wire.Hello    // the peer's, once up
	readyMu sync.Once
	hsTimer atomic.Pointer[ClockTimer] // an accepted connection's handshake deadline

	// ctx is the parent of the contexts of calls received here: it ends
	// when the connection does.
	ctx    context.Context
	cancel context.CancelFunc

	// nextID numbers the Call frames sent on the connection, calls and
	// one-way messages alike, so that the receiver can tell a duplicate.
	nextID atomic.Uint64
	// seen records the Call frames received, by ID (read on the
	// connection's goroutine only).
	seen idWindow

	mu    sync.Mutex
	out   map[uint64]*Envelope
	in    map[uint64]*remoteCall
	ended bool
}

// idWindow remembers which of the latest idWindowSize call IDs have been
// received on a connection, so that a duplicated frame never runs a call
// twice. IDs are assigned in order but may be sent out of order: a sender
// can be held up between numbering its frame and sending it (descheduled,
// or waiting for the transport's flow control) while others send many
// more. An ID that leaves the window unseen is kept in late, and accepted
// once when its frame arrives; an ID behind the window that is not in late
// is a duplicate.
type idWindow struct {
	max  uint64
	bits []uint64 // made on first use
	// late holds IDs that left the window unseen, at most idLateMax (an ID
	// numbered but never sent, because encoding its frame failed, stays
	// until evicted to make room).
	late map[uint64]struct{}
}

const (
	idWindowSize = 1 << 16
	idLateMax    = 1 << 12
)

// fresh records id and reports whether it is new.
func (w *idWindow) fresh(id uint64) bool {
	if w.bits == nil {
		w.bits = make([]uint64, idWindowSize/64)
	}
	if id > w.max {
		if id-w.max >= idWindowSize {
			// The whole window moves on: note its unseen IDs, and the
			// skipped ones up to the bound.
			for x := w.max - min(w.max, idWindowSize-1); x <= w.max; x++ {
				if x > 0 && !w.has(x) {
					w.noteLate(x)
				}
			}
			for x := w.max + 1; x+idWindowSize <= id && len(w.late) < idLateMax; x++ {
				w.noteLate(x)
			}
			clear(w.bits)
		} else {
			for x := w.max + 1; x <= id; x++ {
				// Slot x held x-idWindowSize, which now leaves the window.
				if x > idWindowSize && !w.has(x-idWindowSize) {
					w.noteLate(x - idWindowSize)
				}
				w.bits[x%idWindowSize/64] &^= 1 << (x % 64)
			}
		}
		w.max = id
		w.bits[id%idWindowSize/64] |= 1 << (id % 64)
		return true
	}
	if w.max-id >= idWindowSize {
		if _, ok := w.late[id]; ok {
			delete(w.late, id)
			return true
		}
		return false
	}
	i, bit := id%idWindowSize/64, uint64(1)<<(id%64)
	if w.bits[i]&bit != 0 {
		return false
	}
	w.bits[i] |= bit
	return true
}

// has reports whether id, within the window, has been received.
func (w *idWindow) has(id uint64) bool {
	return w.bits[id%idWindowSize/64]&(1<<(id%64)) != 0
}

// noteLate remembers id as left behind unseen, evicting an arbitrary one
// when late is full.
func (w *idWindow) noteLate(id uint64) {
	if w.late == nil {
		w.late = make(map[uint64]struct{})
	}
	if len(w.late) >= idLateMax {
		for x := range w.late {
			delete(w.late, x)
			break
		}
	}
	w.late[id] = struct{}{}
}

func newConn(m *messenger, tc transport.Conn, dialed bool) *conn {
	c := &conn{m: m, tc: tc, dialed: dialed, started: make(chan struct{}), ready: make(chan struct{}),
		out: make(map[uint64]*Envelope), in: make(map[uint64]*remoteCall)}
	if tc != nil {
		close(c.started)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

func (c *conn) handshakeDone(err error) {
	c.readyMu.Do(func() {
		c.herr = err
		if err == nil {
			c.up.Store(true)
		}
		close(c.ready)
		if t := c.hsTimer.Load(); t != nil {
			(*t).Stop()
		}
	})
}

// remoteAddr names the peer in errors and logs.
func (c *conn) remoteAddr() string {
	if c.hello.Addr != "" {
		return c.hello.Addr
	}
	if c.tc != nil {
		return c.tc.RemoteAddr()
	}
	return "?"
}

// Frame handles one received frame (transport.Handler).
func (c *conn) Frame(frame []byte) {
	<-c.started
	k, err := wire.FrameKind(frame)
	if err != nil {
		c.protocolError("malformed frame", err)
		return
	}
	if !c.up.Load() {
		switch k {
		case wire.KindHello:
			c.onHello(frame)
		case wire.KindRefuse:
			c.onRefuse(frame)
		default:
			c.protocolError("frame before the handshake", Errorf(CodeCorrupt, "frame kind %d before the handshake", k))
		}
		return
	}
	switch k {
	case wire.KindCall:
		c.onCall(frame)
	case wire.KindReply:
		c.onReply(frame)
	case wire.KindCancel:
		var x wire.Cancel
		if err := wire.ReadCancel(frame, &x); err != nil {
			c.m.log.Warn("malformed cancel frame ignored", slog.String("peer", c.remoteAddr()), slog.Any("err", err))
			return
		}
		c.onCancel(x.ID)
	default:
		c.m.log.Warn("unexpected frame ignored", slog.String("peer", c.remoteAddr()), slog.Int("kind", int(k)))
	}
}

// protocolError logs a frame that breaks the protocol and closes the
// connection: what the peer sends next cannot be trusted to line up.
func (c *conn) protocolError(what string, err error) {
	c.m.log.Warn("connection closed: "+what, slog.String("peer", c.remoteAddr()), slog.Any("err", err))
	c.handshakeDone(Errorf(CodeCorrupt, "%s from %s: %w", what, c.remoteAddr(), err))
	c.tc.Close()
}

// onHello checks the peer's Hello; an accepting side answers with its own,
// or refuses.
func (c *conn) onHello(frame []byte) {
	var h wire.Hello
	if err := wire.ReadHello(frame, &h); err != nil && h.Version == wire.Version {
		c.protocolError("malformed hello", err)
		return
	}
	if err := c.m.checkHello(&h); err != nil {
		c.m.log.Warn("peer refused", slog.String("peer", c.tc.RemoteAddr()), slog.Any("err", err))
		if !c.dialed {
			r := wire.Refuse{Code: uint8(CodeOf(err)), Message: string(codec.AppendError(nil, err))}
			if b, rerr := wire.AppendRefuse(nil, &r); rerr == nil {
				c.tc.Send(b)
			}
		}
		c.handshakeDone(err)
		c.tc.Close()
		return
	}
	c.hello = h
	if !c.dialed {
		b, err := wire.AppendHello(nil, &c.m.hello)
		if err == nil {
			err = c.tc.Send(b)
		}
		if err != nil {
			c.handshakeDone(err)
			c.tc.Close()
			return
		}
		if h.Role == wire.RoleSilo && c.m.hello.Role == wire.RoleSilo {
			c.m.peer(h.Addr).adopt(c)
		}
	} else if c.m.hello.Role == wire.RoleClient {
		c.m.mu.Lock()
		if c.m.view.Load() == nil {
			c.m.view.Store(c.m.newView(h.Members, ""))
		}
		c.m.mu.Unlock()
	}
	c.handshakeDone(nil)
}

// onRefuse ends a handshake the peer refused.
func (c *conn) onRefuse(frame []byte) {
	var r wire.Refuse
	if err := wire.ReadRefuse(frame, &r); err != nil {
		c.protocolError("malformed refusal", err)
		return
	}
	why, _, derr := codec.ReadError([]byte(r.Message))
	if derr != nil || why == nil {
		why = Errorf(Code(r.Code), "%s", r.Message)
	}
	err := Errorf(CodeOf(why), "refused by %s: %w", c.tc.RemoteAddr(), why)
	c.m.log.Warn("refused by peer", slog.String("peer", c.tc.RemoteAddr()), slog.Any("err", why))
	c.handshakeDone(err)
	c.tc.Close()
}

// Closed ends the connection (transport.Handler): calls waiting on it fail
// with CodeUnavailable at once, calls received on it see their context
// cancelled.
func (c *conn) Closed(err error) {
	<-c.started
	c.handshakeDone(Errorf(CodeUnavailable, "connection to %s closed: %w", c.remoteAddr(), errOr(err, transport.ErrClosed)))
	c.mu.Lock()
	c.ended = true
	out := c.out
	c.out = nil
	in := c.in
	c.in = nil
	c.mu.Unlock()
	c.cancel()
	if c.peer != nil {
		c.peer.lost(c)
	}
	c.m.untrack(c)
	for _, e := range out {
		e.err = Errorf(CodeUnavailable, "call %s.%s: connection to %s lost: %w",
			e.target, e.msg.Method().Name, c.remoteAddr(), errOr(err, transport.ErrClosed))
		e.done <- struct{}{}
	}
	for _, r := range in {
		// Not the envelope: it may be completing and reused meanwhile.
		r.abandon()
	}
	switch {
	case err == nil || !c.up.Load():
	case errors.Is(err, transport.ErrClosed):
		// The peer closed it: a client leaving, a silo stopping.
		c.m.log.Info("connection closed by peer", slog.String("peer", c.remoteAddr()))
	default:
		c.m.log.Warn("connection lost", slog.String("peer", c.remoteAddr()), slog.Any("err", err))
	}
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// framePool holds frame buffers: a transport copies a frame before Send
// returns, so one is reused at once.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledFrame bounds the buffers framePool keeps: one large message
// must not pin its buffer for every later small one.
const maxPooledFrame = 64 << 10

// putFrame returns bp, now holding b, to framePool unless b grew too large.
func putFrame(bp *[]byte, b []byte) {
	if cap(b) > maxPooledFrame {
		return
	}
	*bp = b[:0]
	framePool.Put(bp)
}

// send sends frame b on the connection: a closed connection is
// CodeUnavailable, a frame the transport refuses (too large)
// CodeInvalidArgument.
func (c *conn) send(b []byte) error {
	if err := c.tc.Send(b); err != nil {
		if errors.Is(err, transport.ErrClosed) {
			return Errorf(CodeUnavailable, "send to %s: %w", c.remoteAddr(), err)
		}
		return Errorf(CodeInvalidArgument, "send to %s: %w", c.remoteAddr(), err)
	}
	return nil
}

// register gives the outgoing call e its ID on this connection.
func (c *conn) register(e *Envelope) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return 0, false
	}
	id := c.nextID.Add(1)
	c.out[id] = e
	return id, true
}

// take removes the outgoing call id; whoever takes it owns its outcome.
func (c *conn) take(id uint64) *Envelope {
	c.mu.Lock()
	e := c.out[id]
	if e != nil {
		delete(c.out, id)
	}
	c.mu.Unlock()
	return e
}

// encodeCall appends e's Call frame to b: the header, then the arguments,
// encoded straight into the frame (or copied, when the silo routes local
// calls through the codec and has encoded them already).
func (m *messenger) encodeCall(b []byte, e *Envelope, id uint64) ([]byte, error) {
	var kb [64]byte
	key, _ := e.target.Key.AppendBinary(kb[:0])
	w := wire.Call{ID: id, OneWay: e.oneWay, ReadOnly: e.shared, Type: e.target.Type, Key: key, Method: e.msg.Method().ID}
	if e.ctx != nil {
		if err := wireCallContext(e.ctx, &w.Context); err != nil {
			return b, err
		}
	}
	b, err := wire.AppendCall(b, &w)
	if err != nil {
		return b, err
	}
	start := len(b)
	if e.wire != nil {
		b = append(b, e.wire...)
	} else if b, err = e.msg.AppendArgs(b); err != nil {
		return b, err
	}
	if err := codec.CheckSize(b[start:], m.s.cfg.maxMessage); err != nil {
		return b, err
	}
	return b, nil
}

// call sends the call e to p and waits for its outcome, as Silo.wait does
// for a queued local call: the reply, ctx's end, or the call's deadline.
func (m *messenger) call(ctx context.Context, e *Envelope, p *peer) error {
	name := e.msg.Method().Name
	c, err := p.conn(ctx)
	if err != nil {
		e.ctx.finish()
		e.state.Store(envDone)
		if cerr := ctx.Err(); cerr != nil {
			return Errorf(CodeOf(cerr), "call %s.%s: %w", e.target, name, cerr)
		}
		return Errorf(CodeOf(err), "call %s.%s: %w", e.target, name, err)
	}
	if e.done == nil {
		e.done = make(chan struct{}, 1)
	}
	id, ok := c.register(e)
	if !ok {
		e.ctx.finish()
		e.state.Store(envDone)
		return Errorf(CodeUnavailable, "call %s.%s: connection to %s lost", e.target, name, c.remoteAddr())
	}
	if err := c.sendCall(e, id, "call"); err != nil {
		if c.take(id) == nil {
			<-e.done // the connection ended meanwhile and failed it
			err = e.err
		}
		e.ctx.finish()
		e.state.Store(envDone)
		return err
	}

	var timeout <-chan time.Time
	if !e.ctx.governedByParent() {
		timer := time.NewTimer(time.Duration(e.ctx.deadlineMono() - mono()))
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-e.done:
		e.ctx.finish()
		e.state.Store(envDone)
		return e.err
	case <-ctx.Done():
	case <-timeout:
	}
	if c.take(id) == nil {
		<-e.done // the reply won the race
		e.ctx.finish()
		e.state.Store(envDone)
		return e.err
	}
	c.sendCancel(id)
	e.ctx.finish()
	e.state.Store(envDone)
	if err := ctx.Err(); err != nil && CodeOf(err) == CodeCanceled {
		return Errorf(CodeCanceled, "call %s.%s: %w", e.target, name, err)
	}
	return Errorf(CodeTimeout, "call %s.%s: no result by the deadline", e.target, name)
}

// sendCall encodes e's Call frame with id into a pooled buffer and sends
// it. Arguments that cannot be encoded fail with CodeInvalidArgument, named
// by verb ("call" or "send"); a send that fails, as conn.send says.
func (c *conn) sendCall(e *Envelope, id uint64, verb string) error {
	bp := framePool.Get().(*[]byte)
	b, err := c.m.encodeCall((*bp)[:0], e, id)
	if err == nil {
		err = c.send(b)
	} else {
		err = Errorf(CodeInvalidArgument, "%s %s.%s: %w", verb, e.target, e.msg.Method().Name, err)
	}
	putFrame(bp, b)
	return err
}

// sendCancel tells the peer that the caller of call id gave up: the callee's
// context is cancelled, and the call does not run if it is still queued.
func (c *conn) sendCancel(id uint64) {
	var a [16]byte
	b, err := wire.AppendCancel(a[:0], &wire.Cancel{ID: id})
	if err == nil {
		c.tc.Send(b) // best effort: a lost cancel only lets the callee run on
	}
}

// post sends the one-way message e to p. A message that cannot be sent is
// dropped, counted and logged, as a local one that cannot be queued.
func (m *messenger) post(ctx context.Context, e *Envelope, p *peer) error {
	name := e.msg.Method().Name
	c, err := p.conn(ctx)
	if err != nil {
		return m.s.drop(e, Errorf(CodeOf(err), "send %s.%s: %w", e.target, name, err))
	}
	if err := c.sendCall(e, c.nextID.Add(1), "send"); err != nil {
		return m.s.drop(e, err)
	}
	e.state.Store(envDone)
	m.s.unref(e)
	return nil
}

// onReply completes the outgoing call a Reply frame answers. A reply for a
// call no longer waited on (its caller gave up, or a duplicate) is counted
// in Stats.LateResults and ignored.
func (c *conn) onReply(frame []byte) {
	var r wire.Reply
	if err := wire.ReadReply(frame, &r); err != nil {
		id, ok := wire.CallID(frame)
		if !ok {
			c.protocolError("malformed reply", err)
			return
		}
		c.m.log.Warn("malformed reply", slog.String("peer", c.remoteAddr()), slog.Any("err", err))
		if e := c.take(id); e != nil {
			e.err = Errorf(CodeCorrupt, "call %s.%s: malformed reply from %s: %w", e.target, e.msg.Method().Name, c.remoteAddr(), err)
			e.done <- struct{}{}
		}
		return
	}
	e := c.take(r.ID)
	if e == nil {
		c.m.s.late.Add(1)
		return
	}
	var err error
	if len(r.Error) > 0 {
		var derr error
		err, _, derr = codec.ReadError(r.Error)
		if derr != nil {
			err = Errorf(CodeCorrupt, "call %s.%s: reply from %s: %w", e.target, e.msg.Method().Name, c.remoteAddr(), derr)
		}
	} else if err = codec.CheckSize(r.Results, c.m.s.cfg.maxMessage); err == nil {
		err = e.msg.ReadResults(r.Results)
	}
	e.err = err
	e.done <- struct{}{}
}

// remoteCall is the record of a call received from another process, kept
// in its envelope while it runs here: where to send the reply. It is also
// the parent context of the callee's context, cancelled by the caller's
// Cancel frame, by the connection's end, and when the call completes: one
// allocation where context.WithCancel would make two more per call. Its
// channel is made only when something asks for it.
type remoteCall struct {
	c    *conn
	id   uint64
	gone atomic.Bool // abandoned: the caller no longer waits

	mu   sync.Mutex
	done chan struct{} // made on first use; closed by cancel
	err  error         // context.Canceled once cancelled
	fns  []*afterFn    // AfterFunc registrations not yet run or stopped
}

type afterFn struct{ f func() }

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (r *remoteCall) Deadline() (time.Time, bool) { return time.Time{}, false }
func (r *remoteCall) Value(any) any               { return nil }

func (r *remoteCall) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		if r.err != nil {
			return closedDone
		}
		r.done = make(chan struct{})
	}
	return r.done
}

func (r *remoteCall) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// AfterFunc lets contexts derived from r (context.WithDeadline and the
// like) register with it rather than start a goroutine each, as
// context.AfterFunc does for the standard contexts: f runs in its own
// goroutine once r is cancelled, unless stop is called first.
func (r *remoteCall) AfterFunc(f func()) (stop func() bool) {
	a := &afterFn{f: f}
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	r.fns = append(r.fns, a)
	r.mu.Unlock()
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.fns {
			if x == a {
				r.fns = append(r.fns[:i], r.fns[i+1:]...)
				return true
			}
		}
		return false
	}
}

// abandon marks the call given up (its caller cancelled, or its
// connection ended): it does not run if still queued (see abandoned), and
// its context is cancelled. Only the record is touched, never the
// envelope, which may be completing meanwhile.
func (r *remoteCall) abandon() {
	r.gone.Store(true)
	r.cancel()
}

// cancel cancels the context, once.
func (r *remoteCall) cancel() {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	r.err = context.Canceled
	if r.done != nil {
		close(r.done)
	}
	fns := r.fns
	r.fns = nil
	r.mu.Unlock()
	for _, a := range fns {
		go a.f()
	}
}

func (r *remoteCall) String() string { return "quark.remoteCall" }

// onCall decodes a received call and routes it. Every failure before it is
// queued is replied at once (a one-way message's is counted as a drop).
func (c *conn) onCall(frame []byte) {
	s := c.m.s
	var w wire.Call
	if err := wire.ReadCall(frame, &w); err != nil {
		c.m.log.Warn("malformed call frame", slog.String("peer", c.remoteAddr()), slog.Any("err", err))
		id, ok := wire.CallID(frame)
		switch {
		case ok && !c.seen.fresh(id):
			s.dupFrames.Add(1)
		case ok && !wire.IsOneWay(frame):
			c.replyError(id, Errorf(CodeCorrupt, "malformed call frame: %w", err))
		default:
			s.dropped.Add(1)
		}
		return
	}
	if !c.seen.fresh(w.ID) {
		s.dupFrames.Add(1)
		c.m.log.Debug("duplicate call frame ignored", slog.String("peer", c.remoteAddr()), slog.Uint64("id", w.ID))
		return
	}
	fail := func(err error) {
		if w.OneWay {
			s.dropped.Add(1)
			s.dropLog.note(s, func() []slog.Attr {
				return []slog.Attr{slog.String("actor", w.Type), slog.String("peer", c.remoteAddr()), slog.Any("err", err)}
			})
			return
		}
		c.replyError(w.ID, err)
	}
	var key Key
	if err := key.UnmarshalBinary(w.Key); err != nil {
		fail(Errorf(CodeCorrupt, "received call to %s: key: %w", w.Type, err))
		return
	}
	s.typeMu.RLock()
	t := s.names[w.Type]
	s.typeMu.RUnlock()
	if t == nil || t.desc.NewMessage == nil {
		fail(Errorf(CodeNotFound, "call %s/%s: unknown actor type %q on silo %q", w.Type, key, w.Type, s.cfg.name))
		return
	}
	id := ID{Type: t.desc.Name, Key: key}
	if v := c.m.view.Load(); v != nil && !t.desc.Stateless {
		if home := v.ring.owner(idHash(id)); home != v.self {
			fail(Errorf(CodeUnavailable, "call %s: misrouted: the actor lives on %s, not %s", id, home, v.self))
			return
		}
	}
	msg := t.desc.NewMessage(w.Method)
	if msg == nil {
		fail(Errorf(CodeNotFound, "call %s: unknown method ID %#x", id, w.Method))
		return
	}
	if err := codec.CheckSize(w.Args, s.cfg.maxMessage); err != nil {
		msg.Release()
		fail(Errorf(CodeInvalidArgument, "call %s.%s: %w", id, msg.Method().Name, err))
		return
	}
	if err := msg.ReadArgs(w.Args); err != nil {
		msg.Release()
		fail(Errorf(CodeCorrupt, "call %s.%s: arguments: %w", id, msg.Method().Name, err))
		return
	}
	e := msg.envelope()
	e.msg, e.target, e.typ = msg, id, t
	e.oneWay, e.shared = w.OneWay, w.ReadOnly
	if w.OneWay {
		e.refs.Store(1)
		if s.admitters != nil {
			go c.receiveOneWay(e)
			return
		}
		c.receiveOneWay(e)
		return
	}
	e.rcall = &remoteCall{c: c, id: w.ID}
	cc, err := s.receivedCallCtx(e.rcall, e, &w.Context)
	if err != nil {
		c.finishReceived(e, err)
		return
	}
	e.ctx = cc
	if err := s.admissible(e, cc.prev != nil, false); err != nil {
		c.finishReceived(e, err)
		return
	}
	if err := s.enterChain(e, cc.prev); err != nil {
		c.finishReceived(e, err)
		return
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		c.finishReceived(e, nil)
		return
	}
	c.in[w.ID] = e.rcall
	c.mu.Unlock()
	e.state.Store(envPending)
	if s.admitters != nil {
		go c.admitAndRoute(e)
		return
	}
	c.admitAndRoute(e)
}

// receiveOneWay admits and routes a received one-way message, as Silo.send
// does a local one.
func (c *conn) receiveOneWay(e *Envelope) {
	s := c.m.s
	if err := s.admissible(e, false, false); err != nil {
		s.drop(e, err)
		return
	}
	if s.admitters != nil {
		actx := newCallCtx(s, c.ctx, e, nil)
		err := s.admit(actx, e.msg)
		actx.finish()
		if err != nil {
			s.drop(e, err)
			return
		}
	}
	e.state.Store(envPending)
	switch _, r := s.route(e, false); r {
	case admitOverload:
		s.drop(e, Errorf(CodeOverloaded, "send %s.%s: mailbox full (%d messages)", e.target, e.msg.Method().Name, e.typ.mailbox))
	case admitStopped:
		s.drop(e, errStopped(s, e))
	}
}

// admitAndRoute asks the incoming interceptors to admit the received call
// e, then queues it; its completion replies (see Silo.complete).
func (c *conn) admitAndRoute(e *Envelope) {
	s := c.m.s
	if s.admitters != nil {
		if err := s.admit(e.ctx, e.msg); err != nil {
			c.finishReceived(e, err)
			return
		}
	}
	switch _, r := s.route(e, false); r {
	case admitQueued:
	case admitOverload:
		c.finishReceived(e, Errorf(CodeOverloaded, "call %s.%s: mailbox full (%d messages)", e.target, e.msg.Method().Name, e.typ.mailbox))
	case admitDiscarded:
		c.finishReceived(e, errDiscarded(e))
	case admitStopped:
		c.finishReceived(e, errStopped(s, e))
	default:
		c.finishReceived(e, Errorf(CodeInternal, "call %s.%s: unexpected routing outcome %d", e.target, e.msg.Method().Name, r))
	}
}

// finishReceived ends a received call that will not run, replying err.
func (c *conn) finishReceived(e *Envelope, err error) {
	e.ctx.finish()
	c.m.s.replyRemote(e, err)
}

// replyRemote sends the outcome of the received call e to its caller, unless
// it was cancelled or its connection has ended, and releases its message.
// It is Silo.complete for received calls.
func (s *Silo) replyRemote(e *Envelope, err error) {
	r := e.rcall
	c := r.c
	r.cancel()
	c.mu.Lock()
	live := c.in[r.id] == r
	if live {
		delete(c.in, r.id)
	}
	c.mu.Unlock()
	if live {
		bp := framePool.Get().(*[]byte)
		b := c.m.encodeReply((*bp)[:0], e, r.id, err)
		if serr := c.tc.Send(b); serr != nil {
			s.late.Add(1)
		}
		putFrame(bp, b)
	}
	m := e.msg
	e.reset()
	m.Release()
}

// encodeReply appends the Reply frame of call id to b: the error, or the
// results when there is none. Results that cannot be encoded, or are too
// large, become the call's error (the method has run).
func (m *messenger) encodeReply(b []byte, e *Envelope, id uint64, err error) []byte {
	start := len(b)
	if err == nil {
		var rerr error
		b, rerr = wire.AppendReply(b, &wire.Reply{ID: id})
		if rerr == nil {
			res := len(b)
			if b, rerr = e.msg.AppendResults(b); rerr == nil {
				if rerr = codec.CheckSize(b[res:], m.s.cfg.maxMessage); rerr == nil {
					return b
				}
			}
			rerr = Errorf(CodeInvalidArgument, "call %s.%s: the method ran but its results cannot be sent: %w",
				e.target, e.msg.Method().Name, rerr)
		}
		err = rerr
		b = b[:start]
	}
	eb := codec.AppendError(nil, err)
	b, rerr := wire.AppendReply(b, &wire.Reply{ID: id, Error: eb})
	if rerr != nil {
		// The message cannot travel (too long): its code still does.
		b = b[:start]
		b, _ = wire.AppendReply(b, &wire.Reply{ID: id, Error: codec.AppendError(nil,
			Errorf(CodeOf(err), "call %s.%s failed; its error was too large to send", e.target, e.msg.Method().Name))})
	}
	return b
}

// replyError replies err to call id before it had an envelope.
func (c *conn) replyError(id uint64, err error) {
	c.m.log.Debug("received call refused", slog.String("peer", c.remoteAddr()), slog.Any("err", err))
	b, rerr := wire.AppendReply(nil, &wire.Reply{ID: id, Error: codec.AppendError(nil, err)})
	if rerr == nil {
		c.tc.Send(b)
	}
}

// onCancel cancels the received call id: its context is cancelled, and it
// will not run if still queued; no reply is sent.
func (c *conn) onCancel(id uint64) {
	c.mu.Lock()
	r := c.in[id]
	if r != nil {
		delete(c.in, id)
	}
	c.mu.Unlock()
	if r != nil {
		r.abandon()
	}
}
