package quark_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/transport/grpctransport"
	"go.uber.org/goleak"
)

// The tests of this file run calls between real processes: each child is
// the test binary run again with QUARK_TEST_SILO set (see TestMain), a
// silo on the gRPC transport hosting the probe types with stepHooks. A
// child binds 127.0.0.1:0, prints its address, reads the static cluster's
// member list (one line, addresses separated by spaces) from stdin, starts
// its silo and prints "ready". It dies with the test (Pdeathsig), and each
// test kills its children at cleanup.

const childEnv = "QUARK_TEST_SILO"

// runChildSilo is the child's whole life; it returns only on failure (the
// test kills the child).
func runChildSilo() {
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "child silo: %s: %v\n", what, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	addr := ln.Addr().String()
	fmt.Println(addr)
	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadString('\n')
	if err != nil {
		fail("read members", err)
	}
	members := strings.Fields(line)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	s, err := quark.NewSilo(
		quark.WithName(addr),
		quark.WithLogger(log),
		quark.WithTransport(grpctransport.New(grpctransport.WithListener(ln), grpctransport.WithLogger(log))),
		quark.WithListenAddress(addr),
		quark.WithStaticCluster(members...),
	)
	if err != nil {
		fail("new silo", err)
	}
	registerProbes(stepHooks(addr))(s)
	if err := s.Start(context.Background()); err != nil {
		fail("start", err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, in) // until the test closes stdin, or kills the child
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		fail("stop", err)
	}
}

// stepHooks is the probes' behaviour in a process test, chosen by Run's
// step:
//
//	where          the silo's address
//	wait           blocks until its ctx ends, notes ctx.Err() and returns it
//	entered?       waits for a wait step to have started
//	cancelled?     waits for a wait step to have ended; answers its ctx.Err()
//	deadline       the time left until its ctx's deadline, in ns, or "none"
//	call:K:STEP    runs STEP on probe K and answers what it answers
func stepHooks(addr string) *hooks {
	entered := make(chan struct{}, 16)
	ended := make(chan string, 16)
	return &hooks{run: func(ctx context.Context, p *probe, step string) (string, error) {
		switch step {
		case "where":
			return addr, nil
		case "wait":
			entered <- struct{}{}
			<-ctx.Done()
			ended <- ctx.Err().Error()
			return "", ctx.Err()
		case "entered?":
			select {
			case <-entered:
				return "yes", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case "cancelled?":
			select {
			case why := <-ended:
				return why, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case "deadline":
			d, ok := ctx.Deadline()
			if !ok {
				return "none", nil
			}
			return strconv.FormatInt(int64(time.Until(d)), 10), nil
		}
		if rest, ok := strings.CutPrefix(step, "call:"); ok {
			key, next, _ := strings.Cut(rest, ":")
			return testactors.NewProbeRef(p.a, quark.StringKey(key)).Run(ctx, next)
		}
		return "", quark.Errorf(quark.CodeInvalidArgument, "unknown step %q", step)
	}}
}

// child is a silo process.
type child struct {
	addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startChildren starts n child silos, then tells each the member list (their
// addresses), and returns once every child has started its silo.
func startChildren(t *testing.T, n int) []*child {
	t.Helper()
	var cs []*child
	for range n {
		cs = append(cs, startChild(t))
	}
	var members []string
	for _, c := range cs {
		members = append(members, c.addr)
	}
	for _, c := range cs {
		c.join(t, members)
	}
	return cs
}

// join tells the child the static cluster's member list and waits for its
// silo to start.
func (c *child) join(t *testing.T, members []string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, strings.Join(members, " ")+"\n"); err != nil {
		t.Fatalf("child %s: %v", c.addr, err)
	}
	if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child %s: %q, %v; want ready", c.addr, line, err)
	}
}

// startChild runs one child up to the point where it has printed its
// address; the test kills it (and its process group) at cleanup.
func startChild(t *testing.T) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.kill() })
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("child: no address: %v", err)
	}
	c.addr = strings.TrimSpace(line)
	return c
}

// kill ends the child at once and reaps it; killing it again does nothing.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// newProcClient returns a client on the gRPC transport with the given
// gateways, closed at cleanup.
func newProcClient(t *testing.T, gateways ...string) *quark.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := quark.NewClient(ctx, quark.WithTransport(grpctransport.New(grpctransport.WithLogger(quiet))),
		quark.WithGateways(gateways...), quark.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// keysOn returns n keys whose probes live on the silo at addr, asking
// through c; keys are named prefix0, prefix1, ...
func keysOn(t *testing.T, c quark.Caller, addr string, n int, prefix string) []string {
	t.Helper()
	var keys []string
	for k := 0; len(keys) < n; k++ {
		if k == 1000 {
			t.Fatalf("fewer than %d of 1000 keys live on %s", n, addr)
		}
		key := fmt.Sprintf("%s%d", prefix, k)
		got, err := run(c, key, "where", 10*time.Second)
		if err != nil {
			t.Fatalf("where is %s: %v", key, err)
		}
		if got == addr {
			keys = append(keys, key)
		}
	}
	return keys
}

// run runs step on probe key through c, within d.
func run(c quark.Caller, key, step string, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return testactors.NewProbeRef(c, quark.StringKey(key)).Run(ctx, step)
}

// A client cancelling a call to another process cancels the remote
// method's context, and the call returns CodeCanceled.
func TestProcessCancellationReachesTheRemoteMethod(t *testing.T) {
	cs := startChildren(t, 1)
	cl := newProcClient(t, cs[0].addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := testactors.NewProbeRef(cl, quark.StringKey("waiter")).Run(ctx, "wait")
		done <- err
	}()
	if got, err := run(cl, "asker", "entered?", 10*time.Second); err != nil || got != "yes" {
		t.Fatalf("entered?: %q, %v", got, err)
	}
	cancel()
	if err := <-done; quark.CodeOf(err) != quark.CodeCanceled {
		t.Fatalf("cancelled call: %v, want CodeCanceled", err)
	}
	// The remote method saw its ctx cancelled, well before the call's 20 s
	// deadline (this question's own deadline is 10 s).
	if got, err := run(cl, "asker", "cancelled?", 10*time.Second); err != nil || got != context.Canceled.Error() {
		t.Fatalf("the remote method's ctx ended with %q (%v), want %q", got, err, context.Canceled.Error())
	}
}

// Cancellation travels the whole chain: a client cancelling a call to A on
// silo 1, which waits on B on silo 2, cancels B's context too.
func TestProcessCancellationCrossesTwoHops(t *testing.T) {
	cs := startChildren(t, 2)
	cl := newProcClient(t, cs[0].addr)
	a := keysOn(t, cl, cs[0].addr, 1, "a")[0]
	b := keysOn(t, cl, cs[1].addr, 2, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := testactors.NewProbeRef(cl, quark.StringKey(a)).Run(ctx, "call:"+b[0]+":wait")
		done <- err
	}()
	if got, err := run(cl, b[1], "entered?", 10*time.Second); err != nil || got != "yes" {
		t.Fatalf("entered?: %q, %v", got, err)
	}
	cancel()
	if err := <-done; quark.CodeOf(err) != quark.CodeCanceled {
		t.Fatalf("cancelled call: %v, want CodeCanceled", err)
	}
	if got, err := run(cl, b[1], "cancelled?", 10*time.Second); err != nil || got != context.Canceled.Error() {
		t.Fatalf("B's ctx ended with %q (%v), want %q", got, err, context.Canceled.Error())
	}
}

// A call chain that comes back to an actor waiting in it fails with
// CodeDeadlock at once across processes: A on silo 1 calls B on silo 2,
// which calls A.
func TestProcessCycleIsDeadlock(t *testing.T) {
	cs := startChildren(t, 2)
	cl := newProcClient(t, cs[0].addr)
	a := keysOn(t, cl, cs[0].addr, 1, "a")[0]
	b := keysOn(t, cl, cs[1].addr, 1, "b")[0]
	_, err := run(cl, a, "call:"+b+":call:"+a+":x", 20*time.Second)
	if quark.CodeOf(err) != quark.CodeDeadlock {
		t.Fatalf("A -> B -> A across processes: %v (code %v), want CodeDeadlock", err, quark.CodeOf(err))
	}
	// No cycle, same path: A -> B -> C, C on silo 1.
	c := keysOn(t, cl, cs[0].addr, 1, "c")[0]
	if got, err := run(cl, a, "call:"+b+":call:"+c+":where", 20*time.Second); err != nil || got != cs[0].addr {
		t.Fatalf("A -> B -> C: %q, %v", got, err)
	}
}

// A silo killed with SIGKILL fails the calls in flight to it, from a client
// and from another silo, and later calls for its actors, with
// CodeUnavailable, never a timeout; actors on the other silo keep working
// and do not move.
func TestProcessKilledSiloFailsCallsAtOnce(t *testing.T) {
	cs := startChildren(t, 2)
	cl := newProcClient(t, cs[0].addr)
	on1 := keysOn(t, cl, cs[0].addr, 4, "one")
	on2 := keysOn(t, cl, cs[1].addr, 3, "two")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	direct, hop := make(chan error, 1), make(chan error, 1)
	go func() { _, err := testactors.NewProbeRef(cl, quark.StringKey(on2[0])).Run(ctx, "wait"); direct <- err }()
	go func() {
		_, err := testactors.NewProbeRef(cl, quark.StringKey(on1[0])).Run(ctx, "call:"+on2[1]+":wait")
		hop <- err
	}()
	for range 2 {
		if got, err := run(cl, on2[2], "entered?", 10*time.Second); err != nil || got != "yes" {
			t.Fatalf("entered?: %q, %v", got, err)
		}
	}
	cs[1].kill()
	if err := <-direct; quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("client's call in flight to the killed silo: %v (code %v), want CodeUnavailable", err, quark.CodeOf(err))
	}
	if err := <-hop; quark.CodeOf(err) != quark.CodeUnavailable {
		t.Fatalf("silo 1's call in flight to the killed silo: %v (code %v), want CodeUnavailable", err, quark.CodeOf(err))
	}
	for _, key := range on2 {
		if _, err := run(cl, key, "where", 20*time.Second); quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("later call for %s on the killed silo: %v (code %v), want CodeUnavailable", key, err, quark.CodeOf(err))
		}
		if _, err := run(cl, on1[0], "call:"+key+":where", 20*time.Second); quark.CodeOf(err) != quark.CodeUnavailable {
			t.Fatalf("later call for %s through silo 1: %v (code %v), want CodeUnavailable", key, err, quark.CodeOf(err))
		}
	}
	for _, key := range on1 {
		if got, err := run(cl, key, "where", 20*time.Second); err != nil || got != cs[0].addr {
			t.Fatalf("actor %s on the live silo: %q, %v", key, got, err)
		}
	}
}

