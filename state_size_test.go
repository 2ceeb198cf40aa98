package quark_test

import (
	"context"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/storage"
)

// blobCounter writes a state whose encoding is n bytes over the largest
// value a load accepts when Add is called with a positive n.
type blobCounter struct {
	state *quark.State[testactors.CounterState]
}

func (c *blobCounter) Add(ctx context.Context, n int64) (int64, error) {
	c.state.Value.Total += n
	if n > 0 {
		c.state.Value.Blob = make([]byte, codec.DefaultMaxMessageSize+int(n))
	}
	return c.state.Value.Total, c.state.Write(ctx)
}

func (c *blobCounter) Get(context.Context) (int64, error) { return c.state.Value.Total, nil }

func (c *blobCounter) Inc(ctx context.Context, n int64) error {
	_, err := c.Add(ctx, n)
	return err
}

// A state too large to load back is refused when written: storing it would
// leave an actor that can never activate again.
func TestStateTooLargeToLoadIsNotWritten(t *testing.T) {
	st := storage.NewMemory()
	ctx := context.Background()
	s := newSilo(t, func(s *quark.Silo) {
		must(testactors.RegisterCounter(s, func(a *quark.Activation) testactors.Counter {
			return &blobCounter{state: quark.NewState[testactors.CounterState](a)}
		}))
	}, quark.WithStore(st))
	c := testactors.NewCounterRef(s, quark.StringKey("big"))
	if _, err := c.Add(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err := c.Add(ctx, 1)
	if quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("writing a state over the load limit: %v, want CodeInvalidArgument", err)
	}
	// What is stored still loads, and the refused change is gone.
	if n, err := c.Get(ctx); err != nil || n != 0 {
		t.Fatalf("after the refused write: %d, %v; want 0, nil", n, err)
	}
}
