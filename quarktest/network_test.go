package quarktest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that records its frames and Closed calls, and
// checks the Handler contract as it goes: no Frame overlaps another, none
// comes after Closed, and Closed comes once.
type recorder struct {
	frames  chan string
	closed  chan error
	inFrame atomic.Int32
	mu      sync.Mutex
	nClosed int
	bad     []string
}

func newRecorder() *recorder {
	return &recorder{frames: make(chan string, 1000), closed: make(chan error, 2)}
}

func (r *recorder) Frame(b []byte) {
	if r.inFrame.Add(1) != 1 {
		r.fail("Frame calls overlap")
	}
	r.mu.Lock()
	if r.nClosed > 0 {
		r.bad = append(r.bad, "Frame after Closed")
	}
	r.mu.Unlock()
	s := string(b)
	clear(b) // the frame is the handler's until Frame returns
	r.frames <- s
	r.inFrame.Add(-1)
}

func (r *recorder) Closed(err error) {
	r.mu.Lock()
	r.nClosed++
	r.mu.Unlock()
	r.closed <- err
}

func (r *recorder) fail(s string) {
	r.mu.Lock()
	r.bad = append(r.bad, s)
	r.mu.Unlock()
}

// check fails t if the contract was broken.
func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 || r.nClosed > 1 {
		t.Fatalf("handler contract broken: %v, Closed called %d times", r.bad, r.nClosed)
	}
}

// next returns the next n frames.
func (r *recorder) next(n int) []string {
	got := make([]string, n)
	for i := range got {
		got[i] = <-r.frames
	}
	return got
}

// framesUntilClosed returns every frame delivered before Closed, and
// Closed's error.
func (r *recorder) framesUntilClosed() ([]string, error) {
	err := <-r.closed
	var got []string
	for {
		select {
		case f := <-r.frames:
			got = append(got, f)
		default:
			return got, err
		}
	}
}

// link is one connection from host a (dialed) to host b (accepted).
type link struct {
	dialed, accepted transport.Conn
	atA, atB         *recorder // receiving at a, at b
	listener         transport.Listener
}

// connect listens on b and dials it from a.
func connect(t *testing.T, n *quarktest.Network, a, b string) link {
	t.Helper()
	lk := link{atA: newRecorder(), atB: newRecorder()}
	accepted := make(chan transport.Conn, 1)
	var err error
	lk.listener, err = n.Host(b).Listen("", func(c transport.Conn) transport.Handler {
		accepted <- c
		return lk.atB
	})
	if err != nil {
		t.Fatal(err)
	}
	if lk.dialed, err = n.Host(a).Dial(context.Background(), b, lk.atA); err != nil {
		t.Fatal(err)
	}
	lk.accepted = <-accepted
	return lk
}

func send(t *testing.T, c transport.Conn, frames ...string) {
	t.Helper()
	for _, f := range frames {
		if err := c.Send([]byte(f)); err != nil {
			t.Fatalf("Send(%q): %v", f, err)
		}
	}
}

func TestNetworkCarriesCopiesInOrder(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	lk := connect(t, n, "a", "b")

	const count = 200
	var want []string
	buf := make([]byte, 0, 16)
	for i := range count {
		buf = fmt.Appendf(buf[:0], "frame %03d", i)
		want = append(want, string(buf))
		if err := lk.dialed.Send(buf); err != nil {
			t.Fatal(err)
		}
		if err := lk.accepted.Send(buf); err != nil {
			t.Fatal(err)
		}
		copy(buf, "XXXXX") // the caller may reuse its buffer once Send returns
	}
	for _, r := range []*recorder{lk.atA, lk.atB} {
		if got := r.next(count); !slices.Equal(got, want) {
			t.Fatalf("received %q..., want %q...", got[:3], want[:3])
		}
	}
	if s := n.Stats("a", "b"); s.Sent != count || s.Dropped != 0 {
		t.Fatalf("Stats(a, b) = %+v", s)
	}
}

