package quark_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// A queued call without a deadline of its own fails with CodeTimeout at the
// silo's default deadline, to the nanosecond of the bubble's clock; still
// queued then, it never runs and is counted expired.
func TestQueuedCallDefaultDeadline(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		synctest.Test(t, func(t *testing.T) {
			h, release, ran := blockAndExpire()
			s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(5*time.Second))
			ref := testactors.NewProbeRef(s, quark.StringKey("d"))
			done := make(chan error)
			go func() {
				// A deadline of its own: it outlasts the default.
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				_, err := ref.Run(ctx, "block")
				done <- err
			}()
			synctest.Wait()
			start := time.Now()
			if _, err := ref.Run(context.Background(), "expire"); quark.CodeOf(err) != quark.CodeTimeout {
				t.Fatalf("queued call: %v, want CodeTimeout", err)
			}
			if el := time.Since(start); el != 5*time.Second {
				t.Fatalf("timed out after %v, want the 5s default", el)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if ran.Load() != 0 {
				t.Fatal("a call whose caller had timed out still ran")
			}
			if st := s.Stats(); st.Expired != 1 || st.LateResults != 0 {
				t.Fatalf("expired %d, late %d; want 1 and 0", st.Expired, st.LateResults)
			}
			if got, err := ref.Run(context.Background(), "next"); err != nil || got != "next" {
				t.Fatalf("after the timeout: %q, %v", got, err)
			}
		})
	})
}

// A queued call that is running when the default deadline passes fails
// with CodeTimeout then; its result, when it comes, is counted late and
// dropped.
func TestQueuedCallDefaultDeadlineWhileRunning(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		synctest.Test(t, func(t *testing.T) {
			first, second := make(chan struct{}), make(chan struct{})
			finished := make(chan struct{})
			h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
				switch step {
				case "block":
					<-first
				case "slow":
					<-second // ignores ctx on purpose
					close(finished)
					return "late", nil
				}
				return step, nil
			}}
			s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCallTimeout(5*time.Second))
			ref := testactors.NewProbeRef(s, quark.StringKey("r"))
			done := make(chan error)
			go func() { _, err := ref.Run(context.Background(), "block"); done <- err }()
			synctest.Wait()
			// "slow" is queued behind "block", then starts on the drainer
			// once "block" returns.
			go func() { synctest.Wait(); close(first) }()
			start := time.Now()
			got, err := ref.Run(context.Background(), "slow")
			if quark.CodeOf(err) != quark.CodeTimeout || got != "" {
				t.Fatalf("Run = %q, %v; want a timeout and no result", got, err)
			}
			if el := time.Since(start); el != 5*time.Second {
				t.Fatalf("timed out after %v, want the 5s default", el)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			close(second)
			<-finished
			synctest.Wait()
			if st := s.Stats(); st.LateResults != 1 || st.Expired != 0 {
				t.Fatalf("late %d, expired %d; want 1 and 0", st.LateResults, st.Expired)
			}
			if got, err := ref.Run(context.Background(), "next"); err != nil || got != "next" {
				t.Fatalf("after a late result: %q, %v", got, err)
			}
		})
	})
}

// The default deadline of a queued call is kept after its silo's Stop
// gave up waiting for it, and the silo's deadline timer is disarmed once
// no call is left to time.
func TestDefaultDeadlineOutlivesStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "block" {
				<-release // ignores ctx on purpose
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(false), quark.WithCallTimeout(5*time.Second))
		ref := testactors.NewProbeRef(s, quark.StringKey("s"))
		if _, err := ref.Run(context.Background(), "warm"); err != nil {
			t.Fatal(err)
		}
		if !quark.DeadlineTimerArmed(s) {
			t.Fatal("a queued call with the default deadline armed no deadline timer")
		}
		start := time.Now()
		done := make(chan error)
		go func() { _, err := ref.Run(context.Background(), "block"); done <- err }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.Stop(ctx); quark.CodeOf(err) != quark.CodeTimeout {
			t.Fatalf("stop with a method blocked: %v, want CodeTimeout", err)
		}
		if !quark.DeadlineTimerArmed(s) {
			t.Fatal("deadline timer disarmed while a call still waits for its deadline")
		}
		if err := <-done; quark.CodeOf(err) != quark.CodeTimeout {
			t.Fatalf("call waiting across Stop: %v, want CodeTimeout", err)
		}
		if el := time.Since(start); el != 5*time.Second {
			t.Fatalf("timed out after %v, want the 5s default", el)
		}
		if quark.DeadlineTimerArmed(s) {
			t.Fatal("deadline timer still armed on a stopped silo with no call waiting")
		}
		close(release)
		ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		if err := s.Stop(ctx2); err != nil {
			t.Fatal(err)
		}
		if quark.DeadlineTimerArmed(s) {
			t.Fatal("deadline timer armed after Stop")
		}
	})
}

// A drainer that ran out of messages does not stay behind: once every
// goroutine of the bubble is blocked, none lingers on an idle activation,
// which deactivates at once when asked.
func TestIdleActivationKeepsNoLingeringDrainer(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		synctest.Test(t, func(t *testing.T) {
			var act atomic.Pointer[quark.Activation]
			deactivated := make(chan quark.DeactivationReason, 1)
			h := &hooks{
				run: func(_ context.Context, p *probe, step string) (string, error) {
					act.Store(p.a)
					return step, nil
				},
				deactivate: func(_ *probe, r quark.DeactivationReason) { deactivated <- r },
			}
			s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline))
			ref := testactors.NewProbeRef(s, quark.StringKey("l"))
			for range 10 {
				if _, err := ref.Run(context.Background(), "x"); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			a := act.Load()
			if quark.DrainerLingers(a) {
				t.Fatal("a drainer lingers on an idle activation")
			}
			a.DeactivateOnIdle()
			select {
			case r := <-deactivated:
				if r != quark.ReasonRequested {
					t.Fatalf("reason %v", r)
				}
			default:
				t.Fatal("an idle activation did not deactivate at once")
			}
		})
	})
}
