//go:build quarkinvariants

package quark

// checkInvariants: see invariants_off.go.
const checkInvariants = true
