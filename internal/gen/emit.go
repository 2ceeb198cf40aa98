package gen

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"strconv"
	"strings"
)

// emitter writes the generated file of one package.
type emitter struct {
	buf bytes.Buffer
	im  *importer
	cs  *codecs
	// Local names of the packages the generated file uses.
	quark, context, sync, msgp, codec, proto string
	// usesMsgp records whether code written so far calls msgp: encoders
	// of structs alone write constants, so a file may not need it.
	usesMsgp bool
	// Names of the parameters and locals of the generated functions.
	b, v, depth, budget, err, m, rest string
	repl                              *strings.Replacer
	ntmp                              int // the last temporary of the function being written
}

// emit returns the formatted quark_gen.go of the package analyzed by a,
// which must have no errors.
func emit(a *analysis) ([]byte, error) {
	pkg, actors := a.pkg.Types, a.actors
	var reserved []string
	for _, act := range actors {
		reserved = append(reserved, act.names()...)
	}
	e := &emitter{im: newImporter(pkg, reserved), cs: a.codecs}
	if len(actors) > 0 {
		e.context = e.im.name("context", "context")
		e.sync = e.im.name("sync", "sync")
	}
	e.quark = e.im.name(quarkPath, "quark")
	e.codecNames()

	for _, act := range actors {
		e.actor(act)
	}
	if len(a.errVars) > 0 {
		e.errorRegistry(a.errVars)
	}
	for _, nc := range e.cs.named {
		e.helpers(nc)
	}
	body := e.buf.Bytes()
	if !e.usesMsgp {
		e.im.drop(msgpPath)
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, "%s\n\npackage %s\n\n%s\n", Header, pkg.Name(), e.im.decl())
	out.WriteString("// This file needs a quark runtime that supports this generator's output.\n")
	fmt.Fprintf(&out, "const _ = %s.SupportPackageIsVersion4\n", e.quark)
	out.Write(body)
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse (%v); please report this as a bug in quark gen", err)
	}
	return src, nil
}

func (e *emitter) p(format string, args ...any) { fmt.Fprintf(&e.buf, format, args...) }

// doc writes a doc comment, wrapping it at 80 columns.
func (e *emitter) doc(format string, args ...any) {
	line := "//"
	for _, word := range strings.Fields(fmt.Sprintf(format, args...)) {
		if line != "//" && len(line)+1+len(word) > 80 {
			e.p("%s\n", line)
			line = "//"
		}
		line += " " + word
	}
	e.p("%s\n", line)
}

func (e *emitter) typ(t types.Type) string { return types.TypeString(t, e.im.qualifier) }

func (e *emitter) actor(a *actor) {
	x, q := a.Iface, e.quark
	e.p("\n")
	e.doc("%sType describes the %s actor type.", x, x)
	e.p("var %sType = &%s.TypeDesc{\n", x, q)
	e.p("Name: %s,\n", strconv.Quote(a.TypeName))
	if a.Reentrant {
		e.p("Reentrant: true,\n")
	}
	if a.Stateless {
		e.p("Stateless: true,\n")
	}
	e.p("Methods: []*%s.MethodDesc{\n", q)
	for _, m := range a.Methods {
		e.p("&%sMethod,\n", a.prefix(m))
	}
	e.p("},\n")
	e.newMessage(a)
	e.p("}\n\n")

	e.p("var (\n")
	for _, m := range a.Methods {
		e.p("%sMethod = %s.MethodDesc{ID: 0x%08x, Name: %s", a.prefix(m), q, m.ID, strconv.Quote(m.Name))
		if m.ReadOnly {
			e.p(", ReadOnly: true")
		}
		if m.OneWay {
			e.p(", OneWay: true")
		}
		e.p("}\n")
	}
	e.p(")\n\n")

	e.doc("Register%s registers the %s actor type on s. newActor is called once per activation and returns the implementation.", x, x)
	e.p("func Register%s(s *%s.Silo, newActor func(*%s.Activation) %s, opts ...%s.TypeOption) error {\n", x, q, q, x, q)
	e.p("return s.Register(%sType, func(a *%s.Activation) any { return newActor(a) }, opts...)\n}\n\n", x, q)

	e.doc("%sRef is a typed reference to one %s actor.", x, x)
	e.p("type %sRef struct{ ref %s.Ref }\n\n", x, q)

	e.doc("New%sRef returns a reference to the %s actor with key.", x, x)
	e.p("func New%sRef(c %s.Caller, key %s.Key) %sRef {\n", x, q, q, x)
	e.p("return %sRef{ref: %s.NewRef(c, %sType, key)}\n}\n\n", x, q, x)

	e.doc("ID returns the referenced actor's identity.")
	e.p("func (r %sRef) ID() %s.ID { return r.ref.ID() }\n", x, q)

	for _, m := range a.Methods {
		e.p("\n")
		e.proxy(a, m)
	}
	for _, m := range a.Methods {
		e.p("\n")
		e.message(a, m)
	}
}

