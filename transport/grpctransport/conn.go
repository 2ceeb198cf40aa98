package grpctransport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/quarkgo/quark/transport"
)

// ErrFrameTooLarge is wrapped by the error Send returns for a frame larger
// than the maximum frame size (WithMaxFrameSize), and by the error a
// connection closes with when the peer sends one.
var ErrFrameTooLarge = errors.New("grpctransport: frame too large")

// ErrMalformedBatch is wrapped by the error a connection closes with when
// the peer sends a stream message that is not a sequence of
// [uvarint length][bytes] frames.
var ErrMalformedBatch = errors.New("grpctransport: malformed batch")

// conn is one connection: one gRPC bidirectional stream, on either side.
//
// Sending: Send appends the frame to the pending batches under mu; if no
// write is in progress the calling goroutine becomes the writer and writes
// batches until none is pending. A frame queued while a write is in
// progress goes out with the next batch the writer takes, so frames queued
// together share one stream message, and an idle connection costs no
// goroutine hand-off. At most one goroutine writes at a time (writing).
//
// Receiving: one goroutine (readLoop) reads stream messages, hands their
// frames to h in order, and calls h.Closed last.
//
// Closing: shutdown records the first reason, once, and ends the stream
// (stop); the receive loop then ends and reports that reason.
type conn struct {
	h        transport.Handler
	remote   string
	maxFrame int
	log      *slog.Logger

	// sendMsg and recvMsg are the stream's; stop ends the stream (the
	// dialing side cancels its context, the accepting side returns from
	// its handler); after releases what the connection owns (the dialing
	// side's grpc.ClientConn) once the receive loop has ended.
	sendMsg func(any) error
	recvMsg func(any) error
	stop    func()
	after   func()

	mu           sync.Mutex
	cond         sync.Cond // signalled when a write takes a batch or ends, or the connection closes
	q            []*[]byte // pending batches, q[head:]; the last one is open for appends
	head         int
	pendingBytes int
	writing      bool
	closed       bool
	reason       error // why it closed; nil when this side closed it
	sendErr      error // what Send returns once closed

	isClosed atomic.Bool // closed, read without mu by the receive loop

	scratch []byte // receive loop only: a stream message gRPC split in several buffers

	writes atomic.Uint64 // stream messages written, for tests
	frames atomic.Uint64 // frames queued, for tests

	testHookWrite    func() // called by the writer before each write, for tests
	testHookSendWait func() // called, under mu, when Send waits for the writer, for tests
}

func newConn(remote string, maxFrame int, log *slog.Logger) *conn {
	c := &conn{remote: remote, maxFrame: maxFrame, log: log}
	c.cond.L = &c.mu
	return c
}

// Send queues frame, copying it into the pending batch; see conn.
func (c *conn) Send(frame []byte) error {
	if len(frame) > c.maxFrame {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(frame), c.maxFrame)
	}
	c.mu.Lock()
	for !c.closed && c.writing && c.pendingBytes >= maxPending {
		if c.testHookSendWait != nil {
			c.testHookSendWait()
		}
		c.cond.Wait()
	}
	if c.closed {
		err := c.sendErr
		c.mu.Unlock()
		return err
	}
	c.appendLocked(frame)
	c.frames.Add(1)
	if c.writing {
		c.mu.Unlock()
		return nil
	}
	c.writing = true
	return c.writeLocked()
}

// appendLocked appends frame to the open batch, or opens a new one when
// the frame would take the open one past maxBatch.
func (c *conn) appendLocked(frame []byte) {
	need := uvarintLen(uint64(len(frame))) + len(frame)
	var b *[]byte
	if n := len(c.q); n > c.head {
		if last := c.q[n-1]; len(*last)+need <= maxBatch {
			b = last
		}
	}
	if b == nil {
		b = batchPool.Get(need)
		c.q = append(c.q, b)
	}
	*b = binary.AppendUvarint(*b, uint64(len(frame)))
	*b = append(*b, frame...)
	c.pendingBytes += need
}

