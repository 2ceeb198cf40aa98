package grpctransport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/quarkgo/quark/transport"
)

// frameFor is the payload sender s sends as its i-th frame: its identity,
// then filler whose length varies (some frames empty of filler, some past
// a batch).
func frameFor(s, i int) []byte {
	n := (i * 37) % 300
	if i%97 == 0 {
		n = maxBatch + 1000
	}
	f := make([]byte, 16+n)
	binary.BigEndian.PutUint64(f, uint64(s))
	binary.BigEndian.PutUint64(f[8:], uint64(i))
	for j := range n {
		f[16+j] = byte(s + i + j)
	}
	return f
}

// checkStreams checks that frames hold, for each of senders, frames 0..n-1
// in order and intact.
func checkStreams(t *testing.T, frames [][]byte, senders, n int) {
	t.Helper()
	next := make([]int, senders)
	for _, f := range frames {
		s := int(binary.BigEndian.Uint64(f))
		i := int(binary.BigEndian.Uint64(f[8:]))
		if s >= senders || i != next[s] {
			t.Fatalf("sender %d: got frame %d, want %d", s, i, next[s])
		}
		if !bytes.Equal(f, frameFor(s, i)) {
			t.Fatalf("sender %d frame %d: bytes differ", s, i)
		}
		next[s]++
	}
	for s, got := range next {
		if got != n {
			t.Fatalf("sender %d: %d frames arrived, want %d", s, got, n)
		}
	}
}

