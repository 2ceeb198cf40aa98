// Package faultproxy is a TCP proxy on loopback that tests put between a
// client and a real server (Redis, PostgreSQL) to break the network under
// the client on cue: lose the reply to one chosen request, drop every
// reply, or stall (hold all bytes while keeping the connections open), and
// resume.
//
// Faults are scripted, not timed. A test arms a fault before it makes the
// call, and the proxy triggers it on the bytes it forwards, so the same test
// meets the same fault on every run:
//
//	p, err := faultproxy.Start("127.0.0.1:6379")
//	defer p.Close()
//	client := redis.NewClient(&redis.Options{Addr: p.Addr()})
//	lost := p.LoseReply([]byte("value-1")) // the request carrying "value-1"
//	_, err = store.Write(ctx, "k", []byte("value-1"), "")
//	<-lost // the server answered it; the client never saw the answer
//
// Each accepted connection is paired with its own connection to the target,
// and two goroutines copy bytes between them, one per direction, chunk by
// chunk; a fault acts on chunks, which is fine for protocols whose clients
// wait for a reply before they send the next request on a connection (Redis
// and PostgreSQL clients without pipelining). Close ends every connection
// and goroutine the proxy started and waits for them.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
)

// MaxMatch bounds the length of a LoseReply pattern: the proxy keeps this
// many of the last bytes each client sent, so a pattern split across two
// reads is still found.
const MaxMatch = 1024

// Proxy forwards connections from its loopback address to one target. Its
// methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // ends at Close; bounds dials to the target
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every pump

	mu          sync.Mutex
	closed      bool
	stalled     bool
	resumed     chan struct{} // closed by Resume; a fresh one per Stall
	dropReplies bool
	faults      []*fault // armed, in arming order
	links       map[*link]struct{}
	held        int           // chunks held by a stall now
	heldChanged chan struct{} // closed and replaced when held changes
}

// fault is an armed LoseReply.
type fault struct {
	match []byte
	fired chan struct{}
}

// link is one proxied connection: the client's side and the server's. Its
// fields other than the connections are guarded by Proxy.mu.
type link struct {
	client, server net.Conn
	done           chan struct{} // closed when the link is cut
	cutOnce        sync.Once

	tail   []byte // the last bytes the client sent, up to MaxMatch
	losing *fault // a request was forwarded whose reply is to be lost
}

