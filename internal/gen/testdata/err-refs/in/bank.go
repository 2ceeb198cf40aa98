// Package refs has actors whose methods pass references to actors, types
// the generated file itself declares. A reference holds its silo and cannot
// be encoded, so these methods are rejected (while the generated names are
// undefined, the package is loaded again with them declared to tell).
package refs

import (
	"context"

	"github.com/quarkgo/quark"
)

// Bank hands out accounts.
//
//quark:actor
type Bank interface {
	// Open returns a reference to a new account.
	Open(ctx context.Context, owner string) (AccountRef, error)
	// All lists the accounts.
	//
	//quark:readonly
	All(ctx context.Context) ([]AccountRef, error)
}

// Account holds money.
//
//quark:actor
type Account interface {
	Deposit(ctx context.Context, amount int64) error
	// Bank returns the account's bank.
	Bank(ctx context.Context) (BankRef, error)
	// Raw takes an untyped reference.
	Raw(ctx context.Context, r quark.Ref) error
}

// openFor uses generated names from ordinary code.
func openFor(ctx context.Context, c quark.Caller, owner string) (int64, error) {
	acc, err := NewBankRef(c, quark.StringKey("main")).Open(ctx, owner)
	if err != nil {
		return 0, err
	}
	return 0, acc.Deposit(ctx, 10)
}
