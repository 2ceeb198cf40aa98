package quark

import "context"

// Propagator carries selected values of a caller's context to the context
// of the actor method it calls: a trace span, a tenant, a principal. A
// callee's context is otherwise fresh; the values a propagator does not
// carry stay behind. Values travel as string keys and values in a Carrier,
// the form in which they will cross to another process, so what reaches a
// callee is what the propagator can write down, never a Go value.
//
// The shape is OpenTelemetry's propagation.TextMapPropagator without its
// Fields method, and Carrier has the method set of its TextMapCarrier, so
// an OpenTelemetry propagator adapts in a few lines (docs/ARCHITECTURE.md,
// "Contexts and deadlines").
//
// A silo calls its propagators from the goroutines that make calls, many at
// once: they must be safe for concurrent use and must not block.
type Propagator interface {
	// Inject writes the values it carries from the caller's ctx into c. It
	// runs each time the silo makes a callee's context: for each call, for
	// a one-way message's admission by incoming interceptors, and for the
	// contexts the runtime makes itself (OnActivate, OnDeactivate, a
	// one-way message as it runs), whose ctx is the runtime's own (empty,
	// or Stop's for OnDeactivate at shutdown).
	Inject(ctx context.Context, c Carrier)
	// Extract returns ctx with the values read from c. ctx holds no values
	// of the caller's, and its deadline and cancellation are not the
	// call's: the callee's context takes only its values. It is not called
	// when no propagator injected anything.
	Extract(ctx context.Context, c Carrier) context.Context
}

// Carrier holds propagated values as string keys and values between a
// caller and a callee. Keys are compared as they are, with no case folding.
type Carrier interface {
	// Get returns the value of key, or "" when there is none.
	Get(key string) string
	// Set sets the value of key, replacing any.
	Set(key, value string)
	// Keys lists the keys set.
	Keys() []string
}

// carrier is the Carrier a silo hands its propagators: alternating keys and
// values, the form the call context carries between processes (see
// wire.CallContext.Values). Made per call; written by Inject on the
// caller's goroutine, then only read.
type carrier struct{ kv []string }

func (c *carrier) Get(key string) string {
	for i := 0; i+1 < len(c.kv); i += 2 {
		if c.kv[i] == key {
			return c.kv[i+1]
		}
	}
	return ""
}

func (c *carrier) Set(key, value string) {
	for i := 0; i+1 < len(c.kv); i += 2 {
		if c.kv[i] == key {
			c.kv[i+1] = value
			return
		}
	}
	c.kv = append(c.kv, key, value)
}

func (c *carrier) Keys() []string {
	keys := make([]string, 0, len(c.kv)/2)
	for i := 0; i+1 < len(c.kv); i += 2 {
		keys = append(keys, c.kv[i])
	}
	return keys
}

// propagated is what a call context carries of its caller's values.
type propagated struct {
	carried carrier         // what the propagators injected
	vals    context.Context // what they extracted from it; answers Value
}

// propagate runs the propagators ps over the caller's ctx, returning the
// extension of a call context that holds what they carried, or nil when none
// of them injected anything.
func propagate(ps []Propagator, ctx context.Context) *callExt {
	x := &callExt{}
	for _, pr := range ps {
		pr.Inject(ctx, &x.prop.carried)
	}
	if len(x.prop.carried.kv) == 0 {
		return nil
	}
	x.prop.extract(ps)
	return x
}

// extract fills p.vals from p.carried.
func (p *propagated) extract(ps []Propagator) {
	vals := context.Background()
	for _, pr := range ps {
		vals = pr.Extract(vals, &p.carried) //nolint:fatcontext // each propagator adds its values to those before; as deep as the list
	}
	p.vals = vals
}
