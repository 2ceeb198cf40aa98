// Package geo is one of two packages named geo.
package geo

// Point is a point.
type Point struct{ X, Y float64 }
