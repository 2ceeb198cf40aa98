package quark

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/transport"
)

// Options follow one idiom: each is a value made by a With... function, and
// its type says where it applies. A SiloOption configures NewSilo, a
// TypeOption one actor type at registration (Silo.Register and the
// generated RegisterX functions), an Option both, a StateOption NewState and
// a TimerOption RegisterTimer. Options apply in order, so of two that set
// the same thing the later wins. Each documents its default.

// SiloOption configures a Silo at NewSilo.
type SiloOption interface {
	applyToSilo(*siloConfig)
}

// TypeOption configures one actor type at registration.
type TypeOption interface {
	applyToType(*typeConfig)
}

// Option applies to a silo and to one type alike: given to NewSilo it sets
// the default of every type the silo registers; given at registration it
// overrides that default for the one type.
type Option interface {
	SiloOption
	TypeOption
}

// ClientOption configures a Client at NewClient.
type ClientOption interface {
	applyToClient(*clientConfig)
}

// SharedOption applies to a silo and a client alike (a logger, a
// transport, the call timeout): the same value configures either.
type SharedOption interface {
	SiloOption
	ClientOption
}

// siloOption adapts a function to a SiloOption that applies to silos only.
type siloOption func(*siloConfig)

// sharedOption adapts a function to an option of silos and clients: a
// client is configured by the part of a silo's configuration it shares.
type sharedOption func(*siloConfig)

func (f sharedOption) applyToSilo(c *siloConfig)     { f(c) }
func (f sharedOption) applyToClient(c *clientConfig) { f(&c.siloConfig) }

// clientOption adapts a function to a ClientOption.
type clientOption func(*clientConfig)

func (f clientOption) applyToClient(c *clientConfig) { f(c) }

func (f siloOption) applyToSilo(c *siloConfig) { f(c) }

type siloConfig struct {
	name           string
	log            *slog.Logger
	clock          Clock
	callTimeout    time.Duration
	collectAge     time.Duration
	collectQuantum time.Duration
	mailbox        int
	inline         bool
	inlineSlice    time.Duration
	incoming       []Interceptor
	outgoing       []Interceptor
	propagators    []Propagator
	codecRouting   bool
	maxMessage     int
	store          storage.Store
	reminderStore  storage.ReminderStore
	minReminder    time.Duration
	transport      transport.Transport
	clusterName    string
	listenAddr     string
	members        []string
}

func defaultSiloConfig() siloConfig {
	return siloConfig{
		name:           "silo",
		log:            slog.Default(),
		clock:          systemClock{},
		callTimeout:    30 * time.Second,
		collectAge:     15 * time.Minute,
		collectQuantum: time.Minute,
		mailbox:        100_000,
		inline:         defaultInline,
		inlineSlice:    50 * time.Microsecond,
		maxMessage:     codec.DefaultMaxMessageSize,
		minReminder:    time.Minute,
		clusterName:    "quark",
	}
}

