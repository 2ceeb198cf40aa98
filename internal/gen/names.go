package gen

import (
	"go/types"
	"strconv"
	"unicode"
	"unicode/utf8"
)

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// nameSet hands out names that are not yet taken.
type nameSet map[string]bool

// fresh returns base, or if that is taken base_, base2, base3 and so on,
// and takes it.
func (s nameSet) fresh(base string) string {
	name := base
	for i := 1; s[name]; i++ {
		if i == 1 {
			name = base + "_"
		} else {
			name = base + strconv.Itoa(i)
		}
	}
	s[name] = true
	return name
}

func named(v *types.Var) bool { return v.Name() != "" && v.Name() != "_" }

// assignNames names the parts of a valid method m: the fields of its args
// and results structs, and the parameters, results and locals of its
// proxy. The proxy keeps the names the interface gives; the others are
// chosen not to collide with them.
func assignNames(m *method) {
	params, results := m.sig.Params(), m.sig.Results()
	locals := make(nameSet)
	for _, tup := range []*types.Tuple{params, results} {
		for i := 0; i < tup.Len(); i++ {
			if v := tup.At(i); named(v) {
				locals[v.Name()] = true
			}
		}
	}
	local := func(v *types.Var, base string) string {
		if named(v) {
			return v.Name()
		}
		return locals.fresh(base)
	}

	m.ctx = &param{v: params.At(0), local: local(params.At(0), "ctx")}
	fields := make(nameSet)
	m.params = nil
	for i := 1; i < params.Len(); i++ {
		v := params.At(i)
		p := &param{v: v, local: local(v, "a"+strconv.Itoa(i-1))}
		if named(v) {
			p.field = fields.fresh(upperFirst(v.Name()))
		} else {
			p.field = fields.fresh("A" + strconv.Itoa(i-1))
		}
		m.params = append(m.params, p)
	}

	fields = make(nameSet)
	m.results = nil
	last := results.Len() - 1
	for i := 0; i < last; i++ {
		v := results.At(i)
		p := &param{v: v, local: local(v, "r"+strconv.Itoa(i))}
		if named(v) {
			p.field = fields.fresh(upperFirst(v.Name()))
		} else {
			p.field = fields.fresh("R" + strconv.Itoa(i))
		}
		m.results = append(m.results, p)
	}
	m.err = &param{v: results.At(last), local: local(results.At(last), "err")}
	m.recv = locals.fresh("r")
	m.msg = locals.fresh("m")
}
