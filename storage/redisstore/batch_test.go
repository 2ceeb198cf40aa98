package redisstore

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/redis/go-redis/v9"
)

// gate is a client hook that holds the store's pipelines (those carrying a
// record command) before they are sent, the first hold of them, each until
// it receives from release (or release is closed), and records the size of
// each.
type gate struct {
	hold    atomic.Int32
	entered chan int
	release chan struct{}

	mu    sync.Mutex
	sizes []int
}

func newGate(hold int) *gate {
	g := &gate{entered: make(chan int, hold), release: make(chan struct{})}
	g.hold.Store(int32(hold))
	return g
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || (cmds[0].Name() != "evalsha" && cmds[0].Name() != "hmget" && cmds[0].Name() != "eval") {
			return next(ctx, cmds)
		}
		g.mu.Lock()
		g.sizes = append(g.sizes, len(cmds))
		g.mu.Unlock()
		if g.hold.Add(-1) >= 0 {
			g.entered <- len(cmds)
			<-g.release
		}
		return next(ctx, cmds)
	}
}

// releaseOne lets one held pipeline go, so that one sender is free.
func (g *gate) releaseOne() { g.release <- struct{}{} }

func (g *gate) pipelines() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes...)
}

// gated returns a store on its own client (to addr) whose first senders
// pipelines g holds, with every sender holding one: a read of "hold/<i>"
// each (a read, so that no script runs before the test's calls), issued
// one at a time so that each goes out alone. wait returns once those reads
// have, failing the test if one failed.
func gated(t *testing.T, addr string) (s *Store, g *gate, wait func()) {
	t.Helper()
	client(t) // skips when the server is unreachable
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	g = newGate(senders)
	c.AddHook(g)
	s = New(c, newPrefix())
	t.Cleanup(func() {
		removeAll(t, shared, s.prefix)
		s.Close()
	})
	errs := make(chan error, senders)
	for i := range senders {
		go func() {
			_, err := s.Read(context.Background(), fmt.Sprintf("hold/%d", i))
			if quarkerr.CodeOf(err) == quarkerr.NotFound {
				err = nil
			}
			errs <- err
		}()
		select {
		case <-g.entered:
		case <-time.After(guard):
			t.Fatalf("write %d never reached a sender", i)
		}
	}
	return s, g, func() {
		for range senders {
			if err := <-errs; err != nil {
				t.Errorf("held read: %v", err)
			}
		}
	}
}

// awaitQueued waits until n ops wait on s's queue, failing the test at the
// guard.
func awaitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	end := time.Now().Add(guard)
	for len(s.queue) < n {
		if time.Now().After(end) {
			t.Fatalf("%d ops queued, want %d", len(s.queue), n)
		}
		runtime.Gosched()
	}
}

// Calls made while every sender has a pipeline in flight go out together,
// in one pipeline, as soon as a sender is free.
func TestCallsWaitingShareOnePipeline(t *testing.T) {
	s, g, wait := gated(t, addr)
	ctx := context.Background()
	const n = 10
	errs := make(chan error, 2*n)
	for i := range n {
		go func() {
			_, err := s.Write(ctx, fmt.Sprintf("k/%d", i), []byte("v"), "")
			errs <- err
		}()
		go func() {
			_, err := s.Read(ctx, fmt.Sprintf("k/%d", i))
			if quarkerr.CodeOf(err) == quarkerr.NotFound {
				err = nil // the read may run before or after the write
			}
			errs <- err
		}()
	}
	awaitQueued(t, s, 2*n)
	// One sender comes back and finds every call waiting.
	g.releaseOne()
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	wait()
	sizes := g.pipelines()
	if len(sizes) != senders+1 || sizes[senders] != 2*n {
		t.Fatalf("pipelines of %v ops, want %d of 1 then one of %d", sizes, senders, 2*n)
	}
}

// A call whose ctx ends while it waits for a sender returns at once with
// ctx's error, and is not sent afterwards; the calls around it go on.
func TestCallWaitingHonoursCtx(t *testing.T) {
	s, g, wait := gated(t, addr)
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	dctx, dcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer dcancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, 3)
	go func() {
		_, err := s.Write(cctx, "cancelled", []byte("v"), "")
		results <- result{"cancelled", err}
	}()
	go func() {
		err := s.Delete(dctx, "timedout", "")
		results <- result{"timedout", err}
	}()
	go func() {
		_, err := s.Write(ctx, "kept", []byte("v"), "")
		results <- result{"kept", err}
	}()
	awaitQueued(t, s, 3)
	cancel()
	want := map[string]quarkerr.Code{"cancelled": quarkerr.Canceled, "timedout": quarkerr.Timeout}
	for range 2 {
		select {
		case r := <-results:
			if c := quarkerr.CodeOf(r.err); c != want[r.name] {
				t.Fatalf("%s: %v (code %v), want %v", r.name, r.err, c, want[r.name])
			}
		case <-time.After(guard):
			t.Fatal("a call waiting for a sender did not return when its ctx ended")
		}
	}
	close(g.release)
	wait()
	if r := <-results; r.err != nil {
		t.Fatalf("%s: %v", r.name, r.err)
	}
	// Only "kept" went out in the pipeline after the held ones.
	sizes := g.pipelines()
	if len(sizes) != senders+1 || sizes[senders] != 1 {
		t.Fatalf("pipelines of %v ops, want %d of 1 then one of 1", sizes, senders)
	}
	if _, err := s.Read(ctx, "cancelled"); quarkerr.CodeOf(err) != quarkerr.NotFound {
		t.Fatalf("the cancelled write, unsent, is in the store: %v", err)
	}
}

