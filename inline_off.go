//go:build quarknoinline

package quark

// defaultInline: built with the quarknoinline tag, a silo's calls go through
// the mailbox unless WithInlineCalls(true) is given, so that the test suite
// can run every test that takes the default with the fast path off. Tests
// that set WithInlineCalls keep their setting.
const defaultInline = false
