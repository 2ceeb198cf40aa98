package embedded

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/storagetest"
	bolt "go.etcd.io/bbolt"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) storage.Store {
			s, err := Open(filepath.Join(t.TempDir(), "quark.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Corrupt: func(t *testing.T, st storage.Store, key string) {
			s := st.(*Store)
			if err := s.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucket)
				rec := append([]byte(nil), b.Get([]byte(key))...)
				rec[len(rec)-1] ^= 0xff // flip the last value byte
				return b.Put([]byte(key), rec)
			}); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestValuesSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "quark.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	etag, err := s.Write(ctx, "bank.Account/alice", []byte("balance=100"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "bank.Account/alice"); quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("read after close: %v, want Unavailable", err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Read(ctx, "bank.Account/alice")
	if err != nil || string(r.Value) != "balance=100" || r.ETag != etag {
		t.Fatalf("after reopen: %q %q, %v", r.Value, r.ETag, err)
	}
	// Versions keep increasing across reopen: an old ETag never comes back.
	next, err := s.Write(ctx, "bank.Account/alice", []byte("balance=50"), etag)
	if err != nil || next == etag {
		t.Fatalf("write after reopen: %q, %v", next, err)
	}
}

func TestDamagedRecordIsLeftUntouched(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "quark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	etag, err := s.Write(ctx, "k", []byte("value"), "")
	if err != nil {
		t.Fatal(err)
	}
	var damaged []byte
	s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		damaged = append([]byte(nil), b.Get([]byte("k"))...)
		damaged[6] ^= 1
		return b.Put([]byte("k"), damaged)
	})
	for _, op := range []func() error{
		func() error { _, err := s.Read(ctx, "k"); return err },
		func() error { _, err := s.Write(ctx, "k", []byte("new"), etag); return err },
		func() error { return s.Delete(ctx, "k", etag) },
	} {
		if err := op(); quarkerr.CodeOf(err) != quarkerr.Corrupt {
			t.Fatalf("operation on a damaged record: %v, want Corrupt", err)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(bucket).Get([]byte("k")); string(got) != string(damaged) {
			t.Fatal("the damaged record was changed")
		}
		return nil
	})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk); quarkerr.CodeOf(err) != quarkerr.Corrupt && quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("open of a file that is not a store: %v", err)
	}
	if _, err := Open(""); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("open with an empty path: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "x", "q.db")); err != nil {
		t.Fatalf("open creating its folder: %v", err)
	}
}

// BenchmarkDurableWrites measures durable (fsynced) writes of 256-byte values
// from 1,000 concurrent writers, each to its own key: the target workload.
func BenchmarkDurableWrites(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "quark.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	value := make([]byte, 256)
	const writers = 1000
	var wg sync.WaitGroup
	per := b.N/writers + 1
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			key := "bench/" + string(rune('a'+w%26)) + string(rune('a'+w/26%26)) + string(rune('a'+w/676))
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

// BenchmarkRead measures reads of 256-byte values.
func BenchmarkRead(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "quark.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Write(ctx, "k", make([]byte, 256), ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Read(ctx, "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestReminderConformance(t *testing.T) {
	storagetest.RunReminders(t, func(t *testing.T) storage.ReminderStore {
		s, err := Open(filepath.Join(t.TempDir(), "quark.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkLoadLatency reads 256-byte values of 1,000 keys from 50
// goroutines while 50 others write, and reports the p99 read latency.
func BenchmarkLoadLatency(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "quark.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	value := make([]byte, 256)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		if _, err := s.Write(ctx, keys[i], value, ""); err != nil {
			b.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 50 {
		writers.Go(func() {
			k := "w" + strconv.Itoa(w)
			etag := ""
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if etag, err = s.Write(ctx, k, value, etag); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	per := b.N/50 + 1
	lat := make([][]time.Duration, 50)
	var readers sync.WaitGroup
	b.ResetTimer()
	for r := range 50 {
		readers.Go(func() {
			for i := range per {
				t0 := time.Now()
				if _, err := s.Read(ctx, keys[(r*per+i)%len(keys)]); err != nil {
					b.Error(err)
					return
				}
				lat[r] = append(lat[r], time.Since(t0))
			}
		})
	}
	readers.Wait()
	b.StopTimer()
	close(stop)
	writers.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-load-µs")
}
