package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// quarkPath is the import path of the runtime the generated code uses.
const quarkPath = "github.com/quarkgo/quark"

// An actor is one //quark:actor interface.
type actor struct {
	Iface     string // the interface's name
	TypeName  string // TypeDesc.Name
	Reentrant bool
	Stateless bool
	Methods   []*method
	pos       token.Pos
}

// A method is one method of an actor, with the names the generated code
// gives its parts.
type method struct {
	Name     string
	ID       uint32
	ReadOnly bool
	OneWay   bool
	// Immutable methods share their arguments and results with the callee
	// and caller instead of copying them (//quark:immutable).
	Immutable bool
	fn        *types.Func
	sig       *types.Signature
	valid     bool // checkMethod found nothing wrong

	// Filled in by assignNames once the method is known to be valid.
	ctx     *param   // the context parameter
	params  []*param // the other parameters
	results []*param // the results before the error
	err     *param   // the error result
	recv    string   // the proxy's receiver
	msg     string   // the proxy's message variable
}

// A param is a parameter or result of an actor method.
type param struct {
	v     *types.Var
	field string // field of the args or results struct
	local string // name in the proxy's signature
}

// prefix returns the start of the unexported names generated for m.
func (a *actor) prefix(m *method) string { return lowerFirst(a.Iface) + m.Name }

// names returns the package-level names generated for a.
func (a *actor) names() []string {
	names := []string{a.Iface + "Type", "Register" + a.Iface, a.Iface + "Ref", "New" + a.Iface + "Ref"}
	for _, m := range a.Methods {
		p := a.prefix(m)
		names = append(names, p+"Method", p+"Args", p+"Results", p+"Message", p+"Pool")
	}
	return names
}

// methodID returns the ID of method name of the actor type typeName.
func methodID(typeName, name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(typeName + "." + name))
	return h.Sum32()
}

// analysis finds and checks the actors of one package.
type analysis struct {
	pkg      *packages.Package
	fset     *token.FileSet
	syn      *syntaxIndex
	actors   []*actor
	errs     ErrorList
	invalid  ErrorList // signatures with invalid types, reported apart
	consumed map[*ast.Comment]bool

	codecTypes []*types.Named // the types marked //quark:codec, in source order
	codecs     *codecs        // what the generated file encodes
	errVars    []string       // the package-level error variables, sorted
}

func analyze(pkg *packages.Package, fset *token.FileSet) *analysis {
	a := &analysis{
		pkg:      pkg,
		fset:     fset,
		syn:      newSyntaxIndex(fset, pkg.Syntax),
		consumed: make(map[*ast.Comment]bool),
	}
	if pkg.Types == nil || pkg.TypesInfo == nil {
		return a
	}
	for _, f := range pkg.Syntax {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				dirs := directivesIn(specDoc(gd, ts))
				isActor := false
				for _, d := range dirs {
					if d.name == "actor" {
						a.actor(ts, dirs)
						isActor = true
						break
					}
				}
				a.typeMarkers(ts, dirs, isActor)
			}
		}
	}
	if len(a.actors) > 0 && pkg.PkgPath == quarkPath {
		a.errorf(a.actors[0].pos, "actors cannot be declared in the quark runtime package itself")
	}
	a.checkNames()
	a.checkBuiltins()
	a.checkCodecs()
	if len(a.actors) > 0 {
		a.errVars = a.sentinels()
	}
	a.strayDirectives()
	a.errs = sortErrors(a.errs)
	a.invalid = sortErrors(a.invalid)
	return a
}

// generatedBuiltins are the predeclared identifiers generated code uses by
// name; a package-level declaration of one hides it from quark_gen.go.
var generatedBuiltins = []string{
	"any", "append", "bool", "byte", "cap", "clear", "copy", "error", "false",
	"float32", "float64", "int", "int64", "len", "make", "max", "min", "new",
	"nil", "panic", "string", "true", "uint32", "uint64",
}

// checkBuiltins rejects package-level declarations that shadow a builtin the
// generated file calls (a min written before Go 1.21, say): the generated
// code would not compile, so say why at the declaration.
func (a *analysis) checkBuiltins() {
	if len(a.actors) == 0 && len(a.codecTypes) == 0 {
		return
	}
	scope := a.pkg.Types.Scope()
	for _, name := range generatedBuiltins {
		if obj := scope.Lookup(name); obj != nil {
			a.errorf(obj.Pos(), "package-level %s hides the builtin %s, which the generated code uses; rename it", name, name)
		}
	}
}

