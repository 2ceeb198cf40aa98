package quarktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/transport"
)

// Errors the Network returns or hands to Handler.Closed. Each is wrapped
// with the hosts and addresses involved; test for them with errors.Is.
var (
	// ErrRefused is returned by Dial when nobody listens at the address,
	// or the listener closed, or its accept function returned a nil
	// Handler.
	ErrRefused = errors.New("quarktest: connection refused")
	// ErrPartitioned is returned by Dial across a partition.
	ErrPartitioned = errors.New("quarktest: hosts partitioned")
	// ErrBroken is the cause handed to both sides' Closed when Break or
	// Network.Close resets a connection; Send on such a connection returns
	// an error wrapping both it and transport.ErrClosed.
	ErrBroken = errors.New("quarktest: connection broken")
)

// Network is an in-memory network of named hosts, carrying frames between
// transports it hands out with Host. It carries bytes, never Go values: Send
// copies each frame, and the receiver gets the copy.
//
// Each direction of a connection is a FIFO queue drained by its own
// goroutine, which calls the receiving Handler; Send never calls a Handler.
// There is no flow control (Send never blocks) and no frame size limit.
//
// Faults are scripted between hosts (not connections): Partition, Drop,
// Duplicate, Delay and Break. Drop, Duplicate, Delay and Partition decide a
// frame's fate when it is sent, so frames sent before a fault is set still
// arrive, and frames sent during a partition are lost after Heal too.
//
// Every method is safe for concurrent use. Close stops every goroutine the
// network started; call it (or close every listener and connection) before
// a goroutine-leak check.
type Network struct {
	clk *Clock

	mu        sync.Mutex
	closed    bool
	listeners map[string]*listener
	hosts     map[string]*Host
	conns     map[*conn]struct{}
	links     map[link]*linkState // directed fault rules and counters
	parts     map[link]bool       // partitions, keyed with the lesser name first
	wg        sync.WaitGroup      // delivery goroutines
}

// link names a direction between two hosts.
type link struct{ from, to string }

// linkState holds the faults and counters of one direction.
type linkState struct {
	drops []*rule
	dups  []*rule
	delay time.Duration
	stats LinkStats
}

// rule applies to the next count frames that match (every matching frame
// when count is negative).
type rule struct {
	match func([]byte) bool
	count int
}

// LinkStats counts the frames sent from one host to another, over all
// their connections.
type LinkStats struct {
	Sent       int // Send calls that returned nil
	Delivered  int // Frame calls that returned (a duplicate counts twice)
	Dropped    int // lost to Partition or Drop
	Duplicated int // extra copies queued by Duplicate
	Discarded  int // queued but never delivered because the connection closed
}

// NewNetwork returns an empty network whose delays run on clk. With a nil
// clk it makes its own, reading the zero time, which Clock returns.
func NewNetwork(clk *Clock) *Network {
	if clk == nil {
		clk = NewClock(time.Time{})
	}
	return &Network{
		clk:       clk,
		listeners: make(map[string]*listener),
		hosts:     make(map[string]*Host),
		conns:     make(map[*conn]struct{}),
		links:     make(map[link]*linkState),
		parts:     make(map[link]bool),
	}
}

// Clock returns the clock delays run on.
func (n *Network) Clock() *Clock { return n.clk }

// Host returns the transport of the host called name (the same value for
// the same name). The host listens at its own name, and connections it
// dials come from that name.
func (n *Network) Host(name string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.hosts[name]
	if h == nil {
		h = &Host{n: n, name: name}
		n.hosts[name] = h
	}
	return h
}

// linkLocked returns the state of from->to, creating it. n.mu is held.
func (n *Network) linkLocked(from, to string) *linkState {
	l := link{from, to}
	s := n.links[l]
	if s == nil {
		s = &linkState{}
		n.links[l] = s
	}
	return s
}

func pairKey(a, b string) link {
	if b < a {
		a, b = b, a
	}
	return link{a, b}
}

// Partition drops, silently, every frame sent between a and b in either
// direction until Heal. Connections stay open (a partition, not a reset),
// and a Dial across the partition fails at once with ErrPartitioned.
func (n *Network) Partition(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.parts[pairKey(a, b)] = true
}

// Heal removes every fault between a and b, both ways: the partition, Drop
// and Duplicate rules, and Delay (for frames sent from now on; frames
// already held wait for their time). Counters stay.
func (n *Network) Heal(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.parts, pairKey(a, b))
	for _, l := range []link{{a, b}, {b, a}} {
		if s := n.links[l]; s != nil {
			s.drops, s.dups, s.delay = nil, nil, 0
		}
	}
}

