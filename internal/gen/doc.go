// Package gen is the code generator behind the quark command. It finds the
// actor interfaces of a package (interface types whose doc comment holds a
// //quark:actor line), checks that every method can be carried as an actor
// message, and writes one quark_gen.go per package with, for each actor, its
// TypeDesc, a RegisterX function, a typed XRef proxy and a pooled message
// type per method, and the serializers and deep copies of every type the
// messages carry. The rules of the encoding are in docs/codec.md.
//
// # Markers
//
// Markers are directive comments: a line of the form //quark:NAME, without a
// space after the slashes, in a doc comment.
//
//   - //quark:actor, optionally //quark:actor name=some.Name, on an interface
//     type declaration makes it an actor. The actor's type name, which is
//     part of every actor ID and of every method ID, is package.Interface
//     unless name= overrides it.
//   - //quark:reentrant and //quark:stateless go in the doc comment of an
//     actor interface and set TypeDesc.Reentrant and TypeDesc.Stateless.
//   - //quark:readonly and //quark:oneway go in the doc comment of an
//     interface method and set MethodDesc.ReadOnly and MethodDesc.OneWay of
//     the actors that have it: the actor declaring the method, or one
//     embedding the interface that declares it, from any package.
//   - //quark:immutable in the doc comment of an interface method makes
//     the message share its arguments and results instead of copying them;
//     in the doc comment of a type declaration (of this package or of any
//     other whose source is at hand), it makes every value of the type
//     shared wherever it is carried.
//   - //quark:codec in the doc comment of a type declaration makes the
//     generated file encode the type even if no actor uses it, and give it
//     MarshalQuark and UnmarshalQuark methods (codec.Marshaler and
//     codec.Unmarshaler). A package with such types and no actors gets a
//     generated file too.
//
// Any other //quark: directive, or a marker anywhere else, is an error.
//
// # Methods
//
// Every method of an actor, its own or embedded, takes a context.Context
// first and returns error last. The other parameters and results must be
// encodable (see Types). A one-way method returns nothing but the error.
// The method names ID and ref are reserved for the generated reference's
// accessor and field. A method's ID is the FNV-1a 32-bit hash of
// "TypeName.Method"; two methods of one actor must not share an ID.
// Variadic methods are fine.
//
// # Types
//
// A type is encodable if it is a boolean, number or string type, time.Time,
// a type whose pointer has MarshalBinary and UnmarshalBinary (or
// MarshalText and UnmarshalText) methods, declared by the type rather than
// promoted from an embedded field, a pointer to a protocol buffer
// message, or a pointer, slice, array, map or struct of encodable types,
// named or not. Only the exported fields of a struct are encoded, so its
// unexported fields may have any type; a type of another package must have
// no unexported fields but blank ones, unless it has marshaler methods.
// Recursive types are fine. These are rejected, each with the file and line
// of the parameter, result or struct field that brings them in: interface
// types, instances of generic types (a type defined from one, type T
// Pair[int, string], is fine), channels, funcs and unsafe.Pointer, types of
// other packages with unexported fields and no marshaler methods, map keys
// other than booleans, numbers, strings, byte arrays, time.Time and
// marshaler types, two fields of one struct encoded under one key, and
// actor references (quark.Ref and the generated XRef types), which hold
// their silo.
//
// # Loading
//
// Packages are loaded with golang.org/x/tools/go/packages. An existing
// quark_gen.go that starts with the generated-code header is replaced, while
// loading, by a file holding only its package clause, so a generated file
// that refers to methods since removed cannot break type checking. Uses of
// the names the generator declares (NewCounterRef and the like) elsewhere in
// the package are therefore expected to be undefined while it runs and are
// not reported; when an actor's own methods use a generated reference type
// (a method returning an AccountRef, say), or the package uses the
// MarshalQuark and UnmarshalQuark methods of its //quark:codec types, the
// package is loaded again with those declared, and the result is
// type-checked before it is accepted. Any other error in the package is reported, and the package is
// not generated until it is fixed. Test files are not read: actor interfaces
// belong in the package proper.
//
// # Output
//
// The generated file holds the package's actors in source order (files in
// name order, then declaration order) and each actor's methods in source
// order, methods of an embedded interface where it is embedded. Each
// method's message type has, besides Method, Invoke and Release, the
// serializer methods AppendArgs, ReadArgs, AppendResults and ReadResults
// and the deep copies CopyArgs and CopyResults; its args and results
// structs have encode and decode methods, and each TypeDesc a NewMessage
// function. Then come an init function registering the package's error
// variables with codec.RegisterError (packages with actors only), and the
// helpers of every named type reached from the messages or marked
// //quark:codec, in the order they are reached:
//
//	quarkEncodeT(b []byte, v *T) []byte  // ([]byte, error) when it can fail
//	quarkDecodeT(b []byte, v *T, depth int, budget *codec.Budget) ([]byte, error)
//	quarkCopyT(v *T)  // only when T holds memory a copy must not share; error when it can fail
//
// An encoder can fail, and then returns an error (code InvalidArgument, from
// codec.Unencodable) instead of panicking, when T has MarshalBinary or
// MarshalText methods, is a protocol buffer message, or holds such a value;
// the args and results encode methods, AppendArgs and AppendResults, and
// MarshalQuark pass the error on. Encoders that cannot fail check nothing.
// Likewise a copy that goes through marshaler methods returns an error
// (codec.Uncopyable), passed on by CopyArgs and CopyResults.
//
// T is the type's name for a type of the package, and _pkg_Name for a type
// of another package, pkg being the name the generated file imports that
// package under (which is unique in the file: a second package named geo
// is imported as geo2, giving quarkEncode_geo2_Point). A helper name that a
// declaration of the package already has gets a suffix, as do the
// generated functions' parameters (b_, v_) when the package declares b or
// v. Unnamed types get no helpers: their code is written where they are
// used.
//
// The file is formatted, and it depends only on the package's source, so
// regenerating an unchanged package reproduces it byte for byte.
package gen
