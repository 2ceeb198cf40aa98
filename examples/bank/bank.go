package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/quarkgo/quark"
)

// ErrInsufficientFunds is returned by Account.Withdraw and Teller.Transfer
// when the source balance is too small.
var ErrInsufficientFunds = errors.New("insufficient funds")

type account struct {
	balance int64
}

func (a *account) Deposit(_ context.Context, amount int64) (int64, error) {
	if amount <= 0 {
		return a.balance, quark.Errorf(quark.CodeInvalidArgument, "deposit of %d cents", amount)
	}
	a.balance += amount
	return a.balance, nil
}

func (a *account) Withdraw(_ context.Context, amount int64) (int64, error) {
	if amount <= 0 {
		return a.balance, quark.Errorf(quark.CodeInvalidArgument, "withdrawal of %d cents", amount)
	}
	if amount > a.balance {
		return a.balance, fmt.Errorf("withdraw %d from %d: %w", amount, a.balance, ErrInsufficientFunds)
	}
	a.balance -= amount
	return a.balance, nil
}

func (a *account) Balance(context.Context) (int64, error) { return a.balance, nil }

// teller calls accounts through the activation it runs in, so its calls
// carry the call chain.
type teller struct {
	self *quark.Activation
}

func (t *teller) Transfer(ctx context.Context, from, to string, amount int64) error {
	ledger := NewLedgerRef(t.self, quark.StringKey("books"))
	if _, err := NewAccountRef(t.self, quark.StringKey(from)).Withdraw(ctx, amount); err != nil {
		if errors.Is(err, ErrInsufficientFunds) {
			ledger.Record(ctx, amount, false)
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
	return ledger.Record(ctx, amount, true)
}

type ledger struct {
	sum Summary
}

func (l *ledger) Record(_ context.Context, amount int64, ok bool) error {
	if ok {
		l.sum.Transfers++
		l.sum.Moved += amount
	} else {
		l.sum.Refused++
	}
	return nil
}

func (l *ledger) Summary(context.Context) (Summary, error) { return l.sum, nil }

// register adds the bank's actor types to s.
func register(s *quark.Silo) error {
	return errors.Join(
		RegisterAccount(s, func(*quark.Activation) Account { return &account{} }),
		RegisterTeller(s, func(a *quark.Activation) Teller { return &teller{self: a} }),
		RegisterLedger(s, func(*quark.Activation) Ledger { return &ledger{} }),
	)
}
