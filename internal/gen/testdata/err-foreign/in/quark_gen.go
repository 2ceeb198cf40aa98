// Package foreign has a hand-written file named like the generated one.
package foreign

// Handwritten is the user's.
var Handwritten = true
