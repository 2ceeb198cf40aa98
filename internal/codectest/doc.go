// Package codectest declares types marked //quark:codec that between them
// use every kind the generated serializers support, and tests those
// serializers: round-trip properties, golden encodings, fuzzing, hostile
// input, schema compatibility (with the v1 and v2 subpackages) and
// benchmarks against encoding/json and encoding/gob.
package codectest

//go:generate go run github.com/quarkgo/quark/cmd/quark gen .
