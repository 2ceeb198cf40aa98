package gen

import (
	"bytes"
	"fmt"
	"go/types"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tinylib/msgp/msgp"
)

// Import paths of the packages the serializers use.
const (
	codecPath = quarkPath + "/codec"
	msgpPath  = "github.com/tinylib/msgp/msgp"
	protoPath = "google.golang.org/protobuf/proto"
)

// sizes measures the types whose values decoders allocate, to charge
// them to the decode's codec.Budget: as laid out on a 64-bit platform,
// which overstates them on a 32-bit one.
var sizes = types.SizesFor("gc", "amd64")

// maxInlineMapBytes is the largest key or value Go keeps inside a map's
// table; larger ones are allocated apart, one per entry.
const maxInlineMapBytes = 128

// mapSlot returns the bytes a map's key and value take together in its
// table, and those allocated apart for each entry.
func mapSlot(m *types.Map) (slot, indirect int64) {
	inline := func(t types.Type) types.Type {
		if n := sizes.Sizeof(t); n > maxInlineMapBytes {
			indirect += n
			return types.Typ[types.UnsafePointer]
		}
		return t
	}
	k, v := inline(m.Key()), inline(m.Elem())
	st := types.NewStruct([]*types.Var{
		types.NewField(0, nil, "k", k, false),
		types.NewField(0, nil, "v", v, false),
	}, nil)
	return sizes.Sizeof(st), indirect
}

// A place is a value generated code reads or writes: expr is a pointer to
// it when ptr is set, else an addressable expression of its type.
type place struct {
	expr string
	ptr  bool
}

// val is the value itself.
func (p place) val() string {
	if p.ptr {
		return "*" + p.expr
	}
	return p.expr
}

// addr is a pointer to the value.
func (p place) addr() string {
	if p.ptr {
		return p.expr
	}
	return "&" + p.expr
}

// base is the value as the operand of an index or slice expression.
func (p place) base() string {
	if p.ptr {
		return "(*" + p.expr + ")"
	}
	return p.expr
}

func (p place) field(name string) place { return place{expr: p.expr + "." + name} }

func (p place) index(i string) place { return place{expr: p.base() + "[" + i + "]"} }

// pointee is the place a pointer value expr points to.
func pointee(expr string) place {
	if strings.HasPrefix(expr, "*") {
		expr = "(" + expr + ")"
	}
	return place{expr: expr, ptr: true}
}

// A depth is the expression for the nesting depth of a value in a decoder:
// base (a variable, or "" for none) plus off.
type depth struct {
	base string
	off  int
}

func (d depth) next() depth { return depth{d.base, d.off + 1} }

func (d depth) String() string {
	switch {
	case d.base == "":
		return strconv.Itoa(d.off)
	case d.off == 0:
		return d.base
	}
	return d.base + "+" + strconv.Itoa(d.off)
}

// codecNames picks the names the serializers use: the packages they
// import, their parameters and locals, and the helper functions of each
// named type. It runs before anything else is emitted, so that the
// locals are reserved before any import is named.
func (e *emitter) codecNames() {
	e.cs.findFallible()
	taken := e.im.taken
	e.b, e.v, e.depth, e.err = taken.fresh("b"), taken.fresh("v"), taken.fresh("depth"), taken.fresh("err")
	e.budget = taken.fresh("budget")
	e.m, e.rest = taken.fresh("m"), taken.fresh("rest")
	e.msgp = e.im.name(msgpPath, "msgp")
	e.codec = e.im.name(codecPath, "codec")
	if e.cs.usesProto {
		e.proto = e.im.name(protoPath, "proto")
	}
	for _, nc := range e.cs.named {
		obj := nc.named.Obj()
		suffix := obj.Name()
		if obj.Pkg() != e.im.self {
			suffix = "_" + e.im.name(obj.Pkg().Path(), obj.Pkg().Name()) + "_" + obj.Name()
		}
		nc.encode = taken.fresh("quarkEncode" + suffix)
		nc.decode = taken.fresh("quarkDecode" + suffix)
		if e.cs.isMutable(nc.named) {
			nc.copy = taken.fresh("quarkCopy" + suffix)
		}
	}
}