func (c *siloConfig) validate() error {
	switch {
	case c.log == nil:
		return Errorf(CodeInvalidArgument, "silo option: nil logger")
	case c.clock == nil:
		return Errorf(CodeInvalidArgument, "silo option: nil clock")
	case c.callTimeout <= 0:
		return Errorf(CodeInvalidArgument, "silo option: call timeout %v must be positive", c.callTimeout)
	case c.collectAge <= 0:
		return Errorf(CodeInvalidArgument, "silo option: collection age %v must be positive", c.collectAge)
	case c.collectQuantum <= 0:
		return Errorf(CodeInvalidArgument, "silo option: collection quantum %v must be positive", c.collectQuantum)
	case c.mailbox <= 0:
		return Errorf(CodeInvalidArgument, "silo option: mailbox size %d must be positive", c.mailbox)
	case c.minReminder <= 0:
		return Errorf(CodeInvalidArgument, "silo option: minimum reminder period %v must be positive", c.minReminder)
	case c.maxMessage <= 0:
		return Errorf(CodeInvalidArgument, "silo option: max message size %d must be positive", c.maxMessage)
	case c.inlineSlice <= 0 || c.inlineSlice > maxInlineSlice:
		return Errorf(CodeInvalidArgument, "silo option: inline slice %v must be positive and at most %v", c.inlineSlice, maxInlineSlice)
	}
	if err := validInterceptors("incoming", c.incoming); err != nil {
		return err
	}
	if err := validInterceptors("outgoing", c.outgoing); err != nil {
		return err
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	for i, p := range c.propagators {
		if p == nil {
			return Errorf(CodeInvalidArgument, "silo option: propagator %d is nil", i)
		}
	}
	return nil
}

// WithName names the silo in logs. Default "silo".
func WithName(name string) SharedOption { return sharedOption(func(c *siloConfig) { c.name = name }) }

// WithLogger sets the logger; the silo adds its name, and actor IDs where
// they apply. Default slog.Default().
func WithLogger(l *slog.Logger) SharedOption { return sharedOption(func(c *siloConfig) { c.log = l }) }

// WithClock sets the clock behind scheduling decisions (idle collection,
// timers, reminders). Default: the system clock. Tests pass a
// quarktest.Clock.
func WithClock(clk Clock) SiloOption { return siloOption(func(c *siloConfig) { c.clock = clk }) }

// WithCallTimeout sets the deadline of calls whose context has none.
// Default 30s.
func WithCallTimeout(d time.Duration) SharedOption {
	return sharedOption(func(c *siloConfig) { c.callTimeout = d })
}

// WithCollectionAge sets how long an activation may stay idle before the
// collector deactivates it: for every type when given to NewSilo, for one
// type when given at registration. Default 15 minutes.
func WithCollectionAge(d time.Duration) Option { return collectionAgeOption(d) }

type collectionAgeOption time.Duration

func (o collectionAgeOption) applyToSilo(c *siloConfig) { c.collectAge = time.Duration(o) }
func (o collectionAgeOption) applyToType(c *typeConfig) { c.collectAge = time.Duration(o) }

// WithCollectionQuantum sets how often the collector looks for idle
// activations; it is also the resolution of idle times. Default 1 minute.
func WithCollectionQuantum(d time.Duration) SiloOption {
	return siloOption(func(c *siloConfig) { c.collectQuantum = d })
}

// WithMailboxSize bounds each activation's queue of waiting messages; a call
// to a full mailbox fails with CodeOverloaded, and a one-way message to one is
// dropped and counted. A drainer takes waiting one-way messages out of the
// queue up to 64 at a time (no more than the bound) and runs them in turn,
// so an activation holds at most the bound plus that batch. It applies to
// every type when given to NewSilo, to one type when given at registration.
// Default 100,000.
func WithMailboxSize(n int) Option { return mailboxSizeOption(n) }

type mailboxSizeOption int

func (o mailboxSizeOption) applyToSilo(c *siloConfig) { c.mailbox = int(o) }
func (o mailboxSizeOption) applyToType(c *typeConfig) { c.mailbox = int(o) }

// WithInlineCalls turns the fast path on or off. On, a call to an idle local
// activation with an empty mailbox runs its turn on the caller's goroutine:
// no queueing, no goroutine switch; the only allocation is the callee's
// context. Deadlines are then cooperative: the caller returns when the method
// does, so a method that ignores ctx holds its caller past the deadline. Off,
// every call goes through the mailbox and a timed-out caller returns at its
// deadline. Default on.
func WithInlineCalls(on bool) SiloOption { return siloOption(func(c *siloConfig) { c.inline = on }) }

// WithInlineSlice sets how long an activation admits calls back to back
// before the next caller first yields its processor (runtime.Gosched), when
// other goroutines wait to run. A caller in a tight loop, whose calls run on
// its own goroutine (or hand off to a drainer and back), never blocks, and
// would otherwise keep its processor for the Go scheduler's whole time slice
// (10 ms) while other goroutines wait. A shorter slice spreads the processor
// more evenly among busy callers; a longer one makes fewer of their calls
// wait for the others. The activation looks at the clock once every 64
// calls, and yields come at least 128 calls apart, so that fewer than 1 %
// of the calls wait for the others however long each takes. Default 50µs;
// at most 10ms.
func WithInlineSlice(d time.Duration) SiloOption {
	return siloOption(func(c *siloConfig) { c.inlineSlice = d })
}

// maxInlineSlice bounds WithInlineSlice: the Go scheduler's own time slice,
// and well within the 67 ms an activation's slice stamp can measure.
const maxInlineSlice = 10 * time.Millisecond

// WithIncomingInterceptors adds interceptors on the callee's side of every
// call and one-way message the silo's actors receive, the first outermost:
// their Admit hooks may refuse a message before its actor activates, their
// WrapCall hooks run inside the callee's turn (see Interceptor). A nil
// interceptor makes NewSilo fail with CodeInvalidArgument. Default none.
func WithIncomingInterceptors(i ...Interceptor) SiloOption {
	return siloOption(func(c *siloConfig) { c.incoming = append(c.incoming, i...) })
}

// WithOutgoingInterceptors adds interceptors on the caller's side of every
// call and one-way message made through the silo, the first outermost: their
// WrapCall hooks run when Ref.Call or Ref.Send is called; their Admit hooks
// are not asked (see Interceptor). A nil interceptor makes NewSilo fail with
// CodeInvalidArgument. Default none.
func WithOutgoingInterceptors(i ...Interceptor) SharedOption {
	return sharedOption(func(c *siloConfig) { c.outgoing = append(c.outgoing, i...) })
}

// WithPropagators adds propagators, which carry selected values of a
// caller's context to the context of the actor methods it calls (a trace
// span, a tenant); see Propagator. A callee's context holds only what they
// carry: its caller's other values are dropped. They run in order, Inject
// when a call is made, Extract into the callee's context; one-way messages
// carry no values (but their admission by incoming interceptors sees them).
// A nil propagator makes NewSilo fail with CodeInvalidArgument. Default
// none: a callee sees none of its caller's values, and calls pay nothing
// for propagation.
func WithPropagators(p ...Propagator) SharedOption {
	return sharedOption(func(c *siloConfig) { c.propagators = append(c.propagators, p...) })
}

// WithCodecRouting makes local calls travel as they would between silos:
// arguments are encoded when the call is made and decoded into a fresh
// message for the callee, and results and errors come back encoded. Use it in
// tests to prove that every argument, result and error survives the wire (an
// error keeps its code, message and registered sentinel identity, not its
// type). It costs an encode and a decode each way; without it a local call
// deep-copies mutable arguments and results instead (see docs/codec.md).
// Default off.
func WithCodecRouting(on bool) SiloOption {
	return siloOption(func(c *siloConfig) { c.codecRouting = on })
}

// WithMaxMessageSize bounds the encoded size of one message's arguments or
// results; larger input fails with CodeInvalidArgument (wrapping
// codec.ErrTooLarge) before it is decoded. Default 16 MiB
// (codec.DefaultMaxMessageSize).
func WithMaxMessageSize(n int) SharedOption {
	return sharedOption(func(c *siloConfig) { c.maxMessage = n })
}

// WithStore sets the store where actors' State values live: of every type
// when given to NewSilo, of one type when given at registration. The silo
// does not close it. Default none: an actor that makes a State without a
// store fails to activate with CodeInvalidArgument.
func WithStore(st storage.Store) Option { return storeOption{st} }

type storeOption struct{ st storage.Store }

func (o storeOption) applyToSilo(c *siloConfig) { c.store = o.st }
func (o storeOption) applyToType(c *typeConfig) { c.store = o.st }

// WithReminderStore sets where reminders are kept. Default: the WithStore
// store, when it can keep reminders (every store in this module can);
// without one, RegisterReminder fails with CodeInvalidArgument.
func WithReminderStore(rs storage.ReminderStore) SiloOption {
	return siloOption(func(c *siloConfig) { c.reminderStore = rs })
}

// WithMinReminderPeriod sets the shortest reminder period accepted. Default
// 1 minute: reminders are for coarse, durable schedules; use timers for
// short ones.
func WithMinReminderPeriod(d time.Duration) SiloOption {
	return siloOption(func(c *siloConfig) { c.minReminder = d })
}

// typeOption adapts a function to a TypeOption that applies to types only.
type typeOption func(*typeConfig)

func (f typeOption) applyToType(c *typeConfig) { f(c) }

type typeConfig struct {
	maxWorkers int
	mailbox    int
	collectAge time.Duration
	store      storage.Store
}

func (c *typeConfig) validate(name string) error {
	switch {
	case c.maxWorkers <= 0:
		return Errorf(CodeInvalidArgument, "register %s: max workers %d must be positive", name, c.maxWorkers)
	case c.mailbox <= 0:
		return Errorf(CodeInvalidArgument, "register %s: mailbox size %d must be positive", name, c.mailbox)
	case c.collectAge <= 0:
		return Errorf(CodeInvalidArgument, "register %s: collection age %v must be positive", name, c.collectAge)
	}
	return nil
}

// WithMaxWorkers bounds the activations per key of a stateless worker type
// on one silo. Default runtime.GOMAXPROCS(0) at registration. Ignored for
// other types.
func WithMaxWorkers(n int) TypeOption { return typeOption(func(c *typeConfig) { c.maxWorkers = n }) }

// typeConfig starts from the silo's defaults, so a type option overrides
// the silo option that sets the same thing.
func (s *Silo) typeConfig(opts []TypeOption) typeConfig {
	c := typeConfig{maxWorkers: runtime.GOMAXPROCS(0), mailbox: s.cfg.mailbox, collectAge: s.cfg.collectAge, store: s.cfg.store}
	for _, o := range opts {
		o.applyToType(&c)
	}
	return c
}

// StateOption configures NewState.
type StateOption interface {
	applyToState(*stateConfig)
}

type stateOption func(*stateConfig)

func (f stateOption) applyToState(c *stateConfig) { f(c) }

// WithJSON stores the value as JSON (encoding/json, with its reflection and
// its rules for field names and tags) instead of the generated MessagePack:
// for state other tools read, or kept in a store that humans inspect. Values
// stored one way do not load the other way. Default: MessagePack.
func WithJSON() StateOption { return stateOption(func(c *stateConfig) { c.json = true }) }

// TimerOption configures RegisterTimer.
type TimerOption interface {
	applyToTimer(*timerConfig)
}

type timerOption func(*timerConfig)

func (f timerOption) applyToTimer(c *timerConfig) { f(c) }

type timerConfig struct{ keepAlive bool }

// WithKeepAlive makes the timer's ticks count as use of the activation, so
// it is not collected while the timer runs. Default off: ticks do not keep
// an idle actor alive.
func WithKeepAlive() TimerOption { return timerOption(func(c *timerConfig) { c.keepAlive = true }) }
