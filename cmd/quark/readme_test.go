package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeSetupBuildsAUserModule follows README.md's "Defining an actor"
// in a new module outside this repository, as a user would: it runs the
// section's setup commands (its sh block), writes its actor file (its first
// go block, //go:generate line included) and a small main that calls the
// actor, then runs go mod tidy, go generate, go vet and go run. Commands and
// code come from the README text itself, so the README cannot drift from
// what works.
//
// The user's go.mod replaces github.com/quarkgo/quark with this checkout. The
// go command still asks a proxy which version "go get
// github.com/quarkgo/quark" means, so a file proxy in the test's folder
// answers for this module alone, ahead of the module cache and the
// environment's GOPROXY, which serve every other module. GOFLAGS is cleared:
// -mod=mod would let go run add missing requirements by itself and hide
// exactly the failure this test is for.
func TestReadmeSetupBuildsAUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a throwaway module with the go command; skipped under -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := markdownSection(string(readme), "## Defining an actor")
	if section == "" {
		t.Fatal(`README.md has no "## Defining an actor" section`)
	}
	setup := fencedBlocks(section, "sh")
	actor := fencedBlocks(section, "go")
	if len(setup) == 0 || len(actor) == 0 {
		t.Fatalf(`README.md's "Defining an actor" needs an sh block of setup commands and a go block with the actor file; found %d and %d`,
			len(setup), len(actor))
	}
	if !strings.Contains(actor[0], "//go:generate ") {
		t.Fatal(`README.md's actor file has no //go:generate line`)
	}

	tmp := t.TempDir()
	app := filepath.Join(tmp, "app")
	env := append(os.Environ(),
		"GOFLAGS=",
		"GOWORK=off",
		"GOPROXY="+moduleProxy(t, goBin, root, filepath.Join(tmp, "proxy")),
	)
	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = app
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	write(t, filepath.Join(app, "bank", "bank.go"), actor[0])
	write(t, filepath.Join(app, "main.go"), readmeMain)
	gocmd("mod", "init", "example.com/app")
	gocmd("mod", "edit", "-replace", "github.com/quarkgo/quark="+root)
	for _, line := range strings.Split(setup[0], "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args := strings.Fields(line)
		if args[0] != "go" {
			t.Fatalf("README setup line %q is not a go command", line)
		}
		gocmd(args[1:]...)
	}
	gocmd("mod", "tidy")
	gocmd("generate", "./...")
	gocmd("vet", "./...")
	if out := gocmd("run", "."); out != "balance 150\n" {
		t.Fatalf("go run . printed %q, want %q", out, "balance 150\n")
	}
}

// readmeMain is the user's program: the README's account, registered on a
// silo and called.
const readmeMain = `package main

import (
	"context"
	"fmt"
	"log/slog"

	"example.com/app/bank"
	"github.com/quarkgo/quark"
)

type account struct{ balance int64 }

func (a *account) Deposit(_ context.Context, n int64) (int64, error) { a.balance += n; return a.balance, nil }
func (a *account) Balance(context.Context) (int64, error)            { return a.balance, nil }
func (a *account) Audit(context.Context, string) error               { return nil }

func main() {
	ctx := context.Background()
	silo, err := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	if err := bank.RegisterAccount(silo, func(*quark.Activation) bank.Account { return &account{} }); err != nil {
		panic(err)
	}
	if err := silo.Start(ctx); err != nil {
		panic(err)
	}
	defer silo.Stop(ctx)
	alice := bank.NewAccountRef(silo, quark.StringKey("alice"))
	if _, err := alice.Deposit(ctx, 100); err != nil {
		panic(err)
	}
	if _, err := alice.Deposit(ctx, 50); err != nil {
		panic(err)
	}
	balance, err := alice.Balance(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("balance", balance)
}
`

// moduleProxy writes, under dir, a file module proxy that knows one version
// of github.com/quarkgo/quark (the user's go.mod replaces it with root, so
// only the version's existence matters), and returns a GOPROXY list that
// asks it first, then the module cache, then the environment's proxies.
func moduleProxy(t *testing.T, goBin, root, dir string) string {
	t.Helper()
	const version = "v0.0.0-00010101000000-000000000000"
	info := `{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(dir, "github.com", "quarkgo", "quark", "@v")
	write(t, filepath.Join(at, "list"), "")
	write(t, filepath.Join(at, version+".info"), info)
	write(t, filepath.Join(at, version+".mod"), string(mod))
	write(t, filepath.Join(filepath.Dir(at), "@latest"), info)

	out, err := exec.Command(goBin, "env", "GOMODCACHE", "GOPROXY").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	vars := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(vars) != 2 {
		t.Fatalf("go env printed %q", out)
	}
	list := "file://" + filepath.ToSlash(dir) + ",file://" + filepath.ToSlash(filepath.Join(vars[0], "cache", "download"))
	if vars[1] != "" {
		list += "," + vars[1]
	}
	return list
}

// markdownSection returns the text of the section that starts with heading
// (a whole line), up to the next heading of the same level.
func markdownSection(doc, heading string) string {
	start := strings.Index(doc, "\n"+heading+"\n")
	if start < 0 {
		return ""
	}
	body := doc[start+len(heading)+2:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if end := strings.Index(body, "\n"+level); end >= 0 {
		body = body[:end+1]
	}
	return body
}

// fencedBlocks returns the contents of the ``` blocks in doc whose info
// string is lang, in order.
func fencedBlocks(doc, lang string) []string {
	var blocks []string
	var cur strings.Builder
	in, keep := false, false
	for _, line := range strings.SplitAfter(doc, "\n") {
		fence := strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(fence, "```"):
			in, keep = true, fence == "```"+lang
			cur.Reset()
		case in && fence == "```":
			if keep {
				blocks = append(blocks, cur.String())
			}
			in = false
		case in:
			cur.WriteString(line)
		}
	}
	return blocks
}