// c writes code: format with $budget, $b, $v, $depth, $err, $msgp, $codec
// and $proto replaced by their local names, then formatted with args.
func (e *emitter) c(format string, args ...any) {
	if strings.Contains(format, "$msgp") {
		e.usesMsgp = true
	}
	if e.repl == nil {
		// $budget before $b, which would match its start.
		e.repl = strings.NewReplacer("$budget", e.budget, "$b", e.b, "$v", e.v, "$depth", e.depth, "$err", e.err,
			"$msgp", e.msgp, "$codec", e.codec, "$proto", e.proto)
	}
	e.p(e.repl.Replace(format), args...)
}

// try writes stmt, which sets $err, and a return of the error.
func (e *emitter) try(stmt string, args ...any) {
	e.c("if "+stmt+"; $err != nil {\nreturn $b, $err\n}\n", args...)
}

// tmp returns a fresh name for a local of the function being written.
func (e *emitter) tmp(prefix string) string {
	for {
		e.ntmp++
		name := prefix + strconv.Itoa(e.ntmp)
		if !e.im.taken[name] {
			return name
		}
	}
}

// sub returns what write writes, instead of writing it.
func (e *emitter) sub(write func()) string {
	saved := e.buf
	e.buf = bytes.Buffer{}
	write()
	out := e.buf.String()
	e.buf = saved
	return out
}

// loopVar returns name if code refers to it, or "_": a loop whose body
// does not need its variable (the elements of a []struct{}) must not
// declare it.
func loopVar(code, name string) string {
	if regexp.MustCompile(`\b` + name + `\b`).MatchString(code) {
		return name
	}
	return "_"
}

// rangeClause returns the clause of a loop over x whose variables, k and
// v, may be "_".
func rangeClause(k, v, x string) string {
	switch {
	case v != "_":
		return k + ", " + v + " := range " + x
	case k != "_":
		return k + " := range " + x
	}
	return "range " + x
}

// namedCodec returns the helpers of the named type t, or nil.
func (e *emitter) namedCodec(t types.Type) *namedCodec {
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return e.cs.byObj[n.Obj()]
	}
	return nil
}

// basicCodec returns the msgp function suffix and Go type for a basic kind.
func basicCodec(k types.BasicKind) (fn, goType string) {
	switch k {
	case types.Bool:
		return "Bool", "bool"
	case types.Int:
		return "Int", "int"
	case types.Int8:
		return "Int8", "int8"
	case types.Int16:
		return "Int16", "int16"
	case types.Int32:
		return "Int32", "int32"
	case types.Int64:
		return "Int64", "int64"
	case types.Uint:
		return "Uint", "uint"
	case types.Uint8:
		return "Uint8", "uint8"
	case types.Uint16:
		return "Uint16", "uint16"
	case types.Uint32:
		return "Uint32", "uint32"
	case types.Uint64, types.Uintptr:
		return "Uint64", "uint64"
	case types.Float32:
		return "Float32", "float32"
	case types.Float64:
		return "Float64", "float64"
	case types.Complex64:
		return "Complex64", "complex64"
	case types.Complex128:
		return "Complex128", "complex128"
	case types.String:
		return "String", "string"
	}
	panic(fmt.Sprintf("no codec for basic kind %d", k))
}

// sameBasic reports whether t is the predeclared type goType.
func sameBasic(t types.Type, goType string) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	if !ok {
		return false
	}
	_, g := basicCodec(b.Kind())
	return g == goType && b.Kind() != types.Uintptr
}

// ---- encoding

// enc writes statements that append the encoding of the value at p, of
// type t, to $b. Where the encoding can fail (see codecs.canFail), they
// return $b and the error: the function being written declares $err and
// returns ([]byte, error).
func (e *emitter) enc(t types.Type, p place) {
	if nc := e.namedCodec(t); nc != nil {
		if nc.fallible {
			e.try("$b, $err = %s($b, %s)", nc.encode, p.addr())
			return
		}
		e.c("$b = %s($b, %s)\n", nc.encode, p.addr())
		return
	}
	e.encType(types.Unalias(t), p)
}

