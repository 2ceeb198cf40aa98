// Package storagetest is the conformance suite every storage.Store provider
// runs: round trips, ETag conflicts between concurrent writers, deletes,
// missing keys, 1 MiB values, corrupt records, concurrent use and context
// cancellation.
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, storagetest.Harness{
//			New: func(t *testing.T) storage.Store { return storage.NewMemory() },
//		})
//	}
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
)

// Harness tells the suite how to use a provider.
type Harness struct {
	// New returns a store for one test. Stores may share a backend: every
	// key the suite uses carries a prefix unique to the test. The suite
	// closes the store.
	New func(t *testing.T) storage.Store
	// Corrupt, when set, damages the stored bytes of key in place, so
	// that the next Read must fail with quarkerr.Corrupt. Providers that
	// cannot hold a damaged record leave it nil and the case is skipped.
	Corrupt func(t *testing.T, s storage.Store, key string)
}

var runs atomic.Int64

// prefix returns a key prefix unique to this test in this process and run.
func prefix(t *testing.T) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("quarktest/%x/%d/%s/", b, runs.Add(1), t.Name())
}

func open(t *testing.T, h Harness) (storage.Store, string) {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s, prefix(t)
}

func code(t *testing.T, err error, want quarkerr.Code, what string) {
	t.Helper()
	if got := quarkerr.CodeOf(err); got != want {
		t.Fatalf("%s: err = %v (code %v), want code %v", what, err, got, want)
	}
}

