package quark_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// heldProbe returns a probe actor held in a one-way turn ("hold") until
// release is closed, so that the messages a test sends meanwhile wait in its
// mailbox together and are taken from it together once released. Steps
// other than "hold" go to tell.
func heldProbe(t *testing.T, tell func(ctx context.Context, p *probe, step string) error, opts ...quark.SiloOption) (ref testactors.ProbeRef, s *quark.Silo, release chan struct{}) {
	t.Helper()
	entered := make(chan struct{})
	release = make(chan struct{})
	h := &hooks{tell: func(ctx context.Context, p *probe, step string) error {
		if step == "hold" {
			close(entered)
			<-release
			return nil
		}
		return tell(ctx, p, step)
	}}
	s = newSilo(t, registerProbes(h), opts...)
	ref = testactors.NewProbeRef(s, quark.StringKey("held"))
	if err := ref.Tell(context.Background(), "hold"); err != nil {
		t.Fatal(err)
	}
	<-entered
	return ref, s, release
}

// endedCall reports how ctx, kept past the end of the one-way method it was
// given to, differs from an ended call's context: nil when it is done,
// cancelled and no link of a call chain.
func endedCall(ctx context.Context) error {
	select {
	case <-ctx.Done():
	default:
		return errors.New("Done is not closed")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("Err = %v, want context.Canceled", ctx.Err())
	}
	if quark.ActivationFrom(ctx) != nil {
		return errors.New("ActivationFrom finds an activation")
	}
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("no deadline")
	}
	return nil
}

// A one-way method's context kept past the method (by a goroutine it left
// behind, say) behaves as an ended call's, whether or not the method used
// it, and also while the messages queued behind it run; each message's
// context is its own.
func TestOneWayKeptContextEnds(t *testing.T) {
	kept := make(chan context.Context, 2)
	checked := make(chan error, 1)
	ref, _, release := heldProbe(t, func(ctx context.Context, p *probe, step string) error {
		switch step {
		case "keep": // never looks at its context
			kept <- ctx
		case "use":
			if _, ok := ctx.Deadline(); !ok {
				checked <- errors.New("use: no deadline")
			}
			kept <- ctx
		case "check":
			// The two before have ended; this one runs.
			var err error
			for _, name := range []string{"keep", "use"} {
				if e := endedCall(<-kept); e != nil {
					err = errors.Join(err, fmt.Errorf("%s's context, kept: %w", name, e))
				}
			}
			if quark.ActivationFrom(ctx) != p.a {
				err = errors.Join(err, errors.New("a running message's context is not its activation's"))
			}
			if ctx.Err() != nil {
				err = errors.Join(err, fmt.Errorf("a running message's context ended: %v", ctx.Err()))
			}
			checked <- err
		}
		return nil
	})
	ctx := context.Background()
	for _, step := range []string{"keep", "use", "check"} {
		if err := ref.Tell(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	close(release) // the three are taken from the mailbox together
	if err := <-checked; err != nil {
		t.Fatal(err)
	}
}

// A one-way message's default deadline starts when it runs and is its own:
// a message queued behind one that took time does not inherit the earlier
// message's deadline.
func TestOneWayDefaultDeadlinePerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan time.Time, 2)
		ref, _, release := heldProbe(t, func(ctx context.Context, _ *probe, step string) error {
			d, _ := ctx.Deadline()
			got <- d
			if step == "slow" {
				time.Sleep(time.Second)
			}
			return nil
		}, quark.WithCallTimeout(5*time.Second))
		for _, step := range []string{"slow", "next"} {
			if err := ref.Tell(context.Background(), step); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		close(release)
		if d := <-got; !d.Equal(start.Add(5 * time.Second)) {
			t.Errorf("first message's deadline start+%v, want start+5s", d.Sub(start))
		}
		if d := <-got; !d.Equal(start.Add(6 * time.Second)) {
			t.Errorf("second message's deadline start+%v, want start+6s (it ran 1s later)", d.Sub(start))
		}
	})
}
