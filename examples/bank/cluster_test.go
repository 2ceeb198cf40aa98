//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/transport/grpctransport"
)

// The test binary runs as a silo process when siloEnv is set (TestMain):
// it binds 127.0.0.1:0, prints "addr ADDR", reads the member list as one
// line from stdin, serves with its store under $dataEnv, answers each
// "stats" line on stdin with "activations N", and stops at the end of its
// stdin.
//
// It runs as the bank command, its arguments the command's, when mainEnv is
// set (and so do the silo processes the cluster mode starts).
const (
	siloEnv = "BANK_TEST_SILO"
	dataEnv = "BANK_TEST_DATA"
	mainEnv = "BANK_TEST_MAIN"
)

func TestMain(m *testing.M) {
	if os.Getenv(siloEnv) != "" {
		os.Exit(siloChild())
	}
	if os.Getenv(mainEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func siloChild() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("addr %s\n", ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		ln.Close()
		fmt.Fprintln(os.Stderr, "no member list on stdin")
		return 1
	}
	err = serveSilo(os.Stdout, ln, ln.Addr().String(), addrList(in.Text()), os.Getenv(dataEnv), func(s *quark.Silo) {
		for in.Scan() {
			if in.Text() == "stats" {
				fmt.Printf("activations %d\n", s.Stats().Activations)
			}
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// siloProc is a silo process run by a test.
type siloProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string   // its stdout, line by line; closed at the end
	exited chan struct{} // closed once it has exited and been waited for
	stderr bytes.Buffer  // read after exited
	addr   string
}

// startSilo starts a silo process and reads its address. It belongs to
// the test: the kernel kills it if the test process dies, and the test's
// cleanup ends its stdin, then kills its process group if it has not
// exited within ten seconds, and waits for it.
func startSilo(t *testing.T) *siloProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), siloEnv+"=1", dataEnv+"="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	p := &siloProc{t: t, cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads that far; the line is not needed
			}
		}
		close(p.lines)
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	p.addr = strings.TrimPrefix(p.expect("addr "), "addr ")
	return p
}

// stop ends the process, gently if it is still running.
func (p *siloProc) stop() {
	pid := p.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGCONT)
	p.stdin.Close()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.t.Errorf("silo %s (pid %d) did not stop within 10s; killing it", p.addr, pid)
		syscall.Kill(-pid, syscall.SIGKILL)
		<-p.exited
	}
	if p.t.Failed() && p.stderr.Len() > 0 {
		p.t.Logf("silo %s (pid %d) stderr:\n%s", p.addr, pid, p.stderr.String())
	}
}

// expect returns the next line of the process's stdout that starts with
// prefix, skipping others; it fails the test if the process ends first or
// says nothing of the kind within ten seconds.
func (p *siloProc) expect(prefix string) string {
	p.t.Helper()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.exited
				p.t.Fatalf("silo (pid %d) ended before saying %q: %v\n%s", p.cmd.Process.Pid, prefix, p.cmd.ProcessState, p.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-t.C:
			p.t.Fatalf("silo (pid %d) did not say %q within 10s", p.cmd.Process.Pid, prefix)
		}
	}
}

// send writes line to the process's stdin.
func (p *siloProc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// activations asks the silo how many activations it holds.
func (p *siloProc) activations() int {
	p.t.Helper()
	p.send("stats")
	n, err := strconv.Atoi(strings.TrimPrefix(p.expect("activations "), "activations "))
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func (p *siloProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		p.t.Fatal(err)
	}
}

// waitStopped waits until the process has stopped on SIGSTOP: kill
// returns before the process's threads have all stopped, and until then
// it may still serve calls.
func (p *siloProc) waitStopped() {
	p.t.Helper()
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.cmd.Process.Pid, &info, unix.WSTOPPED, nil)
		if err == nil {
			return
		}
		if err != unix.EINTR {
			p.t.Fatalf("wait for silo %s to stop: %v", p.addr, err)
		}
	}
}

// balances reads every account's balance at once, each call with the
// deadline given for its name, and returns the errors, in the order of
// names.
func balances(c quark.Caller, names []string, deadline func(name string) time.Duration) []error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), deadline(name))
			defer cancel()
			_, errs[i] = NewAccountRef(c, quark.StringKey(name)).Balance(ctx)
		})
	}
	wg.Wait()
	return errs
}

