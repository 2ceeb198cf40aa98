package quark_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/quarktest"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/transport"
)

// errBooked is a sentinel an actor returns, registered so that it keeps its
// identity across the wire.
var errBooked = errors.New("slot already booked")

func init() { codec.RegisterError("github.com/quarkgo/quark_test.errBooked", errBooked) }

// memCluster is a static cluster of silos on one in-memory network, each
// hosting the probe types with its own hooks.
type memCluster struct {
	net   *quarktest.Network
	silos []*quark.Silo
	hooks []*hooks
	names []string
}

// newMemCluster starts n silos named s1..sn; hooksFor gives silo i's probe
// behaviour (nil: echo). Everything is stopped at cleanup.
func newMemCluster(t *testing.T, n int, hooksFor func(i int) *hooks, opts ...quark.SiloOption) *memCluster {
	t.Helper()
	c := &memCluster{net: quarktest.NewNetwork(quarktest.NewClock(time.Unix(0, 0)))}
	for i := range n {
		c.names = append(c.names, fmt.Sprintf("s%d", i+1))
	}
	t.Cleanup(func() { c.net.Close() })
	for i, name := range c.names {
		h := &hooks{}
		if hooksFor != nil {
			h = hooksFor(i)
		}
		c.hooks = append(c.hooks, h)
		o := append([]quark.SiloOption{
			quark.WithName(name),
			quark.WithTransport(c.net.Host(name)),
			quark.WithListenAddress(name),
			quark.WithStaticCluster(c.names...),
		}, opts...)
		c.silos = append(c.silos, newSilo(t, registerProbes(h), o...))
	}
	return c
}

// whereHooks answers Run with the name of the silo the probe runs on.
func whereHooks(names ...string) func(i int) *hooks {
	return func(i int) *hooks {
		return &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) { return names[i], nil }}
	}
}

// keyOn returns a key whose probe lives on silo i (asked through silo 0).
func (c *memCluster) keyOn(t *testing.T, i int) string {
	t.Helper()
	for k := range 1000 {
		key := fmt.Sprintf("k%d", k)
		if c.home(t, key) == c.names[i] {
			return key
		}
	}
	t.Fatalf("no key lives on %s", c.names[i])
	return ""
}

// home asks where key's probe lives, through silo 0.
func (c *memCluster) home(t *testing.T, key string) string {
	t.Helper()
	got, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(key)).Run(context.Background(), "where")
	if err != nil {
		t.Fatalf("run %s: %v", key, err)
	}
	return got
}

// Every actor lives on one silo of the static cluster, whichever silo calls
// it, and each silo is home to some.
func TestStaticClusterHomesEachActorOnce(t *testing.T) {
	names := []string{"s1", "s2", "s3"}
	c := newMemCluster(t, 3, whereHooks(names...))
	ctx := context.Background()
	const keys = 60
	homes := map[string]int{}
	for k := range keys {
		key := quark.StringKey(fmt.Sprintf("acct-%d", k))
		var first string
		for i, s := range c.silos {
			got, err := testactors.NewProbeRef(s, key).Run(ctx, "where")
			if err != nil {
				t.Fatalf("%s from %s: %v", key, names[i], err)
			}
			if first == "" {
				first = got
			} else if got != first {
				t.Fatalf("%s runs on %s when called from s1 and on %s from %s", key, first, got, names[i])
			}
		}
		homes[first]++
	}
	var total int64
	for i, s := range c.silos {
		if homes[names[i]] == 0 {
			t.Errorf("%s is home to none of %d actors", names[i], keys)
		}
		total += s.Stats().Activations
	}
	if total != keys {
		t.Fatalf("%d activations in the cluster for %d actors", total, keys)
	}
}

