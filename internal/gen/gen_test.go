package gen

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/*/want")

// Each directory testdata/CASE holds a package in in/ (loaded by its
// directory) and the expected outcome in want/: quark_gen.go for a package
// that generates, errors.txt for one that fails (one "file.go:LINE: reason"
// line per error, with base file names), or an empty no_output for a package
// without actors.
func TestGolden(t *testing.T) {
	t.Parallel()
	cases, err := filepath.Glob("testdata/*/in")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no test cases in testdata")
	}
	for _, in := range cases {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			testGolden(t, dir)
		})
	}
}

func testGolden(t *testing.T, dir string) {
	pkgs, err := Generate(nil, "./"+filepath.ToSlash(filepath.Join(dir, "in")))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 {
		t.Fatalf("generated %d packages, want 1", len(pkgs))
	}
	p := pkgs[0]
	want := filepath.Join(dir, "want")
	goldenGen := filepath.Join(want, FileName)
	goldenErrs := filepath.Join(want, "errors.txt")
	goldenNone := filepath.Join(want, "no_output")

	var gotErrs string
	for _, e := range p.Errors {
		c := *e
		c.Pos.Filename = filepath.Base(c.Pos.Filename)
		gotErrs += c.Error() + "\n"
	}

	if *update {
		if err := os.MkdirAll(want, 0o777); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{goldenGen, goldenErrs, goldenNone} {
			os.Remove(f)
		}
		switch {
		case gotErrs != "":
			err = os.WriteFile(goldenErrs, []byte(gotErrs), 0o666)
		case p.Output != nil:
			err = os.WriteFile(goldenGen, p.Output, 0o666)
		default:
			err = os.WriteFile(goldenNone, nil, 0o666)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	switch {
	case exists(goldenErrs):
		wantErrs := readFile(t, goldenErrs)
		if gotErrs != wantErrs {
			t.Errorf("errors differ from %s:\ngot:\n%s\nwant:\n%s", goldenErrs, gotErrs, wantErrs)
		}
		if p.Output != nil {
			t.Errorf("got output, want errors")
		}
	case exists(goldenGen):
		if gotErrs != "" {
			t.Fatalf("unexpected errors:\n%s", gotErrs)
		}
		if wantGen := readFile(t, goldenGen); string(p.Output) != wantGen {
			t.Errorf("output differs from %s (rerun with -update to accept it):\n%s", goldenGen, diff(wantGen, string(p.Output)))
		}
		typeCheck(t, p)
	case exists(goldenNone):
		if gotErrs != "" {
			t.Fatalf("unexpected errors:\n%s", gotErrs)
		}
		if p.Output != nil {
			t.Errorf("a package without actors has output:\n%s", p.Output)
		}
	default:
		t.Fatalf("%s holds no golden file; run go test -update", want)
	}
}

// typeCheck loads p's package with its output in place of quark_gen.go and
// fails on any error.
func typeCheck(t *testing.T, p *Package) {
	t.Helper()
	cfg := &packages.Config{
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Overlay: map[string][]byte{p.File(): p.Output},
	}
	pkgs, err := packages.Load(cfg, p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		for _, e := range pkg.Errors {
			t.Errorf("generated code does not type-check: %s: %s", e.Pos, e.Msg)
		}
	}
}

// TestCommittedGeneratedCode regenerates every generated file of the module
// outside testdata and compares it with the one in the tree.
func TestCommittedGeneratedCode(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not in a module")
	}
	root := filepath.Dir(gomod)
	var dirs []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || exists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == FileName {
			if src, err := os.ReadFile(path); err == nil && IsGenerated(src) {
				dirs = append(dirs, filepath.Dir(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skip("no generated files in the module")
	}
	pkgs, err := Generate(&Config{Dir: root}, dirs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		rel, _ := filepath.Rel(root, p.File())
		if len(p.Errors) > 0 {
			t.Errorf("%s cannot be regenerated:\n%v", rel, p.Errors)
			continue
		}
		have, err := os.ReadFile(p.File())
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Equal(have, p.Output) {
			if p.Output == nil {
				t.Errorf("%s is stale: its package no longer declares actors; run go generate ./...", rel)
			} else {
				t.Errorf("%s is out of date; run go generate ./...\n%s", rel, diff(string(have), string(p.Output)))
			}
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// diff returns the lines of want and got from their first difference on,
// enough to see what changed.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	const context = 8
	clip := func(lines []string) string {
		end := min(len(lines), i+context)
		return strings.Join(lines[i:end], "\n")
	}
	return fmt.Sprintf("first difference at line %d\nwant:\n%s\ngot:\n%s", i+1, clip(w), clip(g))
}

// TestGeneratedCodeRuns runs the tests of the codec case against its golden
// output: round trips of every supported kind, deep copies, hostile input.
func TestGeneratedCodeRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test binary")
	}
	if *update {
		// TestGolden is parallel, so it rewrites the golden output only
		// after this test (sequential tests run first): this run would test
		// the output being replaced.
		t.Skip("-update rewrites the golden output; run again without it")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "codec"))
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(dir, "in", FileName): filepath.Join(dir, "want", FileName),
	}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(file, overlay, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-overlay="+file, "./testdata/codec/in")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test of the generated code failed: %v\n%s", err, out)
	}
}