func (l *link) cut() {
	l.cutOnce.Do(func() {
		close(l.done)
		// Cutting asks only that the connections end; a Close error
		// leaves nothing to undo and no one to tell.
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// Start listens on 127.0.0.1 on a free port and forwards every connection
// it accepts to target (host:port). The proxy forwards normally until a
// fault is armed.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: target,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		links:  map[*link]struct{}{},

		heldChanged: make(chan struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's address (127.0.0.1:port), for the client to
// dial instead of the target's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// accept runs until the listener is closed, pairing each connection with a
// new one to the target.
func (p *Proxy) accept() {
	defer p.wg.Done()
	var d net.Dialer
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		s, err := d.DialContext(p.ctx, "tcp", p.target)
		if err != nil {
			// The client sees its connection end, as it would if the
			// server refused it; a Close error changes nothing.
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: s, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.cut()
			return
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pump(l, c, s, true)
		go p.pump(l, s, c, false)
	}
}

// pump copies src to dst chunk by chunk, letting deliver decide the fate of
// each chunk, until either side ends; then it cuts the link.
func (p *Proxy) pump(l *link, src, dst net.Conn, toServer bool) {
	defer p.wg.Done()
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			forward, ok := p.deliver(l, buf[:n], toServer)
			if !ok {
				return
			}
			if forward {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// forget cuts l and removes it from the proxy's set.
func (p *Proxy) forget(l *link) {
	l.cut()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// deliver decides what becomes of one chunk read from a link: forward it
// (forward true), discard it (forward false), or end the link (ok false).
// While the proxy is stalled it blocks until Resume, Close or the link's
// end, holding the chunk.
func (p *Proxy) deliver(l *link, b []byte, toServer bool) (forward, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.stalled && !p.closed {
		resumed := p.resumed
		p.setHeld(+1)
		p.mu.Unlock()
		select {
		case <-resumed:
		case <-l.done:
		}
		p.mu.Lock()
		p.setHeld(-1)
		select {
		case <-l.done:
			return false, false
		default:
		}
	}
	if p.closed {
		return false, false
	}
	if !toServer {
		if f := l.losing; f != nil {
			// The server answered the request whose reply is to be lost:
			// discard the answer and cut the connection.
			l.losing = nil
			l.cut()
			close(f.fired)
			return false, false
		}
		return !p.dropReplies, true
	}
	// Client to server: the chunk is forwarded; it may arm the link. The
	// window searched is the earlier bytes followed by this chunk, built in
	// l.tail itself (b is the pump's buffer and must not be kept).
	prev := len(l.tail)
	l.tail = append(l.tail, b...)
	if l.losing == nil {
		for i, f := range p.faults {
			// Only a match that ends in this chunk counts: one wholly
			// in bytes already forwarded belongs to an earlier request.
			from := max(0, prev-len(f.match)+1)
			if bytes.Contains(l.tail[from:], f.match) {
				l.losing = f
				p.faults = append(p.faults[:i], p.faults[i+1:]...)
				break
			}
		}
	}
	if n := len(l.tail); n > MaxMatch {
		// Keep the last MaxMatch bytes; copy allows the overlap.
		l.tail = l.tail[:copy(l.tail, l.tail[n-MaxMatch:])]
	}
	return true, true
}

// setHeld changes the count of held chunks by d and wakes WaitHeld. The
// caller holds p.mu.
func (p *Proxy) setHeld(d int) {
	p.held += d
	close(p.heldChanged)
	p.heldChanged = make(chan struct{})
}

// WaitHeld blocks until a stall holds at least n chunks (n requests, when
// clients send each request in one write), or ctx ends. Tests use it to
// prove that a request was stopped at the proxy, so the server has not seen
// it.
func (p *Proxy) WaitHeld(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		held, changed := p.held, p.heldChanged
		p.mu.Unlock()
		if held >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// LoseReply arms a one-shot fault: the next request a client sends whose
// bytes contain match (any request, when match is empty) is forwarded to
// the server; the server's reply is read and discarded, and then that
// connection is cut on both sides. The client thus sees its connection end
// after the server carried out its request, the case of a reply lost in the
// network. The returned channel is closed when the fault has fired, which
// proves the server answered.
//
// Faults armed together fire in arming order, one per request. match is
// at most MaxMatch bytes; LoseReply panics otherwise.
func (p *Proxy) LoseReply(match []byte) <-chan struct{} {
	if len(match) > MaxMatch {
		panic("faultproxy: LoseReply pattern over MaxMatch bytes")
	}
	f := &fault{match: bytes.Clone(match), fired: make(chan struct{})}
	p.mu.Lock()
	p.faults = append(p.faults, f)
	p.mu.Unlock()
	return f.fired
}

// DropReplies sets whether the bytes servers send are discarded. While on,
// requests still reach the server and connections stay open, but no client
// hears back; bytes already forwarded are not recalled.
func (p *Proxy) DropReplies(on bool) {
	p.mu.Lock()
	p.dropReplies = on
	p.mu.Unlock()
}

// Stall stops forwarding in both directions: bytes read from either side
// are held, connections stay open, and new connections are accepted (and
// paired with the target) but held alike. A chunk already on its way when
// Stall is called is still delivered.
func (p *Proxy) Stall() {
	p.mu.Lock()
	if !p.stalled {
		p.stalled = true
		p.resumed = make(chan struct{})
	}
	p.mu.Unlock()
}

// Resume ends a stall: held bytes are delivered, in order, and forwarding
// goes on.
func (p *Proxy) Resume() {
	p.mu.Lock()
	if p.stalled {
		p.stalled = false
		close(p.resumed)
	}
	p.mu.Unlock()
}

// Cut ends every connection open now; the proxy goes on accepting new
// ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.cut()
	}
}

// Close stops the proxy: it stops listening, cuts every connection and
// returns once every goroutine it started has ended. Faults not fired stay
// unfired. Close may be called more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	var err error
	if !already {
		p.cancel()
		if cerr := p.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	p.Cut()
	p.wg.Wait()
	return err
}