// encType is enc for t's own structure: t is unnamed, or the named type
// whose helper is being written.
func (e *emitter) encType(t types.Type, p place) {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		fn, goType := basicCodec(u.Kind())
		val := p.val()
		if !sameBasic(t, goType) {
			val = goType + "(" + val + ")"
		}
		e.c("$b = $msgp.Append%s($b, %s)\n", fn, val)
	case *types.Pointer:
		e.c("if %s == nil {\n$b = $msgp.AppendNil($b)\n} else {\n", p.val())
		if isProto(u) {
			data := e.tmp("zd")
			e.p("var %s []byte\n", data)
			e.c("if %s, $err = $proto.Marshal(%s); $err != nil {\nreturn $b, $codec.Unencodable(%s, $err)\n}\n",
				data, p.val(), strconv.Quote(e.qualified(u)))
			e.c("$b = $msgp.AppendBytes($b, %s)\n", data)
		} else {
			e.enc(u.Elem(), pointee(p.val()))
		}
		e.p("}\n")
	case *types.Slice:
		e.c("if %s == nil {\n$b = $msgp.AppendNil($b)\n} else {\n", p.val())
		if isByte(u.Elem()) {
			e.c("$b = $msgp.AppendBytes($b, %s)\n", p.val())
		} else {
			i := e.tmp("zi")
			e.c("$b = $msgp.AppendArrayHeader($b, uint32(len(%s)))\n", p.val())
			body := e.sub(func() { e.enc(u.Elem(), p.index(i)) })
			e.p("for %s {\n%s}\n", rangeClause(loopVar(body, i), "_", p.val()), body)
		}
		e.p("}\n")
	case *types.Array:
		if isByte(u.Elem()) {
			e.c("$b = $msgp.AppendBytes($b, %s[:])\n", p.base())
			return
		}
		i := e.tmp("zi")
		e.c("$b = $msgp.AppendArrayHeader($b, %d)\n", u.Len())
		body := e.sub(func() { e.enc(u.Elem(), p.index(i)) })
		e.p("for %s {\n%s}\n", rangeClause(loopVar(body, i), "_", p.val()), body)
	case *types.Map:
		k, v := e.tmp("zk"), e.tmp("zv")
		e.c("if %s == nil {\n$b = $msgp.AppendNil($b)\n} else {\n", p.val())
		e.c("$b = $msgp.AppendMapHeader($b, uint32(len(%s)))\n", p.val())
		body := e.sub(func() {
			e.enc(u.Key(), place{expr: k})
			e.enc(u.Elem(), place{expr: v})
		})
		e.p("for %s {\n%s}\n}\n", rangeClause(loopVar(body, k), loopVar(body, v), p.val()), body)
	case *types.Struct:
		e.encFields(e.structFields(u), p)
	default:
		panic(fmt.Sprintf("no encoder for %s", t))
	}
}

// structFields returns the encoded fields of st, which the analysis must
// have reached.
func (e *emitter) structFields(st *types.Struct) []*structField {
	fields, ok := e.cs.fields[st]
	if !ok {
		panic(fmt.Sprintf("struct %s was not analyzed", st))
	}
	return fields
}

// encFields writes the encoding of a struct with the given fields.
func (e *emitter) encFields(fields []*structField, p place) {
	// The map header and each key are constants: they are written as one
	// literal each (the header with the first key), the bytes msgp's
	// AppendMapHeader and AppendString would append.
	lit := msgp.AppendMapHeader(nil, uint32(len(fields)))
	for _, f := range fields {
		lit = msgp.AppendString(lit, f.key)
		e.c("$b = append($b, %s...)\n", strconv.Quote(string(lit)))
		lit = lit[:0]
		e.enc(f.typ, p.field(f.name))
	}
	if len(lit) > 0 {
		e.c("$b = append($b, %s...)\n", strconv.Quote(string(lit)))
	}
}

// ---- decoding

// dec writes statements that decode one value of type t from $b into p,
// at depth d, charging what they allocate to $budget, returning $b and
// $err on failure.
func (e *emitter) dec(t types.Type, p place, d depth) {
	if nc := e.namedCodec(t); nc != nil {
		e.try("$b, $err = %s($b, %s, %s, $budget)", nc.decode, p.addr(), d)
		return
	}
	e.decType(types.Unalias(t), p, d)
}

// readNil writes the branch for a nil pointer, slice or map.
func (e *emitter) readNil(p place) {
	e.c("if $msgp.IsNil($b) {\n")
	e.try("$b, $err = $msgp.ReadNilBytes($b)")
	e.p("%s = nil\n} else {\n", p.val())
}