// TestClusterOfProcesses runs the bank on two silo processes over gRPC,
// with this process as their client: transfers between accounts homed on
// either silo balance, an overdraft's error matches ErrInsufficientFunds
// across the wire, a silo stopped (SIGSTOP) makes calls for its accounts
// time out until it resumes, and a silo killed makes them fail with
// CodeUnavailable at once while the other silo's accounts keep working.
func TestClusterOfProcesses(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, once the client has closed
	a, b := startSilo(t), startSilo(t)
	members := a.addr + "," + b.addr
	a.send(members)
	b.send(members)
	a.expect("silo ")
	b.expect("silo ")

	ctx := context.Background()
	cl, err := quark.NewClient(ctx, quark.WithTransport(grpctransport.New()), quark.WithGateways(a.addr, b.addr),
		quark.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })

	// Opening an account activates it on its home silo and nothing else,
	// so silo B's activation count, read after each opening, says which
	// accounts it is home to.
	names := accountNames(20)
	onB := make(map[string]bool)
	for i, name := range names {
		if _, err := NewAccountRef(cl, quark.StringKey(name)).Deposit(ctx, int64(100*(i+1))); err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		if b.activations() > len(onB) {
			onB[name] = true
		}
	}
	if n := a.activations(); n == 0 || len(onB) == 0 || n+len(onB) != len(names) {
		t.Fatalf("silos home %d and %d of the %d accounts; want some on each, %d in all", n, len(onB), len(names), len(names))
	}

	var out bytes.Buffer
	if err := trade(ctx, &out, cl, names, "the test's silos", 48); err != nil {
		t.Fatalf("transfers: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "welcome back: 20 accounts hold $210.00") ||
		!strings.Contains(out.String(), "total held: $210.00") {
		t.Fatalf("transfers:\n%s", out.String())
	}
	first := NewAccountRef(cl, quark.StringKey(names[0]))
	bal, err := first.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Withdraw's error crosses one process boundary; Transfer's crosses
	// one more when the teller and the account live on different silos.
	if _, err := first.Withdraw(ctx, bal+1); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("overdraft: %v, want ErrInsufficientFunds", err)
	}
	if err := NewTellerRef(cl, quark.IntKey(0)).Transfer(ctx, names[0], names[1], bal+1); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("overdraft by transfer: %v, want ErrInsufficientFunds", err)
	}

	// A stopped silo does not answer: calls for its accounts time out at
	// their deadline, and the other silo's accounts are served.
	b.signal(syscall.SIGSTOP)
	b.waitStopped()
	short := func(name string) time.Duration {
		if onB[name] {
			return 300 * time.Millisecond
		}
		return 30 * time.Second
	}
	for i, err := range balances(cl, names, short) {
		switch {
		case onB[names[i]] && quark.CodeOf(err) != quark.CodeTimeout:
			t.Fatalf("balance of %s, homed on the stopped silo: %v (code %v), want CodeTimeout", names[i], err, quark.CodeOf(err))
		case !onB[names[i]] && err != nil:
			t.Fatalf("balance of %s, homed on the running silo: %v", names[i], err)
		}
	}
	b.signal(syscall.SIGCONT)
	long := func(string) time.Duration { return 30 * time.Second }
	for i, err := range balances(cl, names, long) {
		if err != nil {
			t.Fatalf("balance of %s after silo B resumed: %v", names[i], err)
		}
	}

	// A killed silo's accounts fail with CodeUnavailable, long before
	// their deadline; the other silo's keep working.
	b.signal(syscall.SIGKILL)
	<-b.exited
	for i, err := range balances(cl, names, long) {
		switch {
		case onB[names[i]] && quark.CodeOf(err) != quark.CodeUnavailable:
			t.Errorf("balance of %s, homed on the killed silo: %v (code %v), want CodeUnavailable", names[i], err, quark.CodeOf(err))
		case !onB[names[i]] && err != nil:
			t.Errorf("balance of %s, homed on the live silo: %v", names[i], err)
		}
	}
	for _, name := range names {
		if !onB[name] {
			if _, err := NewAccountRef(cl, quark.StringKey(name)).Deposit(ctx, 1); err != nil {
				t.Fatalf("deposit to %s on the live silo: %v", name, err)
			}
			break
		}
	}
}

// TestClusterCommand runs "bank cluster": two silo processes and the
// client, stopped at the end, with the books balanced.
func TestClusterCommand(t *testing.T) {
	cmd := exec.Command(os.Args[0], "cluster", "-data", t.TempDir(), "-transfers", "16")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("bank cluster: %v\n%s%s", err, out.String(), errOut.String())
		}
	case <-timeout.C:
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		done <- <-done
		t.Fatalf("bank cluster did not end within 60s:\n%s%s", out.String(), errOut.String())
	}
	for _, want := range []string{
		"opened 20 accounts holding $21000.00", "total held: $21000.00",
		"overdraft refused across the wire", " stopped (it held ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bank cluster said nothing of %q:\n%s%s", want, out.String(), errOut.String())
		}
	}
	if n := strings.Count(out.String(), " stopped (it held "); n != 2 {
		t.Fatalf("%d silos said they stopped, want 2:\n%s", n, out.String())
	}
}