// Run runs the conformance suite against the provider h describes.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s, p := open(t, h)
		k := p + "acct"
		e1, err := s.Write(ctx, k, []byte("v1"), "")
		if err != nil || e1 == "" {
			t.Fatalf("create: %q, %v", e1, err)
		}
		r, err := s.Read(ctx, k)
		if err != nil || string(r.Value) != "v1" || r.ETag != e1 {
			t.Fatalf("read after create: %q %q, %v", r.Value, r.ETag, err)
		}
		e2, err := s.Write(ctx, k, []byte("v2"), e1)
		if err != nil || e2 == "" || e2 == e1 {
			t.Fatalf("replace: %q (was %q), %v", e2, e1, err)
		}
		r, err = s.Read(ctx, k)
		if err != nil || string(r.Value) != "v2" || r.ETag != e2 {
			t.Fatalf("read after replace: %q %q, %v", r.Value, r.ETag, err)
		}
		// Empty values are values.
		e3, err := s.Write(ctx, k, nil, e2)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = s.Read(ctx, k); err != nil || len(r.Value) != 0 || r.ETag != e3 {
			t.Fatalf("empty value: %q %q, %v", r.Value, r.ETag, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s, p := open(t, h)
		_, err := s.Read(ctx, p+"missing")
		code(t, err, quarkerr.NotFound, "read of a missing key")
	})
	t.Run("Conflict", func(t *testing.T) {
		s, p := open(t, h)
		k := p + "c"
		e1, err := s.Write(ctx, k, []byte("first"), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Write(ctx, k, []byte("again"), "")
		code(t, err, quarkerr.Conflict, "create over an existing value")
		e2, err := s.Write(ctx, k, []byte("second"), e1)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Write(ctx, k, []byte("stale"), e1)
		code(t, err, quarkerr.Conflict, "write with a stale ETag")
		code(t, s.Delete(ctx, k, e1), quarkerr.Conflict, "delete with a stale ETag")
		_, err = s.Write(ctx, p+"never", []byte("x"), e2)
		code(t, err, quarkerr.Conflict, "write expecting a version of a missing key")
		r, err := s.Read(ctx, k)
		if err != nil || string(r.Value) != "second" || r.ETag != e2 {
			t.Fatalf("a failed write changed the record: %q %q, %v", r.Value, r.ETag, err)
		}
	})
	t.Run("ConcurrentWritersOneWins", func(t *testing.T) {
		s, p := open(t, h)
		k := p + "race"
		base, err := s.Write(ctx, k, []byte("base"), "")
		if err != nil {
			t.Fatal(err)
		}
		const writers = 16
		var wg sync.WaitGroup
		var won atomic.Int64
		winner := make(chan string, writers)
		start := make(chan struct{})
		for i := range writers {
			wg.Go(func() {
				<-start
				v := fmt.Sprintf("writer-%d", i)
				_, err := s.Write(ctx, k, []byte(v), base)
				switch quarkerr.CodeOf(err) {
				case quarkerr.OK:
					won.Add(1)
					winner <- v
				case quarkerr.Conflict:
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("%d writers won from the same version, want exactly 1", n)
		}
		if r, err := s.Read(ctx, k); err != nil || string(r.Value) != <-winner {
			t.Fatalf("stored %q, %v; not the winner's value", r.Value, err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s, p := open(t, h)
		k := p + "d"
		if err := s.Delete(ctx, k, ""); err != nil {
			t.Fatalf("delete of a missing key with no ETag: %v", err)
		}
		e, err := s.Write(ctx, k, []byte("x"), "")
		if err != nil {
			t.Fatal(err)
		}
		code(t, s.Delete(ctx, k, ""), quarkerr.Conflict, "delete expecting nothing stored")
		if err := s.Delete(ctx, k, e); err != nil {
			t.Fatal(err)
		}
		_, err = s.Read(ctx, k)
		code(t, err, quarkerr.NotFound, "read after delete")
		if _, err := s.Write(ctx, k, []byte("again"), ""); err != nil {
			t.Fatalf("create after delete: %v", err)
		}
	})
	t.Run("LargeValue", func(t *testing.T) {
		s, p := open(t, h)
		v := make([]byte, 1<<20)
		rand.Read(v)
		e, err := s.Write(ctx, p+"big", v, "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Read(ctx, p+"big")
		if err != nil || !bytes.Equal(r.Value, v) || r.ETag != e {
			t.Fatalf("1 MiB value did not round-trip: %d bytes, %v", len(r.Value), err)
		}
	})
	t.Run("Ownership", func(t *testing.T) {
		s, p := open(t, h)
		v := []byte("original")
		if _, err := s.Write(ctx, p+"o", v, ""); err != nil {
			t.Fatal(err)
		}
		copy(v, "mutated!")
		r, err := s.Read(ctx, p+"o")
		if err != nil || string(r.Value) != "original" {
			t.Fatalf("the store kept the caller's slice: %q, %v", r.Value, err)
		}
		copy(r.Value, "mutated!")
		if r2, _ := s.Read(ctx, p+"o"); string(r2.Value) != "original" {
			t.Fatalf("a read handed out the store's own bytes: %q", r2.Value)
		}
	})
	t.Run("Keys", func(t *testing.T) {
		s, p := open(t, h)
		keys := []string{p + "a", p + "a/b", p + "ä ö/ü", p + "a\x00b", p + string(bytes.Repeat([]byte("k"), 512))}
		for i, k := range keys {
			if _, err := s.Write(ctx, k, []byte{byte(i)}, ""); err != nil {
				t.Fatalf("write %q: %v", k, err)
			}
		}
		for i, k := range keys {
			if r, err := s.Read(ctx, k); err != nil || len(r.Value) != 1 || r.Value[0] != byte(i) {
				t.Fatalf("read %q: %v, %v", k, r.Value, err)
			}
		}
		_, err := s.Write(ctx, "", []byte("x"), "")
		code(t, err, quarkerr.InvalidArgument, "write with an empty key")
	})
	t.Run("Corrupt", func(t *testing.T) {
		if h.Corrupt == nil {
			t.Skip("this provider cannot hold a damaged record")
		}
		s, p := open(t, h)
		k := p + "bad"
		if _, err := s.Write(ctx, k, []byte("good bytes"), ""); err != nil {
			t.Fatal(err)
		}
		h.Corrupt(t, s, k)
		for range 2 {
			_, err := s.Read(ctx, k)
			code(t, err, quarkerr.Corrupt, "read of a damaged record")
		}
	})
	t.Run("ConcurrentUse", func(t *testing.T) {
		s, p := open(t, h)
		const keys, workers, incs = 8, 8, 40
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range incs {
					k := fmt.Sprintf("%scounter-%d", p, (w+i)%keys)
					if err := increment(ctx, s, k); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		var total uint64
		for i := range keys {
			r, err := s.Read(ctx, fmt.Sprintf("%scounter-%d", p, i))
			if err != nil {
				t.Fatal(err)
			}
			total += binary.BigEndian.Uint64(r.Value)
		}
		if total != workers*incs {
			t.Fatalf("counters sum to %d, want %d: an update was lost", total, workers*incs)
		}
	})
	t.Run("ContextCanceled", func(t *testing.T) {
		s, p := open(t, h)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Write(cctx, p+"k", []byte("x"), "")
		code(t, err, quarkerr.Canceled, "write with a canceled context")
		_, err = s.Read(cctx, p+"k")
		code(t, err, quarkerr.Canceled, "read with a canceled context")
		code(t, s.Delete(cctx, p+"k", ""), quarkerr.Canceled, "delete with a canceled context")
		dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer dcancel()
		_, err = s.Read(dctx, p+"k")
		code(t, err, quarkerr.Timeout, "read past the deadline")
		if _, err := s.Read(ctx, p+"k"); quarkerr.CodeOf(err) != quarkerr.NotFound {
			t.Fatalf("a canceled write stored something: %v", err)
		}
	})
}

// increment adds one to the big-endian counter under k, retrying on
// Conflict: the read-modify-write every actor state write performs.
func increment(ctx context.Context, s storage.Store, k string) error {
	for {
		var n uint64
		r, err := s.Read(ctx, k)
		switch quarkerr.CodeOf(err) {
		case quarkerr.OK:
			n = binary.BigEndian.Uint64(r.Value)
		case quarkerr.NotFound:
		default:
			return err
		}
		_, err = s.Write(ctx, k, binary.BigEndian.AppendUint64(nil, n+1), r.ETag)
		if quarkerr.CodeOf(err) != quarkerr.Conflict {
			return err
		}
	}
}