func (e *emitter) checkDepth(d depth) { e.try("$err = $codec.CheckDepth(%s)", d) }

// charge writes the charge, before it is made, of an allocation of n
// values of type t; nothing for values of size zero, which take no memory.
// Copies of strings and byte slices are not charged: codec.NewBudget sets
// their part aside.
func (e *emitter) charge(n string, t types.Type) {
	if size := sizes.Sizeof(t); size > 0 {
		e.try("$err = $budget.Alloc(%s, %d)", n, size)
	}
}

// decType is dec for t's own structure: t is unnamed, or the named type
// whose helper is being written.
func (e *emitter) decType(t types.Type, p place, d depth) {
	typ := e.typ(t)
	switch u := t.Underlying().(type) {
	case *types.Basic:
		fn, goType := basicCodec(u.Kind())
		// Strings are copied by the budget, which packs short ones
		// together (see codec.Budget.ReadString).
		read := "$msgp.Read" + fn + "Bytes($b)"
		if u.Kind() == types.String {
			read = "$budget.ReadString($b)"
		}
		if sameBasic(t, goType) {
			e.try("%s, $b, $err = "+read, p.val())
			return
		}
		x := e.tmp("zx")
		e.p("var %s %s\n", x, goType)
		e.try("%s, $b, $err = "+read, x)
		e.p("%s = %s(%s)\n", p.val(), typ, x)
	case *types.Pointer:
		e.readNil(p)
		ptr := e.tmp("zp")
		if isProto(u) {
			data := e.tmp("zd")
			e.p("var %s []byte\n", data)
			e.try("%s, $b, $err = $msgp.ReadBytesZC($b)", data)
			e.charge("1", u.Elem())
			e.p("%s := new(%s)\n", ptr, e.typ(u.Elem()))
			e.try("$err = ($proto.UnmarshalOptions{RecursionLimit: $codec.MaxDepth}).Unmarshal(%s, %s)", data, ptr)
		} else {
			e.checkDepth(d)
			e.charge("1", u.Elem())
			e.p("%s := new(%s)\n", ptr, e.typ(u.Elem()))
			e.dec(u.Elem(), place{expr: ptr, ptr: true}, d.next())
		}
		e.p("%s = %s\n}\n", p.val(), ptr)
	case *types.Slice:
		e.readNil(p)
		if isByte(u.Elem()) {
			data := e.tmp("zd")
			e.p("var %s []byte\n", data)
			e.try("%s, $b, $err = $msgp.ReadBytesZC($b)", data)
			e.p("%s = make(%s, len(%s))\ncopy(%s, %s)\n}\n", p.val(), typ, data, p.val(), data)
			return
		}
		e.checkDepth(d)
		n, s, i := e.tmp("zn"), e.tmp("zs"), e.tmp("zi")
		e.p("var %s int\n", n)
		e.try("%s, $b, $err = $codec.ReadArrayLen($b)", n)
		// The whole length is charged, and allocated, at once: growing
		// the slice as elements arrive would allocate up to five times
		// as much in all.
		e.charge(n, u.Elem())
		e.p("%s := make(%s, %s)\n", s, typ, n)
		body := e.sub(func() { e.dec(u.Elem(), place{expr: s + "[" + i + "]"}, d.next()) })
		e.p("for %s {\n%s}\n", rangeClause(loopVar(body, i), "_", n), body)
		e.p("%s = %s\n}\n", p.val(), s)
	case *types.Array:
		if isByte(u.Elem()) {
			data := e.tmp("zd")
			e.p("var %s []byte\n", data)
			e.try("%s, $b, $err = $msgp.ReadBytesZC($b)", data)
			e.p("clear(%s[copy(%s[:], %s):])\n", p.base(), p.base(), data)
			return
		}
		e.checkDepth(d)
		n, i := e.tmp("zn"), e.tmp("zi")
		e.p("var %s int\n", n)
		e.try("%s, $b, $err = $codec.ReadArrayLen($b)", n)
		e.p("for %s := range %s {\nif %s >= %d {\n", i, n, i, u.Len())
		e.try("$b, $err = $codec.Skip($b)")
		e.p("continue\n}\n")
		e.dec(u.Elem(), p.index(i), d.next())
		e.p("}\n")
		e.p("clear(%s[min(%s, %d):])\n", p.base(), n, u.Len())
	case *types.Map:
		e.readNil(p)
		e.checkDepth(d)
		n, m, k, v := e.tmp("zn"), e.tmp("zm"), e.tmp("zk"), e.tmp("zv")
		e.p("var %s int\n", n)
		e.try("%s, $b, $err = $codec.ReadMapLen($b)", n)
		slot, indirect := mapSlot(u)
		e.try("$err = $budget.Map(%s, %d, %d)", n, slot, indirect)
		e.p("%s := make(%s, %s)\n", m, typ, n)
		e.p("for range %s {\n", n)
		e.p("var %s %s\n", k, e.typ(u.Key()))
		e.dec(u.Key(), place{expr: k}, d.next())
		e.p("var %s %s\n", v, e.typ(u.Elem()))
		e.dec(u.Elem(), place{expr: v}, d.next())
		e.p("%s[%s] = %s\n}\n", m, k, v)
		e.p("%s = %s\n}\n", p.val(), m)
	case *types.Struct:
		e.decFields(e.structFields(u), p, d)
	default:
		panic(fmt.Sprintf("no decoder for %s", t))
	}
}

