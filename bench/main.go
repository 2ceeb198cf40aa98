// Command bench measures the Quark runtime on one machine and prints a table.
//
// It runs these scenarios, each on a fresh silo hosting the testactors
// Counter actor with a trivial implementation:
//
//	a-call/{inline,queued}        request/response, 1 caller, 1 actor
//	b-call64/{inline,queued}      64 callers, each calling its own actor
//	c-oneway/{1actor,1000actors}  one-way messages from 2 senders
//	c-oneway/1actor-1sender       one-way messages from 1 sender
//	d-activate                    first calls to -n distinct actors
//	e-goroutines                  goroutines before and after -n idle activations
//
// and, outside the runtime, the codec and the Redis store:
//
//	f-codec/{quark,json,gob}      encode+decode of the ten-field message (internal/codectest.Ten)
//	g-redis/saturation/{100,1000}writers  closed-loop saves over 1,000 actors
//	g-redis/arrival/{5k,10k,20k}  saves and loads at a fixed arrival rate
//
// Timed scenarios run a throughput pass and a separate latency pass of -d
// each; the latency pass times every call. The codec and Redis scenarios
// run one pass of -d (the quark codec two more of -d/2, encoding and
// decoding alone). Select scenarios with -run, a regular expression matched
// against the names above.
//
//	go run ./bench -d 1s -run 'a-|b-'
//
// The Redis scenarios use the server at -redis (default $QUARK_REDIS_ADDR,
// else 127.0.0.1:6379), under a key prefix of their own that they remove
// afterwards; when it cannot be reached they print a row saying so and the
// other scenarios run as usual. With the default -d of 2s the whole local
// table takes about 45 seconds (-d 1s: about 20).
//
// With -remote (or when -run names them) it runs instead the remote
// scenarios, in which this process is a cluster client (quark.NewClient)
// calling the Counter in a silo process over grpctransport on 127.0.0.1:
//
//	r1-call       request/response, 1 caller
//	r2-call64     64 callers, each calling its own actor
//	r3-oneway     one-way Inc from 4 senders into 1000 actors, counted as the actors run them
//	r4-bytes/{1,64}  frame and socket bytes per call, 1 and 64 callers
//
// The silo process is this program started again (the environment variable
// QUARK_BENCH_ROLE=silo selects the role); it is killed with this one
// (Pdeathsig) and stopped at the end. Each row reports allocations per
// operation in both processes, and CPU time per operation in each. The
// remote scenarios run once per -procs setting, each setting the GOMAXPROCS
// of both processes (0: the default):
//
//	go run ./bench -remote -procs 0,1
//	go run ./bench -run '^r1' -procs 0 -cpuprofile client.pprof -silo-cpuprofile silo.pprof
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
)

// config holds the command-line settings.
type config struct {
	d time.Duration // duration of each timed pass
	n int           // actors for the activation scenarios
}

// unit is one selectable scenario run producing table rows.
type unit struct {
	name string
	run  func(cfg config) ([]row, error)
}

