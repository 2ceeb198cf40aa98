package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/storage"
)

func TestRunsCarryStateOver(t *testing.T) {
	dir := t.TempDir()
	var first, second bytes.Buffer
	if err := run(context.Background(), &first, dir, 400); err != nil {
		t.Fatalf("first run: %v\n%s", err, first.String())
	}
	if !strings.Contains(first.String(), "opened 5 accounts holding $1500.00") ||
		!strings.Contains(first.String(), "total held: $1500.00") {
		t.Fatalf("first run:\n%s", first.String())
	}
	if err := run(context.Background(), &second, dir, 400); err != nil {
		t.Fatalf("second run: %v\n%s", err, second.String())
	}
	out := second.String()
	if !strings.Contains(out, "welcome back: 5 accounts hold $1500.00") || !strings.Contains(out, "total held: $1500.00") {
		t.Fatalf("second run did not carry the state over:\n%s", out)
	}
}

func TestTransfers(t *testing.T) {
	for _, inline := range []bool{true, false} {
		s, err := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)), quark.WithInlineCalls(inline), quark.WithStore(storage.NewMemory()))
		if err != nil {
			t.Fatal(err)
		}
		if err := register(s); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		alice := NewAccountRef(s, quark.StringKey("alice"))
		bob := NewAccountRef(s, quark.StringKey("bob"))
		teller := NewTellerRef(s, quark.IntKey(0))
		if _, err := alice.Deposit(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if err := teller.Transfer(ctx, "alice", "bob", 60); err != nil {
			t.Fatal(err)
		}
		if err := teller.Transfer(ctx, "alice", "bob", 60); !errors.Is(err, ErrInsufficientFunds) {
			t.Fatalf("overdraft: %v, want ErrInsufficientFunds", err)
		}
		if _, err := bob.Deposit(ctx, -5); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Fatalf("negative deposit: %v", err)
		}
		a, _ := alice.Balance(ctx)
		b, _ := bob.Balance(ctx)
		if a != 40 || b != 60 {
			t.Fatalf("balances %d, %d; want 40, 60", a, b)
		}
		sum, err := NewLedgerRef(s, quark.StringKey("books")).Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum != (Summary{Transfers: 1, Refused: 1, Moved: 60}) {
			t.Fatalf("summary %+v", sum)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTransfersThroughTheCodec runs the transfers with every local call
// encoded and decoded as if it crossed the wire: arguments, results and
// errors, whose codes and registered sentinels must survive.
func TestTransfersThroughTheCodec(t *testing.T) {
	for _, inline := range []bool{true, false} {
		s, err := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)), quark.WithInlineCalls(inline), quark.WithCodecRouting(true), quark.WithStore(storage.NewMemory()))
		if err != nil {
			t.Fatal(err)
		}
		if err := register(s); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		alice := NewAccountRef(s, quark.StringKey("alice"))
		bob := NewAccountRef(s, quark.StringKey("bob"))
		teller := NewTellerRef(s, quark.IntKey(0))
		if b, err := alice.Deposit(ctx, 100); err != nil || b != 100 {
			t.Fatalf("deposit: %d, %v", b, err)
		}
		if err := teller.Transfer(ctx, "alice", "bob", 60); err != nil {
			t.Fatal(err)
		}
		// The account's error crosses the codec twice (account → teller →
		// caller) and still matches the sentinel.
		err = teller.Transfer(ctx, "alice", "bob", 60)
		if !errors.Is(err, ErrInsufficientFunds) {
			t.Fatalf("overdraft: %v, want ErrInsufficientFunds", err)
		}
		if !strings.Contains(err.Error(), "withdraw 60 from 40") {
			t.Fatalf("overdraft message lost its detail: %q", err)
		}
		if _, err := alice.Withdraw(ctx, 1000); !errors.Is(err, ErrInsufficientFunds) || quark.CodeOf(err) != quark.CodeUnknown {
			t.Fatalf("direct overdraft: %v (code %v)", err, quark.CodeOf(err))
		}
		if _, err := bob.Deposit(ctx, -5); quark.CodeOf(err) != quark.CodeInvalidArgument {
			t.Fatalf("negative deposit: %v", err)
		}
		a, _ := alice.Balance(ctx)
		b, _ := bob.Balance(ctx)
		if a != 40 || b != 60 {
			t.Fatalf("balances %d, %d; want 40, 60", a, b)
		}
		sum, err := NewLedgerRef(s, quark.StringKey("books")).Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum != (Summary{Transfers: 1, Refused: 1, Moved: 60}) {
			t.Fatalf("summary %+v", sum)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTransfersTheLedgerMisses: a transfer whose outcome cannot be sent to
// the ledger fails, made or refused, and a refusal the books miss does not
// pass for an ordinary refusal, which callers take in their stride.
func TestTransfersTheLedgerMisses(t *testing.T) {
	unreachable := errors.New("ledger unreachable")
	dropRecords := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
		return func(ctx context.Context, m quark.Message) error {
			if m.Method() == &ledgerRecordMethod {
				return unreachable
			}
			return next(ctx, m)
		}
	})
	s, err := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)), quark.WithStore(storage.NewMemory()),
		quark.WithOutgoingInterceptors(dropRecords))
	if err != nil {
		t.Fatal(err)
	}
	if err := register(s); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	alice := NewAccountRef(s, quark.StringKey("alice"))
	teller := NewTellerRef(s, quark.IntKey(0))
	if _, err := alice.Deposit(ctx, 100); err != nil {
		t.Fatal(err)
	}
	err = teller.Transfer(ctx, "alice", "bob", 60)
	if err == nil || !strings.Contains(err.Error(), "made but not recorded") || !strings.Contains(err.Error(), "ledger unreachable") {
		t.Fatalf("transfer the ledger missed: %v, want an error saying it was made but not recorded", err)
	}
	if b, err := alice.Balance(ctx); err != nil || b != 40 {
		t.Fatalf("alice after the unrecorded transfer: %d, %v; want 40", b, err)
	}
	err = teller.Transfer(ctx, "alice", "bob", 60)
	if err == nil || errors.Is(err, ErrInsufficientFunds) ||
		!strings.Contains(err.Error(), "insufficient funds, and the refusal was not recorded") {
		t.Fatalf("refusal the ledger missed: %v, want an error that is not ErrInsufficientFunds", err)
	}
}
