package grpctransport

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/quarkgo/quark/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that keeps the frames it receives and counts its
// Closed calls.
type recorder struct {
	mu      sync.Mutex
	frames  [][]byte
	arrived chan struct{} // signalled (non-blocking) on each frame
	closed  chan error    // receives the Closed error; buffered 2 to catch a second call
	want    int           // when >0, all is closed once frames reach want
	all     chan struct{}
	echo    transport.Conn // when set, frames are sent back
}

func newRecorder() *recorder {
	return &recorder{arrived: make(chan struct{}, 1), closed: make(chan error, 2), all: make(chan struct{})}
}

func (r *recorder) Frame(f []byte) {
	if r.echo != nil {
		_ = r.echo.Send(f)
		return
	}
	r.mu.Lock()
	r.frames = append(r.frames, append([]byte(nil), f...))
	n := len(r.frames)
	r.mu.Unlock()
	if r.want > 0 && n == r.want {
		close(r.all)
	}
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

func (r *recorder) Closed(err error) { r.closed <- err }

func (r *recorder) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}

// waitClosed returns the error of the one Closed call, and fails the test
// on a second call (checked after the first arrived and the connection's
// goroutine has ended, which callers ensure by closing everything first).
func (r *recorder) waitClosed(t *testing.T) error {
	t.Helper()
	return <-r.closed
}

func (r *recorder) noSecondClosed(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.closed:
		t.Fatalf("Closed called twice; second with %v", err)
	default:
	}
}

// pair is a listener with one accepted and one dialled connection.
type pair struct {
	ln               transport.Listener
	client, server   transport.Conn
	clientH, serverH *recorder
}

func newPair(t *testing.T, tr *Transport, clientH, serverH *recorder) *pair {
	t.Helper()
	p := &pair{clientH: clientH, serverH: serverH}
	accepted := make(chan transport.Conn, 1)
	ln, err := tr.Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
		accepted <- c
		return serverH
	})
	if err != nil {
		t.Fatal(err)
	}
	p.ln = ln
	c, err := tr.Dial(context.Background(), ln.Addr(), clientH)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	p.client = c
	p.server = <-accepted
	return p
}

// newEchoPair returns a pair whose server sends every frame back.
func newEchoPair(tb testing.TB, tr *Transport, clientH transport.Handler) (transport.Listener, transport.Conn) {
	tb.Helper()
	ln, err := tr.Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
		return echoHandler{c}
	})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := tr.Dial(context.Background(), ln.Addr(), clientH)
	if err != nil {
		ln.Close()
		tb.Fatal(err)
	}
	return ln, c
}

type echoHandler struct{ c transport.Conn }

func (e echoHandler) Frame(f []byte) { _ = e.c.Send(f) }
func (echoHandler) Closed(error)     {}

// logRecorder is a slog.Handler that hands records to a channel.
type logRecorder struct{ recs chan slog.Record }

func newLogRecorder() *logRecorder { return &logRecorder{recs: make(chan slog.Record, 64)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.recs <- r:
	default:
	}
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// waitLog waits for a record whose message is msg.
func (l *logRecorder) waitLog(t *testing.T, msg string) slog.Record {
	t.Helper()
	// The refused peer may see its error before the line is written, so
	// wait for it; the bound only turns a missing line into a failure
	// rather than a hang.
	deadline := time.After(promptly)
	for {
		select {
		case r := <-l.recs:
			if r.Message == msg {
				return r
			}
		case <-deadline:
			t.Fatalf("no log line %q", msg)
		}
	}
}

func quiet() Option { return WithLogger(slog.New(slog.DiscardHandler)) }

// promptly bounds a wait that must not hang; well beyond any keepalive
// or gRPC backoff it is not, so hitting it means the code waited for
// something it should not have.
const promptly = 30 * time.Second

func isClosedErr(err error) bool { return errors.Is(err, transport.ErrClosed) }

func slogNew(h slog.Handler) *slog.Logger { return slog.New(h) }

type (
	transportConn    = transport.Conn
	transportHandler = transport.Handler
)