// A call's deadline crosses processes as the time it has left: a client's
// 2 s arrives as at most 2 s, at the first silo and one hop further.
func TestProcessDeadlineCrossesProcesses(t *testing.T) {
	cs := startChildren(t, 2)
	cl := newProcClient(t, cs[0].addr)
	a := keysOn(t, cl, cs[0].addr, 1, "a")[0]
	b := keysOn(t, cl, cs[1].addr, 1, "b")[0]
	for _, step := range []string{"deadline", "call:" + b + ":deadline"} {
		got, err := run(cl, a, step, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		left, err := strconv.ParseInt(got, 10, 64)
		if err != nil {
			t.Fatalf("%s: the callee's ctx has no deadline (%q)", step, got)
		}
		if left <= 0 || time.Duration(left) > 2*time.Second {
			t.Fatalf("%s: the callee has %v left of the caller's 2s", step, time.Duration(left))
		}
	}
}

// A client and a silo of the test process, connected to a silo of another
// process both ways, leave no goroutine behind once closed and stopped,
// while that other process still runs.
func TestProcessClientAndSiloLeaveNoGoroutines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	self := ln.Addr().String()
	c := startChild(t)
	members := []string{self, c.addr}
	s, err := quark.NewSilo(quark.WithName(self), quark.WithLogger(quiet),
		quark.WithTransport(grpctransport.New(grpctransport.WithListener(ln), grpctransport.WithLogger(quiet))),
		quark.WithListenAddress(self), quark.WithStaticCluster(members...))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	registerProbes(stepHooks(self))(s)
	if err := s.Start(context.Background()); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.Stop(context.Background())
		}
	})
	c.join(t, members)

	cl := newProcClient(t, c.addr)
	here := keysOn(t, cl, self, 2, "here")
	there := keysOn(t, cl, c.addr, 2, "there")
	// Calls from the other process to this silo and back, and the other way.
	if got, err := run(cl, there[0], "call:"+here[0]+":call:"+there[1]+":where", 10*time.Second); err != nil || got != c.addr {
		t.Fatalf("there -> here -> there: %q, %v", got, err)
	}
	if got, err := run(s, here[1], "call:"+there[0]+":call:"+here[0]+":where", 10*time.Second); err != nil || got != self {
		t.Fatalf("here -> there -> here: %q, %v", got, err)
	}
	if err := testactors.NewProbeRef(cl, quark.StringKey(here[0])).Tell(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}

	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped = true
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
}
