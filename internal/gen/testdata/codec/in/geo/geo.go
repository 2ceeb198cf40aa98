// Package geo declares types another package's actors use: structs whose
// fields are all exported, a named slice, and a type marked immutable.
package geo

// Point is encoded field by field; Label travels under the key "l".
type Point struct {
	X, Y  float64
	Label string `quark:"l"`
	Note  string `quark:"-"`
}

// Path is a named slice of a struct of this package.
type Path []Point

// Region holds a pointer, but is marked immutable: it is shared, never
// copied.
//
//quark:immutable
type Region struct {
	Corners []Point
}