func (a *analysis) errorf(pos token.Pos, format string, args ...any) {
	a.errs = append(a.errs, &Error{Pos: a.fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}

func (a *analysis) errorAt(fset *token.FileSet, pos token.Pos, format string, args ...any) {
	a.errs = append(a.errs, &Error{Pos: fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}

// typeString formats t for messages, qualified by package name.
func (a *analysis) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == a.pkg.Types {
			return ""
		}
		return p.Name()
	})
}

// actor reads the interface declared by ts, whose doc comment holds the
// directives dirs, one of them //quark:actor.
func (a *analysis) actor(ts *ast.TypeSpec, dirs []directive) {
	act := &actor{Iface: ts.Name.Name, TypeName: a.pkg.Types.Name() + "." + ts.Name.Name, pos: ts.Name.Pos()}
	seen := make(map[string]bool)
	nameGiven := false
	for _, d := range dirs {
		switch d.name {
		case "actor":
			if seen[d.name] {
				a.errorf(d.c.Pos(), "duplicate //quark:actor")
				break
			}
			for _, arg := range strings.Fields(d.args) {
				key, val, ok := strings.Cut(arg, "=")
				switch {
				case !ok || key != "name":
					a.errorf(d.c.Pos(), "//quark:actor: unknown argument %q (want name=TypeName)", arg)
				case val == "":
					a.errorf(d.c.Pos(), "//quark:actor: empty type name")
				case nameGiven:
					a.errorf(d.c.Pos(), "//quark:actor: more than one name")
				default:
					act.TypeName, nameGiven = val, true
				}
			}
		case "reentrant", "stateless":
			if seen[d.name] {
				a.errorf(d.c.Pos(), "duplicate //quark:%s", d.name)
			} else if d.args != "" {
				a.errorf(d.c.Pos(), "//quark:%s takes no arguments", d.name)
			}
			if d.name == "reentrant" {
				act.Reentrant = true
			} else {
				act.Stateless = true
			}
		default:
			continue // reported by strayDirectives
		}
		seen[d.name] = true
		a.consumed[d.c] = true
	}

	if ts.Assign.IsValid() {
		a.errorf(ts.Name.Pos(), "//quark:actor cannot mark the alias %s; mark the interface declaration it names", ts.Name.Name)
		return
	}
	obj, _ := a.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if obj == nil {
		return // the type checker has reported why
	}
	named, _ := obj.Type().(*types.Named)
	if named == nil {
		return
	}
	iface, ok := named.Underlying().(*types.Interface)
	if !ok {
		a.errorf(ts.Name.Pos(), "//quark:actor marks %s, which is not an interface type", ts.Name.Name)
		return
	}
	node, _ := ts.Type.(*ast.InterfaceType)
	fns := a.syn.methods(iface, node)
	for _, fn := range fns {
		m := &method{Name: fn.Name(), fn: fn, ID: methodID(act.TypeName, fn.Name())}
		m.sig, _ = fn.Type().(*types.Signature)
		a.methodMarkers(m)
		act.Methods = append(act.Methods, m)
	}
	a.actors = append(a.actors, act)

	switch {
	case ts.TypeParams != nil && len(ts.TypeParams.List) > 0:
		a.errorf(ts.Name.Pos(), "actor interface %s has type parameters; actors cannot be generic", act.Iface)
		return
	case !iface.IsMethodSet():
		a.errorf(ts.Name.Pos(), "actor interface %s has type constraints; actors are plain method sets", act.Iface)
		return
	case len(fns) == 0:
		a.errorf(ts.Name.Pos(), "actor interface %s has no methods", act.Iface)
		return
	}
	ids := make(map[uint32]*method)
	valid := true
	for _, m := range act.Methods {
		m.valid = a.checkMethod(act, m)
		if !m.valid {
			valid = false
		}
		if prev := ids[m.ID]; prev != nil {
			a.errorf(m.fn.Pos(), "method %s has the same ID as method %s (0x%08x, the FNV-1a hash of %q and of %q); rename one of them",
				m.Name, prev.Name, m.ID, act.TypeName+"."+m.Name, act.TypeName+"."+prev.Name)
			valid = false
		} else {
			ids[m.ID] = m
		}
	}
	if valid {
		for _, m := range act.Methods {
			assignNames(m)
		}
	}
}

// methodMarkers reads the directives in the doc comment of m's declaration.
func (a *analysis) methodMarkers(m *method) {
	doc, fset := a.syn.methodDoc(m.fn)
	m.ReadOnly, m.OneWay, m.Immutable = a.methodDirectives(doc, fset)
}

// methodDirectives reads the method markers in doc, a method's doc comment
// whose positions belong to fset. Method markers are in place on the
// methods of any interface, since an interface need not be an actor to be
// embedded in one.
func (a *analysis) methodDirectives(doc *ast.CommentGroup, fset *token.FileSet) (readOnly, oneWay, immutable bool) {
	for _, d := range directivesIn(doc) {
		var set *bool
		switch d.name {
		case "readonly":
			set = &readOnly
		case "oneway":
			set = &oneWay
		case "immutable":
			set = &immutable
		default:
			continue
		}
		if *set {
			a.errorAt(fset, d.c.Pos(), "duplicate //quark:%s", d.name)
		} else if d.args != "" {
			a.errorAt(fset, d.c.Pos(), "//quark:%s takes no arguments", d.name)
		}
		*set = true
		a.consumed[d.c] = true
	}
	return readOnly, oneWay, immutable
}

// checkMethod reports why m cannot be an actor method, if it cannot.
func (a *analysis) checkMethod(act *actor, m *method) bool {
	n := len(a.errs)
	fn, sig := m.fn, m.sig
	switch m.Name {
	case "ID":
		a.errorf(fn.Pos(), "method name ID is reserved for the generated %sRef's ID method", act.Iface)
	case "ref":
		a.errorf(fn.Pos(), "method name ref is reserved for the generated %sRef's field", act.Iface)
	}
	if !fn.Exported() && fn.Pkg() != nil && fn.Pkg() != a.pkg.Types {
		a.errorf(fn.Pos(), "method %s is unexported in package %s, so generated code cannot call it", m.Name, fn.Pkg().Path())
	}
	params, results := sig.Params(), sig.Results()
	if params.Len() == 0 {
		a.errorf(fn.Pos(), "method %s has no parameters; its first parameter must be a context.Context", m.Name)
	} else if p := params.At(0); !isContext(p.Type()) || (sig.Variadic() && params.Len() == 1) {
		a.errorf(p.Pos(), "first parameter of method %s must be a context.Context, not %s", m.Name, a.typeString(p.Type()))
	}
	if results.Len() == 0 {
		a.errorf(fn.Pos(), "method %s must return error as its last result", m.Name)
	} else if r := results.At(results.Len() - 1); !isError(r.Type()) {
		a.errorf(r.Pos(), "last result of method %s must be error, not %s", m.Name, a.typeString(r.Type()))
	}
	if m.OneWay && results.Len() > 1 {
		a.errorf(fn.Pos(), "one-way method %s must return only error: its caller does not wait for results", m.Name)
	}
	for i := 0; i < params.Len(); i++ {
		a.checkType(m, "parameter", i, params.At(i))
	}
	for i := 0; i < results.Len(); i++ {
		a.checkType(m, "result", i, results.At(i))
	}
	return len(a.errs) == n
}

// checkType reports a parameter or result whose type cannot travel in a
// message or be named in generated code.
func (a *analysis) checkType(m *method, kind string, i int, v *types.Var) {
	label := kind + " " + v.Name()
	if v.Name() == "" || v.Name() == "_" {
		label = kind + " " + strconv.Itoa(i+1)
	}
	t := v.Type()
	if containsInvalid(t, make(map[types.Type]bool)) {
		a.invalid = append(a.invalid, &Error{Pos: a.fset.Position(v.Pos()),
			Msg: fmt.Sprintf("%s of method %s has an invalid type", label, m.Name)})
		return
	}
	if what := unsendable(t, make(map[*types.Named]bool)); what != "" {
		a.errorf(v.Pos(), "%s of method %s has type %s, which contains %s", label, m.Name, a.typeString(t), what)
	}
	if obj := hiddenName(t, a.pkg.Types); obj != nil {
		a.errorf(v.Pos(), "%s of method %s has type %s, which refers to %s, unexported in package %s",
			label, m.Name, a.typeString(t), obj.Name(), obj.Pkg().Path())
	}
}

func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "context" && obj.Name() == "Context"
}

