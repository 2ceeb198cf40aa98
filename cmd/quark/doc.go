// Command quark is Quark's code generator. Add it to your module as a tool,
// so that go mod tidy keeps its dependencies:
//
//	go get -tool github.com/quarkgo/quark/cmd/quark
//
// and run it from a go:generate line in each package that declares actor
// interfaces:
//
//	//go:generate go tool quark gen .
//
// (Inside the quark module itself, "go run github.com/quarkgo/quark/cmd/quark
// gen ." does the same.)
//
// quark gen [packages] writes quark_gen.go, holding the actor type
// descriptions, typed references, message types and the serializers and
// deep copies of the types they carry, into each listed package that
// declares actors or types marked //quark:codec, and removes a previously
// generated file from packages that no longer do. Packages are given as for the go command
// and default to ".". Problems are reported one per line as
// "file.go:LINE: reason"; when there are any, nothing is written and the
// command exits with status 1.
//
// Flags of quark gen:
//
//	-tags list   build tags to load the packages with, as for go build
//	-v           report each file written or removed
//
// quark version prints the command's version.
//
// See package github.com/quarkgo/quark/internal/gen for the markers that
// declare actors, and docs/codec.md for the encoding.
package main
