package gen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"sort"
)

// syntaxIndex finds the declarations behind types objects: the type spec of
// an interface and the field of an interface method. Files of the package
// being generated come from its syntax trees; files of other packages, whose
// types may come from export data, are parsed on demand.
type syntaxIndex struct {
	fset  *token.FileSet
	root  map[string]*ast.File // the generated package's files, by name
	files map[string]*fileIndex
}

// fileIndex holds the declarations of one file by the line of their name.
// Positions read from export data have lines but no columns, so a lookup
// matches the line and the name, and the column only when there is one.
type fileIndex struct {
	fset   *token.FileSet // the set the file's positions belong to
	specs  map[int][]decl[*ast.TypeSpec]
	fields map[int][]decl[*ast.Field] // interface methods
	// docs holds the doc comment of each type spec: its own, or that of
	// its declaration when the declaration has no parentheses.
	docs map[*ast.TypeSpec]*ast.CommentGroup
}

type decl[N any] struct {
	name string
	col  int
	node N
}

type lineCol struct{ line, col int }

// find returns the declaration of name at lc in decls, or the zero N.
func find[N any](decls map[int][]decl[N], lc lineCol, name string) N {
	var found []decl[N]
	for _, d := range decls[lc.line] {
		if d.name != name {
			continue
		}
		if d.col == lc.col {
			return d.node
		}
		found = append(found, d)
	}
	if len(found) == 1 {
		return found[0].node
	}
	var zero N
	return zero
}

func newSyntaxIndex(fset *token.FileSet, files []*ast.File) *syntaxIndex {
	s := &syntaxIndex{fset: fset, root: make(map[string]*ast.File), files: make(map[string]*fileIndex)}
	for _, f := range files {
		if tf := fset.File(f.Pos()); tf != nil {
			s.root[tf.Name()] = f
		}
	}
	return s
}

// lookup returns the index of the file holding pos, or nil, and pos's line
// and column.
func (s *syntaxIndex) lookup(pos token.Pos) (*fileIndex, lineCol) {
	p := s.fset.PositionFor(pos, false)
	if !p.IsValid() {
		return nil, lineCol{}
	}
	lc := lineCol{p.Line, p.Column}
	if fi, ok := s.files[p.Filename]; ok {
		return fi, lc
	}
	var fi *fileIndex
	if f := s.root[p.Filename]; f != nil {
		fi = indexFile(s.fset, f)
	} else if src, err := os.ReadFile(p.Filename); err == nil {
		fset := token.NewFileSet()
		if f, err := parser.ParseFile(fset, p.Filename, src, parser.ParseComments|parser.SkipObjectResolution); err == nil {
			fi = indexFile(fset, f)
		}
	}
	s.files[p.Filename] = fi
	return fi, lc
}

func indexFile(fset *token.FileSet, f *ast.File) *fileIndex {
	fi := &fileIndex{fset: fset, specs: make(map[int][]decl[*ast.TypeSpec]), fields: make(map[int][]decl[*ast.Field]),
		docs: make(map[*ast.TypeSpec]*ast.CommentGroup)}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			for _, spec := range n.Specs {
				if ts, ok := spec.(*ast.TypeSpec); ok {
					fi.docs[ts] = specDoc(n, ts)
				}
			}
		case *ast.TypeSpec:
			p := fset.PositionFor(n.Name.Pos(), false)
			fi.specs[p.Line] = append(fi.specs[p.Line], decl[*ast.TypeSpec]{n.Name.Name, p.Column, n})
		case *ast.InterfaceType:
			for _, field := range n.Methods.List {
				for _, name := range field.Names {
					p := fset.PositionFor(name.Pos(), false)
					fi.fields[p.Line] = append(fi.fields[p.Line], decl[*ast.Field]{name.Name, p.Column, field})
				}
			}
		}
		return true
	})
	return fi
}

// interfaceNode returns the syntax of the interface type declared by obj,
// if it is at hand.
func (s *syntaxIndex) interfaceNode(obj *types.TypeName) *ast.InterfaceType {
	fi, lc := s.lookup(obj.Pos())
	if fi == nil {
		return nil
	}
	if ts := find(fi.specs, lc, obj.Name()); ts != nil {
		it, _ := ts.Type.(*ast.InterfaceType)
		return it
	}
	return nil
}

