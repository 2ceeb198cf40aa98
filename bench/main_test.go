package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
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
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(scenario) + `\s+\S.*?\s+[0-9.]+[kMG]? (calls|msg)/s\s`)
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
	for _, sc := range []string{"(a) call, 1 caller", "(b) call, 64 callers", "(c) one-way, 2 senders", "(d) activate", "(e) goroutines"} {
		if !strings.Contains(out.String(), sc) {
			t.Errorf("no row of %q:\n%s", sc, &out)
		}
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
