package gen

import (
	"go/types"
	"path"
	"sort"
	"strconv"
	"strings"
)

// importer assigns the generated file's import names: each package's own
// name unless another import or a package-level declaration has it, in
// which case a numbered alias.
type importer struct {
	self   *types.Package
	taken  nameSet
	byPath map[string]string // import path → local name
}

func newImporter(self *types.Package, reserved []string) *importer {
	im := &importer{self: self, taken: make(nameSet), byPath: make(map[string]string)}
	for _, name := range self.Scope().Names() {
		im.taken[name] = true
	}
	for _, name := range reserved {
		im.taken[name] = true
	}
	return im
}

// name returns the local name of the package with the given path and name,
// importing it if needed.
func (im *importer) name(pkgPath, pkgName string) string {
	if local, ok := im.byPath[pkgPath]; ok {
		return local
	}
	local := pkgName
	for i := 2; im.taken[local]; i++ {
		local = pkgName + strconv.Itoa(i)
	}
	im.taken[local] = true
	im.byPath[pkgPath] = local
	return local
}

// drop removes the import of pkgPath, which the file turned out not to
// use. Its local name stays taken, so other names do not change.
func (im *importer) drop(pkgPath string) { delete(im.byPath, pkgPath) }

// qualifier is the types.Qualifier for the generated file.
func (im *importer) qualifier(p *types.Package) string {
	if p == im.self || p.Path() == im.self.Path() {
		return ""
	}
	return im.name(p.Path(), p.Name())
}

// decl returns the file's import declaration: standard library packages,
// then the others, each group sorted by path. A package is named
// explicitly when its local name is not the last element of its path.
func (im *importer) decl() string {
	var std, other []string
	for p, local := range im.byPath {
		spec := strconv.Quote(p)
		if local != path.Base(p) {
			spec = local + " " + spec
		}
		if isStd(p) {
			std = append(std, spec)
		} else {
			other = append(other, spec)
		}
	}
	byPath := func(specs []string) {
		sort.Slice(specs, func(i, j int) bool { return specPath(specs[i]) < specPath(specs[j]) })
	}
	byPath(std)
	byPath(other)
	var b strings.Builder
	b.WriteString("import (\n")
	for _, s := range std {
		b.WriteString("\t" + s + "\n")
	}
	if len(std) > 0 && len(other) > 0 {
		b.WriteString("\n")
	}
	for _, s := range other {
		b.WriteString("\t" + s + "\n")
	}
	b.WriteString(")\n")
	return b.String()
}

func specPath(spec string) string { return spec[strings.IndexByte(spec, '"'):] }

// isStd reports whether path is a standard library import path: one whose
// first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
