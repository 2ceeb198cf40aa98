package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quarkgo/quark/storage/storagetest"
	"github.com/redis/go-redis/v9"
)

// TestMain lets the test binary serve as the silo process of the remote
// scenarios, as the bench program does when started again by itself.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "silo" {
		os.Exit(siloMain(os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// rowRE matches a table row of scenario whose throughput column holds a
// rate.
func rowRE(scenario string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(scenario) + `\s+\S.*?\s+[0-9.]+[kMG]? (calls|msg|ops|writes)/s\s`)
}

// TestRemoteRuns runs every remote scenario briefly, at both GOMAXPROCS
// settings, against a silo process, and checks that each printed a row
// with a rate.
func TestRemoteRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts silo processes")
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-remote", "-d", "50ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, sc := range []string{
		"(r1) remote call, 1 caller",
		"(r2) remote call, 64 callers",
		"(r3) remote one-way, 4 senders",
		"(r4) bytes, 1 caller",
		"(r4) bytes, 64 callers",
	} {
		if n := len(rowRE(sc).FindAllString(out.String(), -1)); n != 2 {
			t.Errorf("%d rows of %q with a rate, want 2 (one per -procs setting)\n%s", n, sc, &out)
		}
	}
	if strings.Contains(out.String(), "(a) call") {
		t.Errorf("-remote ran local scenarios:\n%s", &out)
	}
}

// TestRemoteSelectedByRun checks that -run selects a remote scenario
// without -remote, and -procs one setting.
func TestRemoteSelectedByRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a silo process")
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-run", "^r1-", "-procs", "1", "-d", "20ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	if n := len(rowRE("(r1) remote call, 1 caller").FindAllString(out.String(), -1)); n != 1 {
		t.Errorf("%d r1 rows, want 1:\n%s", n, &out)
	}
	if !strings.Contains(out.String(), "GOMAXPROCS=1/1") {
		t.Errorf("r1 row not at GOMAXPROCS=1 in both processes:\n%s", &out)
	}
	if strings.Contains(out.String(), "(r2)") || strings.Contains(out.String(), "(a) call") {
		t.Errorf("-run ^r1- ran other scenarios:\n%s", &out)
	}
}

// TestLocalRuns runs the local scenarios briefly.
func TestLocalRuns(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-d", "20ms", "-n", "1000"}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, sc := range []string{"(a) call, 1 caller", "(b) call, 64 callers", "(c) one-way, 2 senders", "(d) activate", "(e) goroutines",
		"(f) codec, ten fields", "(g) redis store, 1,000 actors"} {
		if !strings.Contains(out.String(), sc) {
			t.Errorf("no row of %q:\n%s", sc, &out)
		}
	}
	oneWayBytes := regexp.MustCompile(`(?m)^\(c\) one-way, 2 senders\s.* [0-9]+ B allocated per message; `)
	if n := len(oneWayBytes.FindAllString(out.String(), -1)); n != 2 {
		t.Errorf("%d one-way rows give the bytes allocated per message, want 2:\n%s", n, &out)
	}
	if strings.Contains(out.String(), "(r1)") {
		t.Errorf("local run ran remote scenarios:\n%s", &out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-procs", "x"}, {"-procs", "-1"}, {"-run", "("}, {"-d", "0"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr %s", args, code, &errOut)
		}
	}
}

// TestCodecRuns runs the codec scenarios briefly and checks each printed a
// row with a rate and an allocation count.
func TestCodecRuns(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-run", "^f-", "-d", "20ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, mode := range []string{"quark", "encoding/json", "encoding/gob"} {
		re := regexp.MustCompile(`(?m)^\(f\) codec, ten fields\s+` + regexp.QuoteMeta(mode) +
			`\s+[0-9.]+[kMG]? ops/s\s.*\s[0-9]+\.[0-9]{2}\s+-\s+\S+ per encode\+decode`)
		if !re.MatchString(out.String()) {
			t.Errorf("no %s codec row with a rate, allocations and time per op:\n%s", mode, &out)
		}
	}
	if strings.Contains(out.String(), "(a) call") || strings.Contains(out.String(), "(g) redis") {
		t.Errorf("-run ^f- ran other scenarios:\n%s", &out)
	}
}

// redisModes are the modes of the Redis scenarios' rows, in order.
var redisModes = []string{
	"saturation, 100 writers",
	"saturation, 1000 writers",
	"arrival 5k saves/s + loads",
	"arrival 10k saves/s + loads",
	"arrival 20k saves/s + loads",
}

// TestRedisRuns runs the Redis scenarios briefly against the test server
// and checks each printed a row with a rate and that no key they wrote is
// left. Without a server it skips (fails with QUARK_REQUIRE_SERVICES=1).
func TestRedisRuns(t *testing.T) {
	addr := storagetest.Addr(redisAddrEnv, "127.0.0.1:6379")
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		storagetest.Unreachable(t, "redis", addr, err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-run", "^g-", "-d", "20ms", "-redis", addr}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, mode := range redisModes {
		re := regexp.MustCompile(`(?m)^\(g\) redis store, 1,000 actors\s+` + regexp.QuoteMeta(mode) +
			`\s+[0-9.]+[kMG]? writes/s\s+[0-9.]+[nµm]?s\s.*; redis [0-9]`)
		if !re.MatchString(out.String()) {
			t.Errorf("no %q row with a rate, a p50 and the server's version:\n%s", mode, &out)
		}
	}
	keys, err := c.Keys(ctx, fmt.Sprintf("quarkbench:%d:*", os.Getpid())).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("%d keys left behind, such as %q", len(keys), keys[0])
	}
}

// TestRedisUnreachable checks that without a Redis server each Redis
// scenario prints a row saying it was skipped and why, and the run
// succeeds with the other scenarios' rows.
func TestRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	var out, errOut bytes.Buffer
	if code := run([]string{"-run", "^g-|^f-codec/quark", "-d", "20ms", "-redis", addr}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, mode := range redisModes {
		re := regexp.MustCompile(`(?m)^\(g\) redis store, 1,000 actors\s+` + regexp.QuoteMeta(mode) +
			`\s+-\s.*skipped: redis at ` + regexp.QuoteMeta(addr) + ` unreachable .*: \S`)
		if !re.MatchString(out.String()) {
			t.Errorf("no skipped %q row naming %s and the error:\n%s", mode, addr, &out)
		}
	}
	if !rowRE("(f) codec, ten fields").MatchString(out.String()) {
		t.Errorf("the codec row is missing beside the skipped ones:\n%s", &out)
	}
}

// TestFormat checks the table's number formats, at the edges where
// rounding to three significant digits carries into the next unit.
func TestFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{fmtRate(999), "999"},
		{fmtRate(9_997), "10.0k"},
		{fmtRate(10_000), "10.0k"},
		{fmtRate(99_970), "100k"},
		{fmtRate(999_700), "1.00M"},
		{fmtRate(2_154_000), "2.15M"},
		{fmtDur(171 * time.Nanosecond), "171ns"},
		{fmtDur(9_996 * time.Nanosecond), "10.0µs"},
		{fmtDur(999_700 * time.Nanosecond), "1.00ms"},
		{fmtDur(1_234_567 * time.Nanosecond), "1.23ms"},
		{fmtDur(3_310 * time.Millisecond), "3.31s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