func TestNetworkSendFromManyGoroutines(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	lk := connect(t, n, "a", "b")
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				send(t, lk.dialed, fmt.Sprintf("%d/%03d", s, i))
			}
		})
	}
	wg.Wait()
	// Each sender's frames arrive in its order; Frame calls never overlap.
	last := make(map[string]string)
	for _, f := range lk.atB.next(senders * each) {
		who, seq, _ := strings.Cut(f, "/")
		if seq <= last[who] && last[who] != "" {
			t.Fatalf("sender %s: %s after %s", who, seq, last[who])
		}
		last[who] = seq
	}
	lk.atB.check(t)
}

func TestNetworkSendDoesNotWaitForTheHandler(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	l, err := n.Host("b").Listen("b", func(transport.Conn) transport.Handler {
		return handlerFuncs{frame: func([]byte) { entered <- struct{}{}; <-release }}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := n.Host("a").Dial(context.Background(), "b", newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	// A Send that ran Frame on the sender's goroutine would hang here.
	send(t, c, "one", "two")
	<-entered
	close(release)
}

type handlerFuncs struct {
	frame  func([]byte)
	closed func(error)
}

func (h handlerFuncs) Frame(b []byte) {
	if h.frame != nil {
		h.frame(b)
	}
}

func (h handlerFuncs) Closed(err error) {
	if h.closed != nil {
		h.closed(err)
	}
}

func TestNetworkClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		byAccepting bool
	}{
		{"dialing side closes", false},
		{"accepting side closes", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := quarktest.NewNetwork(nil)
			defer n.Close()
			lk := connect(t, n, "a", "b")
			closer, other := lk.dialed, lk.accepted
			atCloser, atOther := lk.atA, lk.atB
			if tc.byAccepting {
				closer, other, atCloser, atOther = other, closer, atOther, atCloser
			}
			send(t, closer, "1", "2", "bye")
			if err := closer.Close(); err != nil {
				t.Fatal(err)
			}
			if err := closer.Close(); err != nil { // safe to repeat
				t.Fatal(err)
			}
			if err := other.Close(); err != nil { // and from the other side
				t.Fatal(err)
			}

			// The peer receives what was sent before Close, then
			// Closed with an error; the closer gets nil.
			got, err := atOther.framesUntilClosed()
			if !slices.Equal(got, []string{"1", "2", "bye"}) {
				t.Fatalf("peer received %q before Closed", got)
			}
			if !errors.Is(err, transport.ErrClosed) {
				t.Fatalf("peer's Closed(%v), want ErrClosed", err)
			}
			if err := <-atCloser.closed; err != nil {
				t.Fatalf("closer's Closed(%v), want nil", err)
			}
			for _, c := range []transport.Conn{closer, other} {
				if err := c.Send([]byte("late")); !errors.Is(err, transport.ErrClosed) {
					t.Fatalf("Send after Close = %v, want ErrClosed", err)
				}
			}
			lk.listener.Close()
			n.Close() // every goroutine has ended: no Closed can follow
			for _, r := range []*recorder{atCloser, atOther} {
				r.check(t)
			}
		})
	}
}