// decFields writes the decoding of a struct with the given fields.
func (e *emitter) decFields(fields []*structField, p place, d depth) {
	e.checkDepth(d)
	n, key := e.tmp("zn"), e.tmp("zk")
	e.p("var %s int\n", n)
	e.try("%s, $b, $err = $codec.ReadMapLen($b)", n)
	e.p("for range %s {\n", n)
	if len(fields) == 0 {
		e.try("$b, $err = $codec.Skip($b)")
		e.try("$b, $err = $codec.Skip($b)")
		e.p("}\n")
		return
	}
	e.p("var %s []byte\n", key)
	e.try("%s, $b, $err = $codec.ReadKey($b)", key)
	// A switch on the key's length, then a comparison with each key of
	// that length: the compiler turns each into a few word compares,
	// where a switch on the string would binary-search among keys of one
	// length by calling runtime.cmpstring.
	var lens []int
	byLen := make(map[int][]*structField)
	for _, f := range fields {
		if byLen[len(f.key)] == nil {
			lens = append(lens, len(f.key))
		}
		byLen[len(f.key)] = append(byLen[len(f.key)], f)
	}
	sort.Ints(lens)
	e.p("switch len(%s) {\n", key)
	for _, n := range lens {
		e.p("case %d:\n", n)
		for i, f := range byLen[n] {
			if i > 0 {
				e.p("} else ")
			}
			e.p("if string(%s) == %s {\n", key, strconv.Quote(f.key))
			e.dec(f.typ, p.field(f.name), d.next())
		}
		e.p("} else {\n")
		e.try("$b, $err = $codec.Skip($b)")
		e.p("}\n")
	}
	e.p("default:\n")
	e.try("$b, $err = $codec.Skip($b)")
	e.p("}\n}\n")
}

// ---- copying

// cp writes statements that replace the mutable parts of the value at p,
// of type t, with copies. t must be mutable. Where the copy can fail (see
// codecs.copyCanFail), they return the error: the function being written
// returns an error.
func (e *emitter) cp(t types.Type, p place) {
	if nc := e.namedCodec(t); nc != nil {
		if nc.copyFallible {
			e.c("if $err := %s(%s); $err != nil {\nreturn $err\n}\n", nc.copy, p.addr())
			return
		}
		e.p("%s(%s)\n", nc.copy, p.addr())
		return
	}
	e.cpType(types.Unalias(t), p)
}