var errorType = types.Universe.Lookup("error").Type()

func isError(t types.Type) bool { return types.Identical(t, errorType) }

// unsendable returns what in t keeps it out of a message: "a channel",
// "a func" or "unsafe.Pointer", or "". It looks through pointers, slices,
// arrays, maps and named types, but not into structs or interfaces.
func unsendable(t types.Type, seen map[*types.Named]bool) string {
	switch t := t.(type) {
	case *types.Alias:
		return unsendable(types.Unalias(t), seen)
	case *types.Named:
		if seen[t] {
			return ""
		}
		seen[t] = true
		return unsendable(t.Underlying(), seen)
	case *types.Basic:
		if t.Kind() == types.UnsafePointer {
			return "unsafe.Pointer"
		}
	case *types.Chan:
		return "a channel"
	case *types.Signature:
		return "a func"
	case *types.Pointer:
		return unsendable(t.Elem(), seen)
	case *types.Slice:
		return unsendable(t.Elem(), seen)
	case *types.Array:
		return unsendable(t.Elem(), seen)
	case *types.Map:
		if what := unsendable(t.Key(), seen); what != "" {
			return what
		}
		return unsendable(t.Elem(), seen)
	}
	return ""
}

// containsInvalid reports whether the type checker could not work out some
// part of t.
func containsInvalid(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Basic:
		return t.Kind() == types.Invalid
	case *types.Alias:
		return containsInvalid(types.Unalias(t), seen)
	case *types.Named:
		if t.TypeArgs() != nil {
			for i := 0; i < t.TypeArgs().Len(); i++ {
				if containsInvalid(t.TypeArgs().At(i), seen) {
					return true
				}
			}
		}
		return containsInvalid(t.Underlying(), seen)
	case *types.Pointer:
		return containsInvalid(t.Elem(), seen)
	case *types.Slice:
		return containsInvalid(t.Elem(), seen)
	case *types.Array:
		return containsInvalid(t.Elem(), seen)
	case *types.Chan:
		return containsInvalid(t.Elem(), seen)
	case *types.Map:
		return containsInvalid(t.Key(), seen) || containsInvalid(t.Elem(), seen)
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if containsInvalid(t.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := 0; i < tup.Len(); i++ {
				if containsInvalid(tup.At(i).Type(), seen) {
					return true
				}
			}
		}
	}
	return false
}

