// Package shapes has the same name as a package of the standard library's
// image tree would, and a type named like one of geo's.
package shapes

// Point is another Point: its helpers need names of their own.
type Point struct {
	Q, R int32
}
