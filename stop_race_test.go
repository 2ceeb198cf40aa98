package quark_test

import (
	"context"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// TestNothingActivatesAfterStopReturned: a call admitted while the silo ran
// but routed only after Stop returned must not create an activation (which
// would run the factory and the method with the silo stopped, and leave
// Stats.Activations above zero). It fails with CodeUnavailable. The call is
// held inside the routing step until Stop has returned.
func TestNothingActivatesAfterStopReturned(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		name := "actor"
		if stateless {
			name = "stateless worker"
		}
		t.Run(name, func(t *testing.T) {
			h := &hooks{}
			s, err := quark.NewSilo(quark.WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			registerProbes(h)(s)
			routing := make(chan struct{})
			proceed := make(chan struct{})
			quark.OnRoute(s, func(target quark.ID, _ string) {
				if target.Key == quark.StringKey("late") {
					close(routing)
					<-proceed
				}
			})
			ctx := context.Background()
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				var err error
				if stateless {
					_, err = testactors.NewStatelessProbeRef(s, quark.StringKey("late")).Run(ctx, "x")
				} else {
					_, err = testactors.NewProbeRef(s, quark.StringKey("late")).Run(ctx, "x")
				}
				done <- err
			}()
			<-routing // admitted, not yet at an activation
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := s.Stop(stopCtx); err != nil {
				t.Fatal(err)
			}
			close(proceed)
			err = <-done
			if quark.CodeOf(err) != quark.CodeUnavailable {
				t.Fatalf("a call routed after Stop returned: %v, want CodeUnavailable", err)
			}
			if n := h.created.Load(); n != 0 {
				t.Fatalf("the factory ran %d times after Stop returned", n)
			}
			if n := s.Stats().Activations; n != 0 {
				t.Fatalf("%d activations after Stop returned", n)
			}
		})
	}
}
