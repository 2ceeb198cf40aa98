// Package gen is the code generator behind the quark command. It finds the
// actor interfaces of a package (interface types whose doc comment holds a
// //quark:actor line), checks that every method can be carried as an actor
// message, and writes one quark_gen.go per package with, for each actor, its
// TypeDesc, a RegisterX function, a typed XRef proxy and a pooled message
// type per method.
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
//
// Any other //quark: directive, or a marker anywhere else, is an error.
//
// # Methods
//
// Every method of an actor, its own or embedded, takes a context.Context
// first and returns error last. No parameter or result may contain a
// channel, a func or an unsafe.Pointer, looking through pointers, slices,
// arrays, maps and named types but not into struct fields. A one-way method
// returns nothing but the error. The method names ID and ref are reserved
// for the generated reference's accessor and field. A method's ID is the
// FNV-1a 32-bit hash of "TypeName.Method"; two methods of one actor must not
// share an ID. Variadic methods are fine.
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
// (a method returning an AccountRef, say), the package is loaded again with
// those types declared, and the result is type-checked before it is
// accepted. Any other error in the package is reported, and the package is
// not generated until it is fixed. Test files are not read: actor interfaces
// belong in the package proper.
//
// # Output
//
// The generated file holds the package's actors in source order (files in
// name order, then declaration order) and each actor's methods in source
// order, methods of an embedded interface where it is embedded. It is
// formatted, and it depends only on the package's source, so regenerating an
// unchanged package reproduces it byte for byte.
package gen
