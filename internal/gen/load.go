package gen

import (
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

const (
	listMode = packages.NeedName | packages.NeedFiles | packages.NeedModule
	loadMode = listMode | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports
)

// loader runs the go command for one Generate call.
type loader struct {
	cfg  *Config
	fset *token.FileSet
	// overlay is cfg.Overlay plus, for every generated file of the loaded
	// packages, a stand-in holding only its package clause.
	overlay map[string][]byte
	// foreign holds the directories whose FileName file was not generated.
	foreign map[string]bool
}

func (l *loader) config(mode packages.LoadMode, overlay map[string][]byte) *packages.Config {
	return &packages.Config{
		Mode:       mode,
		Dir:        l.cfg.Dir,
		Env:        l.cfg.Env,
		BuildFlags: l.cfg.BuildFlags,
		Fset:       l.fset,
		Overlay:    overlay,
	}
}

// loadRoots lists the packages matching patterns, blanks out their
// generated files, and loads them with types.
func (l *loader) loadRoots(patterns []string) ([]*packages.Package, error) {
	l.fset = token.NewFileSet()
	l.overlay = maps.Clone(l.cfg.Overlay)
	if l.overlay == nil {
		l.overlay = make(map[string][]byte)
	}
	l.foreign = make(map[string]bool)
	listed, err := packages.Load(l.config(listMode, l.cfg.Overlay), patterns...)
	if err != nil {
		return nil, err
	}
	if len(listed) == 0 {
		return nil, fmt.Errorf("no packages match %s", strings.Join(patterns, " "))
	}
	for _, p := range listed {
		for _, f := range p.GoFiles {
			if filepath.Base(f) != FileName {
				continue
			}
			src, ok := l.overlay[f]
			if !ok {
				if src, err = os.ReadFile(f); err != nil {
					continue
				}
			}
			if !IsGenerated(src) {
				l.foreign[filepath.Dir(f)] = true
				continue
			}
			l.overlay[f] = []byte("package " + l.packageName(p, f, src) + "\n")
		}
	}
	return packages.Load(l.config(loadMode, l.overlay), patterns...)
}

// packageName returns the name the blanked-out generated file gen of p must
// declare: that of p's other files, or else the one gen declares.
func (l *loader) packageName(p *packages.Package, gen string, src []byte) string {
	for _, f := range append(p.GoFiles, gen) {
		if f == gen && len(p.GoFiles) > 1 {
			continue
		}
		var text any
		if f == gen {
			text = src
		} else if o, ok := l.overlay[f]; ok {
			text = o
		}
		if af, err := parser.ParseFile(token.NewFileSet(), f, text, parser.PackageClauseOnly); err == nil {
			return af.Name.Name
		}
	}
	return p.Name
}

// reload loads the package in dir again, with extra overlaid on the
// loader's overlay.
func (l *loader) reload(dir string, extra map[string][]byte) (*packages.Package, error) {
	overlay := maps.Clone(l.overlay)
	maps.Copy(overlay, extra)
	pkgs, err := packages.Load(l.config(loadMode, overlay), dir)
	if err != nil {
		return nil, err
	}
	if len(pkgs) != 1 {
		return nil, fmt.Errorf("loading %s again found %d packages", dir, len(pkgs))
	}
	return pkgs[0], nil
}

// loadErrors converts the errors go/packages reports for pkg.
func loadErrors(errs []packages.Error) ErrorList {
	var out ErrorList
	for _, e := range errs {
		out = append(out, &Error{Pos: parsePos(e.Pos), Msg: e.Msg})
	}
	return out
}

// generate produces the Package for the loaded package pkg.
func (l *loader) generate(pkg *packages.Package) *Package {
	res := &Package{PkgPath: pkg.PkgPath, Name: pkg.Name, Dir: pkg.Dir}
	if res.Dir == "" && len(pkg.GoFiles) > 0 {
		res.Dir = filepath.Dir(pkg.GoFiles[0])
	}
	a := analyze(pkg, l.fset)
	for _, act := range a.actors {
		res.Actors = append(res.Actors, act.Iface)
	}

	// Names the generated file declares are undefined while it is blanked
	// out; uses of them elsewhere in the package are not errors.
	generated := make(map[string]bool)
	for _, act := range a.actors {
		for _, name := range act.names() {
			generated[name] = true
		}
	}
	var loadErrs []packages.Error
	refsGenerated, codecMethodsUsed := false, false
	for _, e := range pkg.Errors {
		if e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") {
			// The compiler's report, from building export data; the type
			// checker has reported the same problems from source.
			continue
		}
		if name, ok := strings.CutPrefix(e.Msg, "undefined: "); ok && e.Kind == packages.TypeError && generated[name] {
			refsGenerated = true
			continue
		}
		if e.Kind == packages.TypeError && len(a.codecTypes) > 0 &&
			(strings.Contains(e.Msg, "MarshalQuark") || strings.Contains(e.Msg, "UnmarshalQuark")) {
			// A use of the methods the generated file gives the types
			// marked //quark:codec.
			codecMethodsUsed = true
			continue
		}
		loadErrs = append(loadErrs, e)
	}
	// The package's own errors come first: checking actors is only
	// meaningful in a package that type-checks.
	if len(loadErrs) > 0 {
		res.Errors = sortErrors(loadErrors(loadErrs))
		return res
	}
	if pkg.Module == nil || !pkg.Module.Main {
		res.Errors = ErrorList{{Msg: fmt.Sprintf("package %s is not in the main module; quark gen writes only there", pkg.PkgPath)}}
		return res
	}
	if (len(a.actors) > 0 || len(a.codecTypes) > 0) && l.foreign[res.Dir] {
		a.errs = append(a.errs, &Error{Pos: token.Position{Filename: res.File()},
			Msg: "this file was not written by quark gen; rename it so that the generated code can take its place"})
	}
	if len(a.invalid) > 0 && refsGenerated || codecMethodsUsed {
		// An actor's methods use the generated reference types (a method
		// returning an AccountRef, say), or the package uses the codec
		// methods of its //quark:codec types: load the package again with
		// those declared, then check the complete result.
		return l.generateAgain(pkg, res, a)
	}
	if errs := slices.Concat(a.errs, a.invalid); len(errs) > 0 {
		res.Errors = sortErrors(errs)
		return res
	}
	return l.emit(res, a)
}