// Drop drops the next count frames sent from->to for which match returns
// true (any frame when match is nil); a negative count drops every matching
// frame until Heal. Rules apply in the order they were added. match runs
// inside Send, on a copy of the frame it must not keep, and must not call
// the Network.
func (n *Network) Drop(from, to string, match func(frame []byte) bool, count int) {
	if count == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.linkLocked(from, to)
	s.drops = append(s.drops, &rule{match: match, count: count})
}

// Duplicate delivers twice each of the next count frames sent from->to for
// which match returns true (any frame when match is nil), the copy right
// after the original; a negative count duplicates every matching frame
// until Heal. match is called as for Drop; a frame Drop takes is not
// duplicated.
func (n *Network) Duplicate(from, to string, match func(frame []byte) bool, count int) {
	if count == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.linkLocked(from, to)
	s.dups = append(s.dups, &rule{match: match, count: count})
}

// Delay holds each frame sent from->to until the network's clock has
// advanced d past its Send; d of zero or less removes the delay. Delivery
// stays in order: a held frame holds back every frame behind it on its
// connection, delayed or not. A connection that closes discards the frames
// it holds.
func (n *Network) Delay(from, to string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.linkLocked(from, to).delay = max(d, 0)
}

// Break resets every open connection between a and b, whichever dialed:
// frames not yet delivered are discarded, both sides' Closed get an error
// wrapping ErrBroken, and Send returns an error wrapping
// transport.ErrClosed. It does not wait for the Closed calls.
func (n *Network) Break(a, b string) {
	n.mu.Lock()
	var cs []*conn
	for c := range n.conns {
		x, y := c.ends[0].host, c.ends[1].host
		if (x == a && y == b) || (x == b && y == a) {
			cs = append(cs, c)
		}
	}
	n.mu.Unlock()
	for _, c := range cs {
		c.shut(-1, fmt.Errorf("quarktest: connection %s-%s reset: %w", a, b, ErrBroken))
	}
}

// Stats returns the counters of frames sent from->to.
func (n *Network) Stats(from, to string) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.links[link{from, to}]; s != nil {
		return s.stats
	}
	return LinkStats{}
}

// Close closes every listener and resets every connection (Closed gets an
// error wrapping ErrBroken), then waits for every delivery goroutine to end,
// so it must not be called from a Handler. Listen and Dial fail afterwards.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		n.wg.Wait()
		return nil
	}
	n.closed = true
	ls := n.listeners
	n.listeners = map[string]*listener{}
	cs := make([]*conn, 0, len(n.conns))
	for c := range n.conns {
		cs = append(cs, c)
	}
	n.mu.Unlock()
	for _, l := range ls {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
	}
	for _, c := range cs {
		c.shut(-1, fmt.Errorf("quarktest: network closed: %w", ErrBroken))
	}
	n.wg.Wait()
	return nil
}

var errNetworkClosed = errors.New("quarktest: network closed")

// verdict is what the faults make of one frame: how many copies to queue
// (0 drops it) and how long to hold them.
func (n *Network) verdict(from, to string, frame []byte) (copies int, delay time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.linkLocked(from, to)
	s.stats.Sent++
	if n.parts[pairKey(from, to)] || take(&s.drops, frame) {
		s.stats.Dropped++
		return 0, 0
	}
	copies = 1
	if take(&s.dups, frame) {
		copies = 2
		s.stats.Duplicated++
	}
	return copies, s.delay
}

// take reports whether a rule in rules matches frame, spending one of its
// count and removing it when spent.
func take(rules *[]*rule, frame []byte) bool {
	for i, r := range *rules {
		if r.match != nil && !r.match(frame) {
			continue
		}
		if r.count > 0 {
			r.count--
			if r.count == 0 {
				*rules = append((*rules)[:i:i], (*rules)[i+1:]...)
			}
		}
		return true
	}
	return false
}

func (n *Network) count(from, to string, f func(*LinkStats)) {
	n.mu.Lock()
	f(&n.linkLocked(from, to).stats)
	n.mu.Unlock()
}

// Host is one host's transport on a Network.
type Host struct {
	n    *Network
	name string
}

var _ transport.Transport = (*Host)(nil)

// Name returns the host's name, the address it listens at.
func (h *Host) Name() string { return h.name }

