package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/redis/go-redis/v9"
)

// Group commit. Read, Write and Delete do not talk to the client
// themselves: each puts an op on the store's queue and waits for it (or for
// its ctx). A few sender goroutines, started by New and stopped by Close,
// each take every op waiting (up to maxBatch), send them as one pipeline
// (one write to the socket, one round trip, one read of the replies), and
// complete each op. A sender blocks on the queue while idle, so an op that
// finds a sender idle is sent at once; ops that arrive while every sender
// has a pipeline in flight wait for the first sender to come back and go out
// together in its next pipeline. No timer is involved.

const (
	// senders is how many pipelines a store keeps in flight at most. More
	// than one, so that a pipeline held by a slow or stalled server does
	// not hold every later call behind it; few, so that batches stay large
	// under load.
	senders = 4
	// maxBatch bounds the ops in one pipeline, and so the memory one
	// pipeline holds and the time its replies take to read.
	maxBatch = 512
	// queueSize bounds the ops waiting for a sender; a call finding the
	// queue full waits for room (or for its ctx).
	queueSize = senders * maxBatch
)

// An op is one Read, Write or Delete on its way through a pipeline. The
// caller owns it until it is on the queue; then the sender that takes it
// writes cmd's reply (or error) and closes done, after which the caller
// reads cmd. A caller whose ctx ends returns without waiting for done; the
// sender then drops the op when it is done with it.
type op struct {
	ctx  context.Context
	cmd  redis.Cmder
	src  string // the script's source, for EVAL after NOSCRIPT; "" for a read
	done chan struct{}
}

// deadlineCtx is the context a pipeline is sent with: no values and no
// cancellation, only the latest deadline of its ops, so that with
// ContextTimeoutEnabled the socket is given up once every caller in the
// batch has gone (ops without a deadline leave it to the client's
// timeouts).
type deadlineCtx struct {
	context.Context
	d time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.d, true }

// start launches the senders; Close stops them.
func (s *Store) start() {
	s.queue = make(chan *op, queueSize)
	s.quit = make(chan struct{})
	s.stopped = make(chan struct{})
	s.running.Store(senders)
	for range senders {
		go s.send()
	}
}

// send is a sender's loop: take the ops waiting, pipeline them, complete
// them, until Close.
func (s *Store) send() {
	batch := make([]*op, 0, maxBatch)
	defer func() {
		// The last sender out fails what is left on the queue (nothing
		// takes it any more) and tells waiting callers so, by closing
		// stopped.
		if s.running.Add(-1) == 0 {
			s.failQueued()
			close(s.stopped)
		}
	}()
	for {
		var first *op
		select {
		case <-s.quit:
			return
		case first = <-s.queue:
		}
		if isClosed(s.quit) {
			// Both were ready and select took the op: after Close
			// nothing more is sent.
			first.cmd.SetErr(errClosed)
			close(first.done)
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case o := <-s.queue:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.pipeline(batch)
		clear(batch) // the ops belong to their callers again
	}
}

// failQueued completes every op on the queue, unsent, with Unavailable.
func (s *Store) failQueued() {
	for {
		select {
		case o := <-s.queue:
			o.cmd.SetErr(errClosed)
			close(o.done)
		default:
			return
		}
	}
}

var errClosed = quarkerr.New(quarkerr.Unavailable, "store closed")

// pipeline sends batch as one pipeline and completes its ops. An op whose
// ctx has already ended is completed with ctx's error and not sent. A
// script answered NOSCRIPT (which ran nothing) is sent again as EVAL of its
// source, in one more pipeline for all such. No write or delete is sent
// twice otherwise: a pipeline holding one is not retried by the client
// (sentOnce), so a lost reply fails each of its ops. A read in such a
// pipeline that lost its connection is sent again in a pipeline of reads
// alone, which the client retries as it retries a read sent by itself.
func (s *Store) pipeline(batch []*op) {
	pipe := s.client.Pipeline()
	var latest time.Time
	bounded := true
	writes := false
	n := 0
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.cmd.SetErr(err)
			close(o.done)
			continue
		}
		if d, ok := o.ctx.Deadline(); !ok {
			bounded = false
		} else if d.After(latest) {
			latest = d
		}
		_ = pipe.Process(o.ctx, o.cmd)
		n++
		writes = writes || o.src != ""
	}
	if n == 0 {
		return
	}
	var ctx context.Context = context.Background()
	if bounded {
		ctx = deadlineCtx{ctx, latest}
	}
	// Each op's outcome is in its own cmd; Exec's error is the first of
	// them.
	_, _ = pipe.Exec(ctx)

	var again, reads redis.Pipeliner
	var resent []*op
	for _, o := range batch {
		if isClosed(o.done) {
			continue // completed unsent above
		}
		if o.src == "" && writes && lostConn(o.cmd.Err()) && o.ctx.Err() == nil {
			// A read shared a pipeline the client would not retry
			// (it held a write); alone with other reads it is retried
			// as the client is configured, as a read sent by itself
			// would have been.
			o.cmd = redis.NewSliceCmd(o.ctx, o.cmd.Args()...)
			if reads == nil {
				reads = s.client.Pipeline()
			}
			_ = reads.Process(o.ctx, o.cmd)
			resent = append(resent, o)
			continue
		}
		if o.src != "" && redis.HasErrorPrefix(o.cmd.Err(), "NOSCRIPT") {
			args := append([]any(nil), o.cmd.Args()...)
			args[0], args[1] = "eval", o.src
			o.cmd = sentOnce{redis.NewCmd(o.ctx, args...)}
			if again == nil {
				again = s.client.Pipeline()
			}
			_ = again.Process(o.ctx, o.cmd)
			resent = append(resent, o)
			continue
		}
		close(o.done)
	}
	if again != nil || reads != nil {
		if again != nil {
			_, _ = again.Exec(ctx)
		}
		if reads != nil {
			_, _ = reads.Exec(ctx)
		}
		for _, o := range resent {
			close(o.done)
		}
	}
}

// lostConn reports whether err is the connection's (a lost reply, a
// timeout, a closed client) rather than the server's answer.
func lostConn(err error) bool {
	var rerr redis.Error
	return err != nil && !errors.As(err, &rerr)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// do queues o and waits for its reply, or for ctx to end: then it returns
// ctx's error at once, leaving o to its sender, which does not send it if
// it has not yet (the outcome of a write or delete is unknown either way
// to the caller).
func (s *Store) do(ctx context.Context, o *op) error {
	o.ctx = ctx
	o.done = make(chan struct{})
	select {
	case s.queue <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopped:
		return errClosed
	}
	select {
	case <-o.done:
		return o.cmd.Err()
	case <-ctx.Done():
		if isClosed(o.done) {
			return o.cmd.Err() // finished too: its outcome is known
		}
		return ctx.Err()
	case <-s.stopped:
		// Every sender has gone: o was completed by one, or is left on
		// the queue, never sent.
		if isClosed(o.done) {
			return o.cmd.Err()
		}
		return errClosed
	}
}