func main() {
	if os.Getenv(roleEnv) == "silo" {
		os.Exit(siloMain(os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.DurationVar(&cfg.d, "d", 2*time.Second, "duration of each timed pass")
	fs.IntVar(&cfg.n, "n", 100_000, "actors for the activation scenarios (d, e)")
	pattern := fs.String("run", "", "regular expression selecting scenarios by name")
	redisAddr := fs.String("redis", cmp.Or(os.Getenv(redisAddrEnv), "127.0.0.1:6379"), "`address` of the Redis server for the g-redis scenarios")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	remote := fs.Bool("remote", false, "run the remote scenarios (r1-r4) instead of the local ones")
	procsList := fs.String("procs", "0,1", "GOMAXPROCS settings of both processes for the remote scenarios, comma-separated (0: the default)")
	siloProfile := fs.String("silo-cpuprofile", "", "write a CPU profile of the silo process to `file` (file.procsN for each -procs setting N)")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the whole run to `file`, sampling every allocation (slow)")
	siloMemProfile := fs.String("silo-memprofile", "", "write an allocation profile of the silo process to `file`, sampling every allocation (slow; file.procsN as for -silo-cpuprofile)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.d <= 0 || cfg.n <= 0 {
		fmt.Fprintln(stderr, "bench: -d and -n must be positive")
		return 2
	}
	sel, err := regexp.Compile(*pattern)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -run: %v\n", err)
		return 2
	}
	procs, err := parseProcs(*procsList)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -procs: %v\n", err)
		return 2
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", errors.Join(err, f.Close()))
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			// A failed Close can mean the profile never reached the disk.
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "bench: cpu profile: %v\n", err)
				if code == 0 {
					code = 1
				}
			}
		}()
	}

	if *memprofile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeAllocs(*memprofile); err != nil {
				fmt.Fprintf(stderr, "bench: %v\n", err)
				if code == 0 {
					code = 1
				}
			}
		}()
	}

	var act activationRun
	units := []unit{
		{"a-call/inline", func(c config) ([]row, error) { return calls(c, "(a) call, 1 caller", 1, true) }},
		{"a-call/queued", func(c config) ([]row, error) { return calls(c, "(a) call, 1 caller", 1, false) }},
		{"b-call64/inline", func(c config) ([]row, error) { return calls(c, "(b) call, 64 callers", 64, true) }},
		{"b-call64/queued", func(c config) ([]row, error) { return calls(c, "(b) call, 64 callers", 64, false) }},
		{"c-oneway/1actor", func(c config) ([]row, error) { return oneWay(c, 1, 2) }},
		{"c-oneway/1actor-1sender", func(c config) ([]row, error) { return oneWay(c, 1, 1) }},
		{"c-oneway/1000actors", func(c config) ([]row, error) { return oneWay(c, 1000, 2) }},
		{"d-activate", act.activateRows},
		{"e-goroutines", act.goroutineRows},
		{"f-codec/quark", codecQuark},
		{"f-codec/json", codecJSON},
		{"f-codec/gob", codecGob},
	}
	rd := &redisRun{addr: *redisAddr}
	defer rd.close()
	for _, w := range []int{100, 1000} {
		units = append(units, unit{fmt.Sprintf("g-redis/saturation/%dwriters", w),
			func(c config) ([]row, error) { return rd.redisSaturation(c, w) }})
	}
	for _, rate := range []int{5000, 10000, 20000} {
		units = append(units, unit{fmt.Sprintf("g-redis/arrival/%dk", rate/1000),
			func(c config) ([]row, error) { return rd.redisArrival(c, rate) }})
	}

	// The remote scenarios run against a silo in another process, started
	// once per -procs setting; rr is the one running.
	var rr remoteRun
	remoteUnits := []unit{
		{"r1-call", func(c config) ([]row, error) { return rr.remoteCalls(c, "(r1) remote call, 1 caller", 1, false) }},
		{"r2-call64", func(c config) ([]row, error) { return rr.remoteCalls(c, "(r2) remote call, 64 callers", 64, false) }},
		{"r3-oneway", func(c config) ([]row, error) { return rr.remoteOneWay(c, 4, 1000) }},
		{"r4-bytes/1", func(c config) ([]row, error) { return rr.remoteCalls(c, "(r4) bytes, 1 caller", 1, true) }},
		{"r4-bytes/64", func(c config) ([]row, error) { return rr.remoteCalls(c, "(r4) bytes, 64 callers", 64, true) }},
	}

	// Without -remote, the local scenarios run, and the remote ones too
	// when -run names them.
	var selected, selectedRemote []unit
	if !*remote {
		for _, u := range units {
			if sel.MatchString(u.name) {
				selected = append(selected, u)
			}
		}
	}
	for _, u := range remoteUnits {
		if (*remote || *pattern != "") && sel.MatchString(u.name) {
			selectedRemote = append(selectedRemote, u)
		}
	}
	if len(selected)+len(selectedRemote) == 0 {
		fmt.Fprintf(stderr, "bench: no scenario matches %q\n", *pattern)
		return 1
	}

	fmt.Fprintf(stdout, "quark bench  %s %s/%s  GOMAXPROCS=%d  CPUs=%d  %s  (-d %v, -n %d)\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(),
		time.Now().Format("2006-01-02 15:04:05 MST"), cfg.d, cfg.n)

	var rows []row
	for _, u := range selected {
		fmt.Fprintf(stderr, "running %s\n", u.name)
		rs, err := u.run(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", u.name, err)
			return 1
		}
		rows = append(rows, rs...)
	}
	if len(selectedRemote) > 0 {
		defaultProcs := runtime.GOMAXPROCS(0)
		defer runtime.GOMAXPROCS(defaultProcs)
		for _, p := range procs {
			runtime.GOMAXPROCS(cmp.Or(p, defaultProcs))
			name := func(path string) string {
				if path != "" && len(procs) > 1 {
					return fmt.Sprintf("%s.procs%d", path, p)
				}
				return path
			}
			rs, err := runRemote(&rr, p, name(*siloProfile), name(*siloMemProfile), selectedRemote, cfg, stderr)
			rows = append(rows, rs...)
			if err != nil {
				fmt.Fprintf(stderr, "bench: %v\n", err)
				return 1
			}
		}
	}
	if err := printTable(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// parseProcs parses the -procs list.
func parseProcs(list string) ([]int, error) {
	var procs []int
	for f := range strings.SplitSeq(list, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 0 {
			return nil, fmt.Errorf("%q is not a GOMAXPROCS setting (0 for the default)", f)
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// runRemote starts a silo process with GOMAXPROCS procs (0: the default)
// for rr, runs units against it, and stops it.
func runRemote(rr *remoteRun, procs int, profile, memProfile string, units []unit, cfg config, stderr io.Writer) (rows []row, err error) {
	fmt.Fprintf(stderr, "starting silo process, GOMAXPROCS %d\n", cmp.Or(procs, runtime.GOMAXPROCS(0)))
	p, err := startSiloProc(procs, profile, memProfile)
	if err != nil {
		return nil, err
	}
	rr.procs, rr.silo = procs, p
	defer func() {
		rr.silo = nil
		err = errors.Join(err, p.stop())
	}()
	for _, u := range units {
		fmt.Fprintf(stderr, "running %s (GOMAXPROCS %d)\n", u.name, runtime.GOMAXPROCS(0))
		rs, err := u.run(cfg)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", u.name, err)
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// writeAllocs writes the allocation profile to path, after a collection
// (the profile counts allocations up to the last one).
func writeAllocs(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return errors.Join(fmt.Errorf("allocation profile: %w", err), f.Close())
	}
	return f.Close()
}

// counter is the Counter implementation every scenario uses: it does as
// little as possible so the table measures the runtime.
type counter struct {
	total     int64
	processed *atomic.Int64 // one-way messages run, shared by the silo's counters
}

func (c *counter) Add(_ context.Context, n int64) (int64, error) {
	c.total += n
	return c.total, nil
}

func (c *counter) Get(context.Context) (int64, error) { return c.total, nil }

func (c *counter) Inc(_ context.Context, n int64) error {
	c.total += n
	c.processed.Add(1)
	return nil
}

// startSilo returns a started silo hosting Counter; Inc calls on any of its
// activations count into processed.
func startSilo(inline bool, processed *atomic.Int64, opts ...quark.SiloOption) (*quark.Silo, error) {
	opts = append([]quark.SiloOption{
		quark.WithLogger(slog.New(slog.DiscardHandler)),
		quark.WithInlineCalls(inline),
	}, opts...)
	s, err := quark.NewSilo(opts...)
	if err != nil {
		return nil, err
	}
	err = testactors.RegisterCounter(s, func(*quark.Activation) testactors.Counter {
		return &counter{processed: processed}
	})
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// stopSilo stops s, joining its error to *errp.
func stopSilo(s *quark.Silo, errp *error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		*errp = errors.Join(*errp, fmt.Errorf("stop silo: %w", err))
	}
}

// printTable writes rows as one aligned table.
func printTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmode\tthroughput\tp50\tp99\tp99.9\tp99.99\tmax\tallocs/op\tsilo allocs/op\tnotes")
	for _, r := range rows {
		p50, p99, p999, p9999, maxLat := "-", "-", "-", "-", "-"
		if r.lat != nil {
			p50 = fmtDur(r.lat.p50)
			p99 = fmtDur(r.lat.p99)
			p999 = fmtDur(r.lat.p999)
			p9999 = fmtDur(r.lat.p9999)
			maxLat = fmtDur(r.lat.max)
		}
		rate := "-"
		if r.unit != "" {
			rate = fmtRate(r.rate) + " " + r.unit
		}
		allocs := "-"
		if r.hasAllocs {
			allocs = fmt.Sprintf("%.2f", r.allocs)
		}
		siloAllocs := "-"
		if r.hasSiloAllocs {
			siloAllocs = fmt.Sprintf("%.2f", r.siloAllocs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.scenario, r.mode, rate, p50, p99, p999, p9999, maxLat, allocs, siloAllocs, r.notes)
	}
	return tw.Flush()
}