// cpType is cp for t's own structure.
func (e *emitter) cpType(t types.Type, p place) {
	typ := e.typ(t)
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		e.p("if %s != nil {\n", p.val())
		if isProto(u) {
			e.c("%s = $proto.Clone(%s).(%s)\n}\n", p.val(), p.val(), e.typ(u))
			return
		}
		ptr := e.tmp("zp")
		e.p("%s := new(%s)\n*%s = *%s\n", ptr, e.typ(u.Elem()), ptr, p.val())
		if e.cs.isMutable(u.Elem()) {
			e.cp(u.Elem(), place{expr: ptr, ptr: true})
		}
		e.p("%s = %s\n}\n", p.val(), ptr)
	case *types.Slice:
		if !e.cs.isMutable(u.Elem()) {
			e.p("%s = %s.Clone(%s)\n", p.val(), e.im.name("slices", "slices"), p.val())
			return
		}
		s, i := e.tmp("zs"), e.tmp("zi")
		e.p("if %s != nil {\n%s := make(%s, len(%s))\ncopy(%s, %s)\n", p.val(), s, typ, p.val(), s, p.val())
		e.p("for %s := range %s {\n", i, s)
		e.cp(u.Elem(), place{expr: s + "[" + i + "]"})
		e.p("}\n%s = %s\n}\n", p.val(), s)
	case *types.Array:
		i := e.tmp("zi")
		body := e.sub(func() { e.cp(u.Elem(), p.index(i)) })
		e.p("for %s {\n%s}\n", rangeClause(loopVar(body, i), "_", p.val()), body)
	case *types.Map:
		if !e.cs.isMutable(u.Elem()) {
			e.p("%s = %s.Clone(%s)\n", p.val(), e.im.name("maps", "maps"), p.val())
			return
		}
		m, k, v := e.tmp("zm"), e.tmp("zk"), e.tmp("zv")
		e.p("if %s != nil {\n%s := make(%s, len(%s))\n", p.val(), m, typ, p.val())
		e.p("for %s, %s := range %s {\n", k, v, p.val())
		e.cp(u.Elem(), place{expr: v})
		e.p("%s[%s] = %s\n}\n%s = %s\n}\n", m, k, v, p.val(), m)
	case *types.Struct:
		e.cpFields(e.structFields(u), p)
	default:
		panic(fmt.Sprintf("no copier for mutable %s", t))
	}
}

// cpFields writes the copy of the mutable fields among fields.
func (e *emitter) cpFields(fields []*structField, p place) {
	for _, f := range fields {
		if e.cs.isMutable(f.typ) {
			e.cp(f.typ, p.field(f.name))
		}
	}
}

// ---- helpers of named types

// qualified is t as messages name it: qualified by package name.
func (e *emitter) qualified(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}

