package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// How a named type is encoded.
type encoding int

const (
	structural encoding = iota // as its underlying type
	timeEnc                    // time.Time: msgp's time extension
	binaryEnc                  // encoding.BinaryMarshaler: bin
	textEnc                    // encoding.TextMarshaler: str
)

// A namedCodec is a named type the generated file has functions for.
type namedCodec struct {
	named *types.Named
	enc   encoding
	// marked is set for a type of the package marked //quark:codec, which
	// gets MarshalQuark and UnmarshalQuark methods.
	marked bool
	// fallible is set when encoding a value of the type can fail: it uses
	// a marshaler method or proto.Marshal, or holds a type that does.
	// Its encoder then returns an error too. Set by findFallible.
	fallible bool
	// copyFallible is set when the deep copy of a value of the type can
	// fail: it holds memory and goes through marshaler methods, or holds a
	// type whose copy does. Its copy then returns an error.
	copyFallible bool
	// Function names, assigned by the emitter.
	encode, decode, copy string
}

// A structField is one encoded field of a struct.
type structField struct {
	name string // the Go field name
	key  string // the map key it is encoded under
	typ  types.Type
}

// A site is where a type to encode is used, for error messages: a
// parameter or result of an actor method, a field of a struct of the
// package, or a type marked //quark:codec.
type site struct {
	pos  token.Pos
	what string     // "parameter n of method Add", "field X of Point"
	typ  types.Type // the type declared there; nil for a //quark:codec type
	via  string     // where, inside a type of another package, the problem is
}

// codecs finds the types the generated file encodes, decodes and copies,
// and reports those it cannot.
type codecs struct {
	a     *analysis
	named []*namedCodec // in the order they were first reached
	byObj map[*types.TypeName]*namedCodec
	// fields holds the encoded fields of every struct reached.
	fields map[*types.Struct][]*structField
	// marks caches whether each type is marked //quark:immutable.
	marks     map[*types.TypeName]bool
	mutable   map[*types.TypeName]int // 0 unknown, 1 computing, 2 no, 3 yes
	refs      map[*types.TypeName]int // as mutable, for marshaler types
	refTypes  map[string]bool         // names of the package's generated reference types
	usesProto bool
}

func newCodecs(a *analysis) *codecs {
	c := &codecs{
		a:        a,
		byObj:    make(map[*types.TypeName]*namedCodec),
		fields:   make(map[*types.Struct][]*structField),
		marks:    make(map[*types.TypeName]bool),
		mutable:  make(map[*types.TypeName]int),
		refs:     make(map[*types.TypeName]int),
		refTypes: make(map[string]bool),
	}
	return c
}

func (c *codecs) local() *types.Package { return c.a.pkg.Types }

// reject reports that t, a type reached from the one used at s, cannot be
// encoded, for the reason desc. A nil t stands for a kind described by
// desc alone ("a channel").
func (c *codecs) reject(s site, t types.Type, desc string) {
	var problem string
	switch {
	case t == nil:
		problem = "contains " + desc
	case s.typ != nil && types.Identical(t, s.typ):
		problem = desc
	default:
		problem = "contains " + c.a.typeString(t) + ", " + desc
	}
	if s.typ == nil {
		c.a.errorf(s.pos, "%s %s%s", s.what, problem, s.via)
		return
	}
	if strings.HasPrefix(problem, "contains ") {
		problem = "which " + problem
	}
	c.a.errorf(s.pos, "%s has type %s, %s%s", s.what, c.a.typeString(s.typ), problem, s.via)
}