// Listen binds the host's name; addr must be "" or that name. The accept
// function is called on the dialer's goroutine, inside Dial.
func (h *Host) Listen(addr string, accept func(transport.Conn) transport.Handler) (transport.Listener, error) {
	if addr != "" && addr != h.name {
		return nil, fmt.Errorf("quarktest: host %q cannot listen at %q: a host listens at its own name (or \"\")", h.name, addr)
	}
	if accept == nil {
		return nil, fmt.Errorf("quarktest: listen at %q: nil accept function", h.name)
	}
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("quarktest: listen at %q: %w", h.name, errNetworkClosed)
	}
	if n.listeners[h.name] != nil {
		return nil, fmt.Errorf("quarktest: listen at %q: address in use", h.name)
	}
	l := &listener{n: n, addr: h.name, accept: accept, conns: make(map[*end]struct{})}
	n.listeners[h.name] = l
	return l, nil
}

// Dial connects to the host listening at addr (its name), at once: it fails
// with ErrRefused when nobody listens there and with ErrPartitioned across a
// partition, and never waits.
func (h *Host) Dial(ctx context.Context, addr string, hd transport.Handler) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quarktest: dial %q from %q: %w", addr, h.name, err)
	}
	if hd == nil {
		return nil, fmt.Errorf("quarktest: dial %q from %q: nil Handler", addr, h.name)
	}
	n := h.n
	n.mu.Lock()
	l := n.listeners[addr]
	closed, parted := n.closed, n.parts[pairKey(h.name, addr)]
	n.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("quarktest: dial %q from %q: %w", addr, h.name, errNetworkClosed)
	case l == nil:
		return nil, fmt.Errorf("quarktest: dial %q from %q: nobody listens there: %w", addr, h.name, ErrRefused)
	case parted:
		return nil, fmt.Errorf("quarktest: dial %q from %q: %w", addr, h.name, ErrPartitioned)
	}

	c := &conn{n: n}
	c.ends[0] = &end{c: c, side: 0, host: h.name, remote: addr, h: hd}
	c.ends[1] = &end{c: c, side: 1, host: addr, remote: h.name, l: l}
	for _, e := range c.ends {
		e.wake = sync.NewCond(&c.mu)
		e.done = make(chan struct{})
	}

	// l.mu is held across accept so Listener.Close cannot miss the
	// connection; accept must not block, by the Transport contract.
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, fmt.Errorf("quarktest: dial %q from %q: listener closed: %w", addr, h.name, ErrRefused)
	}
	ah := l.accept(c.ends[1])
	if ah == nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("quarktest: dial %q from %q: the listener's accept returned no Handler: %w", addr, h.name, ErrRefused)
	}
	c.ends[1].h = ah

	n.mu.Lock()
	if n.closed {
		// Network.Close ran during accept. The accepting side holds its
		// Conn already: end it as Network.Close would have, and fail the
		// Dial. Its Closed runs here, outside the WaitGroup Close waits on.
		n.mu.Unlock()
		l.mu.Unlock()
		c.shut(-1, fmt.Errorf("quarktest: network closed: %w", ErrBroken))
		ah.Closed(c.ends[1].err)
		close(c.ends[1].done)
		return nil, fmt.Errorf("quarktest: dial %q from %q: %w", addr, h.name, errNetworkClosed)
	}
	n.conns[c] = struct{}{}
	n.wg.Add(2)
	n.mu.Unlock()
	l.conns[c.ends[1]] = struct{}{}
	l.mu.Unlock()
	go c.ends[0].run()
	go c.ends[1].run()
	return c.ends[0], nil
}

// listener is a Host's bound address.
type listener struct {
	n      *Network
	addr   string
	accept func(transport.Conn) transport.Handler

	mu     sync.Mutex
	closed bool
	conns  map[*end]struct{} // accepted ends not yet ended
}

func (l *listener) Addr() string { return l.addr }

// Close unbinds the address and closes every connection accepted, as their
// accepting side, then waits for those sides' Closed to return: it must
// not be called from one of their Handlers.
func (l *listener) Close() error {
	l.n.mu.Lock()
	if l.n.listeners[l.addr] == l {
		delete(l.n.listeners, l.addr)
	}
	l.n.mu.Unlock()
	l.mu.Lock()
	l.closed = true
	es := make([]*end, 0, len(l.conns))
	for e := range l.conns {
		es = append(es, e)
	}
	l.mu.Unlock()
	for _, e := range es {
		e.c.shut(e.side, nil)
	}
	for _, e := range es {
		<-e.done
	}
	return nil
}

