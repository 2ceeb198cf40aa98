package quark_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

func TestResultsAndErrors(t *testing.T) {
	errSentinel := errors.New("insufficient funds")
	h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
		switch step {
		case "sentinel":
			return "", errSentinel
		case "conflict":
			return "", quark.NewError(quark.CodeConflict, "etag mismatch")
		}
		return "ok:" + step, nil
	}}
	modes(t, func(t *testing.T, inline bool) {
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("r"))
		ctx := context.Background()
		if got, err := ref.Run(ctx, "x"); err != nil || got != "ok:x" {
			t.Fatalf("Run = %q, %v", got, err)
		}
		if _, err := ref.Run(ctx, "sentinel"); !errors.Is(err, errSentinel) || err.Error() != "insufficient funds" {
			t.Fatalf("actor error not passed through: %v", err)
		}
		if _, err := ref.Run(ctx, "conflict"); quark.CodeOf(err) != quark.CodeConflict || !strings.Contains(err.Error(), "etag mismatch") {
			t.Fatalf("actor *Error lost its code: %v", err)
		}
		head, tail, err := ref.Split(ctx, "quark", 2)
		if err != nil || head != "qu" || tail != "ark" {
			t.Fatalf("Split = %q, %q, %v", head, tail, err)
		}
		if _, _, err := ref.Split(ctx, "q", 5); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Fatalf("Split out of range: %v", err)
		}
	})
}

func TestUnknownTypeAndZeroKey(t *testing.T) {
	s := newSilo(t, func(*quark.Silo) {})
	_, err := testactors.NewProbeRef(s, quark.StringKey("x")).Run(context.Background(), "x")
	if quark.CodeOf(err) != quark.CodeNotFound || !strings.Contains(err.Error(), "testactors.Probe") {
		t.Fatalf("unregistered type: %v", err)
	}
	s2 := newSilo(t, registerProbes(&hooks{}))
	if _, err := testactors.NewProbeRef(s2, quark.Key{}).Run(context.Background(), "x"); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("zero key: %v", err)
	}
	if err := testactors.NewProbeRef(s, quark.StringKey("x")).Tell(context.Background(), "x"); quark.CodeOf(err) != quark.CodeNotFound {
		t.Fatalf("one-way to unregistered type: %v", err)
	}
	if n := s.Stats().DroppedOneWay; n != 1 {
		t.Fatalf("dropped one-way = %d, want 1", n)
	}
}

type userKey struct{}
type traceKey struct{}

func TestCalleeContextIsFresh(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		type seen struct {
			user, trace any
			deadline    time.Time
		}
		got := make(chan seen, 2)
		var s *quark.Silo
		h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) {
			d, _ := ctx.Deadline()
			got <- seen{ctx.Value(userKey{}), ctx.Value(traceKey{}), d}
			if step == "nest" {
				return testactors.NewProbeRef(s, quark.StringKey("leaf")).Run(ctx, "leaf")
			}
			return step, nil
		}}
		s = newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithPropagators(valuePropagator{"trace", traceKey{}}))
		deadline := time.Now().Add(time.Hour)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		ctx = context.WithValue(context.WithValue(ctx, userKey{}, "secret"), traceKey{}, "span-1")
		if _, err := testactors.NewProbeRef(s, quark.StringKey("root")).Run(ctx, "nest"); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"callee", "nested callee"} {
			v := <-got
			if v.user != nil {
				t.Errorf("%s saw the caller's value %v", who, v.user)
			}
			if v.trace != "span-1" {
				t.Errorf("%s lost the propagated value: %v", who, v.trace)
			}
			if !v.deadline.Equal(deadline) {
				t.Errorf("%s deadline %v, want the caller's %v", who, v.deadline, deadline)
			}
		}
	})
}