// visit checks that t, used at s, can be encoded, and records the named
// types and structs it reaches.
func (c *codecs) visit(t types.Type, s site) {
	switch t := t.(type) {
	case *types.Alias:
		c.visit(types.Unalias(t), s)
	case *types.Named:
		c.visitNamed(t, s)
	case *types.Basic:
		switch {
		case t.Kind() == types.Invalid:
			c.a.invalid = append(c.a.invalid, &Error{Pos: c.a.fset.Position(s.pos), Msg: s.what + " has an invalid type"})
		case t.Kind() == types.UnsafePointer:
			c.reject(s, nil, "unsafe.Pointer")
		}
	case *types.Pointer:
		if isProto(t) {
			c.usesProto = true
			return
		}
		c.visit(t.Elem(), s)
	case *types.Slice:
		c.visit(t.Elem(), s)
	case *types.Array:
		c.visit(t.Elem(), s)
	case *types.Map:
		if !c.keyOK(t.Key()) {
			if _, isIface := types.Unalias(t.Key()).Underlying().(*types.Interface); !isIface {
				c.reject(s, t, fmt.Sprintf("whose key type %s is not supported (map keys must be booleans, numbers, strings, byte arrays, time.Time or types with MarshalBinary or MarshalText methods)",
					c.a.typeString(t.Key())))
				return
			}
		}
		c.visit(t.Key(), s)
		c.visit(t.Elem(), s)
	case *types.Struct:
		c.visitStruct(t, nil, s)
	case *types.Chan:
		c.reject(s, nil, "a channel")
	case *types.Signature:
		c.reject(s, nil, "a func")
	case *types.Interface:
		c.reject(s, t, "an interface type; only concrete types can be encoded")
	case *types.TypeParam:
		c.reject(s, t, "a type parameter")
	}
}

func (c *codecs) visitNamed(t *types.Named, s site) {
	obj := t.Obj()
	if t.TypeArgs().Len() > 0 || t.TypeParams().Len() > 0 {
		c.reject(s, t, "an instance of a generic type; generic types cannot be encoded")
		return
	}
	if _, ok := c.byObj[obj]; ok {
		return
	}
	if obj.Pkg() == nil { // error
		c.reject(s, t, "an interface type; only concrete types can be encoded")
		return
	}
	foreign := obj.Pkg() != c.local()
	if foreign && !obj.Exported() {
		c.reject(s, t, "unexported in package "+obj.Pkg().Path())
		return
	}
	if c.isRef(t) {
		c.reject(s, t, "an actor reference; references cannot be encoded, so pass the actor's key instead")
		return
	}
	nc := &namedCodec{named: t}
	switch {
	case isTime(t):
		nc.enc = timeEnc
	case hasMarshalers(t, "MarshalBinary", "UnmarshalBinary"):
		nc.enc = binaryEnc
	case hasMarshalers(t, "MarshalText", "UnmarshalText"):
		nc.enc = textEnc
	}
	if nc.enc == structural {
		if _, ok := t.Underlying().(*types.Interface); ok {
			c.reject(s, t, "an interface type; only concrete types can be encoded")
			return
		}
	}
	c.byObj[obj] = nc
	c.named = append(c.named, nc)
	if nc.enc != structural {
		return
	}
	errs := len(c.a.errs)
	if st, ok := t.Underlying().(*types.Struct); ok {
		c.visitStruct(st, t, s)
	} else {
		if foreign {
			s.via = fmt.Sprintf(" (in %s)", c.a.typeString(t))
		}
		c.visit(t.Underlying(), s)
	}
	if foreign && len(c.a.errs) > errs {
		// The problem is reported where the type is used: at every use.
		delete(c.byObj, obj)
	}
}

