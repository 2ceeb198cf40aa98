package gen

import (
	"go/ast"
	"strings"
)

const directivePrefix = "//quark:"

// A directive is one //quark:NAME ARGS comment line.
type directive struct {
	name string // after "//quark:", up to the first space
	args string // the rest, trimmed
	c    *ast.Comment
}

// parseDirective returns the directive c holds, if it is one.
func parseDirective(c *ast.Comment) (directive, bool) {
	rest, ok := strings.CutPrefix(c.Text, directivePrefix)
	if !ok {
		return directive{}, false
	}
	name, args, _ := strings.Cut(rest, " ")
	if i := strings.IndexByte(name, '\t'); i >= 0 {
		name, args = name[:i], name[i+1:]+" "+args
	}
	return directive{name: name, args: strings.TrimSpace(args), c: c}, true
}

// directivesIn returns the directives of the comment group cg, in order.
func directivesIn(cg *ast.CommentGroup) []directive {
	if cg == nil {
		return nil
	}
	var out []directive
	for _, c := range cg.List {
		if d, ok := parseDirective(c); ok {
			out = append(out, d)
		}
	}
	return out
}

// placement says, for each known directive, where it belongs; it is the
// explanation given when one is found anywhere else.
var placement = map[string]string{
	"actor":     "it belongs in the doc comment of a package-level interface type declaration",
	"reentrant": "it belongs in the doc comment of an interface marked //quark:actor",
	"stateless": "it belongs in the doc comment of an interface marked //quark:actor",
	"readonly":  "it belongs in the doc comment of an interface method",
	"oneway":    "it belongs in the doc comment of an interface method",
	"codec":     "it belongs in the doc comment of a package-level type declaration",
	"immutable": "it belongs in the doc comment of a package-level type declaration or of an interface method",
}