// An actor's error arrives with its code, its message and the identity of a
// registered sentinel; a panic arrives as CodePanic.
func TestRemoteErrorsKeepCodeMessageAndSentinel(t *testing.T) {
	run := func(ctx context.Context, p *probe, step string) (string, error) {
		switch step {
		case "booked":
			return "", fmt.Errorf("book 10:00: %w", errBooked)
		case "conflict":
			return "", quark.Errorf(quark.CodeConflict, "etag moved")
		case "panic":
			panic("boom")
		}
		return strings.ToUpper(step), nil
	}
	c := newMemCluster(t, 2, func(int) *hooks { return &hooks{run: run} })
	ref := testactors.NewProbeRef(c.silos[0], quark.StringKey(c.keyOnByCount(t, 1)))
	ctx := context.Background()
	if got, err := ref.Run(ctx, "ok"); err != nil || got != "OK" {
		t.Fatalf("Run(ok) = %q, %v", got, err)
	}
	_, err := ref.Run(ctx, "booked")
	if !errors.Is(err, errBooked) || !strings.Contains(err.Error(), "book 10:00") {
		t.Fatalf("Run(booked) = %v; want errBooked with its message", err)
	}
	if _, err := ref.Run(ctx, "conflict"); quark.CodeOf(err) != quark.CodeConflict || !strings.Contains(err.Error(), "etag moved") {
		t.Fatalf("Run(conflict) = %v; want CodeConflict", err)
	}
	if _, err := ref.Run(ctx, "panic"); quark.CodeOf(err) != quark.CodePanic {
		t.Fatalf("Run(panic) = %v; want CodePanic", err)
	}
}

// keyOnByCount returns a key homed on silo i, found by which silo's
// activation count grows (for hooks that do not say where they run).
func (c *memCluster) keyOnByCount(t *testing.T, i int) string {
	t.Helper()
	return c.keyOnByCountFrom(t, i, "c")
}

// keyOnByCountFrom is keyOnByCount over keys named prefix0, prefix1, ...
func (c *memCluster) keyOnByCountFrom(t *testing.T, i int, prefix string) string {
	t.Helper()
	for k := range 1000 {
		key := fmt.Sprintf("%s%d", prefix, k)
		before := c.silos[i].Stats().Activations
		if _, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(key)).Peek(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		if c.silos[i].Stats().Activations > before {
			return key
		}
	}
	t.Fatalf("no key lives on %s", c.names[i])
	return ""
}

// isReply matches reply frames.
func isReply(frame []byte) bool { k, _ := wire.FrameKind(frame); return k == wire.KindReply }

// isCall matches call frames (one-way messages included).
func isCall(frame []byte) bool { k, _ := wire.FrameKind(frame); return k == wire.KindCall }

// A call whose reply is lost fails with CodeTimeout at its deadline; the
// reply arriving later is ignored (counted as late), and the next call
// works.
func TestLostReplyTimesOutAndLateReplyIsIgnored(t *testing.T) {
	c := newMemCluster(t, 2, whereHooks("s1", "s2"))
	key := c.keyOn(t, 1)
	ref := testactors.NewProbeRef(c.silos[0], quark.StringKey(key))

	c.net.Delay("s2", "s1", time.Hour) // the reply is held until the fake clock moves
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ref.Run(ctx, "x"); quark.CodeOf(err) != quark.CodeTimeout {
		t.Fatalf("call whose reply is held: %v, want CodeTimeout", err)
	}
	c.net.Delay("s2", "s1", 0)
	c.net.Clock().Advance(time.Hour) // the held reply arrives now
	waitFor(t, "the late reply", func() bool { return c.silos[0].Stats().LateResults == 1 })
	if got, err := ref.Run(context.Background(), "x"); err != nil || got != "s2" {
		t.Fatalf("next call: %q, %v", got, err)
	}

	c.net.Drop("s2", "s1", isReply, 1) // the reply is lost for good
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ref.Run(ctx, "x"); quark.CodeOf(err) != quark.CodeTimeout {
		t.Fatalf("call whose reply is dropped: %v, want CodeTimeout", err)
	}
}

// A broken connection fails the calls in flight on it with CodeUnavailable
// at once, not at their deadline; the next call connects again.
func TestBrokenConnectionFailsCallsAtOnce(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	run := func(ctx context.Context, p *probe, step string) (string, error) {
		if step == "block" {
			entered <- struct{}{}
			<-release
		}
		return step, nil
	}
	c := newMemCluster(t, 2, func(int) *hooks { return &hooks{run: run} })
	defer close(release)
	key := c.keyOnByCount(t, 1)
	ref := testactors.NewProbeRef(c.silos[0], quark.StringKey(key))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := ref.Run(ctx, "block"); done <- err }()
	<-entered
	c.net.Break("s1", "s2")
	if err := <-done; quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("call in flight on a broken connection: %v, want CodeUnavailable", err)
	}
	// Another actor on s2 (the first still holds its turn).
	if got, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(c.keyOnByCountFrom(t, 1, "other"))).Run(context.Background(), "again"); err != nil || got != "again" {
		t.Fatalf("call after the break: %q, %v", got, err)
	}
}

