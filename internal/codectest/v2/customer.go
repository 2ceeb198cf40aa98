// Package v2 declares the second version of the type package v1 declares.
package v2

//go:generate go run github.com/quarkgo/quark/cmd/quark gen .

import "time"

// Customer is version 2 of a customer record: Email and Notes are gone,
// Phone, Loyalty, Since and Referrer are new, Balance is renamed Credit but
// keeps its key, and the fields are declared in another order.
//
//quark:codec
type Customer struct {
	Tags     []string
	Credit   int64 `quark:"balance"`
	Phone    string
	Address  Address
	Name     string
	Loyalty  map[string][]int32
	ID       int64
	Since    time.Time
	Referrer *Customer
}

// Address is version 2 of a postal address: Zip is gone, Country is new.
//
//quark:codec
type Address struct {
	Country string
	City    string
	Street  string
}
