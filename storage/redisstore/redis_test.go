package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/storagetest"
	"github.com/redis/go-redis/v9"
)

var (
	addr = storagetest.Addr("QUARK_REDIS_ADDR", "127.0.0.1:6379")

	probeOnce sync.Once
	probeErr  error
	shared    *redis.Client
)

// client returns a client shared by the package's tests, or ends the test
// when the server cannot be reached. The server is probed once.
func client(tb testing.TB) *redis.Client {
	tb.Helper()
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 256})
		if probeErr = c.Ping(ctx).Err(); probeErr != nil {
			c.Close()
			return
		}
		shared = c
	})
	if probeErr != nil {
		storagetest.Unreachable(tb, "redis", addr, probeErr)
	}
	return shared
}

// newPrefix returns a key prefix unique to this test process and call.
func newPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("quarktest:%d:%x:", os.Getpid(), b)
}

// open returns a store under a fresh prefix whose keys are removed when the
// test ends.
func open(tb testing.TB) *Store {
	tb.Helper()
	c := client(tb)
	p := newPrefix()
	tb.Cleanup(func() { removeAll(tb, c, p) })
	s := New(c, p)
	tb.Cleanup(func() { s.Close() })
	return s
}

func removeAll(tb testing.TB, c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan %s*: %v", prefix, err)
		return
	}
	for batch := range slices.Chunk(keys, 500) {
		if err := c.Del(ctx, batch...).Err(); err != nil {
			tb.Errorf("delete test keys: %v", err)
			return
		}
	}
}

// corrupt flips the last byte of the stored value of key (a byte is added
// to an empty one), leaving its ETag and checksum as they were.
func corrupt(tb testing.TB, s *Store, key string) {
	tb.Helper()
	ctx := context.Background()
	v, err := s.client.HGet(ctx, s.prefix+key, fieldValue).Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	if len(v) == 0 {
		v = []byte{0}
	} else {
		v[len(v)-1] ^= 0xff
	}
	if err := s.client.HSet(ctx, s.prefix+key, fieldValue, v).Err(); err != nil {
		tb.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	client(t)
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) storage.Store { return open(t) },
		Corrupt: func(t *testing.T, s storage.Store, key string) {
			corrupt(t, s.(*Store), key)
		},
	})
}

func TestReminderConformance(t *testing.T) {
	client(t)
	storagetest.RunReminders(t, func(t *testing.T) storage.ReminderStore { return open(t) })
}

func TestDamagedRecordIsLeftUntouched(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.Write(ctx, "k", []byte("value"), ""); err != nil {
		t.Fatal(err)
	}
	corrupt(t, s, "k")
	before, err := s.client.HGetAll(ctx, s.prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "k"); quarkerr.CodeOf(err) != quarkerr.Corrupt {
		t.Fatalf("read of a damaged record: %v, want Corrupt", err)
	}
	after, err := s.client.HGetAll(ctx, s.prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatal("reading a damaged record changed it")
	}
	// A key holding something that is not a record reads as Corrupt and
	// refuses writes, and is not overwritten.
	if err := s.client.Set(ctx, s.prefix+"str", "plain", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "str"); quarkerr.CodeOf(err) != quarkerr.Corrupt {
		t.Fatalf("read of a non-record: %v, want Corrupt", err)
	}
	if _, err := s.Write(ctx, "str", []byte("x"), ""); quarkerr.CodeOf(err) != quarkerr.Corrupt {
		t.Fatalf("write over a non-record: %v, want Corrupt", err)
	}
	if err := s.client.HSet(ctx, s.prefix+"noetag", fieldValue, "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, "noetag", []byte("x"), ""); quarkerr.CodeOf(err) != quarkerr.Corrupt {
		t.Fatalf("write over a record without a version: %v, want Corrupt", err)
	}
	if v, _ := s.client.Get(ctx, s.prefix+"str").Result(); v != "plain" {
		t.Fatalf("a non-record was overwritten: %q", v)
	}
}

func TestLimits(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	_, err := s.Write(ctx, "big", make([]byte, MaxValueSize+1), "")
	if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("write over the limit: %v, want InvalidArgument", err)
	}
	if _, err := s.Read(ctx, ""); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("read with an empty key: %v", err)
	}
	if err := s.Delete(ctx, "", ""); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("delete with an empty key: %v", err)
	}
}