func TestNetworkListenerClose(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()

	// Each accepted side's Closed blocks until released, and records
	// that it returned.
	gate := make(chan struct{})
	var open sync.Once
	defer open.Do(func() { close(gate) }) // so that a failure does not hang
	entered := make(chan struct{}, 2)
	var returned atomic.Int32
	l, err := n.Host("b").Listen("", func(transport.Conn) transport.Handler {
		return handlerFuncs{closed: func(err error) {
			if err != nil {
				t.Errorf("accepted side's Closed(%v), want nil", err)
			}
			entered <- struct{}{}
			<-gate
			returned.Add(1)
		}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != "b" {
		t.Fatalf("Addr = %q", l.Addr())
	}
	var dialers []*recorder
	var conns []transport.Conn
	for _, from := range []string{"a", "c"} {
		r := newRecorder()
		c, err := n.Host(from).Dial(context.Background(), "b", r)
		if err != nil {
			t.Fatal(err)
		}
		dialers, conns = append(dialers, r), append(conns, c)
	}

	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	<-entered
	<-entered
	select {
	case <-closed:
		t.Fatal("Listener.Close returned before the accepted sides' Closed did")
	default:
	}
	open.Do(func() { close(gate) })
	<-closed
	if returned.Load() != 2 {
		t.Fatalf("Listener.Close returned after %d of 2 Closed", returned.Load())
	}
	for i, r := range dialers {
		if err := <-r.closed; !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("dialer's Closed(%v), want ErrClosed", err)
		}
		if err := conns[i].Send([]byte("x")); !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("Send after Listener.Close = %v", err)
		}
	}
	if _, err := n.Host("a").Dial(context.Background(), "b", newRecorder()); !errors.Is(err, quarktest.ErrRefused) {
		t.Fatalf("Dial after Listener.Close = %v, want ErrRefused", err)
	}
	// The address is free again.
	l2, err := n.Host("b").Listen("b", func(transport.Conn) transport.Handler { return newRecorder() })
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
}

func TestNetworkRefusals(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	accept := func(transport.Conn) transport.Handler { return newRecorder() }
	l, err := n.Host("b").Listen("", accept)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nilAccept, err := n.Host("nil").Listen("", func(transport.Conn) transport.Handler { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer nilAccept.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	for _, tc := range []struct {
		name string
		op   func() error
		is   error  // nil: any error
		says string // in the message
	}{
		{"dial nobody", func() error { return dial(n, context.Background(), "zz") }, quarktest.ErrRefused, `"zz"`},
		{"dial refused by accept", func() error { return dial(n, context.Background(), "nil") }, quarktest.ErrRefused, "no Handler"},
		{"dial cancelled", func() error { return dial(n, cancelled, "b") }, context.Canceled, `"b"`},
		{"dial nil handler", func() error {
			_, err := n.Host("a").Dial(context.Background(), "b", nil)
			return err
		}, nil, "nil Handler"},
		{"listen twice", func() error {
			_, err := n.Host("b").Listen("b", accept)
			return err
		}, nil, "in use"},
		{"listen elsewhere", func() error {
			_, err := n.Host("b").Listen("127.0.0.1:0", accept)
			return err
		}, nil, "own name"},
		{"listen nil accept", func() error {
			_, err := n.Host("c").Listen("", nil)
			return err
		}, nil, "nil accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %s", err, tc.is, tc.says)
			}
		})
	}
}

// dial dials addr from host a and closes the connection if it opens.
func dial(n *quarktest.Network, ctx context.Context, addr string) error {
	c, err := n.Host("a").Dial(ctx, addr, newRecorder())
	if err == nil {
		c.Close()
	}
	return err
}

func TestNetworkPartition(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	lk := connect(t, n, "a", "b")
	n.Partition("b", "a")
	// Frames are lost both ways; the connection stays open.
	send(t, lk.dialed, "lost a->b")
	send(t, lk.accepted, "lost b->a")
	if _, err := n.Host("a").Dial(context.Background(), "b", newRecorder()); !errors.Is(err, quarktest.ErrPartitioned) {
		t.Fatalf("Dial across the partition = %v, want ErrPartitioned", err)
	}
	// Other hosts are not cut off.
	other := connect(t, n, "b", "c")
	defer other.listener.Close()
	send(t, other.dialed, "b->c")
	if got := other.atB.next(1)[0]; got != "b->c" {
		t.Fatalf("c received %q from b", got)
	}

	n.Heal("a", "b")
	send(t, lk.dialed, "after a->b")
	send(t, lk.accepted, "after b->a")
	// In order per connection: a lost frame would arrive first.
	if got := lk.atB.next(1)[0]; got != "after a->b" {
		t.Fatalf("b received %q first after Heal", got)
	}
	if got := lk.atA.next(1)[0]; got != "after b->a" {
		t.Fatalf("a received %q first after Heal", got)
	}
	for _, d := range [][2]string{{"a", "b"}, {"b", "a"}} {
		if s := n.Stats(d[0], d[1]); s.Sent != 2 || s.Dropped != 1 {
			t.Fatalf("Stats(%s, %s) = %+v", d[0], d[1], s)
		}
	}
}