// helpers writes the functions of the named type of nc, and the methods
// of a type marked //quark:codec.
func (e *emitter) helpers(nc *namedCodec) {
	t := nc.named
	typ := e.typ(t)
	name := e.qualified(t)
	v := place{expr: e.v, ptr: true}

	e.p("\n")
	e.ntmp = 0
	switch nc.enc {
	case timeEnc:
		e.doc("%s appends the encoding of *%s to %s.", nc.encode, e.v, e.b)
		e.c("func %s($b []byte, $v *%s) []byte {\n", nc.encode, typ)
		e.c("return $msgp.AppendTime($b, *$v)\n}\n")
	case binaryEnc, textEnc:
		m, app := "MarshalBinary", "AppendBytes"
		if nc.enc == textEnc {
			m, app = "MarshalText", "AppendStringFromBytes"
		}
		e.doc("%s appends the encoding of *%s to %s, or fails with the error of its %s method.", nc.encode, e.v, e.b, m)
		e.c("func %s($b []byte, $v *%s) ([]byte, error) {\n", nc.encode, typ)
		data := e.tmp("zd")
		e.c("%s, $err := $v.%s()\n", data, m)
		e.c("if $err != nil {\nreturn $b, $codec.Unencodable(%s, $err)\n}\n", strconv.Quote(name))
		e.c("return $msgp.%s($b, %s), nil\n}\n", app, data)
	default:
		if nc.fallible {
			e.doc("%s appends the encoding of *%s to %s, or fails with the error of a value in it that cannot be encoded.", nc.encode, e.v, e.b)
			e.c("func %s($b []byte, $v *%s) ([]byte, error) {\n", nc.encode, typ)
			e.c("var $err error\n")
			e.encType(t, v)
			e.c("return $b, nil\n}\n")
		} else {
			e.doc("%s appends the encoding of *%s to %s.", nc.encode, e.v, e.b)
			e.c("func %s($b []byte, $v *%s) []byte {\n", nc.encode, typ)
			e.encType(t, v)
			e.c("return $b\n}\n")
		}
	}

	e.p("\n")
	e.doc("%s decodes one %s from %s into *%s; %s counts the containers around it, and %s is what it may still allocate.", nc.decode, name, e.b, e.v, e.depth, e.budget)
	e.c("func %s($b []byte, $v *%s, $depth int, $budget *$codec.Budget) ([]byte, error) {\n", nc.decode, typ)
	e.ntmp = 0
	e.c("var $err error\n")
	switch nc.enc {
	case timeEnc:
		e.try("*$v, $b, $err = $msgp.ReadTimeBytes($b)")
	case binaryEnc, textEnc:
		m, read := "UnmarshalBinary", "ReadBytesZC"
		if nc.enc == textEnc {
			m, read = "UnmarshalText", "ReadStringZC"
		}
		data, val := e.tmp("zd"), e.tmp("zc")
		e.p("var %s []byte\n", data)
		e.try("%s, $b, $err = $msgp.%s($b)", data, read)
		e.p("var %s %s\n", val, typ)
		e.try("$err = %s.%s(%s)", val, m, data)
		e.c("*$v = %s\n", val)
	default:
		e.decType(t, v, depth{base: e.depth})
	}
	e.c("return $b, nil\n}\n")

	if nc.copy != "" {
		e.p("\n")
		e.ntmp = 0
		if nc.copyFallible {
			e.doc("%s replaces the parts of *%s that hold memory with copies, or fails with the error of a value in it that cannot be copied.", nc.copy, e.v)
			e.c("func %s($v *%s) error {\n", nc.copy, typ)
		} else {
			e.doc("%s replaces the parts of *%s that hold memory with copies.", nc.copy, e.v)
			e.c("func %s($v *%s) {\n", nc.copy, typ)
		}
		switch nc.enc {
		case binaryEnc, textEnc:
			m, u := "MarshalBinary", "UnmarshalBinary"
			if nc.enc == textEnc {
				m, u = "MarshalText", "UnmarshalText"
			}
			what := strconv.Quote(name)
			data, val := e.tmp("zd"), e.tmp("zc")
			e.c("%s, $err := $v.%s()\n", data, m)
			e.c("if $err != nil {\nreturn $codec.Uncopyable(%s, $err)\n}\n", what)
			e.p("var %s %s\n", val, typ)
			e.c("if $err := %s.%s(%s); $err != nil {\nreturn $codec.Uncopyable(%s, $err)\n}\n", val, u, data, what)
			e.c("*$v = %s\n", val)
		default:
			e.cpType(t, v)
		}
		if nc.copyFallible {
			e.p("return nil\n")
		}
		e.p("}\n")
	}

	if nc.marked {
		e.p("\n")
		if nc.fallible {
			e.doc("MarshalQuark appends the encoding of *%s to %s; it fails with code InvalidArgument when a value in it cannot be encoded.", e.v, e.b)
			e.c("func ($v *%s) MarshalQuark($b []byte) ([]byte, error) { return %s($b, $v) }\n\n", typ, nc.encode)
		} else {
			e.doc("MarshalQuark appends the encoding of *%s to %s; it never fails.", e.v, e.b)
			e.c("func ($v *%s) MarshalQuark($b []byte) ([]byte, error) { return %s($b, $v), nil }\n\n", typ, nc.encode)
		}
		e.doc("UnmarshalQuark decodes %s, which must hold exactly one encoded %s, into *%s.", e.b, t.Obj().Name(), e.v)
		e.c("func ($v *%s) UnmarshalQuark($b []byte) error {\n", typ)
		e.try2("$codec.CheckSize($b, 0)")
		e.c("$budget := $codec.NewBudget(len($b))\n")
		e.c("%s, $err := %s($b, $v, 0, &$budget)\n", e.rest, nc.decode)
		e.c("if $err != nil {\nreturn $codec.Corrupt(%s, $err)\n}\n", strconv.Quote(name))
		e.c("return $codec.CheckTrailing(%s, %s)\n}\n", strconv.Quote(name), e.rest)
	}
}

// try2 writes a call returning only an error, returned if not nil.
func (e *emitter) try2(call string) {
	e.c("if $err := " + call + "; $err != nil {\nreturn $err\n}\n")
}

// ---- messages

