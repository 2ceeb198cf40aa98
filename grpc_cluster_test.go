package quark_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/transport/grpctransport"
)

// The static cluster and the client over the gRPC transport on loopback,
// in one process: every actor answers from one home, errors keep their
// sentinel, one-way messages arrive.
func TestStaticClusterOverGRPC(t *testing.T) {
	var lns []net.Listener
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	var silos []*quark.Silo
	for i, ln := range lns {
		name := addrs[i]
		h := &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			if step == "booked" {
				return "", fmt.Errorf("at %s: %w", name, errBooked)
			}
			return name, nil
		}}
		silos = append(silos, newSilo(t, registerProbes(h),
			quark.WithTransport(grpctransport.New(grpctransport.WithListener(ln), grpctransport.WithLogger(quiet))),
			quark.WithListenAddress(addrs[i]), quark.WithStaticCluster(addrs...)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := quark.NewClient(ctx, quark.WithTransport(grpctransport.New(grpctransport.WithLogger(quiet))),
		quark.WithGateways(addrs...), quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	seen := map[string]bool{}
	for k := range 30 {
		key := quark.StringKey(fmt.Sprintf("k%d", k))
		viaClient, err := testactors.NewProbeRef(client, key).Run(ctx, "where")
		if err != nil {
			t.Fatal(err)
		}
		viaSilo, err := testactors.NewProbeRef(silos[k%2], key).Run(ctx, "where")
		if err != nil {
			t.Fatal(err)
		}
		if viaClient != viaSilo {
			t.Fatalf("%s answers from %s through the client and from %s through a silo", key, viaClient, viaSilo)
		}
		seen[viaClient] = true
	}
	if len(seen) != 2 {
		t.Fatalf("actors live on %v only", seen)
	}
	if _, err := testactors.NewProbeRef(client, quark.StringKey("k1")).Run(ctx, "booked"); !errors.Is(err, errBooked) {
		t.Fatalf("sentinel over gRPC: %v", err)
	}
	var total int64
	for _, s := range silos {
		total += s.Stats().Activations
	}
	if total != 30 {
		t.Fatalf("%d activations for 30 actors", total)
	}
}

// A silo listening at 127.0.0.1:0 reports the port it was given after
// Start, and a client reaches it there.
func TestListenAddressReportsTheBoundPort(t *testing.T) {
	s := newSilo(t, registerProbes(&hooks{}),
		quark.WithTransport(grpctransport.New(grpctransport.WithLogger(quiet))),
		quark.WithListenAddress("127.0.0.1:0"))
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q (%v), want 127.0.0.1 and the port picked", s.Addr(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := quark.NewClient(ctx, quark.WithTransport(grpctransport.New(grpctransport.WithLogger(quiet))),
		quark.WithGateways(s.Addr()), quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if got, err := testactors.NewProbeRef(client, quark.IntKey(1)).Run(ctx, "hi"); err != nil || got != "hi" {
		t.Fatalf("call through Addr: %q, %v", got, err)
	}
	if s2, _ := quark.NewSilo(); s2.Addr() != "" {
		t.Fatalf("a silo that does not listen has address %q", s2.Addr())
	}
}
