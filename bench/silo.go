package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/transport/grpctransport"
)

// The remote scenarios call a silo in another process: the bench program
// itself, started again with roleEnv set to "silo". The child binds
// 127.0.0.1:0, writes "addr <address> <GOMAXPROCS>" on stdout, then answers one line per
// command read from stdin:
//
//	stats   ->  "stats <mallocs> <cpu-ns> <one-way run> <one-way dropped> <duplicate calls>"
//
// and stops its silo and exits when stdin reaches EOF. The parent ties the
// child to itself (Pdeathsig where the OS has it) and ends it by closing
// stdin, or by killing its PID.
const (
	roleEnv        = "QUARK_BENCH_ROLE"
	siloProfileEnv = "QUARK_BENCH_SILO_CPUPROFILE" // CPU profile of the child's whole life
	siloMemEnv     = "QUARK_BENCH_SILO_MEMPROFILE" // allocation profile of the child's whole life
)

// siloMain is the child's main: it serves the Counter over gRPC until stdin
// ends.
func siloMain(stdin io.Reader, stdout, stderr io.Writer) (code int) {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "bench silo: %v\n", err)
		return 1
	}
	if path := os.Getenv(siloProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(errors.Join(err, f.Close()))
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil && code == 0 {
				code = fail(fmt.Errorf("cpu profile: %w", err))
			}
		}()
	}
	if path := os.Getenv(siloMemEnv); path != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeAllocs(path); err != nil && code == 0 {
				code = fail(err)
			}
		}()
	}
	processed := new(atomic.Int64)
	s, err := startSilo(true, processed,
		quark.WithTransport(grpctransport.New()),
		quark.WithListenAddress("127.0.0.1:0"))
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := s.Stop(context.Background()); err != nil && code == 0 {
			code = fail(fmt.Errorf("stop: %w", err))
		}
	}()
	out := bufio.NewWriter(stdout)
	fmt.Fprintf(out, "addr %s %d\n", s.Addr(), runtime.GOMAXPROCS(0))
	if err := out.Flush(); err != nil {
		return fail(err)
	}
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		switch cmd := in.Text(); cmd {
		case "stats":
			st := s.Stats()
			fmt.Fprintf(out, "stats %d %d %d %d %d\n", mallocs(), cpuTime(), processed.Load(), st.DroppedOneWay, st.DuplicateCalls)
		default:
			fmt.Fprintf(out, "error unknown command %q\n", cmd)
		}
		if err := out.Flush(); err != nil {
			return fail(err)
		}
	}
	if err := in.Err(); err != nil {
		return fail(err)
	}
	return 0
}

// siloProc is a running child silo, seen from the parent.
type siloProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
	procs int // the child's GOMAXPROCS
}

// siloStats is what a child reports at one moment.
type siloStats struct {
	mallocs   uint64
	cpu       time.Duration
	processed int64 // one-way Inc calls run by its counters
	dropped   int64 // one-way messages dropped (Stats.DroppedOneWay)
	dups      int64 // call frames taken for duplicates and ignored (Stats.DuplicateCalls)
}

// startSiloProc starts a child silo with GOMAXPROCS procs (0: default) and,
// when profile (memProfile) is set, a CPU (allocation) profile of its life
// written there.
func startSiloProc(procs int, profile, memProfile string) (_ *siloProc, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"=silo", siloProfileEnv+"="+profile, siloMemEnv+"="+memProfile)
	if procs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &siloProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), procs: procs}
	defer func() {
		if err != nil {
			p.kill()
		}
	}()
	line, err := p.readLine()
	if err != nil {
		return nil, fmt.Errorf("silo process: %w", err)
	}
	if _, err := fmt.Sscanf(line, "addr %s %d", &p.addr, &p.procs); err != nil {
		return nil, fmt.Errorf("silo process: first line %q: %w", line, err)
	}
	return p, nil
}

func (p *siloProc) readLine() (string, error) {
	line, err := p.out.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// stats asks the child for its counters.
func (p *siloProc) stats() (siloStats, error) {
	var st siloStats
	if _, err := io.WriteString(p.stdin, "stats\n"); err != nil {
		return st, fmt.Errorf("silo process: %w", err)
	}
	line, err := p.readLine()
	if err != nil {
		return st, fmt.Errorf("silo process: %w", err)
	}
	var cpu int64
	if _, err := fmt.Sscanf(line, "stats %d %d %d %d %d", &st.mallocs, &cpu, &st.processed, &st.dropped, &st.dups); err != nil {
		return st, fmt.Errorf("silo process: reply %q: %w", line, err)
	}
	st.cpu = time.Duration(cpu)
	return st, nil
}

// stop ends the child: it closes stdin, so the child stops its silo,
// writes its profile and exits; a child that has not exited after a while
// is killed.
func (p *siloProc) stop() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("silo process: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		return errors.New("silo process: did not exit within 30s of stdin closing; killed")
	}
}

// kill ends the child at once, by PID.
func (p *siloProc) kill() {
	p.stdin.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}