func TestMaxValue(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB round trip")
	}
	s := open(t)
	ctx := context.Background()
	v := make([]byte, MaxValueSize)
	v[len(v)-1] = 7
	e, err := s.Write(ctx, "max", v, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Read(ctx, "max")
	if err != nil || len(r.Value) != MaxValueSize || r.Value[len(v)-1] != 7 || r.ETag != e {
		t.Fatalf("64 MiB value: %d bytes, %v", len(r.Value), err)
	}
}

func TestClose(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.Write(ctx, "k", []byte("v"), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "k"); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("read after close: %v, want Unavailable", err)
	}
	if _, err := s.Write(ctx, "k", []byte("v"), ""); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("write after close: %v, want Unavailable", err)
	}
	if err := s.Delete(ctx, "k", ""); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("delete after close: %v, want Unavailable", err)
	}
	// The client given to New stays open.
	if err := s.client.Ping(ctx).Err(); err != nil {
		t.Fatalf("Close closed the caller's client: %v", err)
	}
}

func TestOpen(t *testing.T) {
	client(t)
	ctx := context.Background()
	s, err := Open(ctx, addr, newPrefix())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(t, shared, s.prefix) })
	if _, err := s.Write(ctx, "k", []byte("v"), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.client.Ping(ctx).Err(); err == nil {
		t.Fatal("Close left the store's own client open")
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections.
	_, err := Open(ctx, "127.0.0.1:1", "p:")
	if quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("open of an unreachable server: %v, want Unavailable", err)
	}
	if _, err := Open(ctx, "", "p:"); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("open with an empty address: %v", err)
	}
}

func TestServerGoneIsUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer c.Close()
	s := New(c, "p:")
	ctx := context.Background()
	if _, err := s.Read(ctx, "k"); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("read: %v, want Unavailable", err)
	}
	if _, err := s.Write(ctx, "k", []byte("v"), ""); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("write: %v, want Unavailable", err)
	}
	if err := s.Delete(ctx, "k", ""); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("delete: %v, want Unavailable", err)
	}
}

// BenchmarkWrites measures writes of 256-byte values from 1,000 concurrent
// writers, each to its own key.
func BenchmarkWrites(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	value := make([]byte, 256)
	const writers = 1000
	per := b.N/writers + 1
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("bench/%d", w)
			etag := ""
			for range per {
				var err error
				if etag, err = s.Write(ctx, key, value, etag); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkLatency measures save and load latency with 50 concurrent
// writers, each saving then loading its own key, and reports the 99th
// percentiles.
func BenchmarkLatency(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	value := make([]byte, 256)
	const writers = 50
	per := b.N/writers + 1
	saves := make([][]time.Duration, writers)
	loads := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("lat/%d", w)
			etag := ""
			for range per {
				start := time.Now()
				var err error
				if etag, err = s.Write(ctx, key, value, etag); err != nil {
					b.Error(err)
					return
				}
				mid := time.Now()
				if _, err := s.Read(ctx, key); err != nil {
					b.Error(err)
					return
				}
				saves[w] = append(saves[w], mid.Sub(start))
				loads[w] = append(loads[w], time.Since(mid))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(p99(saves), "p99-save-µs")
	b.ReportMetric(p99(loads), "p99-load-µs")
}

// p99 returns the 99th percentile of the durations, in microseconds.
func p99(per [][]time.Duration) float64 {
	all := slices.Concat(per...)
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	return float64(all[len(all)*99/100].Nanoseconds()) / 1e3
}

// TestLayoutIsAsDocumented backs docs/storage.md: a record is a hash at the
// prefix plus the storage key, with the fields v (value), e (ETag) and c
// (checksum).
func TestLayoutIsAsDocumented(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const key = "bank.Account:str:alice"
	etag, err := s.Write(ctx, key, []byte("value"), "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.client.HGetAll(ctx, s.prefix+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h["v"] != "value" || h["e"] != etag || h["c"] == "" {
		t.Fatalf("hash at %q: %v, want fields v, e and c", s.prefix+key, h)
	}
}