func (l *loader) emit(res *Package, a *analysis) *Package {
	if len(a.actors) == 0 && len(a.codecTypes) == 0 {
		return res
	}
	out, err := emit(a)
	if err != nil {
		res.Errors = ErrorList{{Pos: token.Position{Filename: res.File()}, Msg: err.Error()}}
		return res
	}
	res.Output = out
	return res
}

// generateAgain generates pkg with its reference types and codec methods
// declared by a stub file, and checks the output by loading the package
// with it.
func (l *loader) generateAgain(pkg *packages.Package, res *Package, a *analysis) *Package {
	var stub strings.Builder
	fmt.Fprintf(&stub, "%s\n\npackage %s\n\n", Header, pkg.Types.Name())
	for _, act := range a.actors {
		fmt.Fprintf(&stub, "type %sRef struct{}\n\n", act.Iface)
	}
	for _, t := range a.codecTypes {
		name := t.Obj().Name()
		fmt.Fprintf(&stub, "func (*%s) MarshalQuark(b []byte) ([]byte, error) { return b, nil }\n\n", name)
		fmt.Fprintf(&stub, "func (*%s) UnmarshalQuark([]byte) error { return nil }\n\n", name)
	}
	file := res.File()
	pkg2, err := l.reload(res.Dir, map[string][]byte{file: []byte(stub.String())})
	if err != nil {
		res.Errors = ErrorList{{Msg: err.Error()}}
		return res
	}
	a2 := analyze(pkg2, l.fset)
	if errs := slices.Concat(a2.errs, a2.invalid); len(errs) > 0 {
		res.Errors = sortErrors(errs)
		return res
	}
	if l.emit(res, a2); res.Output == nil {
		return res
	}
	pkg3, err := l.reload(res.Dir, map[string][]byte{file: res.Output})
	if err != nil {
		res.Errors = ErrorList{{Msg: err.Error()}}
	} else {
		var errs []packages.Error
		for _, e := range pkg3.Errors {
			if e.Kind != packages.ListError || !strings.HasPrefix(e.Msg, "# ") {
				errs = append(errs, e)
			}
		}
		res.Errors = sortErrors(loadErrors(errs))
	}
	if len(res.Errors) > 0 {
		res.Output = nil
	}
	return res
}