// visitStruct checks the fields of st, the underlying type of named or an
// unnamed struct type.
func (c *codecs) visitStruct(st *types.Struct, named *types.Named, s site) {
	var fields []*structField
	desc := "struct"
	if named != nil {
		desc = named.Obj().Name()
	}
	byKey := make(map[string]*structField)
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		if f.Name() == "_" {
			continue
		}
		localField := f.Pkg() == c.local() && named != nil && named.Obj().Pkg() == c.local()
		if !f.Exported() {
			if f.Pkg() != c.local() {
				var what types.Type = st
				if named != nil {
					what = named
				}
				hint := ""
				if isProtoValue(named) {
					hint = "; pass *" + c.a.typeString(named) + ", the proto.Message"
				}
				c.reject(s, what, fmt.Sprintf("a type with unexported fields of package %s and no MarshalBinary or MarshalText methods%s",
					f.Pkg().Path(), hint))
				return
			}
			continue
		}
		tag, hasTag := reflect.StructTag(st.Tag(i)).Lookup("quark")
		if tag == "-" {
			continue
		}
		key := f.Name()
		if hasTag && tag != "" {
			key = tag
		}
		sf := &structField{name: f.Name(), key: key, typ: f.Type()}
		if prev := byKey[key]; prev != nil {
			if localField {
				c.a.errorf(f.Pos(), "field %s of %s is encoded under the key %q, as is field %s", f.Name(), desc, key, prev.name)
			} else {
				c.reject(s, named, fmt.Sprintf("whose fields %s and %s are both encoded under the key %q", prev.name, f.Name(), key))
			}
			continue
		}
		byKey[key] = sf
		fields = append(fields, sf)
		fs := s
		if localField {
			fs = site{pos: f.Pos(), what: fmt.Sprintf("field %s of %s", f.Name(), desc), typ: f.Type()}
		} else if named != nil && named.Obj().Pkg() != c.local() {
			fs.via = fmt.Sprintf(" (in field %s of %s)", f.Name(), c.a.typeString(named))
		}
		c.visit(f.Type(), fs)
	}
	c.fields[st] = fields
}

// keyOK reports whether t can be a map key: an encoding that is not a
// container.
func (c *codecs) keyOK(t types.Type) bool {
	t = types.Unalias(t)
	if n, ok := t.(*types.Named); ok && (isTime(n) ||
		hasMarshalers(n, "MarshalBinary", "UnmarshalBinary") || hasMarshalers(n, "MarshalText", "UnmarshalText")) {
		return true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() != types.UnsafePointer
	case *types.Array:
		return isByte(u.Elem())
	}
	return false
}

// isRef reports whether t is an actor reference: quark.Ref, or the
// generated reference type of an actor.
func (c *codecs) isRef(t *types.Named) bool {
	obj := t.Obj()
	if obj.Pkg() == c.local() {
		return c.refTypes[obj.Name()]
	}
	if obj.Pkg().Path() == quarkPath && obj.Name() == "Ref" {
		return true
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok || st.NumFields() != 1 || !strings.HasSuffix(obj.Name(), "Ref") {
		return false
	}
	f := st.Field(0)
	n, ok := types.Unalias(f.Type()).(*types.Named)
	return ok && f.Name() == "ref" && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == quarkPath && n.Obj().Name() == "Ref"
}

// isImmutable reports whether the named type t is marked
// //quark:immutable, or is a type of the standard library known to be.
func (c *codecs) isImmutable(t *types.Named) bool {
	obj := t.Obj()
	if obj.Pkg() == nil {
		return false
	}
	switch obj.Pkg().Path() + "." + obj.Name() {
	case "time.Time", "time.Location", "net/netip.Addr", "net/netip.AddrPort", "net/netip.Prefix":
		return true
	}
	if marked, ok := c.marks[obj]; ok {
		return marked
	}
	marked := false
	if doc := c.a.syn.typeDoc(obj); doc != nil {
		for _, d := range directivesIn(doc) {
			if d.name == "immutable" {
				marked = true
			}
		}
	}
	c.marks[obj] = marked
	return marked
}

// findFallible marks the named types whose encoding, or deep copy, can
// fail: the least fixed point, so that a recursive type is fallible only if
// something on it is.
func (c *codecs) findFallible() {
	for changed := true; changed; {
		changed = false
		for _, nc := range c.named {
			if !nc.fallible {
				switch nc.enc {
				case binaryEnc, textEnc:
					nc.fallible = true
				case structural:
					nc.fallible = c.structureCanFail(nc.named)
				}
				changed = changed || nc.fallible
			}
			if !nc.copyFallible && c.isMutable(nc.named) {
				switch nc.enc {
				case binaryEnc, textEnc:
					nc.copyFallible = true
				case structural:
					nc.copyFallible = c.structureCopyCanFail(nc.named)
				}
				changed = changed || nc.copyFallible
			}
		}
	}
}

// copyCanFail reports whether the deep copy of a value of type t can
// fail, once findFallible has run. Only mutable values are copied.
func (c *codecs) copyCanFail(t types.Type) bool {
	if !c.isMutable(t) {
		return false
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if nc := c.byObj[n.Obj()]; nc != nil {
			return nc.copyFallible
		}
	}
	return c.structureCopyCanFail(types.Unalias(t))
}

// structureCopyCanFail is copyCanFail for t's own structure, as cpType
// copies it: a protocol buffer message is cloned, and map keys are not
// copied.
func (c *codecs) structureCopyCanFail(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return !isProto(u) && c.copyCanFail(u.Elem())
	case *types.Slice:
		return c.copyCanFail(u.Elem())
	case *types.Array:
		return c.copyCanFail(u.Elem())
	case *types.Map:
		return c.copyCanFail(u.Elem())
	case *types.Struct:
		return c.anyCopyCanFail(c.fields[u])
	}
	return false
}