// messageCodec writes the serializer methods of a method's message type
// and of its args and results types.
func (e *emitter) messageCodec(a *actor, m *method) {
	pre := a.prefix(m)
	args, res := fieldsOf(m.params), fieldsOf(m.results)

	msg := pre + "Message"
	for _, part := range []struct {
		name, field, what string
		fields            []*structField
	}{
		{"Args", "args", "arguments", args},
		{"Results", "res", "results", res},
	} {
		what := strconv.Quote(a.TypeName + "." + m.Name + " " + part.what)
		e.p("\n")
		if e.cs.anyCanFail(part.fields) {
			e.c("func (%s *%s) Append%s($b []byte) ([]byte, error) { return %s.%s.encode($b) }\n\n", e.m, msg, part.name, e.m, part.field)
		} else {
			e.c("func (%s *%s) Append%s($b []byte) ([]byte, error) { return %s.%s.encode($b), nil }\n\n", e.m, msg, part.name, e.m, part.field)
		}
		e.c("func (%s *%s) Read%s($b []byte) error {\n", e.m, msg, part.name)
		e.c("$budget := $codec.NewBudget(len($b))\n")
		e.c("%s, $err := %s.%s.decode($b, 0, &$budget)\n", e.rest, e.m, part.field)
		e.c("if $err != nil {\nreturn $codec.Corrupt(%s, $err)\n}\n", what)
		e.c("return $codec.CheckTrailing(%s, %s)\n}\n\n", what, e.rest)
		e.ntmp = 0
		if !m.Immutable && e.anyMutable(part.fields) {
			e.p("func (%s *%s) Copy%s() error {\n", e.m, msg, part.name)
			e.cpFields(part.fields, place{expr: e.m + "." + part.field})
			e.p("return nil\n}\n")
		} else {
			e.p("func (%s *%s) Copy%s() error { return nil }\n", e.m, msg, part.name)
		}
	}
	e.structCodec(pre+"Args", args)
	e.structCodec(pre+"Results", res)
}

func (e *emitter) anyMutable(fields []*structField) bool {
	for _, f := range fields {
		if e.cs.isMutable(f.typ) {
			return true
		}
	}
	return false
}

// fieldsOf returns the fields of an args or results struct, each encoded
// under its name.
func fieldsOf(ps []*param) []*structField {
	var out []*structField
	for _, p := range ps {
		out = append(out, &structField{name: p.field, key: p.field, typ: p.v.Type()})
	}
	return out
}

// structCodec writes the encode and decode methods of an args or results
// struct.
func (e *emitter) structCodec(name string, fields []*structField) {
	v := place{expr: e.v, ptr: true}
	e.p("\n")
	e.ntmp = 0
	if e.cs.anyCanFail(fields) {
		e.c("func ($v *%s) encode($b []byte) ([]byte, error) {\n", name)
		e.c("var $err error\n")
		e.encFields(fields, v)
		e.c("return $b, nil\n}\n\n")
	} else {
		e.c("func ($v *%s) encode($b []byte) []byte {\n", name)
		e.encFields(fields, v)
		e.c("return $b\n}\n\n")
	}
	e.c("func ($v *%s) decode($b []byte, $depth int, $budget *$codec.Budget) ([]byte, error) {\n", name)
	e.ntmp = 0
	e.c("var $err error\n")
	e.decFields(fields, v, depth{base: e.depth})
	e.c("return $b, nil\n}\n")
}

// newMessage writes the TypeDesc.NewMessage function of a.
func (e *emitter) newMessage(a *actor) {
	e.p("NewMessage: func(methodID uint32) %s.Message {\nswitch methodID {\n", e.quark)
	for _, m := range a.Methods {
		pre := a.prefix(m)
		e.p("case 0x%08x: // %s\nreturn %sPool.Get().(*%sMessage)\n", m.ID, m.Name, pre, pre)
	}
	e.p("}\nreturn nil\n},\n")
}

// errorRegistry writes the registration of the package's error variables.
func (e *emitter) errorRegistry(names []string) {
	e.p("\nfunc init() {\n")
	for _, name := range names {
		e.c("$codec.RegisterError(%s, %s)\n", strconv.Quote(e.im.self.Path()+"."+name), name)
	}
	e.p("}\n")
}
