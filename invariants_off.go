//go:build !quarkinvariants

package quark

// checkInvariants is set by the quarkinvariants build tag: the turn state
// machine then checks its invariants after every step and panics when one
// breaks. Off, the checks compile to nothing.
const checkInvariants = false
