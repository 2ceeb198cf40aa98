package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/quarkgo/quark"
)

// ErrInsufficientFunds is returned by Account.Withdraw and Teller.Transfer
// when the source balance is too small; Transfer returns it only once the
// refusal is on its way to the ledger.
var ErrInsufficientFunds = errors.New("insufficient funds")

// account keeps its balance in durable state: every change is written
// before the call returns. When the write fails the call returns its error
// and the change is never stored: the runtime replaces the activation after
// the turn, and the next call starts from the stored balance.
type account struct {
	state *quark.State[AccountState]
}

func (a *account) Deposit(ctx context.Context, amount int64) (int64, error) {
	if amount <= 0 {
		return a.state.Value.Balance, quark.Errorf(quark.CodeInvalidArgument, "deposit of %d cents", amount)
	}
	return a.change(ctx, amount)
}

func (a *account) Withdraw(ctx context.Context, amount int64) (int64, error) {
	if amount <= 0 {
		return a.state.Value.Balance, quark.Errorf(quark.CodeInvalidArgument, "withdrawal of %d cents", amount)
	}
	if b := a.state.Value.Balance; amount > b {
		return b, fmt.Errorf("withdraw %d from %d: %w", amount, b, ErrInsufficientFunds)
	}
	return a.change(ctx, -amount)
}

func (a *account) change(ctx context.Context, delta int64) (int64, error) {
	a.state.Value.Balance += delta
	return a.state.Value.Balance, a.state.Write(ctx)
}

func (a *account) Balance(context.Context) (int64, error) { return a.state.Value.Balance, nil }

// teller calls accounts through the activation it runs in, so its calls
// carry the call chain.
type teller struct {
	self *quark.Activation
}

func (t *teller) Transfer(ctx context.Context, from, to string, amount int64) error {
	ledger := NewLedgerRef(t.self, quark.StringKey("books"))
	if _, err := NewAccountRef(t.self, quark.StringKey(from)).Withdraw(ctx, amount); err != nil {
		if errors.Is(err, ErrInsufficientFunds) {
			// A refusal the books miss is a failure, not a refusal:
			// the error must not match ErrInsufficientFunds, which
			// callers take as the expected outcome.
			if rerr := ledger.Record(ctx, amount, false); rerr != nil {
				return fmt.Errorf("%v, and the refusal was not recorded: %w", err, rerr)
			}
		}
		return err
	}
	if _, err := NewAccountRef(t.self, quark.StringKey(to)).Deposit(ctx, amount); err != nil {
		// Put the money back; the source account accepts deposits.
		if _, rerr := NewAccountRef(t.self, quark.StringKey(from)).Deposit(ctx, amount); rerr != nil {
			return errors.Join(err, fmt.Errorf("refund %s: %w", from, rerr))
		}
		return err
	}
	if err := ledger.Record(ctx, amount, true); err != nil {
		return fmt.Errorf("transfer of %d cents from %s to %s made but not recorded: %w", amount, from, to, err)
	}
	return nil
}

type ledger struct {
	books *quark.State[Books]
}

func (l *ledger) Record(ctx context.Context, amount int64, ok bool) error {
	sum := &l.books.Value.Totals
	if ok {
		sum.Transfers++
		sum.Moved += amount
	} else {
		sum.Refused++
	}
	return l.books.Write(ctx)
}

func (l *ledger) Summary(context.Context) (Summary, error) { return l.books.Value.Totals, nil }

// register adds the bank's actor types to s.
func register(s *quark.Silo) error {
	return errors.Join(
		RegisterAccount(s, func(a *quark.Activation) Account {
			return &account{state: quark.NewState[AccountState](a)}
		}),
		RegisterTeller(s, func(a *quark.Activation) Teller { return &teller{self: a} }),
		RegisterLedger(s, func(a *quark.Activation) Ledger {
			return &ledger{books: quark.NewState[Books](a)}
		}),
	)
}
