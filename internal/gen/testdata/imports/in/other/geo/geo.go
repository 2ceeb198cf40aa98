// Package geo is the other package named geo.
package geo

// Point is another point.
type Point struct{ Lat, Long float64 }
