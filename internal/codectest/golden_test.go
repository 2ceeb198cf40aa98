package codectest_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarkgo/quark/internal/codectest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current encodings")

// goldenCase is one fixed value whose encoding is kept in
// testdata/<name>.golden.
type goldenCase struct {
	name   string
	encode func(t tb) []byte
	// check decodes b and compares it with the fixed value.
	check func(t *testing.T, b []byte)
	// decode decodes b into a fresh value of the type and returns the error.
	decode func(t tb, b []byte) error
}

// golden makes the case name for v, of a type with codec methods; what
// decodes must equal want(v), or v when want is nil.
func golden[T any, P codecPtr[T]](name string, v T, want func(*T)) goldenCase {
	exp := v
	if want != nil {
		want(&exp)
	}
	return goldenCase{
		name:   name,
		encode: func(t tb) []byte { return marshal(t, P(&v), nil) },
		check: func(t *testing.T, b []byte) {
			t.Helper()
			// Decode a copy and clobber it: nothing decoded may alias the
			// input.
			in := bytes.Clone(b)
			got, err := decode[T, P](t, in)
			if err != nil {
				t.Fatalf("decoding the golden bytes: %v", err)
			}
			for i := range in {
				in[i] = 0xff
			}
			if d := diff(exp, got); d != "" {
				t.Fatalf("the golden bytes decode to another value: %s", d)
			}
		},
		decode: func(t tb, b []byte) error {
			t.Helper()
			_, err := decode[T, P](t, b)
			return err
		},
	}
}

// goldenCases lists the fixed values. The name before any "-" is the type's,
// which the fuzz targets use to pick their seeds.
func goldenCases() []goldenCase {
	noSecret := func(v *codectest.Tagged) { v.Secret = "" }
	return []goldenCase{
		golden("Scalars", fixtureScalars(), nil),
		golden("Scalars-zero", codectest.Scalars{}, nil),
		golden("Named", fixtureNamed(), nil),
		golden("Named-zero", codectest.Named{}, nil),
		golden("Point", codectest.Point{X: 0.5, Y: -2, Label: "p"}, nil),
		golden("Containers", fixtureContainers(), nil),
		golden("Containers-empty", fixtureEmptyContainers(), nil),
		golden("Containers-zero", codectest.Containers{}, nil),
		golden("Pointers", fixturePointers(), nil),
		golden("Pointers-zero", codectest.Pointers{}, nil),
		golden("Times", fixtureTimes(), nil),
		golden("Times-zero", codectest.Times{}, nil),
		golden("Marshalers", fixtureMarshalers(), nil),
		golden("Marshalers-zero", codectest.Marshalers{}, nil),
		golden("Tagged", fixtureTagged(), noSecret),
		golden("Derived", fixtureDerived(), func(v *codectest.Derived) { *v = v.WithOwner("") }),
		golden("Derived-zero", codectest.Derived{}, nil),
		golden("Keys", fixtureKeys(), nil),
		golden("Keys-zero", codectest.Keys{}, nil),
		golden("Foreign", fixtureForeign(), nil),
		golden("Tree", fixtureTree(), nil),
		golden("List", fixtureList(), nil),
		golden("Dir", fixtureDir(), nil),
		golden("Expr", fixtureExpr(), nil),
		golden("Arg", codectest.Arg{Lit: ptr(-0.25)}, nil),
		golden("Tags", codectest.Tags{"red", "", "green"}, nil),
		golden("Tags-nil", codectest.Tags(nil), nil),
		golden("Tags-empty", codectest.Tags{}, nil),
		golden("Scores", codectest.Scores{"ada": 99.5, "bob": -1}, nil),
		golden("Matrix", codectest.Matrix{{1, 2, 3}, {-4, -5, -6}}, nil),
		golden("Temperature", codectest.Temperature(21.5), nil),
		golden("OrderLine", fixtureOrder().Lines[0], nil),
		golden("Order", fixtureOrder(), nil),
		golden("Order-zero", codectest.Order{}, nil),
		golden("Wides", codectest.Wides{{}, {Words: [64]uint64{0: 1, 63: 1 << 63}}}, nil),
		golden("Sparse", fixtureSparse(), nil),
		golden("Sparse-zero", codectest.Sparse{}, nil),
		golden("CustomerV1", fixtureCustomerV1(), nil),
		golden("CustomerV2", fixtureCustomerV2(), nil),
	}
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".golden") }

// writeGolden writes b as hex, 32 bytes a line, under a comment.
func writeGolden(name string, b []byte) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s: MessagePack from MarshalQuark, in hex. Rewrite with: go test -run TestGolden -update\n", name)
	for len(b) > 0 {
		n := min(32, len(b))
		buf.WriteString(hex.EncodeToString(b[:n]))
		buf.WriteByte('\n')
		b = b[n:]
	}
	return os.WriteFile(goldenPath(name), buf.Bytes(), 0o644)
}

// readGolden reads what writeGolden wrote.
func readGolden(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []byte
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// TestGolden fails when the encoding of a fixed value changes (other than
// in the order of map entries, which follows Go's map iteration), and when
// the stored bytes no longer decode to the value. Run with -update to
// rewrite the files after an intended change of format.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			got := c.encode(t)
			if *update {
				if err := writeGolden(c.name, got); err != nil {
					t.Fatal(err)
				}
			}
			want, err := readGolden(goldenPath(c.name))
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(canonicalOf(t, got), canonicalOf(t, want)) {
				t.Errorf("the encoding changed\n got %x\nwant %x\n(run with -update if the change is intended)", got, want)
			}
			c.check(t, want)
		})
	}
}

// TestGoldenFilesHaveCases catches golden files left behind by a renamed
// case.
func TestGoldenFilesHaveCases(t *testing.T) {
	names := map[string]bool{}
	for _, c := range goldenCases() {
		names[c.name] = true
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".golden"); !names[name] {
			t.Errorf("%s has no case in goldenCases", f)
		}
	}
}

// goldenSeeds returns the stored encodings of every golden case, those of
// typeName first.
func goldenSeeds(t testing.TB, typeName string) [][]byte {
	var own, others [][]byte
	for _, c := range goldenCases() {
		b, err := readGolden(goldenPath(c.name))
		if err != nil {
			t.Fatal(err)
		}
		if base, _, _ := strings.Cut(c.name, "-"); base == typeName {
			own = append(own, b)
		} else {
			others = append(others, b)
		}
	}
	if len(own) == 0 {
		t.Fatalf("no golden files for %s", typeName)
	}
	return append(own, others...)
}