// hiddenName returns a type name in t that code in package pkg cannot
// refer to: one unexported by another package.
func hiddenName(t types.Type, pkg *types.Package) *types.TypeName {
	var obj *types.TypeName
	var args *types.TypeList
	switch t := t.(type) {
	case *types.Alias:
		obj, args = t.Obj(), t.TypeArgs()
	case *types.Named:
		obj, args = t.Obj(), t.TypeArgs()
	case *types.Pointer:
		return hiddenName(t.Elem(), pkg)
	case *types.Slice:
		return hiddenName(t.Elem(), pkg)
	case *types.Array:
		return hiddenName(t.Elem(), pkg)
	case *types.Chan:
		return hiddenName(t.Elem(), pkg)
	case *types.Map:
		if h := hiddenName(t.Key(), pkg); h != nil {
			return h
		}
		return hiddenName(t.Elem(), pkg)
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if h := hiddenName(t.Field(i).Type(), pkg); h != nil {
				return h
			}
		}
		return nil
	default:
		return nil
	}
	if obj.Pkg() != nil && obj.Pkg() != pkg && !obj.Exported() {
		return obj
	}
	for i := 0; args != nil && i < args.Len(); i++ {
		if h := hiddenName(args.At(i), pkg); h != nil {
			return h
		}
	}
	return nil
}

// checkNames reports generated package-level names that clash with each
// other or with the package's own declarations.
func (a *analysis) checkNames() {
	owner := make(map[string]*actor)
	scope := a.pkg.Types.Scope()
	for _, act := range a.actors {
		clashed := make(map[*actor]bool)
		for _, name := range act.names() {
			if other := owner[name]; other != nil && other != act {
				if !clashed[other] {
					clashed[other] = true
					a.errorf(act.pos, "actors %s and %s both need the generated name %s; rename a method or an interface", other.Iface, act.Iface, name)
				}
				continue
			}
			owner[name] = act
			if obj := scope.Lookup(name); obj != nil {
				pos := a.fset.Position(obj.Pos())
				if filepath.Base(pos.Filename) == FileName {
					continue // the file being regenerated
				}
				a.errorf(act.pos, "actor %s needs the name %s, which is already declared at %s:%d", act.Iface, name, filepath.Base(pos.Filename), pos.Line)
			}
		}
	}
}

// strayDirectives reports the //quark: comments of the package that are
// not where they belong, and unknown ones.
func (a *analysis) strayDirectives() {
	for _, f := range a.pkg.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			if it, ok := n.(*ast.InterfaceType); ok {
				for _, field := range it.Methods.List {
					if len(field.Names) > 0 {
						a.methodDirectives(field.Doc, a.fset)
					}
				}
			}
			return true
		})
	}
	for _, f := range a.pkg.Syntax {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				d, ok := parseDirective(c)
				if !ok || a.consumed[c] {
					continue
				}
				if where, known := placement[d.name]; known {
					a.errorf(c.Pos(), "misplaced //quark:%s: %s", d.name, where)
				} else {
					a.errorf(c.Pos(), "unknown directive //quark:%s", d.name)
				}
			}
		}
	}
}