// A partition makes calls for actors homed across it fail with
// CodeUnavailable, while actors homed on the caller's side keep working;
// healed, the cluster serves every actor again. (The transport's keepalive
// ends a connection that stops carrying frames; here Break stands for it.)
func TestPartitionFailsCallsAcrossIt(t *testing.T) {
	c := newMemCluster(t, 2, whereHooks("s1", "s2"))
	local, far := c.keyOn(t, 0), c.keyOn(t, 1)
	before := c.silos[0].Stats().Activations
	c.net.Partition("s1", "s2")
	c.net.Break("s1", "s2")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		if _, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(far)).Run(ctx, "x"); quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("call across the partition: %v, want CodeUnavailable", err)
		}
	}
	if got, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(local)).Run(ctx, "x"); err != nil || got != "s1" {
		t.Fatalf("local call during the partition: %q, %v", got, err)
	}
	if got := c.silos[0].Stats().Activations; got != before {
		t.Fatalf("s1 has %d activations, %d before; the far actor must not be activated here", got, before)
	}
	c.net.Heal("s1", "s2")
	waitFor(t, "the far actor after healing", func() bool {
		got, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(far)).Run(ctx, "x")
		return err == nil && got == "s2"
	})
}

// A duplicated frame never runs a call, or a one-way message, twice.
func TestDuplicatedFramesRunOnce(t *testing.T) {
	var runs, tells atomic.Int64
	h := func(int) *hooks {
		return &hooks{
			run:  func(ctx context.Context, p *probe, step string) (string, error) { runs.Add(1); return step, nil },
			tell: func(ctx context.Context, p *probe, step string) error { tells.Add(1); return nil },
		}
	}
	c := newMemCluster(t, 2, h)
	key := c.keyOnByCount(t, 1)
	ref := testactors.NewProbeRef(c.silos[0], quark.StringKey(key))
	ctx := context.Background()
	runs.Store(0)
	c.net.Duplicate("s1", "s2", isCall, 3)
	if _, err := ref.Run(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := ref.Tell(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Run(ctx, "c"); err != nil { // after the duplicate of b, on one connection
		t.Fatal(err)
	}
	waitFor(t, "the duplicates", func() bool { return c.silos[1].Stats().DuplicateCalls == 3 })
	if runs.Load() != 2 || tells.Load() != 1 {
		t.Fatalf("%d runs and %d tells for 2 calls and 1 one-way message sent twice each", runs.Load(), tells.Load())
	}
}

// A caller cancelling mid-call cancels the remote method's context, and the
// call returns CodeCanceled.
func TestCancellationReachesTheRemoteMethod(t *testing.T) {
	entered := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	run := func(ctx context.Context, p *probe, step string) (string, error) {
		if step == "wait" {
			entered <- struct{}{}
			<-ctx.Done()
			cancelled <- ctx.Err()
			return "", ctx.Err()
		}
		return step, nil
	}
	c := newMemCluster(t, 2, func(int) *hooks { return &hooks{run: run} })
	key := c.keyOnByCount(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(key)).Run(ctx, "wait")
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; quark.CodeOf(err) != quark.CodeCanceled {
		t.Fatalf("cancelled call: %v, want CodeCanceled", err)
	}
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("the remote method's ctx ended with %v, want context.Canceled", err)
	}
}

// A call chain that comes back to an actor waiting in it, across silos,
// fails with CodeDeadlock at once: A on s1 calls B on s2, which calls A.
func TestCycleAcrossSilosIsDeadlock(t *testing.T) {
	var a, b string
	run := func(ctx context.Context, p *probe, step string) (string, error) {
		switch step {
		case "a":
			return testactors.NewProbeRef(p.a, quark.StringKey(b)).Run(ctx, "b")
		case "b":
			return testactors.NewProbeRef(p.a, quark.StringKey(a)).Run(ctx, "back")
		}
		return step, nil
	}
	c := newMemCluster(t, 2, func(int) *hooks { return &hooks{run: run} })
	a, b = c.keyOnByCount(t, 0), c.keyOnByCount(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(a)).Run(ctx, "a")
	if quark.CodeOf(err) != quark.CodeDeadlock {
		t.Fatalf("A -> B -> A across silos: %v, want CodeDeadlock", err)
	}
}

// A client reaches actors on every silo through the same generated
// references; errors keep their sentinel; Close fails later calls.
func TestClientCallsActorsOnEverySilo(t *testing.T) {
	names := []string{"s1", "s2"}
	c := newMemCluster(t, 2, func(i int) *hooks {
		return &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
			if step == "booked" {
				return "", errBooked
			}
			return names[i], nil
		}}
	})
	ctx := context.Background()
	cl, err := quark.NewClient(ctx, quark.WithTransport(c.net.Host("c1")), quark.WithGateways("s2"), quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for k := range 40 {
		key := quark.StringKey(fmt.Sprintf("k%d", k))
		got, err := testactors.NewProbeRef(cl, key).Run(ctx, "where")
		if err != nil {
			t.Fatal(err)
		}
		if want := c.home(t, key.String()); got != want {
			t.Fatalf("%s: client reached %s, silos say %s", key, got, want)
		}
		seen[got] = true
	}
	if !seen["s1"] || !seen["s2"] {
		t.Fatalf("client reached only %v", seen)
	}
	if _, err := testactors.NewProbeRef(cl, quark.StringKey("k1")).Run(ctx, "booked"); !errors.Is(err, errBooked) {
		t.Fatalf("sentinel through the client: %v", err)
	}
	if err := testactors.NewProbeRef(cl, quark.StringKey("k2")).Tell(ctx, "x"); err != nil {
		t.Fatalf("one-way through the client: %v", err)
	}
	cl.Close()
	if _, err := testactors.NewProbeRef(cl, quark.StringKey("k1")).Run(ctx, "x"); quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("call after Close: %v, want CodeUnavailable", err)
	}
}