func TestNetworkDrop(t *testing.T) {
	t.Parallel()
	isX := func(b []byte) bool { return strings.HasPrefix(string(b), "x") }
	frames := []string{"x1", "y1", "x2", "x3", "y2", "x4"}
	for _, tc := range []struct {
		name  string
		match func([]byte) bool
		count int
		want  []string // at b, of frames
	}{
		{"next two matching", isX, 2, []string{"y1", "x3", "y2", "x4"}},
		{"every matching", isX, -1, []string{"y1", "y2"}},
		{"next three of any", nil, 3, []string{"x3", "y2", "x4"}},
		{"none", isX, 0, frames},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := quarktest.NewNetwork(nil)
			defer n.Close()
			lk := connect(t, n, "a", "b")
			n.Drop("a", "b", tc.match, tc.count)
			send(t, lk.dialed, frames...)
			send(t, lk.accepted, frames...) // the other direction is untouched
			if got := lk.atA.next(len(frames)); !slices.Equal(got, frames) {
				t.Fatalf("a received %q", got)
			}
			lk.dialed.Close()
			got, _ := lk.atB.framesUntilClosed()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("b received %q, want %q", got, tc.want)
			}
			if s := n.Stats("a", "b"); s.Dropped != len(frames)-len(tc.want) {
				t.Fatalf("Stats = %+v", s)
			}
		})
	}
}

func TestNetworkDuplicate(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	lk := connect(t, n, "a", "b")
	n.Duplicate("a", "b", func(b []byte) bool { return b[0] == 'd' }, 2)
	send(t, lk.dialed, "a", "d1", "b", "d2", "d3")
	lk.dialed.Close()
	got, _ := lk.atB.framesUntilClosed()
	if want := []string{"a", "d1", "d1", "b", "d2", "d2", "d3"}; !slices.Equal(got, want) {
		t.Fatalf("b received %q, want %q", got, want)
	}
	if s := n.Stats("a", "b"); s.Sent != 5 || s.Duplicated != 2 || s.Delivered != 7 {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestNetworkDelay(t *testing.T) {
	t.Parallel()
	// f1 is sent at 0 and due at 10s, f2 at 4s and due at 14s; f3 is sent
	// at 4s with no delay, but waits behind them. Closing the sending side
	// delivers the frames that are due and discards the rest, so what
	// arrives before Closed shows what was due.
	for _, tc := range []struct {
		advance   time.Duration // after f3 is sent
		want      []string
		discarded int
	}{
		{0, nil, 3},
		{5 * time.Second, nil, 3},
		{6 * time.Second, []string{"f1"}, 2},
		{10 * time.Second, []string{"f1", "f2", "f3"}, 0},
	} {
		t.Run(fmt.Sprint(tc.advance), func(t *testing.T) {
			t.Parallel()
			clk := quarktest.NewClock(time.Unix(0, 0))
			n := quarktest.NewNetwork(clk)
			defer n.Close()
			lk := connect(t, n, "a", "b")
			n.Delay("a", "b", 10*time.Second)
			send(t, lk.dialed, "f1")
			clk.Advance(4 * time.Second)
			send(t, lk.dialed, "f2")
			n.Delay("a", "b", 0)
			send(t, lk.dialed, "f3")
			clk.Advance(tc.advance)
			lk.dialed.Close()
			got, _ := lk.atB.framesUntilClosed()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("b received %q, want %q", got, tc.want)
			}
			if s := n.Stats("a", "b"); s.Discarded != tc.discarded {
				t.Fatalf("Stats = %+v, want %d discarded", s, tc.discarded)
			}
			if clk.Pending() != 0 {
				t.Fatalf("%d clock functions left after Close", clk.Pending())
			}
		})
	}
}

func TestNetworkDelayDeliversOnAdvance(t *testing.T) {
	t.Parallel()
	clk := quarktest.NewClock(time.Unix(0, 0))
	n := quarktest.NewNetwork(clk)
	defer n.Close()
	lk := connect(t, n, "a", "b")
	n.Delay("a", "b", time.Second)
	send(t, lk.dialed, "1", "2")
	n.Delay("a", "b", 0)
	send(t, lk.dialed, "3")      // not delayed, but behind "1" and "2"
	send(t, lk.accepted, "back") // b->a is not delayed
	if got := lk.atA.next(1)[0]; got != "back" {
		t.Fatalf("a received %q", got)
	}
	clk.Advance(time.Second)
	if got := lk.atB.next(3); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("b received %q", got)
	}
}