func TestFramesWholeAndInOrderBothWays(t *testing.T) {
	const senders, n = 4, 300
	clientH, serverH := newRecorder(), newRecorder()
	clientH.want, serverH.want = senders*n, senders*n
	p := newPair(t, New(quiet()), clientH, serverH)
	var wg sync.WaitGroup
	for s := range senders {
		for _, c := range []transport.Conn{p.client, p.server} {
			wg.Go(func() {
				for i := range n {
					if err := c.Send(frameFor(s, i)); err != nil {
						t.Errorf("Send: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	<-clientH.all
	<-serverH.all
	checkStreams(t, clientH.got(), senders, n)
	checkStreams(t, serverH.got(), senders, n)
	p.client.Close()
	if err := clientH.waitClosed(t); err != nil {
		t.Errorf("client Closed(%v), want nil", err)
	}
	if err := serverH.waitClosed(t); !isClosedErr(err) {
		t.Errorf("server Closed(%v), want ErrClosed", err)
	}
	p.ln.Close()
}

// TestQueuedFramesShareAWrite holds the first write in progress, queues
// frames behind it, and checks they go out as one stream message.
func TestQueuedFramesShareAWrite(t *testing.T) {
	const queued = 50
	clientH, serverH := newRecorder(), newRecorder()
	serverH.want = queued + 1
	p := newPair(t, New(quiet()), clientH, serverH)
	defer p.ln.Close()
	c := p.client.(*conn)
	inWrite, release := make(chan struct{}), make(chan struct{})
	first := true
	c.testHookWrite = func() {
		if first {
			first = false
			close(inWrite)
			<-release
		}
	}
	firstDone := make(chan error)
	go func() { firstDone <- c.Send([]byte("first")) }()
	<-inWrite
	for i := range queued {
		if err := c.Send(fmt.Appendf(nil, "queued %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	<-serverH.all
	if w, f := c.writes.Load(), c.frames.Load(); w != 2 || f != queued+1 {
		t.Fatalf("%d frames in %d stream messages, want %d in 2", f, w, queued+1)
	}
	got := serverH.got()
	for i, f := range got[1:] {
		if want := fmt.Sprintf("queued %d", i); string(f) != want {
			t.Fatalf("frame %d = %q, want %q", i+1, f, want)
		}
	}
}

func goroutineID() string {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s, _, _ = bytes.Cut(s, []byte(" ["))
	return string(s)
}

// TestIdleSendWritesOnCaller checks that Send on an idle connection
// writes from the caller's goroutine, without a hand-off.
func TestIdleSendWritesOnCaller(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	p := newPair(t, New(quiet()), clientH, serverH)
	defer p.ln.Close()
	c := p.client.(*conn)
	var writer string
	c.testHookWrite = func() { writer = goroutineID() }
	for range 3 {
		writer = ""
		if err := c.Send([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if me := goroutineID(); writer != me {
			t.Fatalf("written by %q, Send called on %q", writer, me)
		}
	}
}

func TestSendRefusesOversizedFrame(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	serverH.want = 1
	p := newPair(t, New(quiet(), WithMaxFrameSize(100)), clientH, serverH)
	defer p.ln.Close()
	err := p.client.Send(make([]byte, 101))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Send(101 bytes) = %v, want ErrFrameTooLarge", err)
	}
	if want := "101 bytes, limit 100"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if err := p.client.Send(make([]byte, 100)); err != nil {
		t.Fatalf("Send(100 bytes) = %v", err)
	}
	<-serverH.all
}

// sendRaw writes b as one stream message, bypassing the framing.
func (c *conn) sendRaw(b []byte) error {
	p := batchPool.Get(len(b))
	*p = append(*p, b...)
	return c.sendMsg(p)
}

func TestBadBatchClosesConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"truncated prefix", []byte{0x80}, ErrMalformedBatch},
		{"overlong prefix", []byte{0x81, 0x00, 'x'}, ErrMalformedBatch},
		{"frame past the end", []byte{5, 'a', 'b'}, ErrMalformedBatch},
		{"frame over the limit", append([]byte{200, 1}, make([]byte, 200)...), ErrFrameTooLarge},
		{"bad after good", []byte{1, 'a', 0x80}, ErrMalformedBatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := newLogRecorder()
			clientH, serverH := newRecorder(), newRecorder()
			p := newPair(t, New(WithMaxFrameSize(100), WithLogger(slogNew(logs))), clientH, serverH)
			defer p.ln.Close()
			if err := p.client.(*conn).sendRaw(tc.raw); err != nil {
				t.Fatal(err)
			}
			if err := serverH.waitClosed(t); !errors.Is(err, tc.want) {
				t.Fatalf("server Closed(%v), want %v", err, tc.want)
			}
			if err := clientH.waitClosed(t); err == nil {
				t.Fatal("client Closed(nil), want an error")
			}
			r := logs.waitLog(t, "grpctransport: closing connection on bad input")
			_ = r
			if err := p.server.Send([]byte("x")); !isClosedErr(err) {
				t.Fatalf("server Send after close = %v, want ErrClosed", err)
			}
		})
	}
}

// TestMessageOverReceiveLimit has a peer with a larger frame limit send a
// frame past the receiver's: gRPC refuses the message, the connection
// closes with an error on both sides.
func TestMessageOverReceiveLimit(t *testing.T) {
	serverH := newRecorder()
	ln, err := New(quiet(), WithMaxFrameSize(100)).Listen("127.0.0.1:0", func(transport.Conn) transport.Handler { return serverH })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	clientH := newRecorder()
	c, err := New(quiet()).Dial(context.Background(), ln.Addr(), clientH)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(make([]byte, 2*maxBatch)); err != nil {
		t.Fatal(err)
	}
	if err := serverH.waitClosed(t); err == nil || isClosedErr(err) && !bytes.Contains([]byte(err.Error()), []byte("ResourceExhausted")) {
		t.Logf("server Closed(%v)", err)
	}
	if err := clientH.waitClosed(t); err == nil {
		t.Fatal("client Closed(nil), want an error")
	}
	if len(serverH.got()) != 0 {
		t.Fatal("the oversized frame was delivered")
	}
}

// TestWriterYieldsBeforeWriting checks that a Send that becomes the writer
// yields before it takes the batch, so that a frame another goroutine
// sends meanwhile shares its stream message.
func TestWriterYieldsBeforeWriting(t *testing.T) {
	clientH, serverH := newRecorder(), newRecorder()
	serverH.want = 2
	p := newPair(t, New(quiet()), clientH, serverH)
	defer p.ln.Close()
	c := p.client.(*conn)
	yields := 0
	c.testHookYield = func() {
		yields++
		if yields > 1 {
			return
		}
		done := make(chan error)
		go func() { done <- c.Send([]byte("b")) }()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if err := c.Send([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if yields == 0 { // no yield: send the second frame now, to see it go out alone
		if err := c.Send([]byte("b")); err != nil {
			t.Fatal(err)
		}
	}
	<-serverH.all
	if w := c.writes.Load(); w != 1 || yields != 1 {
		t.Fatalf("2 frames in %d stream messages after %d yields, want 1 message after 1 yield", w, yields)
	}
	if got := serverH.got(); string(got[0]) != "a" || string(got[1]) != "b" {
		t.Fatalf("frames %q, want [a b]", got)
	}
}
