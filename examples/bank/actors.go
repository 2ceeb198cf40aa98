package main

import "context"

//go:generate go run github.com/quarkgo/quark/cmd/quark gen .

// Account holds one customer's balance, in cents.
//
//quark:actor
type Account interface {
	// Deposit adds amount and returns the new balance.
	Deposit(ctx context.Context, amount int64) (balance int64, err error)
	// Withdraw takes amount out, failing with ErrInsufficientFunds when the
	// balance is too small.
	Withdraw(ctx context.Context, amount int64) (balance int64, err error)
	// Balance returns the balance.
	//
	//quark:readonly
	Balance(ctx context.Context) (int64, error)
}

// Teller moves money between accounts. It keeps no state, so any of several
// activations may serve a transfer.
//
//quark:actor
//quark:stateless
type Teller interface {
	// Transfer withdraws amount from one account and deposits it in another,
	// putting it back if the deposit fails, and sends the outcome, made or
	// refused, to the ledger. It fails if the ledger cannot be sent it.
	Transfer(ctx context.Context, from, to string, amount int64) error
}

// Ledger keeps the bank's books: totals of completed and refused transfers.
//
//quark:actor
type Ledger interface {
	// Record notes a transfer's outcome without making the teller wait.
	//
	//quark:oneway
	Record(ctx context.Context, amount int64, ok bool) error
	// Summary returns the totals so far.
	//
	//quark:readonly
	Summary(ctx context.Context) (Summary, error)
}

// AccountState is what an account keeps across restarts.
//
//quark:codec
type AccountState struct {
	Balance int64 // cents
}

// Books is what the ledger keeps across restarts.
//
//quark:codec
type Books struct {
	Totals Summary
}

// Summary is the ledger's totals.
type Summary struct {
	Transfers int64 // completed
	Refused   int64 // refused for insufficient funds
	Moved     int64 // cents moved by completed transfers
}