func TestNetworkBreak(t *testing.T) {
	t.Parallel()
	clk := quarktest.NewClock(time.Unix(0, 0))
	n := quarktest.NewNetwork(clk)
	defer n.Close()
	ba := connect(t, n, "b", "a")
	bc := connect(t, n, "b", "c")
	ab := connect(t, n, "a", "b")
	n.Delay("a", "b", time.Second)
	send(t, ab.dialed, "held") // discarded by the reset

	n.Break("b", "a")
	for _, lk := range []link{ab, ba} {
		for _, r := range []*recorder{lk.atA, lk.atB} {
			got, err := r.framesUntilClosed()
			if len(got) != 0 || !errors.Is(err, quarktest.ErrBroken) {
				t.Fatalf("received %q, then Closed(%v); want nothing, then ErrBroken", got, err)
			}
		}
		for _, c := range []transport.Conn{lk.dialed, lk.accepted} {
			err := c.Send([]byte("x"))
			if !errors.Is(err, transport.ErrClosed) || !errors.Is(err, quarktest.ErrBroken) {
				t.Fatalf("Send after Break = %v", err)
			}
		}
	}
	// b's connection to c is untouched.
	send(t, bc.dialed, "still")
	if got := bc.atB.next(1)[0]; got != "still" {
		t.Fatalf("c received %q from b", got)
	}
	if s := n.Stats("a", "b"); s.Discarded != 1 || clk.Pending() != 0 {
		t.Fatalf("Stats(a, b) = %+v, %d clock functions pending", s, clk.Pending())
	}
}

func TestNetworkCloseResetsEverything(t *testing.T) {
	t.Parallel()
	n := quarktest.NewNetwork(nil)
	lk := connect(t, n, "a", "b")
	n.Close()
	for _, r := range []*recorder{lk.atA, lk.atB} {
		if err := <-r.closed; !errors.Is(err, quarktest.ErrBroken) {
			t.Fatalf("Closed(%v), want ErrBroken", err)
		}
	}
	if _, err := n.Host("b").Listen("", func(transport.Conn) transport.Handler { return newRecorder() }); err == nil {
		t.Fatal("Listen after Network.Close succeeded")
	}
	if err := dial(n, context.Background(), "b"); err == nil {
		t.Fatal("Dial after Network.Close succeeded")
	}
	lk.listener.Close() // still safe
}

// BenchmarkNetworkSend measures a frame's trip from Send to Frame, with
// the sender running ahead of the delivery goroutine.
func BenchmarkNetworkSend(b *testing.B) {
	n := quarktest.NewNetwork(nil)
	defer n.Close()
	got := make(chan struct{})
	var count atomic.Int64
	want := int64(b.N)
	l, err := n.Host("b").Listen("", func(transport.Conn) transport.Handler {
		return handlerFuncs{frame: func([]byte) {
			if count.Add(1) == want {
				close(got)
			}
		}}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := n.Host("a").Dial(context.Background(), "b", newRecorder())
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 40)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Send(frame); err != nil {
			b.Fatal(err)
		}
	}
	<-got
}
