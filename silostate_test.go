package quark_test

import (
	"context"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// TestCallErrorNamesSiloState: a call refused for the silo's state says
// which state, and names the silo so that the default name "silo" still
// reads as a name.
func TestCallErrorNamesSiloState(t *testing.T) {
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	h := &hooks{deactivate: func(*probe, quark.DeactivationReason) {
		close(entered)
		<-release
	}}
	s, err := quark.NewSilo(quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	registerProbes(h)(s)
	ref := testactors.NewProbeRef(s, quark.StringKey("p"))
	call := func() string {
		t.Helper()
		_, err := ref.Run(ctx, "x")
		if quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("call: %v, want CodeUnavailable", err)
		}
		return err.Error()
	}
	want := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("error = %q\nwant    %q", got, want)
		}
	}

	want(call(), `quark unavailable: call testactors.Probe/p.Run: silo "silo" is not started`)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Run(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	// Stop blocks in the probe's OnDeactivate: the silo is stopping.
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stopped <- s.Stop(ctx)
	}()
	<-entered
	want(call(), `quark unavailable: call testactors.Probe/p.Run: silo "silo" is stopping`)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	want(call(), `quark unavailable: call testactors.Probe/p.Run: silo "silo" is stopped`)
}
