// Package quark is a virtual-actor framework for Go in the style of
// Microsoft Orleans.
//
// An actor is addressed by its type and key and always exists logically: the
// runtime activates it on first call, runs its calls one turn at a time,
// collects it when idle, and activates it again on the next call. Users write
// a Go interface marked //quark:actor and a struct implementing it; `quark
// gen` (run by go generate) writes the typed reference and dispatcher.
//
//	//quark:actor
//	type Account interface {
//		Deposit(ctx context.Context, amount int64) (balance int64, err error)
//		//quark:readonly
//		Balance(ctx context.Context) (int64, error)
//	}
//
//	silo, _ := quark.NewSilo()
//	bank.RegisterAccount(silo, func(a *quark.Activation) bank.Account { return &account{} })
//	silo.Start(ctx)
//	balance, err := bank.NewAccountRef(silo, quark.StringKey("alice")).Deposit(ctx, 100)
//
// # Turns
//
// An activation runs one call at a time. Methods marked //quark:readonly
// share a turn with each other, never with other methods, and a waiting
// writer is not starved. An interface marked //quark:reentrant releases its
// turn while a method waits on an outgoing actor call and takes it back
// before the method resumes: calls interleave, but never two goroutines run
// the actor's code at once. A call that would wait on a non-reentrant actor
// already waiting in its own call chain fails at once with CodeDeadlock,
// except a readonly call to an actor whose readonly method waits in the
// chain: it shares that method's turn.
//
// A method may make several outgoing calls at once, for example from an
// errgroup made with its ctx. On a reentrant actor the turn is released when
// the first of them goes out and taken back when the last one returns, so a
// call back into the actor runs while any of them is out. Goroutines whose
// call returns while others are still out run without the turn: they must
// not touch the actor's state; read their results after the group's Wait,
// which returns with the turn held.
//
// # Contexts
//
// A method's ctx is fresh: it carries the caller's deadline (or the silo's
// default call timeout, 30s), its cancellation, the call chain and the values
// the silo's propagators carry (WithPropagators) — not the caller's other
// values. Pass it to the calls the method makes; that is how deadlines and the
// chain travel. A Propagator writes the values it carries as string keys and
// values, so that they can cross to another process.
//
// # Interceptors
//
// An Interceptor hooks into every call and one-way message: installed with
// WithOutgoingInterceptors it wraps the caller's side (WrapCall), installed
// with WithIncomingInterceptors it wraps the method inside the callee's turn
// (WrapCall) and may refuse a message before its actor activates (Admit),
// which is where authorization belongs. CallInterceptorFunc and
// AdmitInterceptorFunc make an Interceptor of one function:
//
//	authz := quark.AdmitInterceptorFunc(func(ctx context.Context, m quark.Message) error {
//		if !allowed(ctx.Value(principalKey{}), m.Target(), m.Method()) {
//			return quark.Errorf(quark.CodeInvalidArgument, "%s: not allowed", m.Target())
//		}
//		return nil
//	})
//	// principalPropagator (a Propagator) carries the principal to callees.
//	silo, _ := quark.NewSilo(quark.WithPropagators(principalPropagator{}),
//		quark.WithIncomingInterceptors(authz))
//
// # The fast path
//
// A call to an idle local activation with an empty mailbox runs its turn on
// the caller's goroutine: no queue, no goroutine switch. Deadlines there are
// cooperative: a method that ignores ctx holds its caller. Other calls go
// through the activation's bounded mailbox, drained by a goroutine that exists
// only while messages wait; an idle activation holds no goroutine. See
// WithInlineCalls and WithInlineSlice.
//
// # Options
//
// Options are values made by With... functions, and their type says where
// they go. An Option (WithMailboxSize, WithStore, WithCollectionAge) goes
// to both places: given to NewSilo it sets the default of every type, given
// at registration it overrides that default for the one type. A SiloOption
// (WithLogger, WithCallTimeout, ...) goes to NewSilo only, a TypeOption
// (WithMaxWorkers) to registration only; a StateOption (WithJSON) configures
// NewState and a TimerOption (WithKeepAlive) RegisterTimer.
//
//	silo, _ := quark.NewSilo(quark.WithStore(st), quark.WithMailboxSize(1_000))
//	bank.RegisterAccount(silo, newAccount, quark.WithMailboxSize(10_000))
//
// # Errors
//
// Every error the runtime returns is an *Error whose Code CodeOf reads:
// CodeTimeout, CodeDeadlock, CodePanic, CodeOverloaded, CodeUnavailable,
// CodeNotFound and so on. An actor method's own error reaches a local caller
// unchanged.
package quark
