package embedded

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
)

// endsAfterCheck is a context that is live for its first Err call and
// cancelled from then on: the store's check at the start of a call sees it
// live, and everything after sees it ended, as if ctx ended the moment the
// call started.
type endsAfterCheck struct {
	context.Context
	checked atomic.Bool
	done    chan struct{}
}

func newEndsAfterCheck() *endsAfterCheck {
	c := &endsAfterCheck{Context: context.Background(), done: make(chan struct{})}
	close(c.done)
	return c
}

func (c *endsAfterCheck) Err() error {
	if c.checked.CompareAndSwap(false, true) {
		return nil
	}
	return context.Canceled
}

func (c *endsAfterCheck) Done() <-chan struct{} {
	if !c.checked.Load() {
		return nil
	}
	return c.done
}

func (c *endsAfterCheck) Deadline() (time.Time, bool) { return time.Time{}, false }

// The package doc's deadline claims: ctx is checked when a call starts, and
// a call that started runs to its end and reports its real outcome, never
// Canceled for a write it committed.
func TestCallThatStartedReportsItsOutcome(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "quark.db"), WithSync(false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	etag, err := s.Write(newEndsAfterCheck(), "k", []byte("v"), "")
	if err != nil {
		t.Fatalf("write whose ctx ended after it started: %v, want its outcome (stored)", err)
	}
	rec, err := s.Read(newEndsAfterCheck(), "k")
	if err != nil || string(rec.Value) != "v" || rec.ETag != etag {
		t.Fatalf("read whose ctx ended after it started: %q %q, %v", rec.Value, rec.ETag, err)
	}
	if err := s.Delete(newEndsAfterCheck(), "k", etag); err != nil {
		t.Fatalf("delete whose ctx ended after it started: %v", err)
	}

	// A ctx that ended before the call changes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Write(ctx, "k", []byte("v"), ""); quarkerr.CodeOf(err) != quarkerr.Canceled {
		t.Fatalf("write with an ended ctx: %v, want Canceled", err)
	}
	if _, err := s.Read(context.Background(), "k"); quarkerr.CodeOf(err) != quarkerr.NotFound {
		t.Fatalf("an ended ctx's write stored something: %v", err)
	}
}