// anyCopyCanFail reports whether the copy of any of fields can fail.
func (c *codecs) anyCopyCanFail(fields []*structField) bool {
	for _, f := range fields {
		if c.copyCanFail(f.typ) {
			return true
		}
	}
	return false
}

// canFail reports whether encoding a value of type t can fail, once
// findFallible has run.
func (c *codecs) canFail(t types.Type) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if nc := c.byObj[n.Obj()]; nc != nil {
			return nc.fallible
		}
	}
	return c.structureCanFail(types.Unalias(t))
}

// structureCanFail is canFail for t's own structure, as encType encodes it.
func (c *codecs) structureCanFail(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return isProto(u) || c.canFail(u.Elem())
	case *types.Slice:
		return c.canFail(u.Elem())
	case *types.Array:
		return c.canFail(u.Elem())
	case *types.Map:
		return c.canFail(u.Key()) || c.canFail(u.Elem())
	case *types.Struct:
		return c.anyCanFail(c.fields[u])
	}
	return false
}

// anyCanFail reports whether encoding any of fields can fail.
func (c *codecs) anyCanFail(fields []*structField) bool {
	for _, f := range fields {
		if c.canFail(f.typ) {
			return true
		}
	}
	return false
}

// isMutable reports whether a value of type t holds memory a copy of it
// would share: pointers, slices and maps among its encoded parts, outside
// types marked immutable.
func (c *codecs) isMutable(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return false
		}
		switch c.mutable[obj] {
		case 1:
			return false // a cycle; the types on it decide
		case 2:
			return false
		case 3:
			return true
		}
		c.mutable[obj] = 1
		var m bool
		if nc := c.byObj[obj]; nc != nil && nc.enc != structural {
			m = c.holdsRefs(t)
		} else {
			m = c.isMutable(t.Underlying())
		}
		m = m && !c.isImmutable(t)
		c.mutable[obj] = 2
		if m {
			c.mutable[obj] = 3
		}
		return m
	case *types.Pointer, *types.Slice, *types.Map:
		return true
	case *types.Array:
		return c.isMutable(t.Elem())
	case *types.Struct:
		for _, f := range c.fields[t] {
			if c.isMutable(f.typ) {
				return true
			}
		}
	}
	return false
}

