package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarkgo/quark/internal/gen"
)

// module writes a throwaway module holding files and makes it the current
// directory. Its packages import nothing outside the standard library, so
// gen can load them without the network.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, src := range files {
		write(t, filepath.Join(dir, name), src)
	}
	t.Chdir(dir)
	return dir
}

func write(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o666); err != nil {
		t.Fatal(err)
	}
}

func quark(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const counter = `package counter

import "context"

// Counter counts.
//
//quark:actor
type Counter interface {
	Add(ctx context.Context, n int) (int, error)
}
`

func TestGenWritesRewritesAndRemoves(t *testing.T) {
	dir := module(t, map[string]string{"counter/counter.go": counter})
	genFile := filepath.Join(dir, "counter", gen.FileName)

	code, _, stderr := quark(t, "gen", "-v", "./counter")
	if code != 0 {
		t.Fatalf("gen failed (%d):\n%s", code, stderr)
	}
	if want := "wrote " + filepath.Join("counter", gen.FileName); !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr, want)
	}
	first, err := os.ReadFile(genFile)
	if err != nil {
		t.Fatal(err)
	}
	if !gen.IsGenerated(first) || !bytes.Contains(first, []byte("func (r CounterRef) Add(ctx context.Context, n int) (r0 int, err error)")) {
		t.Fatalf("unexpected output:\n%s", first)
	}

	// Unchanged input: nothing to do.
	if code, _, stderr := quark(t, "gen", "-v", "./..."); code != 0 || stderr != "" {
		t.Fatalf("second gen: code %d, stderr %q", code, stderr)
	}

	// A new method, and the generated file still refers to the old set.
	write(t, filepath.Join(dir, "counter", "counter.go"), strings.Replace(counter,
		"Add(ctx context.Context, n int) (int, error)",
		"Sub(ctx context.Context, n int) (int, error)", 1))
	if code, _, stderr := quark(t, "gen", "./counter"); code != 0 {
		t.Fatalf("gen after a change failed (%d):\n%s", code, stderr)
	}
	second, _ := os.ReadFile(genFile)
	if !bytes.Contains(second, []byte(") Sub(")) || bytes.Contains(second, []byte(") Add(")) {
		t.Fatalf("output not regenerated:\n%s", second)
	}

	// No actors left: the generated file goes.
	write(t, filepath.Join(dir, "counter", "counter.go"), strings.Replace(counter, "//quark:actor", "// Not an actor.", 1))
	if code, _, stderr := quark(t, "gen", "-v", "./counter"); code != 0 || !strings.Contains(stderr, "removed") {
		t.Fatalf("gen without actors: code %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(genFile); !os.IsNotExist(err) {
		t.Fatalf("%s still exists (%v)", genFile, err)
	}
}

func TestGenDefaultsToCurrentDirectory(t *testing.T) {
	dir := module(t, map[string]string{"counter.go": counter})
	if code, _, stderr := quark(t, "gen"); code != 0 {
		t.Fatalf("gen failed (%d):\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, gen.FileName)); err != nil {
		t.Fatal(err)
	}
}

func TestGenReportsErrorsAndWritesNothing(t *testing.T) {
	dir := module(t, map[string]string{
		"good/good.go": counter,
		"bad/bad.go": `package bad

import "context"

//quark:actor
type Bad interface {
	NoContext(n int) error
	Watch(ctx context.Context) (chan int, error)
}
`,
	})
	code, _, stderr := quark(t, "gen", "./...")
	if code != 1 {
		t.Fatalf("gen exited %d, want 1; stderr:\n%s", code, stderr)
	}
	want := filepath.Join("bad", "bad.go") + ":7: first parameter of method NoContext must be a context.Context, not int\n" +
		filepath.Join("bad", "bad.go") + ":8: result 1 of method Watch has type chan int, which contains a channel\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	for _, pkg := range []string{"good", "bad"} {
		if _, err := os.Stat(filepath.Join(dir, pkg, gen.FileName)); !os.IsNotExist(err) {
			t.Errorf("%s/%s was written despite errors", pkg, gen.FileName)
		}
	}
}

func TestGenKeepsHandWrittenFile(t *testing.T) {
	dir := module(t, map[string]string{
		"counter.go": counter,
		gen.FileName: "package counter\n\n// Mine is the user's own.\nvar Mine = 1\n",
	})
	code, _, stderr := quark(t, "gen")
	if code != 1 || !strings.Contains(stderr, "not written by quark gen") {
		t.Fatalf("gen: code %d, stderr %q", code, stderr)
	}
	if src, _ := os.ReadFile(filepath.Join(dir, gen.FileName)); gen.IsGenerated(src) {
		t.Fatal("hand-written file replaced")
	}
}

func TestGenNoPackages(t *testing.T) {
	module(t, map[string]string{})
	if code, _, stderr := quark(t, "gen", "./..."); code != 1 || !strings.Contains(stderr, "no packages") {
		t.Fatalf("gen: code %d, stderr %q", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := quark(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "quark ") || !strings.Contains(stdout, "SupportPackageIsVersion4") {
		t.Fatalf("version: code %d, stdout %q", code, stdout)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, stderr := quark(t, "frobnicate"); code != 1 || stderr == "" {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}
