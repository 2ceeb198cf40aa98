package stale

// Code elsewhere in the package uses generated names: while the generated
// file is blanked out they are undefined, which must not stop generation.
var counterTypeName = CounterType.Name

func refOf(r CounterRef) any { return r.ID() }