// params returns the proxy's parameter list.
func (e *emitter) params(m *method) string {
	parts := []string{m.ctx.local + " " + e.typ(m.ctx.v.Type())}
	for i, p := range m.params {
		t := e.typ(p.v.Type())
		if m.sig.Variadic() && i == len(m.params)-1 {
			t = "..." + e.typ(p.v.Type().(*types.Slice).Elem())
		}
		parts = append(parts, p.local+" "+t)
	}
	return strings.Join(parts, ", ")
}

func (e *emitter) proxy(a *actor, m *method) {
	x, pre, r, msg := a.Iface, a.prefix(m), m.recv, m.msg
	if m.OneWay {
		e.doc("%s sends %s.%s to the referenced actor without waiting for it to run.", m.Name, x, m.Name)
		res := e.typ(m.err.v.Type())
		if named(m.err.v) {
			res = "(" + m.err.local + " " + res + ")"
		}
		e.p("func (%s %sRef) %s(%s) %s {\n", r, x, m.Name, e.params(m), res)
	} else {
		e.doc("%s calls %s.%s on the referenced actor.", m.Name, x, m.Name)
		var res []string
		for _, p := range m.results {
			res = append(res, p.local+" "+e.typ(p.v.Type()))
		}
		res = append(res, m.err.local+" "+e.typ(m.err.v.Type()))
		e.p("func (%s %sRef) %s(%s) (%s) {\n", r, x, m.Name, e.params(m), strings.Join(res, ", "))
	}
	e.p("%s := %sPool.Get().(*%sMessage)\n", msg, pre, pre)
	for _, p := range m.params {
		e.p("%s.args.%s = %s\n", msg, p.field, p.local)
	}
	if m.OneWay {
		e.p("return %s.ref.Send(%s, %s)\n}\n", r, m.ctx.local, msg)
		return
	}
	e.p("%s = %s.ref.Call(%s, %s)\n", m.err.local, r, m.ctx.local, msg)
	e.p("if %s.Reclaim() {\n", msg)
	var ret []string
	for _, p := range m.results {
		e.p("%s = %s.res.%s\n", p.local, msg, p.field)
		ret = append(ret, p.local)
	}
	e.p("%s.Release()\n}\n", msg)
	e.p("return %s\n}\n", strings.Join(append(ret, m.err.local), ", "))
}

func (e *emitter) message(a *actor, m *method) {
	pre := a.prefix(m)
	e.fields(pre+"Args", m.params)
	e.p("\n")
	e.fields(pre+"Results", m.results)
	e.p("\n")
	e.p("type %sMessage struct {\n%s.Envelope\nargs %sArgs\nres %sResults\n}\n\n", pre, e.quark, pre, pre)
	e.p("var %sPool = %s.Pool{New: func() any { return new(%sMessage) }}\n\n", pre, e.sync, pre)
	r := e.m
	e.p("func (%s *%sMessage) Method() *%s.MethodDesc { return &%sMethod }\n\n", r, pre, e.quark, pre)

	e.p("func (%s *%sMessage) Invoke(ctx %s.Context, actor any) (err error) {\n", r, pre, e.context)
	var lhs []string
	for _, p := range m.results {
		lhs = append(lhs, r+".res."+p.field)
	}
	args := []string{"ctx"}
	for _, p := range m.params {
		args = append(args, r+".args."+p.field)
	}
	if m.sig.Variadic() {
		args[len(args)-1] += "..."
	}
	e.p("%s = actor.(%s).%s(%s)\n", strings.Join(append(lhs, "err"), ", "), a.Iface, m.Name, strings.Join(args, ", "))
	e.p("return err\n}\n\n")

	e.p("func (%s *%sMessage) Release() {\n", r, pre)
	e.p("%s.args, %s.res = %sArgs{}, %sResults{}\n", r, r, pre, pre)
	e.p("%sPool.Put(%s)\n}\n", pre, r)

	e.messageCodec(a, m)
}

// fields writes the args or results struct called name, with a field per
// parameter or result.
func (e *emitter) fields(name string, ps []*param) {
	if len(ps) == 0 {
		e.p("type %s struct{}\n", name)
		return
	}
	e.p("type %s struct {\n", name)
	for _, p := range ps {
		e.p("%s %s\n", p.field, e.typ(p.v.Type()))
	}
	e.p("}\n")
}