// A client fails over: with its first gateway down it connects through
// another, and calls for actors on a silo that is down fail with
// CodeUnavailable while the others work.
func TestClientWithASiloDown(t *testing.T) {
	c := newMemCluster(t, 2, whereHooks("s1", "s2"))
	down, up := c.keyOn(t, 0), c.keyOn(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.silos[0].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	cl, err := quark.NewClient(ctx, quark.WithTransport(c.net.Host("c1")), quark.WithGateways("s1", "s2"), quark.WithLogger(quiet))
	if err != nil {
		t.Fatalf("client with its first gateway down: %v", err)
	}
	defer cl.Close()
	if got, err := testactors.NewProbeRef(cl, quark.StringKey(up)).Run(ctx, "x"); err != nil || got != "s2" {
		t.Fatalf("actor on the live silo: %q, %v", got, err)
	}
	for range 3 {
		if _, err := testactors.NewProbeRef(cl, quark.StringKey(down)).Run(ctx, "x"); quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("actor on the stopped silo: %v, want CodeUnavailable", err)
		}
	}
	if got := c.silos[1].Stats().Activations; got != 1 {
		t.Fatalf("s2 has %d activations; the stopped silo's actor must not move there", got)
	}
}

// A process of another cluster, or speaking another protocol version, is
// refused with the error the docs name, on both sides.
func TestForeignPeersAreRefused(t *testing.T) {
	c := newMemCluster(t, 1, nil)
	ctx := context.Background()
	_, err := quark.NewClient(ctx, quark.WithTransport(c.net.Host("c1")), quark.WithGateways("s1"),
		quark.WithClusterName("other"), quark.WithLogger(quiet))
	if !errors.Is(err, quark.ErrForeignCluster) || quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("client of another cluster: %v, want ErrForeignCluster", err)
	}

	// A peer of another version, speaking raw frames.
	got := make(chan []byte, 4)
	closed := make(chan error, 1)
	h := &frameSink{frames: got, closed: closed}
	conn, err := c.net.Host("raw").Dial(ctx, "s1", h)
	if err != nil {
		t.Fatal(err)
	}
	hello, err := wire.AppendHello(nil, &wire.Hello{Version: wire.Version + 1, Cluster: "quark", Epoch: 1, Role: wire.RoleClient})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(hello); err != nil {
		t.Fatal(err)
	}
	var r wire.Refuse
	if err := wire.ReadRefuse(<-got, &r); err != nil {
		t.Fatalf("answer to a hello of another version: %v", err)
	}
	why, _, derr := codec.ReadError([]byte(r.Message))
	if derr != nil || !errors.Is(why, quark.ErrProtocolVersion) || !strings.Contains(why.Error(), "version 2") {
		t.Fatalf("refusal %v (%v), want ErrProtocolVersion naming version 2", why, derr)
	}
	<-closed // and the silo closed the connection
}

