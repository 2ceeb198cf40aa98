package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage/redisstore"
	"github.com/redis/go-redis/v9"
)

// The Redis scenarios measure the group-committed store
// (storage/redisstore) as BenchmarkSaturation and BenchmarkArrival there
// do: 256-byte values saved to 1,000 actors' keys, each key saved by one
// writer at a time with the ETag of its last save.
const (
	redisActors    = 1000
	redisValueSize = 256
	redisScenario  = "(g) redis store, 1,000 actors"
)

// redisAddrEnv names the environment variable holding the Redis server's
// address, the one the store's tests read.
const redisAddrEnv = "QUARK_REDIS_ADDR"

// redisRun is the Redis scenarios' shared connection: the server is probed
// once, on the first scenario that needs it, and every scenario then writes
// under a key prefix of its own within this run's prefix and removes its
// keys when done. The scenarios run one after another on the main
// goroutine, which alone touches redisRun.
type redisRun struct {
	addr   string
	probed bool
	client *redis.Client // for probing and removing keys; nil if unreachable
	err    error         // why the server cannot be used
	prefix string        // this run's key prefix
	server string        // the server's version and persistence, for the notes
}

// connect probes the server once and reports whether it can be used.
func (r *redisRun) connect() bool {
	if !r.probed {
		r.probed = true
		var b [6]byte
		rand.Read(b[:])
		r.prefix = fmt.Sprintf("quarkbench:%d:%x:", os.Getpid(), b)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
		if err := c.Ping(ctx).Err(); err != nil {
			r.err = err
			_ = c.Close() // the ping's error is the one to report
		} else {
			r.client = c
			r.server = describeServer(ctx, c)
		}
	}
	return r.client != nil
}

// describeServer returns the server's version and whether it writes an
// append-only file and how often it syncs it, which is what "durable"
// means for a write it acknowledged. A server that refuses INFO or
// CONFIG (a managed one may) is described as far as it answers.
func describeServer(ctx context.Context, c *redis.Client) string {
	desc := "redis"
	if info, err := c.Info(ctx, "server").Result(); err == nil {
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				desc += " " + v
			}
		}
	}
	if cfg, err := c.ConfigGet(ctx, "append*").Result(); err == nil {
		if aof := cfg["appendonly"]; aof == "yes" {
			desc += ", appendonly yes, appendfsync " + cfg["appendfsync"]
		} else if aof != "" {
			desc += ", appendonly " + aof
		}
	}
	return desc
}

// close releases the probing client.
func (r *redisRun) close() {
	if r.client != nil {
		_ = r.client.Close()
	}
}

// skipped is the row a scenario prints in place of its measurement when the
// server cannot be reached.
func (r *redisRun) skipped(mode string) []row {
	return []row{{
		scenario: redisScenario,
		mode:     mode,
		notes: fmt.Sprintf("skipped: redis at %s unreachable (set %s or -redis): %v",
			r.addr, redisAddrEnv, r.err),
	}}
}

// redisFixture is a scenario's store, seeded: every actor's key holds
// value, with its ETag.
type redisFixture struct {
	s           *redisstore.Store
	value       []byte
	keys, etags []string
}

// open returns a seeded store, connected as redisstore.Open connects,
// under a fresh prefix named after the scenario; cleanup closes it and
// removes its keys, joining any error to *errp.
func (r *redisRun) open(name string) (f redisFixture, cleanup func(errp *error), err error) {
	prefix := r.prefix + name + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, r.addr, prefix)
	if err != nil {
		return f, nil, err
	}
	cleanup = func(errp *error) {
		*errp = errors.Join(*errp, s.Close(), r.removeAll(prefix))
	}
	f = redisFixture{s: s, value: make([]byte, redisValueSize)}
	if f.keys, f.etags, err = seed(s, f.value); err != nil {
		cleanup(&err)
		return f, nil, err
	}
	return f, cleanup, nil
}

// removeAll deletes every key under prefix.
func (r *redisRun) removeAll(prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := r.client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("remove keys %s*: %w", prefix, err)
	}
	for batch := range slices.Chunk(keys, 500) {
		if err := r.client.Del(ctx, batch...).Err(); err != nil {
			return fmt.Errorf("remove keys %s*: %w", prefix, err)
		}
	}
	return nil
}

// seed writes every actor's key once, before any clock starts, so that
// the measured saves replace records (and reads find them), and the
// server has the store's scripts cached. It returns the keys and their
// ETags.
func seed(s *redisstore.Store, value []byte) (keys, etags []string, err error) {
	ctx := context.Background()
	keys = make([]string, redisActors)
	etags = make([]string, redisActors)
	var wg sync.WaitGroup
	errs := make([]error, redisActors)
	for k := range keys {
		keys[k] = fmt.Sprintf("actor/%d", k)
		wg.Go(func() { etags[k], errs[k] = s.Write(ctx, keys[k], value, "") })
	}
	wg.Wait()
	return keys, etags, errors.Join(errs...)
}

