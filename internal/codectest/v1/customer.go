// Package v1 declares the first version of a stored type; package v2
// declares the next one under the same name, with fields added, removed,
// reordered and renamed, to test that each version reads the other's
// encoding.
package v1

//go:generate go run github.com/quarkgo/quark/cmd/quark gen .

// Customer is version 1 of a customer record.
//
//quark:codec
type Customer struct {
	ID      int64
	Name    string
	Email   string // removed in v2
	Tags    []string
	Balance int64 `quark:"balance"` // renamed Credit in v2, keeping its key
	Address Address
	Notes   map[string]string // removed in v2
}

// Address is version 1 of a postal address.
//
//quark:codec
type Address struct {
	Street string
	City   string
	Zip    string // removed in v2
}