// specDoc returns the doc comment of the type spec ts of gd.
func specDoc(gd *ast.GenDecl, ts *ast.TypeSpec) *ast.CommentGroup {
	if ts.Doc == nil && !gd.Lparen.IsValid() {
		return gd.Doc
	}
	return ts.Doc
}

// typeDoc returns the doc comment of the declaration of the type obj, if
// it is at hand.
func (s *syntaxIndex) typeDoc(obj *types.TypeName) *ast.CommentGroup {
	fi, lc := s.lookup(obj.Pos())
	if fi == nil {
		return nil
	}
	if ts := find(fi.specs, lc, obj.Name()); ts != nil {
		return fi.docs[ts]
	}
	return nil
}

// methodDoc returns the doc comment of the interface method fn and the
// file set its positions belong to.
func (s *syntaxIndex) methodDoc(fn *types.Func) (*ast.CommentGroup, *token.FileSet) {
	fi, lc := s.lookup(fn.Pos())
	if fi == nil {
		return nil, nil
	}
	field := find(fi.fields, lc, fn.Name())
	if field == nil {
		return nil, nil
	}
	return field.Doc, fi.fset
}

// methods returns the methods of iface, whose syntax is node (or nil), in
// source order: each method where it is declared, and the methods an
// embedded interface brings where it is embedded. The functions returned
// are iface's own, as its method set has them.
func (s *syntaxIndex) methods(iface *types.Interface, node *ast.InterfaceType) []*types.Func {
	byID := make(map[string]*types.Func, iface.NumMethods())
	for i := 0; i < iface.NumMethods(); i++ {
		fn := iface.Method(i)
		byID[fn.Id()] = fn
	}
	var out []*types.Func
	add := func(fn *types.Func) {
		if m := byID[fn.Id()]; m != nil {
			out = append(out, m)
			delete(byID, fn.Id())
		}
	}
	s.walk(iface, node, add)
	// The walk sees every method unless the syntax disagrees with the
	// types; keep whatever it missed, in name order.
	for i := 0; i < iface.NumMethods(); i++ {
		if fn := iface.Method(i); byID[fn.Id()] != nil {
			out = append(out, fn)
		}
	}
	return out
}

func (s *syntaxIndex) walk(it *types.Interface, node *ast.InterfaceType, add func(*types.Func)) {
	if node == nil {
		explicit := make([]*types.Func, it.NumExplicitMethods())
		for i := range explicit {
			explicit[i] = it.ExplicitMethod(i)
		}
		sort.SliceStable(explicit, func(i, j int) bool {
			a, b := explicit[i], explicit[j]
			if a.Pos() != b.Pos() {
				return a.Pos() < b.Pos()
			}
			return a.Name() < b.Name()
		})
		for _, fn := range explicit {
			add(fn)
		}
		for i := 0; i < it.NumEmbeddeds(); i++ {
			s.walkType(it.EmbeddedType(i), nil, add)
		}
		return
	}
	emb := 0
	for _, field := range node.Methods.List {
		if len(field.Names) == 0 {
			if emb < it.NumEmbeddeds() {
				s.walkType(it.EmbeddedType(emb), field.Type, add)
				emb++
			}
			continue
		}
		for _, name := range field.Names {
			for i := 0; i < it.NumExplicitMethods(); i++ {
				if fn := it.ExplicitMethod(i); fn.Name() == name.Name {
					add(fn)
				}
			}
		}
	}
	for ; emb < it.NumEmbeddeds(); emb++ {
		s.walkType(it.EmbeddedType(emb), nil, add)
	}
}

func (s *syntaxIndex) walkType(t types.Type, expr ast.Expr, add func(*types.Func)) {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if it, ok := t.Underlying().(*types.Interface); ok {
			s.walk(it, s.interfaceNode(t.Obj()), add)
		}
	case *types.Interface:
		node, _ := expr.(*ast.InterfaceType)
		s.walk(t, node, add)
	}
}
