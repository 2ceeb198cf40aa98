package main

// The cluster modes: the bank as a static cluster of silo processes over
// gRPC, and a client process that calls them.
//
//	bank silo -listen ADDR -members ADDR,ADDR... [-data DIR]
//	bank client [-gateways ADDR,ADDR...] [-accounts N] [-transfers N]
//	bank cluster [-data DIR] [-accounts N] [-transfers N]
//
// Each silo keeps the state of the actors homed on it (by consistent
// hashing of their IDs over the member list) in its own embedded store. The
// cluster mode starts two silos as child processes of its own executable,
// runs the client against them and stops them.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/storage/embedded"
	"github.com/quarkgo/quark/transport/grpctransport"
)

const usage = `usage:
  bank                   one silo in this process, state in ./bank-data
  bank silo -listen ADDR -members ADDR,ADDR... [-data DIR]
  bank client [-gateways ADDR,ADDR...] [-accounts N] [-transfers N]
  bank cluster [-data DIR] [-accounts N] [-transfers N]
`

// runMode runs the mode named by the first argument with the rest as its
// flags, until it ends or the process receives SIGINT or SIGTERM, and
// returns the exit code.
func runMode(mode string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch mode {
	case "silo":
		err = siloMode(ctx, args)
	case "client":
		err = clientMode(ctx, args)
	case "cluster":
		err = clusterMode(ctx, args)
	default:
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 2
	case err != nil:
		fmt.Fprintf(os.Stderr, "bank %s: %v\n", mode, err)
		return 1
	}
	return 0
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// addrList splits a comma-separated list of addresses.
func addrList(s string) []string {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// accountNames returns the names of the n accounts the cluster modes use:
// enough of them that every silo is home to some.
func accountNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acct%02d", i+1)
	}
	return names
}

func siloMode(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bank silo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7001", "`address` to serve silos and clients on, as written in -members")
	members := fs.String("members", "", "comma-separated `addresses` of every silo of the cluster, this one's among them (default: -listen alone)")
	data := fs.String("data", "", "`folder` of this silo's store (default bank-data-PORT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	list := addrList(*members)
	if len(list) == 0 {
		list = []string{*listen}
	}
	if !slices.Contains(list, *listen) {
		return fmt.Errorf("-listen %s is not among -members %s", *listen, *members)
	}
	dir := *data
	if dir == "" {
		_, port, _ := net.SplitHostPort(*listen)
		dir = "bank-data-" + port
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	return serveSilo(os.Stdout, ln, *listen, list, dir, func(*quark.Silo) { <-ctx.Done() })
}

// serveSilo runs a silo of the static cluster of members on ln, an already
// bound listener whose address is self as written in members, with its
// store in dir. It prints a line to w once the silo serves, runs serve,
// and stops the silo and closes the store when serve returns. ln belongs
// to the silo from the call on.
func serveSilo(w io.Writer, ln net.Listener, self string, members []string, dir string, serve func(*quark.Silo)) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		ln.Close()
		return err
	}
	store, err := embedded.Open(filepath.Join(dir, "bank.db"))
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
		}
	}()
	log := quietLogger()
	silo, err := quark.NewSilo(quark.WithName(self), quark.WithStore(store), quark.WithLogger(log),
		quark.WithTransport(grpctransport.New(grpctransport.WithListener(ln), grpctransport.WithLogger(log))),
		quark.WithListenAddress(self), quark.WithStaticCluster(members...))
	if err == nil {
		err = register(silo)
	}
	if err == nil {
		err = silo.Start(context.Background())
	}
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(w, "silo %s serving (members %s, data in %s)\n", silo.Addr(), strings.Join(members, ","), dir)
	serve(silo)
	held := silo.Stats().Activations
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := silo.Stop(ctx); err != nil {
		return fmt.Errorf("stop silo: %w", err)
	}
	fmt.Fprintf(w, "silo %s stopped (it held %d activations)\n", self, held)
	return nil
}

func clientMode(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bank client", flag.ContinueOnError)
	gateways := fs.String("gateways", "127.0.0.1:7001,127.0.0.1:7002", "comma-separated `addresses` of silos to connect to")
	accounts := fs.Int("accounts", 20, "`number` of accounts")
	transfers := fs.Int("transfers", 1000, "`number` of transfers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return runClient(ctx, os.Stdout, addrList(*gateways), *accounts, *transfers)
}

// runClient connects to the cluster through gateways, opens the accounts
// if they are new, makes transfers, checks the books balance and that an
// overdraft is refused with ErrInsufficientFunds across the wire, and
// prints what it did to w.
func runClient(ctx context.Context, w io.Writer, gateways []string, accounts, transfers int) error {
	if accounts < 2 {
		return fmt.Errorf("-accounts %d: need at least 2", accounts)
	}
	cl, err := quark.NewClient(ctx, quark.WithTransport(grpctransport.New()), quark.WithGateways(gateways...),
		quark.WithLogger(quietLogger()))
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Fprintf(w, "client connected to %s\n", strings.Join(gateways, ","))
	names := accountNames(accounts)
	if err := trade(ctx, w, cl, names, "the silos' stores", transfers); err != nil {
		return err
	}
	from, to := names[0], names[1]
	b, err := NewAccountRef(cl, quark.StringKey(from)).Balance(ctx)
	if err != nil {
		return err
	}
	err = NewTellerRef(cl, quark.IntKey(0)).Transfer(ctx, from, to, b+1)
	if !errors.Is(err, ErrInsufficientFunds) {
		return fmt.Errorf("overdraft of %s: %v, want ErrInsufficientFunds", from, err)
	}
	fmt.Fprintf(w, "overdraft refused across the wire, errors.Is(err, ErrInsufficientFunds): %q\n", err)
	return nil
}

func clusterMode(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("bank cluster", flag.ContinueOnError)
	data := fs.String("data", "", "`folder` for the silos' stores, one subfolder each (default: a temporary folder, removed at the end)")
	accounts := fs.Int("accounts", 20, "`number` of accounts")
	transfers := fs.Int("transfers", 1000, "`number` of transfers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bank-cluster-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	addrs := make([]string, 2)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return err
		}
	}
	members := strings.Join(addrs, ",")
	var silos []*child
	defer func() {
		for _, c := range silos {
			err = errors.Join(err, c.stop(10*time.Second))
		}
	}()
	for _, addr := range addrs {
		_, port, _ := net.SplitHostPort(addr)
		c, err := startChild(exe, os.Stdout, "silo", "-listen", addr, "-members", members, "-data", filepath.Join(dir, "silo-"+port))
		if err != nil {
			return err
		}
		silos = append(silos, c)
	}
	for _, c := range silos {
		if err := c.waitServing(ctx); err != nil {
			return err
		}
	}
	return runClient(ctx, os.Stdout, addrs, *accounts, *transfers)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// child is a silo process started by the cluster mode. Its stdout is
// copied line by line to the parent's; the first line that says it serves
// closes serving.
type child struct {
	cmd     *exec.Cmd
	serving chan struct{} // closed at the "serving" line
	copied  chan struct{} // closed when its stdout reached its end
}

// startChild starts exe with args, its stdout copied to w and its stderr
// the parent's; it is killed if the parent dies (on Linux).
func startChild(exe string, w io.Writer, args ...string) (*child, error) {
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, serving: make(chan struct{}), copied: make(chan struct{})}
	go func() {
		defer close(c.copied)
		sc := bufio.NewScanner(out)
		ready := false
		for sc.Scan() {
			fmt.Fprintln(w, sc.Text())
			if !ready && strings.Contains(sc.Text(), " serving ") {
				ready = true
				close(c.serving)
			}
		}
		io.Copy(io.Discard, out) // a line too long for the scanner
	}()
	return c, nil
}

// waitServing waits until the child says it serves, and fails if it exits
// first.
func (c *child) waitServing(ctx context.Context) error {
	select {
	case <-c.serving:
		return nil
	case <-c.copied:
		return fmt.Errorf("silo (pid %d) exited before serving", c.cmd.Process.Pid)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends the child SIGTERM and waits for it to exit, sending SIGKILL
// when it has not within grace. It fails if the child exited with an
// error or had to be killed.
func (c *child) stop(grace time.Duration) error {
	pid := c.cmd.Process.Pid
	c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	var killed error
	select {
	case <-c.copied:
	case <-t.C:
		c.cmd.Process.Kill()
		killed = fmt.Errorf("silo (pid %d) did not stop within %v; killed", pid, grace)
		<-c.copied
	}
	if err := c.cmd.Wait(); err != nil && killed == nil {
		return fmt.Errorf("silo (pid %d): %w", pid, err)
	}
	return killed
}