// redisSaturation measures writes at saturation: writers goroutines, each
// saving its share of the 1,000 keys in turn for cfg.d (closed loop: a
// writer's next save starts when its last one returns). Every save is
// timed.
func (r *redisRun) redisSaturation(cfg config, writers int) (rows []row, err error) {
	mode := fmt.Sprintf("saturation, %d writers", writers)
	if !r.connect() {
		return r.skipped(mode), nil
	}
	f, cleanup, err := r.open(fmt.Sprintf("sat%d", writers))
	if err != nil {
		return nil, err
	}
	defer cleanup(&err)
	s, value, keys, etags := f.s, f.value, f.keys, f.etags

	// Room for 500k saves a second, far above what one server takes.
	const chunk = 1 << 10
	pool := newSamplePool(int(500_000*cfg.d.Seconds())+writers*chunk, chunk)
	counts := make([]int64, writers)
	var truncated atomic.Bool
	ctx := context.Background()
	runtime.GC()
	m0 := mallocs()
	elapsed, err := timed(cfg.d, writers, func(w int, stop *atomic.Bool) error {
		// Writer w saves keys w, w+writers, w+2*writers and so on.
		per := (redisActors - w + writers - 1) / writers
		var buf []time.Duration
		var n int64
		for j := 0; !stop.Load(); j++ {
			if j == len(buf) {
				if buf, j = pool.take(), 0; buf == nil {
					truncated.Store(true)
					break
				}
			}
			k := w + int(n%int64(per))*writers
			t0 := time.Now()
			etag, err := s.Write(ctx, keys[k], value, etags[k])
			if err != nil {
				return err
			}
			buf[j] = time.Since(t0)
			etags[k] = etag
			n++
		}
		counts[w] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	m1 := mallocs()
	var total int64
	for _, n := range counts {
		total += n
	}
	notes := fmt.Sprintf("%d saves of %d B, closed loop; latency of every save; %s", total, redisValueSize, r.server)
	if truncated.Load() {
		notes += " (sample buffer full, pass cut short)"
	}
	return []row{{
		scenario:  redisScenario,
		mode:      mode,
		rate:      float64(total) / elapsed.Seconds(),
		unit:      "writes/s",
		lat:       summarize(pool.samples()),
		allocs:    float64(m1-m0) / float64(total),
		hasAllocs: true,
		notes:     notes,
	}}, nil
}

// redisArrival measures save and load latency at a fixed arrival rate for
// cfg.d (open loop: operations are issued on schedule whatever the earlier
// ones are doing, so a slow store builds a queue instead of slowing the
// load down). Saves go to the 1,000 keys in turn at rate a second, and as
// many loads of other keys alongside, each on a goroutine of its own; a
// save to a key waits for the one before it, as one actor saves one state
// at a time. Latency counts from the operation's scheduled time, so time
// queued behind a late generator counts; the generator's own lateness
// (a busy core, a late timer: the machine, not the store) is in the notes.
func (r *redisRun) redisArrival(cfg config, rate int) (rows []row, err error) {
	mode := fmt.Sprintf("arrival %s saves/s + loads", fmtCount(rate))
	if !r.connect() {
		return r.skipped(mode), nil
	}
	f, cleanup, err := r.open(fmt.Sprintf("arr%d", rate))
	if err != nil {
		return nil, err
	}
	defer cleanup(&err)
	s, value, keys, etags := f.s, f.value, f.keys, f.etags

	n := max(int(float64(rate)*cfg.d.Seconds()), 1)
	var keyMu [redisActors]sync.Mutex
	saves := make([]time.Duration, n)
	loads := make([]time.Duration, n)
	lags := make([]time.Duration, n)
	errs := make([]error, 2*n)
	period := time.Second / time.Duration(rate)
	ctx := context.Background()
	var wg sync.WaitGroup
	runtime.GC()
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * period)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		lags[i] = time.Since(due)
		wg.Go(func() {
			k := i % redisActors
			keyMu[k].Lock()
			e, err := s.Write(ctx, keys[k], value, etags[k])
			if err == nil {
				etags[k] = e
			}
			keyMu[k].Unlock()
			saves[i] = time.Since(due)
			if err != nil {
				errs[2*i] = fmt.Errorf("save %s (%v): %w", keys[k], quarkerr.CodeOf(err), err)
			}
		})
		wg.Go(func() {
			k := (i + redisActors/2) % redisActors
			_, err := s.Read(ctx, keys[k])
			loads[i] = time.Since(due)
			if err != nil {
				errs[2*i+1] = fmt.Errorf("load %s: %w", keys[k], err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	load := summarize(loads)
	lag := summarize(lags)
	return []row{{
		scenario: redisScenario,
		mode:     mode,
		rate:     float64(n) / elapsed.Seconds(),
		unit:     "writes/s",
		lat:      summarize(saves),
		notes: fmt.Sprintf("save latency; load p50 %s p99 %s p99.9 %s max %s; generator lag p99 %s max %s; %d saves, %d loads; %s",
			fmtDur(load.p50), fmtDur(load.p99), fmtDur(load.p999), fmtDur(load.max),
			fmtDur(lag.p99), fmtDur(lag.max), n, n, r.server),
	}}, nil
}

// fmtCount writes a round rate as 5k or 20k, else in full.
func fmtCount(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
