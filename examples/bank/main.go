// Command bank is Quark's quick-start example: accounts, a teller and a
// ledger as actors on one in-process silo, their state kept in the embedded
// durable store in a local folder (./bank-data, or $QUARK_BANK_DATA). The
// first run opens the accounts; every run makes transfers from many
// goroutines at once through actor-to-actor calls and prints the balances
// and the ledger's totals, carried over from earlier runs. Money is never
// created or lost.
//
// The same bank runs as a static cluster of silo processes over gRPC, with
// a client process calling them (cluster.go):
//
//	go run ./examples/bank silo -listen 127.0.0.1:7001 -members 127.0.0.1:7001,127.0.0.1:7002 -data bank-7001
//	go run ./examples/bank silo -listen 127.0.0.1:7002 -members 127.0.0.1:7001,127.0.0.1:7002 -data bank-7002
//	go run ./examples/bank client -gateways 127.0.0.1:7001,127.0.0.1:7002
//
// or all three at once, the silos as child processes: go run ./examples/bank cluster
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/storage/embedded"
)

var customers = []string{"alice", "bob", "carol", "dave", "erin"}

func main() {
	if len(os.Args) > 1 {
		os.Exit(runMode(os.Args[1], os.Args[2:]))
	}
	dir := os.Getenv("QUARK_BANK_DATA")
	if dir == "" {
		dir = "bank-data"
	}
	if err := run(context.Background(), os.Stdout, dir, 1000); err != nil {
		fmt.Fprintln(os.Stderr, "bank:", err)
		os.Exit(1)
	}
}

// run opens the store in dir, opens the accounts if they are new, makes
// transfers random transfers and prints the outcome to w. It fails, too, if
// the silo does not stop cleanly or the store does not close.
func run(ctx context.Context, w io.Writer, dir string, transfers int) (err error) {
	store, err := embedded.Open(filepath.Join(dir, "bank.db"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
		}
	}()
	silo, err := quark.NewSilo(quark.WithName("bank"), quark.WithStore(store),
		quark.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	if err := register(silo); err != nil {
		return err
	}
	if err := silo.Start(ctx); err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if serr := silo.Stop(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop silo: %w", serr))
		}
	}()

	return trade(ctx, w, silo, customers, dir, transfers)
}

// trade opens the accounts named if they hold nothing yet (each with $100
// more than the one before), makes transfers random transfers between them
// from 8 goroutines through a teller, prints the balances and the ledger's
// totals to w, and checks that the accounts hold what they were opened
// with. c is the silo the actors live on, or a client of their cluster;
// where names the data folder, for the messages.
func trade(ctx context.Context, w io.Writer, c quark.Caller, names []string, where string, transfers int) error {
	opening, err := holdings(ctx, c, names)
	if err != nil {
		return err
	}
	books := NewLedgerRef(c, quark.StringKey("books"))
	before, err := books.Summary(ctx)
	if err != nil {
		return err
	}
	if opening > 0 {
		fmt.Fprintf(w, "welcome back: %d accounts hold $%s after %d transfers, carried over from earlier runs (%s)\n",
			len(names), dollars(opening), before.Transfers, where)
	} else {
		for i, name := range names {
			amount := int64(100_00 * (i + 1))
			if _, err := NewAccountRef(c, quark.StringKey(name)).Deposit(ctx, amount); err != nil {
				return fmt.Errorf("open %s: %w", name, err)
			}
			opening += amount
		}
		fmt.Fprintf(w, "opened %d accounts holding $%s (kept in %s)\n", len(names), dollars(opening), where)
	}

	start := time.Now()
	teller := NewTellerRef(c, quark.IntKey(0))
	var made atomic.Int64 // transfers completed or refused this run
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for range transfers / 8 {
				from, to := names[r.IntN(len(names))], names[r.IntN(len(names))]
				if from == to {
					continue
				}
				err := teller.Transfer(ctx, from, to, 1+r.Int64N(50_00))
				if err != nil && !errors.Is(err, ErrInsufficientFunds) {
					errs <- err
					return
				}
				made.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	elapsed := time.Since(start)

	var total int64
	for _, name := range names {
		b, err := NewAccountRef(c, quark.StringKey(name)).Balance(ctx)
		if err != nil {
			return err
		}
		total += b
		fmt.Fprintf(w, "  %-6s $%10s\n", name, dollars(b))
	}
	// Ledger records are one-way messages. On one silo the readonly
	// Summary call queues behind any still in the ledger's mailbox; in a
	// cluster, records sent by tellers on other silos may still be on
	// their way, so wait (briefly) until every transfer of this run is in.
	want := before.Transfers + before.Refused + made.Load()
	var sum Summary
	for wait := time.Millisecond; ; wait *= 2 {
		if sum, err = books.Summary(ctx); err != nil {
			return err
		}
		if sum.Transfers+sum.Refused >= want || wait > time.Second {
			break
		}
		time.Sleep(wait)
	}
	fmt.Fprintf(w, "transfers so far: %d completed ($%s moved), %d refused for insufficient funds; this run took %v\n",
		sum.Transfers, dollars(sum.Moved), sum.Refused, elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "total held: $%s (at the start of this run: $%s)\n", dollars(total), dollars(opening))
	if total != opening {
		return fmt.Errorf("books do not balance: %d cents held, %d opened", total, opening)
	}
	return nil
}

// holdings returns the money the accounts named hold.
func holdings(ctx context.Context, c quark.Caller, names []string) (int64, error) {
	var total int64
	for _, name := range names {
		b, err := NewAccountRef(c, quark.StringKey(name)).Balance(ctx)
		if err != nil {
			return 0, err
		}
		total += b
	}
	return total, nil
}

func dollars(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }
