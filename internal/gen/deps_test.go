package gen

// The codec test case uses protocol buffers; importing them here keeps the
// module in go.mod, which does not look into testdata.
import _ "google.golang.org/protobuf/types/known/wrapperspb"
