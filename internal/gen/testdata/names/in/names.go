package names

import "context"

// Clash uses parameter names that the generated code would otherwise use
// for its own variables.
//
//quark:actor
type Clash interface {
	// Locals names its parameters after the proxy's receiver, message and
	// error variables, and its context ctx2.
	Locals(ctx2 context.Context, r int, m string, err bool) (int64, error)
	// Unnamed has no parameter names at all.
	Unnamed(context.Context, int, string) (int, string, error)
	// Blank mixes named and blank parameters and results.
	Blank(_ context.Context, a int, _ string, c bool) (_ int, total int, err error)
	// Fields has parameters whose field names collide once capitalised.
	Fields(ctx context.Context, n int, N int, a1 string, _ string) error
	// ErrName names the error result.
	ErrName(ctx context.Context, r0 int) (r1 int, e error)
	// Receivers takes the fallback names too.
	Receivers(ctx context.Context, r, r_, m, m_ int) error
	// OneWayNamed names the error of a one-way method.
	//
	//quark:oneway
	OneWayNamed(c context.Context, ctx int) (err error)
}

// lower is an unexported actor interface.
//
//quark:actor
type lower interface {
	ping(ctx context.Context) error
}

// b, v and budget are named like the parameters of the generated helpers,
// which therefore use other names.
type b struct {
	Next *b
	Vs   []v
	B    []budget
}

type v int

type budget string

// Shadow passes them.
//
//quark:actor
type Shadow interface {
	Pass(ctx context.Context, x b, y map[v]b) (b, error)
}

// quarkDecodev is the package's own: the generated decoder of v takes
// another name.
func quarkDecodev() {}