// TestKeptContextStaysWithItsCall: a method's context kept past its call
// (stored by the actor, handed to a goroutine left behind) stays the context
// of that call, an ended one: it is no link of any call chain any more, and
// it keeps that call's deadline and propagated values, even while later
// calls to the same actor, from the same caller, run. A runtime that reused
// a call's context for a later call would fail this.
func TestKeptContextStaysWithItsCall(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var kept context.Context
		type seen struct {
			live, keptLive bool
			keptDeadline   time.Time
			keptTrace      any
		}
		got := make(chan seen, 10)
		h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) {
			if step == "keep" {
				kept = ctx // guarded by the actor's turn
				return step, nil
			}
			d, _ := kept.Deadline()
			got <- seen{quark.ActivationFrom(ctx) != nil, quark.ActivationFrom(kept) != nil, d, kept.Value(traceKey{})}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithPropagators(valuePropagator{"trace", traceKey{}}))
		ref := testactors.NewProbeRef(s, quark.StringKey("keeper"))
		call := func(step, trace string, deadline time.Time) {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if _, err := ref.Run(context.WithValue(ctx, traceKey{}, trace), step); err != nil {
				t.Fatal(err)
			}
		}
		first := time.Now().Add(time.Hour)
		call("keep", "span-1", first)
		for i := range 10 {
			call("check", fmt.Sprint("span-", i+2), first.Add(time.Duration(i+1)*time.Minute))
			v := <-got
			if !v.live || v.keptLive {
				t.Fatalf("call %d: its own context a live link %v, the kept one %v; want true, false", i, v.live, v.keptLive)
			}
			if !v.keptDeadline.Equal(first) || v.keptTrace != "span-1" {
				t.Fatalf("call %d: the kept context has deadline %v and trace %v, want its own call's %v and span-1", i, v.keptDeadline, v.keptTrace, first)
			}
		}
	})
}

func TestDefaultCallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan time.Time, 1)
		h := &hooks{run: func(ctx context.Context, _ *probe, step string) (string, error) {
			d, _ := ctx.Deadline()
			got <- d
			if step == "wait" {
				<-ctx.Done()
				return "", ctx.Err()
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithCallTimeout(5*time.Second))
		ref := testactors.NewProbeRef(s, quark.StringKey("t"))
		start := time.Now()
		if _, err := ref.Run(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		if d := <-got; !d.Equal(start.Add(5 * time.Second)) {
			t.Fatalf("deadline %v, want start+5s", d.Sub(start))
		}
		_, err := ref.Run(context.Background(), "wait")
		<-got
		if quark.CodeOf(err) != quark.CodeTimeout {
			t.Fatalf("err = %v, want CodeTimeout", err)
		}
		if el := time.Since(start); el != 5*time.Second {
			t.Fatalf("timed out after %v, want 5s", el)
		}
	})
}

func TestTimeoutDropsLateResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		finished := make(chan struct{})
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "slow" {
				<-release // ignores ctx on purpose
				defer close(finished)
				return "late", nil
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(false))
		ref := testactors.NewProbeRef(s, quark.StringKey("late"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		got, err := ref.Run(ctx, "slow")
		if quark.CodeOf(err) != quark.CodeTimeout || got != "" {
			t.Fatalf("Run = %q, %v; want a timeout and no result", got, err)
		}
		if el := time.Since(start); el != time.Second {
			t.Fatalf("returned after %v, want the 1s deadline", el)
		}
		close(release)
		<-finished
		synctest.Wait()
		if n := s.Stats().LateResults; n != 1 {
			t.Fatalf("late results = %d, want 1", n)
		}
		// The activation goes on serving.
		if got, err := ref.Run(context.Background(), "next"); err != nil || got != "next" {
			t.Fatalf("after a late result: %q, %v", got, err)
		}
	})
}

func TestExpiredQueuedCallDoesNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, release, ran := blockAndExpire()
		s := newSilo(t, registerProbes(h))
		ref := testactors.NewProbeRef(s, quark.StringKey("q"))
		done := make(chan error)
		go func() { _, err := ref.Run(context.Background(), "block"); done <- err }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := ref.Run(ctx, "expire"); quark.CodeOf(err) != quark.CodeTimeout {
			t.Fatalf("queued call: %v, want timeout", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if ran.Load() != 0 {
			t.Fatal("a call whose caller had timed out still ran")
		}
		if n := s.Stats().Expired; n != 1 {
			t.Fatalf("expired = %d, want 1", n)
		}
	})
}