// holdsRefs reports whether a value of type t, counting every field,
// holds a pointer, slice, map, chan, func or interface: whether a copy of a
// marshaler type must go through its encoding.
func (c *codecs) holdsRefs(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		switch c.refs[t.Obj()] {
		case 1, 2:
			return false
		case 3:
			return true
		}
		c.refs[t.Obj()] = 1
		r := c.holdsRefs(t.Underlying()) && !c.isImmutable(t)
		c.refs[t.Obj()] = 2
		if r {
			c.refs[t.Obj()] = 3
		}
		return r
	case *types.Basic:
		return t.Kind() == types.UnsafePointer
	case *types.Array:
		return c.holdsRefs(t.Elem())
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if c.holdsRefs(t.Field(i).Type()) {
				return true
			}
		}
		return false
	}
	return true
}

func isTime(t *types.Named) bool {
	obj := t.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "time" && obj.Name() == "Time"
}

func isByte(t types.Type) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	return ok && (b.Kind() == types.Byte || b.Kind() == types.Uint8)
}

// hasMarshalers reports whether *t has the methods marshal, returning
// ([]byte, error), and unmarshal, taking []byte and returning error.
func hasMarshalers(t *types.Named, marshal, unmarshal string) bool {
	ms := types.NewMethodSet(types.NewPointer(t))
	m := methodSig(ms, t.Obj().Pkg(), marshal)
	u := methodSig(ms, t.Obj().Pkg(), unmarshal)
	if m == nil || u == nil {
		return false
	}
	bytes := types.NewSlice(types.Typ[types.Byte])
	return m.Params().Len() == 0 && m.Results().Len() == 2 &&
		types.Identical(m.Results().At(0).Type(), bytes) && isError(m.Results().At(1).Type()) &&
		u.Params().Len() == 1 && u.Results().Len() == 1 &&
		types.Identical(u.Params().At(0).Type(), bytes) && isError(u.Results().At(0).Type())
}

// methodSig returns the signature of the method name in ms if the type
// declares it: a method promoted from an embedded field does not count, so
// that a struct embedding a time.Time is not encoded as that time alone.
func methodSig(ms *types.MethodSet, pkg *types.Package, name string) *types.Signature {
	sel := ms.Lookup(pkg, name)
	if sel == nil || len(sel.Index()) != 1 {
		return nil
	}
	sig, _ := sel.Type().(*types.Signature)
	return sig
}

const protoreflectPath = "google.golang.org/protobuf/reflect/protoreflect"

// isProto reports whether t is a pointer to a named struct implementing
// proto.Message, as the types protoc-gen-go declares are.
func isProto(t *types.Pointer) bool {
	n, ok := types.Unalias(t.Elem()).(*types.Named)
	if !ok || n.TypeArgs().Len() > 0 {
		return false
	}
	if _, ok := n.Underlying().(*types.Struct); !ok {
		return false
	}
	sig := methodSig(types.NewMethodSet(t), n.Obj().Pkg(), "ProtoReflect")
	if sig == nil || sig.Params().Len() != 0 || sig.Results().Len() != 1 {
		return false
	}
	r, ok := types.Unalias(sig.Results().At(0).Type()).(*types.Named)
	return ok && r.Obj().Pkg() != nil && r.Obj().Pkg().Path() == protoreflectPath && r.Obj().Name() == "Message"
}

// isProtoValue reports whether n is a struct type whose pointer is a
// proto.Message.
func isProtoValue(n *types.Named) bool {
	return n != nil && isProto(types.NewPointer(n))
}

// paramLabel names the i-th parameter or result v of a method in messages.
func paramLabel(kind string, i int, v *types.Var) string {
	if named(v) {
		return kind + " " + v.Name()
	}
	return kind + " " + strconv.Itoa(i+1)
}

