//go:build !quarknoinline

package quark

// defaultInline is the default of WithInlineCalls: the fast path is on. The
// quarknoinline build tag turns it off (see inline_off.go).
const defaultInline = true