// frameSink is a transport.Handler that hands frames to a channel.
type frameSink struct {
	frames chan []byte
	closed chan error
}

func (f *frameSink) Frame(b []byte) { f.frames <- append([]byte(nil), b...) }
func (f *frameSink) Closed(err error) {
	f.closed <- err
}

var _ transport.Handler = (*frameSink)(nil)

// Malformed and oversized frames fail the call they carried (CodeCorrupt,
// CodeInvalidArgument) and never take the silo down; a frame that breaks
// the protocol closes its connection.
func TestBadFramesFailTheirCallOnly(t *testing.T) {
	c := newMemCluster(t, 1, nil, quark.WithMaxMessageSize(1024))
	ctx := context.Background()
	got := make(chan []byte, 16)
	closed := make(chan error, 1)
	conn, err := c.net.Host("raw").Dial(ctx, "s1", &frameSink{frames: got, closed: closed})
	if err != nil {
		t.Fatal(err)
	}
	send := func(b []byte) {
		t.Helper()
		if err := conn.Send(b); err != nil {
			t.Fatal(err)
		}
	}
	hello, _ := wire.AppendHello(nil, &wire.Hello{Version: wire.Version, Cluster: "quark", Epoch: 1, Role: wire.RoleClient})
	send(hello)
	var h wire.Hello
	if err := wire.ReadHello(<-got, &h); err != nil || h.Addr != "s1" {
		t.Fatalf("hello: %+v, %v", h, err)
	}
	key, _ := quark.StringKey("k").MarshalBinary()
	call := func(id uint64, args []byte) []byte {
		b, err := wire.AppendCall(nil, &wire.Call{ID: id, Type: testactors.ProbeType.Name, Key: key,
			Method: testactors.ProbeType.Methods[0].ID, Context: wire.CallContext{HasDeadline: true, Remaining: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		return append(b, args...)
	}
	expect := func(id uint64, code quark.Code) {
		t.Helper()
		var r wire.Reply
		if err := wire.ReadReply(<-got, &r); err != nil || r.ID != id {
			t.Fatalf("reply: %+v, %v", r, err)
		}
		e, _, _ := codec.ReadError(r.Error)
		if quark.CodeOf(e) != code {
			t.Fatalf("call %d: %v, want %v", id, e, code)
		}
	}
	send(call(1, []byte{0xc1}))                 // malformed arguments
	expect(1, quark.CodeCorrupt)                //
	send(call(2, make([]byte, 2048)))           // arguments over the limit
	expect(2, quark.CodeInvalidArgument)        //
	send(append(call(3, nil)[:12], 0xff, 0xff)) // a call frame cut short
	expect(3, quark.CodeCorrupt)                //
	bad, _ := wire.AppendCall(nil, &wire.Call{ID: 4, Type: "nope.Nope", Key: key})
	send(bad)
	expect(4, quark.CodeNotFound)
	select {
	case err := <-closed:
		t.Fatalf("connection closed after bad calls: %v", err)
	default:
	}
	send([]byte{0xee}) // not a frame at all: the connection goes
	<-closed
	// The silo still serves.
	if got, err := testactors.NewProbeRef(c.silos[0], quark.StringKey("k")).Run(ctx, "still"); err != nil || got != "still" {
		t.Fatalf("after bad frames: %q, %v", got, err)
	}
}

// Arguments over the limit fail the call on the caller's side, before
// anything is sent.
func TestOversizedCallFailsAtTheCaller(t *testing.T) {
	c := newMemCluster(t, 2, nil, quark.WithMaxMessageSize(1024))
	key := c.keyOnByCount(t, 1)
	_, err := testactors.NewProbeRef(c.silos[0], quark.StringKey(key)).Run(context.Background(), strings.Repeat("x", 4096))
	if quark.CodeOf(err) != quark.CodeInvalidArgument || !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("oversized call: %v, want CodeInvalidArgument wrapping codec.ErrTooLarge", err)
	}
}

// Two silos given different member lists refuse each other, on both sides,
// rather than risk two homes for one actor.
func TestSilosWithDifferentMemberListsRefuseEachOther(t *testing.T) {
	net := quarktest.NewNetwork(nil)
	t.Cleanup(func() { net.Close() })
	start := func(name string, members ...string) *quark.Silo {
		return newSilo(t, registerProbes(&hooks{}), quark.WithTransport(net.Host(name)),
			quark.WithListenAddress(name), quark.WithStaticCluster(members...))
	}
	s1 := start("s1", "s1", "s2")
	start("s2", "s2", "s1", "s3")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	for k := 0; k < 100 && err == nil; k++ { // until a key homed on s2
		_, err = testactors.NewProbeRef(s1, quark.StringKey(fmt.Sprintf("k%d", k))).Run(ctx, "x")
	}
	if !errors.Is(err, quark.ErrMemberMismatch) {
		t.Fatalf("call from a silo with another member list: %v, want ErrMemberMismatch", err)
	}
}

// A silo whose listen address is not in its static cluster does not start.
func TestStaticClusterMustNameTheSilo(t *testing.T) {
	net := quarktest.NewNetwork(nil)
	t.Cleanup(func() { net.Close() })
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithTransport(net.Host("s9")),
		quark.WithListenAddress("s9"), quark.WithStaticCluster("s1", "s2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("start outside its own cluster: %v, want CodeInvalidArgument", err)
	}
	s.Stop(context.Background())
	for _, opts := range [][]quark.SiloOption{
		{quark.WithListenAddress("s1")},                                      // no transport
		{quark.WithTransport(net.Host("s1")), quark.WithStaticCluster("s1")}, // no listen address
		{quark.WithTransport(net.Host("s1")), quark.WithListenAddress("s1"), quark.WithStaticCluster("s1", "s1")},
		{quark.WithTransport(net.Host("s1")), quark.WithClusterName("")},
	} {
		if _, err := quark.NewSilo(opts...); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Errorf("NewSilo(%d options): %v, want CodeInvalidArgument", len(opts), err)
		}
	}
}

// In a static cluster each silo loads the reminders of the actors homed on
// it, and only those: after both silos restart on one reminder store, every
// reminder ticks once, on its actor's home.
func TestStaticClusterRemindersTickOnTheirHome(t *testing.T) {
	clk := quarktest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	net := quarktest.NewNetwork(clk)
	t.Cleanup(func() { net.Close() })
	store := storage.NewMemory()
	names := []string{"s1", "s2"}
	type tick struct{ silo, key string }
	var mu sync.Mutex
	var ticks []tick
	start := func() []*quark.Silo {
		var silos []*quark.Silo
		for _, name := range names {
			h := &hooks{
				run: func(ctx context.Context, p *probe, step string) (string, error) {
					if step == "remind" {
						return name, p.a.RegisterReminder(ctx, "r", time.Minute, time.Hour)
					}
					return name, nil
				},
				remind: func(_ context.Context, p *probe, _ string, _ time.Time) error {
					mu.Lock()
					ticks = append(ticks, tick{name, p.a.ID().Key.String()})
					mu.Unlock()
					return nil
				},
			}
			s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithClock(clk), quark.WithStore(store),
				quark.WithTransport(net.Host(name)), quark.WithListenAddress(name), quark.WithStaticCluster(names...))
			if err != nil {
				t.Fatal(err)
			}
			registerProbes(h)(s)
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			silos = append(silos, s)
		}
		return silos
	}
	stop := func(silos []*quark.Silo) {
		for _, s := range silos {
			if err := s.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	silos := start()
	home := map[string]string{}
	const keys = 20
	for k := range keys {
		key := fmt.Sprintf("r%d", k)
		h, err := testactors.NewProbeRef(silos[0], quark.StringKey(key)).Run(context.Background(), "remind")
		if err != nil {
			t.Fatal(err)
		}
		home[key] = h
	}
	stop(silos)
	silos = start()
	clk.Advance(time.Minute) // every tick is handed to its activation inside Advance
	waitFor(t, "every reminder's tick", func() bool { mu.Lock(); defer mu.Unlock(); return len(ticks) >= keys })
	stop(silos) // and has run once Stop returns: a second tick of a key would be counted
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for _, tk := range ticks {
		seen[tk.key]++
		if home[tk.key] != tk.silo {
			t.Errorf("%s ticked on %s; its home is %s", tk.key, tk.silo, home[tk.key])
		}
	}
	for key := range home {
		if seen[key] != 1 {
			t.Errorf("%s ticked %d times, want 1", key, seen[key])
		}
	}
}

// A peer that connects and never says Hello is disconnected after the
// handshake timeout, on the silo's Clock.
func TestSilentPeerIsDisconnected(t *testing.T) {
	clk := quarktest.NewClock(time.Unix(0, 0))
	net := quarktest.NewNetwork(clk)
	t.Cleanup(func() { net.Close() })
	newSilo(t, registerProbes(&hooks{}), quark.WithClock(clk), quark.WithTransport(net.Host("s1")), quark.WithListenAddress("s1"))
	closed := make(chan error, 1)
	if _, err := net.Host("mute").Dial(context.Background(), "s1", &frameSink{frames: make(chan []byte, 1), closed: closed}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		t.Fatalf("closed before the timeout: %v", err)
	default:
	}
	clk.Advance(10 * time.Second)
	select {
	case <-closed:
	case <-time.After(20 * time.Second): // a liveness bound, not a speed check
		t.Fatal("the silent peer's connection was not closed at the handshake timeout")
	}
}

// A call that reaches a silo which is not its actor's home is refused
// with CodeUnavailable, never run there; an unknown method ID is
// CodeNotFound.
func TestMisroutedCallAndUnknownMethodAreRefused(t *testing.T) {
	c := newMemCluster(t, 2, whereHooks("s1", "s2"))
	far, local := c.keyOn(t, 1), c.keyOn(t, 0)
	ctx := context.Background()
	got := make(chan []byte, 4)
	conn, err := c.net.Host("raw").Dial(ctx, "s1", &frameSink{frames: got, closed: make(chan error, 1)})
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := wire.AppendHello(nil, &wire.Hello{Version: wire.Version, Cluster: "quark", Epoch: 1, Role: wire.RoleClient})
	if err := conn.Send(hello); err != nil {
		t.Fatal(err)
	}
	<-got // s1's hello
	before := c.silos[0].Stats().Activations
	for _, tc := range []struct {
		key    string
		method uint32
		want   quark.Code
	}{
		{far, testactors.ProbeType.Methods[0].ID, quark.CodeUnavailable},
		{local, 0xdeadbeef, quark.CodeNotFound},
	} {
		key, _ := quark.StringKey(tc.key).MarshalBinary()
		b, err := wire.AppendCall(nil, &wire.Call{ID: uint64(tc.method), Type: testactors.ProbeType.Name, Key: key,
			Method: tc.method, Context: wire.CallContext{HasDeadline: true, Remaining: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Send(b); err != nil {
			t.Fatal(err)
		}
		var r wire.Reply
		if err := wire.ReadReply(<-got, &r); err != nil {
			t.Fatal(err)
		}
		e, _, _ := codec.ReadError(r.Error)
		if quark.CodeOf(e) != tc.want {
			t.Fatalf("call of %s method %#x on s1: %v, want %v", tc.key, tc.method, e, tc.want)
		}
	}
	if got := c.silos[0].Stats().Activations; got != before {
		t.Fatalf("s1 has %d activations, %d before: a refused call activated an actor", got, before)
	}
}
