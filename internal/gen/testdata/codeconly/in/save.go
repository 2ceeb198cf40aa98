package codeconly

import "github.com/quarkgo/quark/codec"

// The package uses the methods the generated file declares: while it is
// generated they are missing, and it is loaded again with them stubbed.
var _ codec.Unmarshaler = (*Balance)(nil)

// Save encodes b.
func Save(b *Balance) ([]byte, error) { return b.MarshalQuark(nil) }
