package quark_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// heldProbe returns a probe actor held in a one-way turn ("hold") until
// release is closed, so that the messages a test sends meanwhile wait in its
// mailbox together and are taken from it together once released (the path
// of batches: see quark.BatchedBehind). Other steps go to h's hooks.
func heldProbe(t *testing.T, h *hooks, opts ...quark.SiloOption) (ref testactors.ProbeRef, s *quark.Silo, release chan struct{}) {
	t.Helper()
	entered := make(chan struct{})
	release = make(chan struct{})
	tell := h.tell
	h.tell = func(ctx context.Context, p *probe, step string) error {
		if step == "hold" {
			close(entered)
			<-release
			return nil
		}
		if tell == nil {
			return nil
		}
		return tell(ctx, p, step)
	}
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
	ref, _, release := heldProbe(t, &hooks{tell: func(ctx context.Context, p *probe, step string) error {
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
	}})
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
		ref, _, release := heldProbe(t, &hooks{tell: func(ctx context.Context, _ *probe, step string) error {
			d, _ := ctx.Deadline()
			got <- d
			if step == "slow" {
				time.Sleep(time.Second)
			}
			return nil
		}}, quark.WithCallTimeout(5*time.Second))
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

// One-way messages from several senders run in each sender's order when
// they are taken from the mailbox in batches, and a sender's call made after
// its one-way messages finds them run before it. Every message of the first
// phase waits in the mailbox of the held actor when it is released, so
// batches certainly run (checked with BatchedBehind).
func TestOneWayOrderPerSenderInBatches(t *testing.T) {
	const senders, half = 4, 300
	var (
		mu      sync.Mutex
		seen    [senders][]int // per sender, the sequence numbers run
		batched int            // messages that ran with others taken behind them
		atCall  [senders]int   // how many of its messages had run when its call ran
	)
	parse := func(step string) (sender, seq int) {
		if _, err := fmt.Sscanf(step, "%d/%d", &sender, &seq); err != nil {
			panic(err)
		}
		return sender, seq
	}
	h := &hooks{
		tell: func(ctx context.Context, _ *probe, step string) error {
			i, n := parse(step)
			mu.Lock()
			seen[i] = append(seen[i], n)
			if quark.BatchedBehind(ctx) {
				batched++
			}
			mu.Unlock()
			return nil
		},
		run: func(_ context.Context, _ *probe, step string) (string, error) {
			i, _ := parse(step)
			if i < 0 {
				return step, nil
			}
			mu.Lock()
			atCall[i] = len(seen[i])
			mu.Unlock()
			return step, nil
		},
	}
	ref, _, release := heldProbe(t, h)
	ctx := context.Background()
	var posted, wg sync.WaitGroup
	posted.Add(senders)
	for i := range senders {
		wg.Go(func() {
			send := func(from, to int) {
				for n := from; n < to; n++ {
					if err := ref.Tell(ctx, fmt.Sprintf("%d/%d", i, n)); err != nil {
						t.Error(err)
					}
				}
			}
			send(0, half)
			posted.Done()
			if _, err := ref.Run(ctx, fmt.Sprintf("%d/-1", i)); err != nil {
				t.Error(err)
			}
			send(half, 2*half)
		})
	}
	posted.Wait()
	close(release)
	wg.Wait()
	// The last messages may still run: a call behind them all waits for them.
	if _, err := ref.Run(ctx, "-1/-1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range senders {
		if len(seen[i]) != 2*half {
			t.Fatalf("sender %d: %d messages ran, want %d", i, len(seen[i]), 2*half)
		}
		for n, got := range seen[i] {
			if got != n {
				t.Fatalf("sender %d: message %d ran in place %d: %v", i, got, n, seen[i])
			}
		}
	}
	for i, n := range atCall {
		if n != half {
			t.Errorf("sender %d's call ran after %d of its %d one-way messages sent before it", i, n, half)
		}
	}
	if batched == 0 {
		t.Fatal("no message ran in a batch")
	}
}

// A one-way method that asks for deactivation, or panics, ends its
// activation's last turn even when it runs in a batch: the messages taken
// from the mailbox with it go to the next activation, as queued ones do.
func TestOneWayBatchEndsAtDeactivation(t *testing.T) {
	for _, last := range []string{"deactivate", "panic"} {
		t.Run(last, func(t *testing.T) {
			var mu sync.Mutex
			ran := map[string]*probe{}
			done := make(chan struct{})
			h := &hooks{tell: func(_ context.Context, p *probe, step string) error {
				mu.Lock()
				ran[step] = p
				mu.Unlock()
				switch step {
				case "deactivate":
					p.a.DeactivateOnIdle()
				case "panic":
					panic("in a batch")
				case "after":
					close(done)
				}
				return nil
			}}
			ref, _, release := heldProbe(t, h)
			for _, step := range []string{"before", last, "after"} {
				if err := ref.Tell(context.Background(), step); err != nil {
					t.Fatal(err)
				}
			}
			close(release)
			<-done
			mu.Lock()
			defer mu.Unlock()
			if ran["before"] != ran[last] {
				t.Fatalf("%q and %q, taken together, ran on two activations", "before", last)
			}
			if ran["after"] == ran[last] {
				t.Fatalf("the message behind %q ran on the activation it ended", last)
			}
		})
	}
}