// A pipeline whose reply is lost fails every write in it with Unavailable
// (never Conflict: none is sent again), and each happened once; a read in
// it is sent again and succeeds.
func TestLostReplyFailsTheWholePipeline(t *testing.T) {
	p := proxied(t)
	// The scripts are cached on the server, so that the pipeline carrying
	// the values is the one that runs them.
	if err := writeScript.Load(context.Background(), shared).Err(); err != nil {
		t.Fatal(err)
	}
	s, g, wait := gated(t, p.Addr())
	ctx := context.Background()
	const n = 5
	values := make([][]byte, n)
	errs := make(chan error, n)
	for i := range n {
		values[i] = unique("value")
		go func() {
			_, err := s.Write(ctx, fmt.Sprintf("k/%d", i), values[i], "")
			errs <- err
		}()
	}
	read := make(chan error, 1)
	go func() {
		_, err := s.Read(ctx, "hold/0")
		if quarkerr.CodeOf(err) == quarkerr.NotFound {
			err = nil // the read was answered
		}
		read <- err
	}()
	awaitQueued(t, s, n+1)
	lost := p.LoseReply(values[n-1])
	g.releaseOne()
	await(t, lost)
	for range n {
		if err := <-errs; quarkerr.CodeOf(err) != quarkerr.Unavailable {
			t.Fatalf("write in a pipeline whose reply was lost: %v, want Unavailable", err)
		}
	}
	// The read in the pipeline is sent again, alone, and succeeds.
	if err := <-read; err != nil {
		t.Fatalf("read in a pipeline whose reply was lost: %v, want it retried", err)
	}
	close(g.release)
	wait()
	for i := range n {
		rec, err := s.Read(ctx, fmt.Sprintf("k/%d", i))
		if err != nil || string(rec.Value) != string(values[i]) {
			t.Fatalf("k/%d after the lost reply: %q, %v; want the value written", i, rec.Value, err)
		}
	}
}

// Writes in a pipeline answered NOSCRIPT (the server lost its script
// cache) are sent again as EVAL, once each, and succeed.
func TestPipelineAfterScriptFlush(t *testing.T) {
	s, g, wait := gated(t, addr)
	ctx := context.Background()
	if err := shared.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Write(ctx, fmt.Sprintf("k/%d", i), []byte("v"), "")
			errs <- err
		}()
	}
	awaitQueued(t, s, n)
	g.releaseOne()
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("write after the script cache was flushed: %v", err)
		}
	}
	close(g.release)
	wait()
	sizes := g.pipelines()
	if len(sizes) != senders+2 || sizes[senders] != n || sizes[senders+1] != n {
		t.Fatalf("pipelines of %v ops, want %d of 1 then the %d writes, then sent again together as EVAL", sizes, senders, n)
	}
}

// Close fails calls still waiting for a sender with Unavailable; they are
// never sent.
func TestCloseFailsWaitingCalls(t *testing.T) {
	// A sender freed after Close finds both Close and the waiting call
	// ready, and select picks one at random: the scenario runs 20 times,
	// so a sender that sends the call after Close is caught all but once
	// in a million runs.
	for i := range 20 {
		closeWithCallWaiting(t, fmt.Sprintf("waiting-%d", i))
	}
}

func closeWithCallWaiting(t *testing.T, key string) {
	t.Helper()
	s, g, wait := gated(t, addr)
	ctx := context.Background()
	errs := make(chan error, 1)
	go func() {
		_, err := s.Write(ctx, key, []byte("v"), "")
		errs <- err
	}()
	awaitQueued(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	wait()
	select {
	case err := <-errs:
		if quarkerr.CodeOf(err) != quarkerr.Unavailable {
			t.Fatalf("call waiting at Close: %v, want Unavailable", err)
		}
	case <-time.After(guard):
		t.Fatal("a call waiting at Close never returned")
	}
	if n, err := shared.Exists(ctx, s.prefix+key).Result(); err != nil || n != 0 {
		t.Fatalf("the call waiting at Close was sent (exists %d, %v)", n, err)
	}
}
