package main

import (
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepositoryHoldsNoBuildOutput fails when a test binary, a profile or
// coverage output is committed: .gitignore keeps them out of a normal
// commit, and this catches one added by force.
func TestRepositoryHoldsNoBuildOutput(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): nothing to check", err)
	}
	build := []string{"*.test", "*.prof", "*.pprof", "cpu.out", "mem.out", "coverage.*", "*.coverprofile"}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		for _, pattern := range build {
			if ok, _ := path.Match(pattern, path.Base(f)); ok {
				t.Errorf("%s is committed: it is build output (%s), not source", f, pattern)
			}
		}
	}
}
