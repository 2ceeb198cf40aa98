package quark

import "context"

// Invoker carries a call one step further: on the outgoing side towards the
// target actor, on the incoming side into the actor method.
type Invoker func(ctx context.Context, m Message) error

// Interceptor wraps an Invoker: it sees each call's target (m.Target()) and
// method (m.Method()) before and after the next step, may change the context
// passed on, and may short-circuit by returning an error without calling
// next. Tracing, metrics, authorization and dead-letter capture hook in here.
//
// Outgoing interceptors run on the caller's side for every call a silo's
// proxies make; incoming interceptors run inside the callee's turn, with the
// callee's fresh context. An interceptor must be safe for concurrent use and
// must not keep m after returning. For a one-way message, next returns once
// the message is queued; m stays readable until the interceptor returns. An
// outgoing interceptor that returns without calling next stops the call:
// a one-way message stopped so is counted as dropped. With no interceptors
// configured a call pays nothing for them.
type Interceptor func(next Invoker) Invoker

// chain wraps base in interceptors, the first outermost.
func chain(base Invoker, interceptors []Interceptor) Invoker {
	for i := len(interceptors) - 1; i >= 0; i-- {
		base = interceptors[i](base)
	}
	return base
}