// TestEndedContextCallDoesNotRun: a call made with a context that has
// already ended fails at once with that context's code and runs nothing,
// even when its actor is idle and the call would run on the fast path.
func TestEndedContextCallDoesNotRun(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		var ran atomic.Int64
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
			ran.Add(1)
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
		ref := testactors.NewProbeRef(s, quark.StringKey("idle"))
		if _, err := ref.Run(context.Background(), "activate"); err != nil {
			t.Fatal(err)
		}
		past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancelPast()
		gone, cancelGone := context.WithCancel(context.Background())
		cancelGone()
		for _, c := range []struct {
			name string
			ctx  context.Context
			want quark.Code
		}{{"deadline passed", past, quark.CodeTimeout}, {"cancelled", gone, quark.CodeCanceled}} {
			if _, err := ref.Run(c.ctx, c.name); quark.CodeOf(err) != c.want {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if n := ran.Load(); n != 1 {
			t.Errorf("the method ran %d times, want once (the activating call only)", n)
		}
	})
}

func TestCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "block" {
				<-release
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(false))
		ref := testactors.NewProbeRef(s, quark.StringKey("c"))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { synctest.Wait(); cancel() }()
		if _, err := ref.Run(ctx, "block"); quark.CodeOf(err) != quark.CodeCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want CodeCanceled wrapping context.Canceled", err)
		}
		close(release)
	})
}

func TestMailboxBound(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	var told atomic.Int64
	h := &hooks{
		run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "block" {
				once.Do(func() { close(entered) })
				<-release
			}
			return step, nil
		},
		tell: func(context.Context, *probe, string) error { told.Add(1); return nil },
	}
	s := newSilo(t, registerProbes(h, quark.WithMailboxSize(2)))
	ref := testactors.NewProbeRef(s, quark.StringKey("m"))
	done := make(chan error)
	go func() { _, err := ref.Run(context.Background(), "block"); done <- err }()
	<-entered
	ctx := context.Background()
	for i := range 2 {
		if err := ref.Tell(ctx, "queued"); err != nil {
			t.Fatalf("tell %d: %v", i, err)
		}
	}
	if err := ref.Tell(ctx, "dropped"); quark.CodeOf(err) != quark.CodeOverloaded {
		t.Fatalf("one-way to a full mailbox: %v, want CodeOverloaded", err)
	}
	if _, err := ref.Run(ctx, "rejected"); quark.CodeOf(err) != quark.CodeOverloaded {
		t.Fatalf("call to a full mailbox: %v, want CodeOverloaded", err)
	}
	if n := s.Stats().DroppedOneWay; n != 1 {
		t.Fatalf("dropped one-way = %d, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Space frees as the mailbox drains.
	waitFor(t, "queued messages to run", func() bool { return told.Load() == 2 })
	if got, err := ref.Run(ctx, "after"); err != nil || got != "after" {
		t.Fatalf("after drain: %q, %v", got, err)
	}
}

func TestOneWayRunsInOrder(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	all := make(chan struct{})
	h := &hooks{tell: func(_ context.Context, _ *probe, step string) error {
		mu.Lock()
		seen = append(seen, step)
		if len(seen) == 100 {
			close(all)
		}
		mu.Unlock()
		return nil
	}}
	s := newSilo(t, registerProbes(h))
	ref := testactors.NewProbeRef(s, quark.StringKey("o"))
	var want []string
	for i := range 100 {
		step := string(rune('a'+i%26)) + string(rune('0'+i/26))
		want = append(want, step)
		if err := ref.Tell(context.Background(), step); err != nil {
			t.Fatal(err)
		}
	}
	<-all
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("one-way messages ran out of order:\n%v", seen)
	}
}