// conn is one connection: two ends, each with the queue of frames waiting
// for its Handler. mu guards both ends' queues and the closed state; lock
// order is conn.mu, then Network.mu, then the Clock's.
type conn struct {
	n    *Network
	ends [2]*end // 0 dialed, 1 accepted

	mu     sync.Mutex
	closed bool
	cause  error // nil after a Close, the reset error after a Break
}

// item is a queued frame; ready is false while a Delay holds it.
type item struct {
	b     []byte
	ready bool
	timer quark.ClockTimer
}

// end is one side of a conn, the transport.Conn its owner holds.
type end struct {
	c            *conn
	side         int
	host, remote string
	h            transport.Handler // this side's, receiving its queue
	l            *listener         // the listener that accepted it, if any

	// Guarded by c.mu.
	queue   []*item
	wake    *sync.Cond
	closing bool  // once set, queue holds only frames still to deliver
	err     error // for Closed

	done chan struct{} // closed after Closed returns
}

var _ transport.Conn = (*end)(nil)

func (e *end) peer() *end { return e.c.ends[1-e.side] }

func (e *end) RemoteAddr() string { return e.remote }

// Send copies frame into the peer's queue, subject to the faults from this
// host to the peer's.
func (e *end) Send(frame []byte) error {
	c := e.c
	p := e.peer()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		if c.cause != nil {
			return fmt.Errorf("quarktest: send %s->%s: %w (%w)", e.host, e.remote, transport.ErrClosed, c.cause)
		}
		return fmt.Errorf("quarktest: send %s->%s: %w", e.host, e.remote, transport.ErrClosed)
	}
	b := bytes.Clone(frame)
	if b == nil {
		b = []byte{}
	}
	copies, delay := c.n.verdict(e.host, p.host, b)
	for i := range copies {
		it := &item{b: b, ready: delay <= 0}
		if i > 0 {
			it.b = bytes.Clone(b) // the handler may scribble on its frame
		}
		if !it.ready {
			it.timer = c.n.clk.AfterFunc(delay, func() {
				c.mu.Lock()
				it.ready = true
				p.wake.Signal()
				c.mu.Unlock()
			})
		}
		p.queue = append(p.queue, it)
	}
	if copies > 0 {
		p.wake.Signal()
	}
	return nil
}

// Close closes the connection from this side: this side's Closed gets nil
// and the frames queued for it are discarded; the peer first receives the
// frames this side sent that no Delay holds, then Closed with an error
// wrapping transport.ErrClosed.
func (e *end) Close() error {
	e.c.shut(e.side, nil)
	return nil
}

// shut ends the connection once: closed by side closer, or reset with
// cause when closer is -1.
func (c *conn) shut(closer int, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.cause = cause
	for i, e := range c.ends {
		keep := 0
		switch {
		case closer == i:
			e.err = nil
		case closer >= 0:
			e.err = fmt.Errorf("quarktest: %s closed the connection: %w", e.remote, transport.ErrClosed)
			for keep < len(e.queue) && e.queue[keep].ready {
				keep++
			}
		default:
			e.err = cause
		}
		for _, it := range e.queue[keep:] {
			if it.timer != nil {
				it.timer.Stop()
			}
		}
		if lost := len(e.queue) - keep; lost > 0 {
			c.n.count(e.remote, e.host, func(s *LinkStats) { s.Discarded += lost })
		}
		clear(e.queue[keep:])
		e.queue = e.queue[:keep]
		e.closing = true
		e.wake.Signal()
	}
	c.n.mu.Lock()
	delete(c.n.conns, c)
	c.n.mu.Unlock()
}

// run is the end's delivery goroutine: it hands queued frames to the
// Handler in order, one at a time, then calls Closed once.
func (e *end) run() {
	defer e.c.n.wg.Done()
	c := e.c
	c.mu.Lock()
	for {
		if len(e.queue) > 0 && e.queue[0].ready {
			it := e.queue[0]
			e.queue[0] = nil
			e.queue = e.queue[1:]
			c.mu.Unlock()
			e.h.Frame(it.b)
			c.n.count(e.remote, e.host, func(s *LinkStats) { s.Delivered++ })
			c.mu.Lock()
			continue
		}
		if e.closing {
			break
		}
		e.wake.Wait()
	}
	err := e.err
	c.mu.Unlock()
	e.h.Closed(err)
	close(e.done)
	if e.l != nil {
		e.l.mu.Lock()
		delete(e.l.conns, e)
		e.l.mu.Unlock()
	}
}
