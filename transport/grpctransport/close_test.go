package grpctransport

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark/transport"
)

// checkClosed checks both sides' Closed: called once, the closing side's
// (if any) with nil, the other's with an error; and Send on both returns
// ErrClosed.
func checkClosed(t *testing.T, closer, other *recorder, closerConn, otherConn transport.Conn) {
	t.Helper()
	if closer != nil {
		if err := closer.waitClosed(t); err != nil {
			t.Errorf("closing side: Closed(%v), want nil", err)
		}
	}
	if err := other.waitClosed(t); err == nil {
		t.Errorf("other side: Closed(nil), want an error")
	} else {
		t.Logf("other side: Closed(%v)", err)
	}
	for _, c := range []transport.Conn{closerConn, otherConn} {
		if err := c.Send([]byte("late")); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Send after close = %v, want ErrClosed", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	}
}

func TestClientCloses(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	p := newPair(t, New(quiet()), clientH, serverH)
	p.client.Close()
	checkClosed(t, clientH, serverH, p.client, p.server)
	p.ln.Close()
	clientH.noSecondClosed(t)
	serverH.noSecondClosed(t)
}

func TestServerCloses(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	p := newPair(t, New(quiet()), clientH, serverH)
	p.server.Close()
	checkClosed(t, serverH, clientH, p.server, p.client)
	p.ln.Close()
	clientH.noSecondClosed(t)
	serverH.noSecondClosed(t)
}

// TestListenerCloseWaitsForClosed blocks an accepted connection's Closed
// and checks Listener.Close has not returned when it is released.
func TestListenerCloseWaitsForClosed(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var released atomic.Bool
	h := blockingClosed{entered: entered, release: release, released: &released}
	ln, err := New(quiet()).Listen("127.0.0.1:0", func(transport.Conn) transport.Handler { return h })
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(quiet()).Dial(context.Background(), ln.Addr(), newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closeReturned := make(chan bool)
	go func() {
		ln.Close()
		closeReturned <- released.Load()
	}()
	<-entered
	// Give a Close that does not wait every chance to return early.
	for range 1000 {
		runtime.Gosched()
	}
	released.Store(true)
	close(release)
	if !<-closeReturned {
		t.Fatal("Listener.Close returned while an accepted connection's Closed was running")
	}
}

type blockingClosed struct {
	entered, release chan struct{}
	released         *atomic.Bool
}

func (blockingClosed) Frame([]byte) {}
func (h blockingClosed) Closed(error) {
	close(h.entered)
	<-h.release
}

// TestDialReturnsAfterAccept checks Dial returns once the accepting side
// has accepted the connection, not merely opened the stream.
func TestDialReturnsAfterAccept(t *testing.T) {
	accepted := make(chan struct{}, 1)
	ln, err := New(quiet()).Listen("127.0.0.1:0", func(transport.Conn) transport.Handler {
		accepted <- struct{}{}
		return newRecorder()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 20 {
		c, err := New(quiet()).Dial(context.Background(), ln.Addr(), newRecorder())
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-accepted:
		default:
			t.Fatal("Dial returned before the connection was accepted")
		}
		c.Close()
	}
}

func TestListenerCloseClosesConns(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	p := newPair(t, New(quiet()), clientH, serverH)
	p.ln.Close()
	// Close returned: the server side's Closed has returned.
	select {
	case err := <-serverH.closed:
		if err != nil {
			t.Errorf("server Closed(%v), want nil", err)
		}
	default:
		t.Fatal("Listener.Close returned before the accepted connection's Closed")
	}
	checkClosed(t, nil, clientH, p.server, p.client)
	if err := p.ln.Close(); err != nil {
		t.Errorf("second Listener.Close = %v", err)
	}
	clientH.noSecondClosed(t)
	serverH.noSecondClosed(t)
}

// TestCloseFromHandler closes the connection from inside Frame, which must
// not deadlock, and checks no frame is delivered after Closed.
func TestCloseFromHandler(t *testing.T) {
	clientH := newRecorder()
	serverH := &closingHandler{closed: make(chan error, 2)}
	ln, err := New(quiet()).Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
		serverH.c = c
		return serverH
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := New(quiet()).Dial(context.Background(), ln.Addr(), clientH)
	if err != nil {
		t.Fatal(err)
	}
	// Three frames in one stream message: the handler closes on the first.
	if err := c.(*conn).sendRaw([]byte{1, 'a', 1, 'b', 1, 'c'}); err != nil {
		t.Fatal(err)
	}
	if err := <-serverH.closed; err != nil {
		t.Fatalf("Closed(%v)", err)
	}
	if err := clientH.waitClosed(t); err == nil {
		t.Fatal("client Closed(nil)")
	}
	serverH.mu.Lock()
	defer serverH.mu.Unlock()
	if serverH.frames != 1 {
		t.Fatalf("%d frames delivered, want 1 (none after Close)", serverH.frames)
	}
}

type closingHandler struct {
	c      transport.Conn
	closed chan error
	mu     sync.Mutex
	frames int
}

func (h *closingHandler) Frame([]byte) {
	h.mu.Lock()
	h.frames++
	h.mu.Unlock()
	h.c.Close()
}

func (h *closingHandler) Closed(err error) { h.closed <- err }

// connsListener records the network connections it accepts.
type connsListener struct {
	net.Listener
	conns chan net.Conn
}

func (l connsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.conns <- c
	}
	return c, err
}

// TestBrokenConnection closes the TCP connection under the stream: both
// sides' Closed are called with an error, at once.
func TestBrokenConnection(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := connsListener{raw, make(chan net.Conn, 1)}
	clientH, serverH := newRecorder(), newRecorder()
	p := newPair(t, New(quiet(), WithListener(cl)), clientH, serverH)
	if p.ln.Addr() != raw.Addr().String() {
		t.Errorf("Addr() = %s, want the given listener's %s", p.ln.Addr(), raw.Addr())
	}
	(<-cl.conns).Close()
	if err := clientH.waitClosed(t); err == nil {
		t.Error("client Closed(nil), want an error")
	}
	checkClosed(t, nil, serverH, p.client, p.server)
	p.ln.Close()
	clientH.noSecondClosed(t)
	serverH.noSecondClosed(t)
}

func TestWithListenerServesOnce(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := New(quiet(), WithListener(raw))
	ln, err := tr.Listen("", func(transport.Conn) transport.Handler { return newRecorder() })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := tr.Listen("", nil); err == nil {
		t.Fatal("second Listen on the same WithListener listener succeeded")
	}
}

func TestDialNobodyListening(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := raw.Addr().String()
	raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), promptly)
	defer cancel()
	_, err = New(quiet()).Dial(ctx, addr, newRecorder())
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want a prompt connection error", err)
	}
	t.Log(err)
}

func TestDialContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(quiet()).Dial(ctx, "127.0.0.1:1", newRecorder())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial = %v, want context.Canceled", err)
	}
}

// stuckReader blocks in its first Frame until released.
type stuckReader struct {
	entered, release chan struct{}
	once             sync.Once
	closed           chan error
}

func (h *stuckReader) Frame([]byte) {
	h.once.Do(func() {
		close(h.entered)
		<-h.release
	})
}

func (h *stuckReader) Closed(err error) { h.closed <- err }

// TestCloseEndsSendBlockedOnFlowControl fills the connection to a peer
// that does not read until Send blocks, then closes: the blocked Send
// returns ErrClosed. For each side of the connection, closed by Conn.Close
// and, on the accepting side, by Listener.Close.
func TestCloseEndsSendBlockedOnFlowControl(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverSide bool // the accepting side sends; the dialling side is stuck
		viaLn      bool
	}{
		{"dialling side sends, Conn.Close", false, false},
		{"accepting side sends, Conn.Close", true, false},
		{"accepting side sends, Listener.Close", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stuck := &stuckReader{entered: make(chan struct{}), release: make(chan struct{}), closed: make(chan error, 2)}
			other := newRecorder()
			clientH, serverH := transport.Handler(other), transport.Handler(stuck)
			if tc.serverSide {
				clientH, serverH = stuck, other
			}
			accepted := make(chan transport.Conn, 1)
			ln, err := New(quiet()).Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
				accepted <- c
				return serverH
			})
			if err != nil {
				t.Fatal(err)
			}
			client, err := New(quiet()).Dial(context.Background(), ln.Addr(), clientH)
			if err != nil {
				t.Fatal(err)
			}
			server := <-accepted
			sender := client.(*conn)
			if tc.serverSide {
				sender = server.(*conn)
			}
			blocked := make(chan struct{})
			var once sync.Once
			sender.testHookSendWait = func() { once.Do(func() { close(blocked) }) }
			// Two senders: one ends up the writer, blocked in gRPC's flow
			// control; the other queues behind it until Send blocks.
			sent := make(chan error, 2)
			for range 2 {
				go func() {
					frame := make([]byte, 64<<10)
					for {
						if err := sender.Send(frame); err != nil {
							sent <- err
							return
						}
					}
				}()
			}
			<-stuck.entered
			<-blocked
			switch {
			case tc.viaLn:
				ln.Close()
			default:
				sender.Close()
			}
			for range 2 {
				if err := <-sent; !errors.Is(err, transport.ErrClosed) {
					t.Fatalf("blocked Send = %v, want ErrClosed", err)
				}
			}
			close(stuck.release)
			client.Close()
			ln.Close()
			<-stuck.closed
			<-other.closed
		})
	}
}
