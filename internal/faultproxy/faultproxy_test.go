package faultproxy_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/faultproxy"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lineServer is the target the tests proxy to: it answers each line it
// reads with "ok <line>\n" and reports every line on got, before answering.
// When closeAfter is set it closes the connection after answering a line.
type lineServer struct {
	ln         net.Listener
	got        chan string
	closeAfter bool
	wg         sync.WaitGroup
}

func startServer(t *testing.T, closeAfter bool) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{ln: ln, got: make(chan string, 16), closeAfter: closeAfter}
	s.wg.Go(func() {
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimSuffix(line, "\n")
					s.got <- line
					if _, err := io.WriteString(c, "ok "+line+"\n"); err != nil || s.closeAfter {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func start(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// conn is a client connection through the proxy.
type conn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, p *faultproxy.Proxy) *conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *conn) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *conn) read() (string, error) {
	line, err := c.r.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

func (c *conn) roundTrip(line string) {
	c.t.Helper()
	c.send(line)
	got, err := c.read()
	if err != nil || got != "ok "+line {
		c.t.Fatalf("reply to %q: %q, %v", line, got, err)
	}
}

func TestForwards(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	a, b := dial(t, p), dial(t, p)
	a.roundTrip("one")
	b.roundTrip("two")
	a.roundTrip("three")
}

func TestLoseReply(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	c.roundTrip("an earlier target")
	<-srv.got
	lost := p.LoseReply([]byte("target"))
	// A request without the pattern passes, though the bytes before it
	// on its connection hold it.
	c.roundTrip("first")
	<-srv.got
	c.send("the target request")
	// The server carried it out ...
	if got := <-srv.got; got != "the target request" {
		t.Fatalf("server got %q", got)
	}
	<-lost
	// ... and the client never hears back: its connection ends with no
	// bytes.
	if got, err := c.read(); got != "" || err == nil {
		t.Fatalf("client read %q, %v after a lost reply; want the connection ended", got, err)
	}
	// The fault fired once; a new connection works.
	d := dial(t, p)
	d.roundTrip("target again")
}

func TestLoseReplyMatchSplitAcrossWrites(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	lost := p.LoseReply([]byte("needle"))
	// The stall proves the proxy read the first write before the second is
	// sent, so the pattern really straddles two chunks.
	p.Stall()
	if _, err := io.WriteString(c.c, "hay nee"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.Resume()
	if _, err := io.WriteString(c.c, "dle hay\n"); err != nil {
		t.Fatal(err)
	}
	<-srv.got
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("the fault did not fire on the request carrying the pattern")
	}
	if _, err := c.read(); err == nil {
		t.Fatal("reply not lost")
	}
}

// A pattern split across two writes is still found after more than
// MaxMatch bytes went before it on the connection: the proxy keeps the
// latest of them.
func TestLoseReplyMatchSplitAfterLongRequests(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	for _, fill := range []string{"a", "b", "c"} {
		c.roundTrip(strings.Repeat(fill, 3*faultproxy.MaxMatch))
		<-srv.got
	}
	lost := p.LoseReply([]byte("needle"))
	// The stall proves the proxy read the first write before the second
	// is sent, so the two are separate chunks.
	p.Stall()
	if _, err := io.WriteString(c.c, strings.Repeat("y", 2*faultproxy.MaxMatch)+" nee"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.Resume()
	if _, err := io.WriteString(c.c, "dle\n"); err != nil {
		t.Fatal(err)
	}
	<-srv.got
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("the fault did not fire on the request carrying the pattern")
	}
	if _, err := c.read(); err == nil {
		t.Fatal("reply not lost")
	}
}

func TestDropReplies(t *testing.T) {
	// The server closes after answering, so the client's read ends at the
	// proxy's cut rather than by a timeout: every byte before it was the
	// server's reply, which the proxy must have dropped.
	srv := startServer(t, true)
	p := start(t, srv.ln.Addr().String())
	p.DropReplies(true)
	c := dial(t, p)
	c.send("x")
	if got := <-srv.got; got != "x" {
		t.Fatalf("server got %q", got)
	}
	if got, err := c.read(); got != "" || !errors.Is(err, io.EOF) {
		t.Fatalf("client read %q, %v; want EOF with no bytes", got, err)
	}
	p.DropReplies(false)
	dial(t, p).roundTrip("y")
	<-srv.got
}

func TestStallHoldsThenResumeDelivers(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	c.roundTrip("before")
	<-srv.got
	p.Stall()
	c.send("held")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitHeld(ctx, 1); err != nil {
		t.Fatalf("request not held: %v", err)
	}
	// The proxy holds the request, so the server cannot have it.
	select {
	case got := <-srv.got:
		t.Fatalf("server got %q during a stall", got)
	default:
	}
	// A connection made during the stall is held too.
	d := dial(t, p)
	d.send("new")
	if err := p.WaitHeld(ctx, 2); err != nil {
		t.Fatalf("second request not held: %v", err)
	}
	p.Resume()
	for _, x := range []*conn{c, d} {
		if got, err := x.read(); err != nil || !strings.HasPrefix(got, "ok ") {
			t.Fatalf("after resume: %q, %v", got, err)
		}
	}
	<-srv.got
	<-srv.got
}

func TestCloseEndsStalledConnections(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	p.Stall()
	c.send("held")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Close returns although a pump is blocked in the stall; goleak in
	// TestMain proves nothing is left running.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.read(); err == nil {
		t.Fatal("client connection survived Close")
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}

func TestCut(t *testing.T) {
	srv := startServer(t, false)
	p := start(t, srv.ln.Addr().String())
	c := dial(t, p)
	c.roundTrip("a")
	<-srv.got
	p.Cut()
	if _, err := c.read(); err == nil {
		t.Fatal("connection survived Cut")
	}
	dial(t, p).roundTrip("b")
	<-srv.got
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := start(t, addr)
	c := dial(t, p)
	if _, err := c.read(); err == nil {
		t.Fatal("connection to a dead target stayed open")
	}
}