// writeLocked writes pending batches until none is left; it is called with
// mu held and writing set by the goroutine that set it, and returns with mu
// released and writing cleared.
func (c *conn) writeLocked() error {
	for c.head < len(c.q) && !c.closed {
		b := c.q[c.head]
		c.q[c.head] = nil
		c.head++
		if c.head == len(c.q) {
			c.q, c.head = c.q[:0], 0
		}
		c.pendingBytes -= len(*b)
		c.cond.Broadcast()
		c.mu.Unlock()
		if c.testHookWrite != nil {
			c.testHookWrite()
		}
		c.writes.Add(1)
		// b belongs to gRPC from here on: it returns it to batchPool.
		err := c.sendMsg(b)
		c.mu.Lock()
		if err != nil {
			c.writing = false
			c.cond.Broadcast()
			c.mu.Unlock()
			c.shutdown(fmt.Errorf("grpctransport: write to %s: %w", c.remote, err))
			c.mu.Lock()
			err = c.sendErr
			c.mu.Unlock()
			return err
		}
	}
	c.writing = false
	c.cond.Broadcast()
	err := error(nil)
	if c.closed {
		err = c.sendErr
	}
	c.mu.Unlock()
	return err
}

// Close closes the connection; see transport.Conn. It does not wait for
// the Handlers' Closed.
func (c *conn) Close() error {
	c.shutdown(nil)
	return nil
}

func (c *conn) RemoteAddr() string { return c.remote }

// shutdown closes the connection for reason (nil: closed by this side),
// unless it is closed already. Pending frames are dropped.
func (c *conn) shutdown(reason error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.isClosed.Store(true)
	c.reason = reason
	switch {
	case reason == nil || errors.Is(reason, transport.ErrClosed):
		c.sendErr = transport.ErrClosed
		if reason != nil {
			c.sendErr = reason
		}
	default:
		c.sendErr = fmt.Errorf("%w: %w", transport.ErrClosed, reason)
	}
	clear(c.q)
	c.q, c.head, c.pendingBytes = nil, 0, 0
	c.cond.Broadcast()
	c.mu.Unlock()
	c.stop()
}

// readLoop is the receive goroutine of the connection.
func (c *conn) readLoop() {
	var m inbound
	for {
		if err := c.recvMsg(&m); err != nil {
			c.shutdown(c.peerErr(err))
			break
		}
		err := c.deliver(m.data)
		m.data.Free()
		m.data = nil
		if err != nil {
			c.log.Warn("grpctransport: closing connection on bad input",
				slog.String("remote", c.remote), slog.Any("err", err))
			c.shutdown(err)
			break
		}
		if c.isClosed.Load() {
			break
		}
	}
	if c.after != nil {
		c.after()
	}
	c.mu.Lock()
	reason := c.reason
	c.mu.Unlock()
	c.h.Closed(reason)
}

// deliver hands the frames of one stream message to the Handler, in order;
// it stops at the first malformed or oversized frame, or when the
// connection closes.
func (c *conn) deliver(data mem.BufferSlice) error {
	var b []byte
	switch len(data) {
	case 0:
		return nil
	case 1:
		b = data[0].ReadOnlyData()
	default:
		n := data.Len()
		if cap(c.scratch) < n {
			c.scratch = make([]byte, n)
		}
		b = c.scratch[:n]
		data.CopyTo(b)
	}
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || k != uvarintLen(n) {
			return fmt.Errorf("%w from %s: bad length prefix", ErrMalformedBatch, c.remote)
		}
		b = b[k:]
		if n > uint64(c.maxFrame) {
			return fmt.Errorf("%w: received %d bytes from %s, limit %d", ErrFrameTooLarge, n, c.remote, c.maxFrame)
		}
		if n > uint64(len(b)) {
			return fmt.Errorf("%w from %s: frame of %d bytes, %d left", ErrMalformedBatch, c.remote, n, len(b))
		}
		c.h.Frame(b[:n:n])
		b = b[n:]
		if c.isClosed.Load() {
			return nil
		}
	}
	if cap(c.scratch) > 2*maxBatch {
		c.scratch = nil
	}
	return nil
}

// peerErr describes why the stream ended, as the receive loop saw it.
func (c *conn) peerErr(err error) error {
	if err == io.EOF || status.Code(err) == codes.Canceled {
		// The peer closed, or the network connection under the stream
		// did (a server sees both as a cancelled stream).
		return fmt.Errorf("grpctransport: connection with %s ended: %w", c.remote, transport.ErrClosed)
	}
	return fmt.Errorf("grpctransport: connection with %s broke: %w", c.remote, err)
}

func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }
