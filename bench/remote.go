package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/transport"
	"github.com/quarkgo/quark/transport/grpctransport"
)

// remoteRun is the remote scenarios' side of the bench at one GOMAXPROCS
// setting: the child silo they call, started once for all of them.
type remoteRun struct {
	procs int       // GOMAXPROCS of both processes; 0 for the default
	silo  *siloProc // the child; set while the scenarios run
}

// client connects a cluster client to the child silo over t.
func (r *remoteRun) client(t transport.Transport) (*quark.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return quark.NewClient(ctx,
		quark.WithTransport(t),
		quark.WithGateways(r.silo.addr),
		quark.WithLogger(slog.New(slog.DiscardHandler)))
}

// mode is the table's mode column for r's rows.
func (r *remoteRun) mode() string {
	return fmt.Sprintf("gRPC, GOMAXPROCS=%d/%d", runtime.GOMAXPROCS(0), r.silo.procs)
}

// snapshot is the counters of both processes at one moment.
type snapshot struct {
	mallocs     uint64
	cpu         time.Duration
	io          ioStats
	ioOK        bool
	silo        siloStats
	sent, recvd int64 // frame bytes, when the client counts them
}

func (r *remoteRun) snapshot(ct *countingTransport) (snapshot, error) {
	var s snapshot
	var err error
	if s.silo, err = r.silo.stats(); err != nil {
		return s, err
	}
	s.mallocs = mallocs()
	s.cpu = cpuTime()
	s.io, s.ioOK = ioCounts()
	if ct != nil {
		s.sent, s.recvd = ct.sent.Load(), ct.recvd.Load()
	}
	return s, nil
}

// ioStats is a process's read/write system call counters.
type ioStats struct {
	readBytes, writeBytes int64
	reads, writes         int64
}

// perOp is what each operation cost between two snapshots.
type perOp struct {
	allocs, siloAllocs float64
	cpu, siloCPU       time.Duration
	sent, recvd        float64 // frame bytes
	sockR, sockW       float64 // bytes through read/write system calls
	reads, writes      float64 // read/write system calls
	sockOK             bool
}

func costs(a, b snapshot, ops int64) perOp {
	n := float64(ops)
	return perOp{
		allocs:     float64(b.mallocs-a.mallocs) / n,
		siloAllocs: float64(b.silo.mallocs-a.silo.mallocs) / n,
		cpu:        time.Duration(float64(b.cpu-a.cpu) / n),
		siloCPU:    time.Duration(float64(b.silo.cpu-a.silo.cpu) / n),
		sent:       float64(b.sent-a.sent) / n,
		recvd:      float64(b.recvd-a.recvd) / n,
		sockR:      float64(b.io.readBytes-a.io.readBytes) / n,
		sockW:      float64(b.io.writeBytes-a.io.writeBytes) / n,
		reads:      float64(b.io.reads-a.io.reads) / n,
		writes:     float64(b.io.writes-a.io.writes) / n,
		sockOK:     a.ioOK && b.ioOK,
	}
}

func fmtCPU(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

// remoteCalls measures request/response across processes: callers
// goroutines, caller i calling Add on its own actor in a loop, through a
// cluster client, as calls does within a process. With bytes set it runs
// only the throughput pass, over a transport that counts frame bytes (r4).
func (r *remoteRun) remoteCalls(cfg config, scenario string, callers int, bytes bool) (rows []row, err error) {
	var t transport.Transport = grpctransport.New()
	var ct *countingTransport
	if bytes {
		ct = &countingTransport{Transport: t}
		t = ct
	}
	cl, err := r.client(t)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx := context.Background()
	refs := make([]testactors.CounterRef, callers)
	for i := range refs {
		refs[i] = testactors.NewCounterRef(cl, quark.IntKey(int64(i)))
		for range 100 { // activate and warm the pools of both processes
			if _, err := refs[i].Add(ctx, 1); err != nil {
				return nil, err
			}
		}
	}

	// Throughput pass.
	counts := make([]int64, callers)
	runtime.GC()
	s0, err := r.snapshot(ct)
	if err != nil {
		return nil, err
	}
	elapsed, err := timed(cfg.d, callers, func(i int, stop *atomic.Bool) error {
		ref := refs[i]
		var n int64
		for !stop.Load() {
			if _, err := ref.Add(ctx, 1); err != nil {
				return err
			}
			n++
		}
		counts[i] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	s1, err := r.snapshot(ct)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	c := costs(s0, s1, total)
	res := row{
		scenario:      scenario,
		mode:          r.mode(),
		rate:          float64(total) / elapsed.Seconds(),
		unit:          "calls/s",
		allocs:        c.allocs,
		hasAllocs:     true,
		siloAllocs:    c.siloAllocs,
		hasSiloAllocs: true,
	}
	notes := fmt.Sprintf("CPU/call client %s silo %s", fmtCPU(c.cpu), fmtCPU(c.siloCPU))
	if callers > 1 {
		notes += fmt.Sprintf("; calls/caller min %d max %d", slices.Min(counts), slices.Max(counts))
	}
	if bytes {
		notes = fmt.Sprintf("frames/call %.1f B out + %.1f B in", c.sent, c.recvd)
		if c.sockOK {
			notes += fmt.Sprintf("; client socket/call %.1f B written in %.2f writes, %.1f B read in %.2f reads",
				c.sockW, c.writes, c.sockR, c.reads)
		}
		res.notes = notes
		return []row{res}, nil
	}

	// Latency pass, as in calls.
	const chunk = 1 << 12
	pool := newSamplePool(int(2*total)+callers*chunk, chunk)
	runtime.GC()
	var truncated atomic.Bool
	_, err = timed(cfg.d, callers, func(i int, stop *atomic.Bool) error {
		ref := refs[i]
		var buf []time.Duration
		for j := 0; !stop.Load(); j++ {
			if j == len(buf) {
				if buf, j = pool.take(), 0; buf == nil {
					truncated.Store(true)
					return nil
				}
			}
			t0 := time.Now()
			if _, err := ref.Add(ctx, 1); err != nil {
				return err
			}
			buf[j] = time.Since(t0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.lat = summarize(pool.samples())
	if res.lat == nil {
		return nil, errors.New("latency pass made no call")
	}
	notes += fmt.Sprintf("; latency pass %d calls", res.lat.n)
	if truncated.Load() {
		notes += " (sample buffer full, pass cut short)"
	}
	res.notes = notes
	return []row{res}, nil
}

// remoteOneWay measures one-way messages into actors in the child silo:
// senders goroutines send Counter.Inc for cfg.d, round-robin over actors
// keys; the rate counts the messages the actors ran (as the child counts
// them) by the time every sent one was run or dropped. At the end the
// actors' totals, read with Get, must add up to the messages run.
func (r *remoteRun) remoteOneWay(cfg config, senders, actors int) (rows []row, err error) {
	cl, err := r.client(grpctransport.New())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx := context.Background()
	const base = 1 << 20 // keys apart from the call scenarios' actors
	refs := make([]testactors.CounterRef, actors)
	for i := range refs {
		refs[i] = testactors.NewCounterRef(cl, quark.IntKey(base+int64(i)))
	}
	totals := func() (int64, error) { // sum of the actors' totals, read 64 at a time
		var sum atomic.Int64
		var next atomic.Int64
		var errs [64]error
		var wg sync.WaitGroup
		for w := range errs {
			wg.Go(func() {
				for k := next.Add(1) - 1; k < int64(actors); k = next.Add(1) - 1 {
					n, err := refs[k].Get(ctx)
					if err != nil {
						errs[w] = err
						return
					}
					sum.Add(n)
				}
			})
		}
		wg.Wait()
		return sum.Load(), errors.Join(errs[:]...)
	}
	before, err := totals() // activates every actor
	if err != nil {
		return nil, err
	}

	sent := make([]int64, senders)
	runtime.GC()
	s0, err := r.snapshot(nil)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sendTime, err := timed(cfg.d, senders, func(i int, stop *atomic.Bool) error {
		k := i * actors / senders
		var n int64
		for !stop.Load() {
			if err := refs[k].Inc(ctx, 1); err != nil {
				return err
			}
			n++
			if k++; k == actors {
				k = 0
			}
		}
		sent[i] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total int64
	for _, n := range sent {
		total += n
	}
	deadline := time.Now().Add(time.Minute)
	var s1 snapshot
	for {
		if s1, err = r.snapshot(nil); err != nil {
			return nil, err
		}
		// A frame the silo took for a duplicate is never run: count it
		// as lost rather than wait for it.
		done := (s1.silo.processed - s0.silo.processed) + (s1.silo.dropped - s0.silo.dropped) +
			(s1.silo.dups - s0.silo.dups)
		if done >= total {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d one-way messages run or dropped after a minute", done, total)
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	run := s1.silo.processed - s0.silo.processed
	after, err := totals()
	if err != nil {
		return nil, err
	}
	if after-before != run {
		return nil, fmt.Errorf("actors' totals grew by %d, but the silo counted %d messages run", after-before, run)
	}
	c := costs(s0, s1, total)
	return []row{{
		scenario:      fmt.Sprintf("(r3) remote one-way, %d senders", senders),
		mode:          r.mode(),
		rate:          float64(run) / elapsed.Seconds(),
		unit:          "msg/s",
		allocs:        c.allocs,
		hasAllocs:     true,
		siloAllocs:    c.siloAllocs,
		hasSiloAllocs: true,
		notes: fmt.Sprintf("%d actors; %d sent, %d dropped, %d lost as duplicates; sending took %v, running ended %v later; CPU/msg client %s silo %s",
			actors, total, s1.silo.dropped-s0.silo.dropped, s1.silo.dups-s0.silo.dups, sendTime.Round(time.Millisecond),
			(elapsed - sendTime).Round(time.Millisecond), fmtCPU(c.cpu), fmtCPU(c.siloCPU)),
	}}, nil
}

// countingTransport counts the frame bytes its connections send and
// receive: the runtime's frames, without the transport's framing around
// them (for gRPC: length prefixes, gRPC message headers, HTTP/2 frames).
type countingTransport struct {
	transport.Transport
	sent, recvd atomic.Int64
}

func (t *countingTransport) Dial(ctx context.Context, addr string, h transport.Handler) (transport.Conn, error) {
	c, err := t.Transport.Dial(ctx, addr, countingHandler{h, t})
	if err != nil {
		return nil, err
	}
	return countingConn{c, t}, nil
}

func (t *countingTransport) Listen(addr string, accept func(transport.Conn) transport.Handler) (transport.Listener, error) {
	return t.Transport.Listen(addr, func(c transport.Conn) transport.Handler {
		return countingHandler{accept(countingConn{c, t}), t}
	})
}

type countingConn struct {
	transport.Conn
	t *countingTransport
}

func (c countingConn) Send(frame []byte) error {
	c.t.sent.Add(int64(len(frame)))
	return c.Conn.Send(frame)
}

type countingHandler struct {
	transport.Handler
	t *countingTransport
}

func (h countingHandler) Frame(frame []byte) {
	h.t.recvd.Add(int64(len(frame)))
	h.Handler.Frame(frame)
}
