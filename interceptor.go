package quark

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/quarkgo/quark/codec"
)

// Invoker carries a call one step further: on the outgoing side towards the
// target actor, on the incoming side into the actor method.
type Invoker func(ctx context.Context, m Message) error

// Interceptor hooks into the calls of a silo: tracing, metrics,
// authorization and dead-letter capture go here. Install it with
// WithOutgoingInterceptors (the caller's side: every call and one-way
// message made through the silo's Refs) or WithIncomingInterceptors (the
// callee's side: every call and one-way message the silo's actors receive).
// Each hook sees the message's target (m.Target()) and method (m.Method(),
// whose OneWay field tells a one-way message from a call); it may read
// nothing else of m. Most interceptors need one hook: CallInterceptorFunc
// and AdmitInterceptorFunc adapt a function to this interface. Hooks are
// added to Interceptor as Quark gains kinds of traffic (streams); the
// adapters then implement them as pass-through, so code that uses them
// keeps compiling.
//
// Concurrency and ownership: NewSilo calls WrapCall once for each side the
// interceptor is installed on; the Invoker it returns and Admit are called
// from many goroutines at once, so they must be safe for concurrent use.
// Neither may keep m, or the context it was passed, after returning: the
// message is reused.
//
// With no interceptors configured a call pays nothing for them, and a
// CallInterceptorFunc adds no admission step. An Admit hook on the incoming
// side costs a one-way message one allocation (its context).
type Interceptor interface {
	// WrapCall wraps the step that carries every call and one-way message
	// on. The returned Invoker may change the context passed to next, or
	// stop the message by returning an error without calling next.
	//
	// Outgoing, it runs on the caller's goroutine when Ref.Call or
	// Ref.Send is called, before the runtime checks or delivers the
	// message. For a call, next returns the call's outcome. For a one-way
	// message, next returns once the message is queued (or with the error
	// that kept it out); it may have run and m may be reused by then, but
	// m's Target and Method stay readable until the interceptor returns. A
	// one-way message stopped here is counted in Stats.DroppedOneWay.
	//
	// Incoming, it runs inside the callee's turn with the callee's fresh
	// context, after the activation exists: next runs the actor method and
	// returns its error, for calls and one-way messages alike. Timer and
	// reminder ticks pass through it too, as one-way messages whose method
	// ID is 0. To refuse a call before the actor activates, use Admit.
	WrapCall(next Invoker) Invoker

	// Admit decides whether an incoming call or one-way message may reach
	// its actor: it runs before the target activation is looked up or
	// created, so a refused call never activates the actor (its factory
	// and OnActivate do not run). A nil result admits the message; an
	// error refuses it, and the caller gets that error as returned (an
	// *Error keeps its Code; with WithCodecRouting, it arrives as it would
	// from another silo). A refused one-way message is counted in
	// Stats.DroppedOneWay and logged; locally, Send returns the error.
	// The incoming interceptors' Admit hooks are asked first to last, and
	// the first refusal stops the rest; outgoing interceptors' Admit is
	// never asked (their WrapCall already runs first). A panic in Admit
	// refuses the message with CodePanic and is logged.
	//
	// Admit runs on the caller's goroutine, after the runtime's own checks
	// (known type, valid key, silo running, no deadlock), so it delays the
	// caller: it should return promptly. For a call, ctx is the callee's
	// fresh context: the caller's deadline and cancellation, the call
	// chain, and the values the silo's propagators carry (WithPropagators:
	// a principal or a tenant, say); Admit may pass it to calls of its own
	// (to consult an authorization actor). For a one-way message, ctx
	// carries the sender's deadline, cancellation and propagated values,
	// and is not part of the sender's call chain. Timer and reminder
	// ticks, which the actor arranged itself, are not asked, nor are
	// messages the runtime moves to a new activation (asked once already).
	Admit(ctx context.Context, m Message) error
}

// CallInterceptorFunc is an Interceptor with only a WrapCall hook: f is
// WrapCall, and Admit admits every message.
type CallInterceptorFunc func(next Invoker) Invoker

// WrapCall implements Interceptor.
func (f CallInterceptorFunc) WrapCall(next Invoker) Invoker { return f(next) }

// Admit implements Interceptor by admitting every message.
func (f CallInterceptorFunc) Admit(context.Context, Message) error { return nil }

// AdmitInterceptorFunc is an Interceptor with only an Admit hook: f is
// Admit, and WrapCall adds nothing. Installed with WithIncomingInterceptors
// it refuses calls before their actor activates, as authorization needs.
type AdmitInterceptorFunc func(ctx context.Context, m Message) error

// WrapCall implements Interceptor by returning next.
func (f AdmitInterceptorFunc) WrapCall(next Invoker) Invoker { return next }

// Admit implements Interceptor.
func (f AdmitInterceptorFunc) Admit(ctx context.Context, m Message) error { return f(ctx, m) }

// chain wraps base in the interceptors' WrapCall hooks, the first outermost.
func chain(base Invoker, interceptors []Interceptor) Invoker {
	for i := len(interceptors) - 1; i >= 0; i-- {
		base = interceptors[i].WrapCall(base)
	}
	return base
}

// admitters returns the interceptors whose Admit may refuse something:
// those that are not a CallInterceptorFunc, whose Admit admits everything.
// With none, delivery skips admission entirely.
func admitters(interceptors []Interceptor) []Interceptor {
	var out []Interceptor
	for _, i := range interceptors {
		if _, callOnly := i.(CallInterceptorFunc); !callOnly {
			out = append(out, i)
		}
	}
	return out
}

// validInterceptors reports the first nil interceptor in is, side naming
// the option.
func validInterceptors(side string, is []Interceptor) error {
	for n, i := range is {
		nilFunc := false
		switch f := i.(type) {
		case CallInterceptorFunc:
			nilFunc = f == nil
		case AdmitInterceptorFunc:
			nilFunc = f == nil
		}
		if i == nil || nilFunc {
			return Errorf(CodeInvalidArgument, "silo option: %s interceptor %d is nil", side, n)
		}
	}
	return nil
}

// admit asks the incoming interceptors' Admit hooks whether m may reach its
// actor, with ctx as described on Admit; it returns the first refusal.
func (s *Silo) admit(ctx context.Context, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("interceptor Admit panicked; message refused",
				slog.String("actor", m.Target().String()), slog.String("method", m.Method().Name),
				slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = s.refusal(Errorf(CodePanic, "call %s.%s: interceptor Admit panicked: %v", m.Target(), m.Method().Name, r))
		}
	}()
	for _, i := range s.admitters {
		if err := i.Admit(ctx, m); err != nil {
			return s.refusal(err)
		}
	}
	return nil
}

// refusal returns the refusal err as the caller receives it: unchanged, or
// when the silo routes local calls through the codec, as it would arrive
// from another silo (code, message and registered sentinel identity, not
// its type).
func (s *Silo) refusal(err error) error {
	if !s.cfg.codecRouting {
		return err
	}
	out, _, derr := codec.ReadError(codec.AppendError(nil, err))
	if derr != nil {
		return derr
	}
	return out
}