// typeMarkers reads the //quark:codec and //quark:immutable markers of the
// type declared by ts.
func (a *analysis) typeMarkers(ts *ast.TypeSpec, dirs []directive, isActor bool) {
	seen := make(map[string]bool)
	for _, d := range dirs {
		if d.name != "codec" && d.name != "immutable" {
			continue
		}
		a.consumed[d.c] = true
		if seen[d.name] {
			a.errorf(d.c.Pos(), "duplicate //quark:%s", d.name)
			continue
		}
		seen[d.name] = true
		if d.args != "" {
			a.errorf(d.c.Pos(), "//quark:%s takes no arguments", d.name)
		}
		name := ts.Name.Name
		if ts.Assign.IsValid() {
			a.errorf(ts.Name.Pos(), "//quark:%s cannot mark the alias %s; mark the type declaration it names", d.name, name)
			continue
		}
		obj, _ := a.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
		if obj == nil {
			continue
		}
		t, _ := obj.Type().(*types.Named)
		if t == nil {
			continue
		}
		if _, ok := t.Underlying().(*types.Interface); ok {
			if d.name == "immutable" {
				a.errorf(ts.Name.Pos(), "//quark:immutable marks %s, an interface type; mark the methods whose parameters and results may be shared", name)
			} else {
				a.errorf(ts.Name.Pos(), "//quark:codec marks %s, an interface type; only concrete types can be encoded", name)
			}
			continue
		}
		if isActor {
			continue // reported as not an interface
		}
		if d.name == "immutable" {
			continue
		}
		if t.TypeParams().Len() > 0 {
			a.errorf(ts.Name.Pos(), "//quark:codec marks %s, a generic type; generic types cannot be encoded", name)
			continue
		}
		if _, ok := t.Underlying().(*types.Pointer); ok {
			a.errorf(ts.Name.Pos(), "//quark:codec marks %s, a pointer type, which cannot have the MarshalQuark and UnmarshalQuark methods; mark the type it points to", name)
			continue
		}
		clash := false
		for _, m := range []string{"MarshalQuark", "UnmarshalQuark"} {
			obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(t), true, t.Obj().Pkg(), m)
			if obj != nil && filepath.Base(a.fset.Position(obj.Pos()).Filename) != FileName {
				a.errorf(ts.Name.Pos(), "//quark:codec marks %s, which already has a field or method %s", name, m)
				clash = true
			}
		}
		if !clash {
			a.codecTypes = append(a.codecTypes, t)
		}
	}
}

// checkCodecs finds the types the package's generated file encodes, from
// the parameters and results of the valid methods of its actors and from
// its types marked //quark:codec, and reports those it cannot encode.
func (a *analysis) checkCodecs() {
	c := newCodecs(a)
	a.codecs = c
	for _, act := range a.actors {
		c.refTypes[act.Iface+"Ref"] = true
	}
	for _, act := range a.actors {
		for _, m := range act.Methods {
			if !m.valid {
				continue
			}
			params, results := m.sig.Params(), m.sig.Results()
			for i := 1; i < params.Len(); i++ {
				v := params.At(i)
				c.visit(v.Type(), site{pos: v.Pos(), what: paramLabel("parameter", i, v) + " of method " + m.Name, typ: v.Type()})
			}
			for i := 0; i < results.Len()-1; i++ {
				v := results.At(i)
				c.visit(v.Type(), site{pos: v.Pos(), what: paramLabel("result", i, v) + " of method " + m.Name, typ: v.Type()})
			}
		}
	}
	for _, t := range a.codecTypes {
		c.visit(t, site{pos: t.Obj().Pos(), what: "type " + t.Obj().Name() + ", marked //quark:codec,"})
		if nc := c.byObj[t.Obj()]; nc != nil {
			nc.marked = true
		}
	}
}

// sentinels returns the names of the package-level variables of type
// error, sorted.
func (a *analysis) sentinels() []string {
	var out []string
	scope := a.pkg.Types.Scope()
	for _, name := range scope.Names() {
		if v, ok := scope.Lookup(name).(*types.Var); ok && isError(v.Type()) {
			out = append(out, name)
		}
	}
	return out
}
