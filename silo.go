package quark

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/internal/wire"
	"github.com/quarkgo/quark/storage"
)

// Silo states.
const (
	siloCreated int32 = iota
	siloRunning
	siloStopping
	siloStopped
)

// Silo hosts actors: it activates them on first call, runs their turns,
// collects idle activations and deactivates everything on Stop. Create one
// with NewSilo, register actor types (generated RegisterX functions), then
// Start it. A Silo is safe for concurrent use; it is a Caller, so generated
// NewXRef functions take it.
type Silo struct {
	cfg   siloConfig
	log   *slog.Logger
	state atomic.Int32

	typeMu sync.RWMutex
	types  map[*TypeDesc]*actorType
	names  map[string]*actorType

	in, out Invoker // interceptor chains, built by NewSilo and never changed
	// admitters are the incoming interceptors whose Admit may refuse a
	// message (see admit); nil when none may, as is usual.
	admitters []Interceptor

	coarse atomic.Int64 // the clock at the last collection, in Unix nanoseconds
	live   atomic.Int64 // activations not yet dead
	idle   chan struct{}

	// collectMu guards collectTimer only: it is never held while a
	// collection runs, so Stop does not wait for one.
	collectMu    sync.Mutex
	collectTimer ClockTimer
	// stopCtx is the context of the latest Stop: OnDeactivate with
	// ReasonShutdown runs under its deadline.
	stopCtx atomic.Pointer[context.Context]

	timers    scheduler
	reminders reminderService

	dropped      atomic.Int64
	late         atomic.Int64
	expired      atomic.Int64
	skippedTicks atomic.Int64
	callbackErrs atomic.Int64
	dupFrames    atomic.Int64

	// replies holds the idle reply signals of queued calls (see reply);
	// deadlines times the default deadlines of the calls waiting on them.
	replies    sync.Pool
	replyCount atomic.Uint32
	deadlines  [deadlineShards]deadlineList

	// lingering counts the drainers lingering out of messages (see
	// Activation.lingerFor); at most maxLingering (the processors when the
	// silo was made) do.
	lingering    atomic.Int32
	maxLingering int32

	// Senders waiting for room in a full mailbox (WaitForRoom): room is
	// closed, and replaced, when a queued message starts to run while
	// roomWaiters is not zero.
	roomWaiters atomic.Int32
	roomMu      sync.Mutex
	room        chan struct{}

	// Rate-limited logs of events that can come in floods.
	dropLog     eventLog
	callbackLog eventLog
	skipLog     eventLog

	// placement says where actors live (see route); set by NewSilo and
	// never changed.
	placement placement
	// remote is the silo's side of the transport (see Silo.home); nil
	// when it has none. Set by NewSilo, listening from Start.
	remote *messenger

	// routeHook, when set (by tests, before Start), sees every message
	// route decides on.
	routeHook func(e *Envelope)
}

// NewSilo returns a silo configured by opts; it returns an *Error with
// CodeInvalidArgument for an invalid option value.
func NewSilo(opts ...SiloOption) (*Silo, error) {
	cfg := defaultSiloConfig()
	for _, o := range opts {
		o.applyToSilo(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s, err := newSilo(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.transport != nil {
		s.remote = newMessenger(s, wire.RoleSilo)
	}
	return s, nil
}

// newSilo makes the silo of a valid configuration: a silo's, or a client's.
func newSilo(cfg siloConfig) (*Silo, error) {
	s := &Silo{
		cfg:   cfg,
		log:   cfg.log.With(slog.String("silo", cfg.name)),
		types: make(map[*TypeDesc]*actorType),
		names: make(map[string]*actorType),
		idle:  make(chan struct{}, 1),

		placement:    standalone{},
		maxLingering: int32(runtime.GOMAXPROCS(0)),
	}
	// Built here, not at Start: calls read them without synchronisation,
	// and may be made while Start runs.
	s.in = chain(invokeActor, cfg.incoming)
	s.out = chain(s.dispatch, cfg.outgoing)
	s.admitters = admitters(cfg.incoming)
	s.dropLog = eventLog{msg: "one-way messages dropped", level: slog.LevelWarn}
	s.callbackLog = eventLog{msg: "timer or reminder callbacks failed", level: slog.LevelWarn}
	s.skipLog = eventLog{msg: "timer ticks skipped: mailbox full", level: slog.LevelWarn}
	s.coarse.Store(cfg.clock.Now().UnixNano())
	s.reminders.store = cfg.reminderStore
	if s.reminders.store == nil {
		s.reminders.store, _ = cfg.store.(storage.ReminderStore)
	}
	s.reminders.ranges = []hashRange{{0, ^uint32(0)}}
	return s, nil
}

// Register adds an actor type; factory makes the implementation of each new
// activation. Generated RegisterX functions call it with a typed factory.
// opts override, for this type only, the defaults the silo's options set
// (an Option such as WithMailboxSize goes to either). It returns an *Error
// with CodeInvalidArgument for a type registered twice (by descriptor or
// name), an invalid option, or a silo already started.
func (s *Silo) Register(d *TypeDesc, factory func(*Activation) any, opts ...TypeOption) error {
	if d == nil || d.Name == "" || factory == nil {
		return Errorf(CodeInvalidArgument, "register: type descriptor, name and factory are required")
	}
	if s.state.Load() != siloCreated {
		return Errorf(CodeInvalidArgument, "register %s: silo already started", d.Name)
	}
	cfg := s.typeConfig(opts)
	if err := cfg.validate(d.Name); err != nil {
		return err
	}
	s.typeMu.Lock()
	defer s.typeMu.Unlock()
	if _, dup := s.names[d.Name]; dup {
		return Errorf(CodeInvalidArgument, "register %s: type already registered", d.Name)
	}
	t := &actorType{
		desc:       d,
		silo:       s,
		factory:    factory,
		mailbox:    cfg.mailbox,
		fullErr:    Errorf(CodeOverloaded, "send to %s: mailbox full (%d messages)", d.Name, cfg.mailbox),
		maxWorkers: cfg.maxWorkers,
		collectAge: cfg.collectAge,
		store:      cfg.store,
	}
	s.types[d] = t
	s.names[d.Name] = t
	return nil
}

func (s *Silo) lookupType(d *TypeDesc) *actorType {
	s.typeMu.RLock()
	t := s.types[d]
	s.typeMu.RUnlock()
	return t
}

func (s *Silo) allTypes() []*actorType {
	s.typeMu.RLock()
	defer s.typeMu.RUnlock()
	ts := make([]*actorType, 0, len(s.types))
	for _, t := range s.types {
		ts = append(ts, t)
	}
	return ts
}

// Start starts serving calls, the reminders and the idle collector. It
// returns an *Error with CodeInvalidArgument when the silo was already
// started, or the error that kept the reminders from loading; a silo whose
// Start failed is stopped, with nothing left scheduled on its Clock.
func (s *Silo) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.state.Load() != siloCreated {
		return Errorf(CodeInvalidArgument, "start %s: already started", s.cfg.name)
	}
	if s.remote != nil && s.cfg.listenAddr != "" {
		// Before the silo takes calls: placement must know the ring
		// before any actor activates here.
		if err := s.remote.listen(); err != nil {
			return err
		}
		v := s.remote.view.Load()
		s.reminders.ranges = v.ring.ranges(v.self)
	}
	if !s.state.CompareAndSwap(siloCreated, siloRunning) {
		return Errorf(CodeInvalidArgument, "start %s: already started", s.cfg.name)
	}
	s.coarse.Store(s.cfg.clock.Now().UnixNano())
	if err := s.reminders.start(ctx, s); err != nil {
		// Stop disarms whatever was armed (reminders, timers of actors
		// called meanwhile) and deactivates those actors; the collector
		// is not armed yet.
		if serr := s.Stop(ctx); serr != nil {
			s.log.Warn("silo start failed and stop did not finish", slog.Any("err", serr))
		}
		return err
	}
	s.collectMu.Lock()
	if s.state.Load() == siloRunning { // not stopped meanwhile
		s.collectTimer = s.cfg.clock.AfterFunc(s.cfg.collectQuantum, s.collectTick)
	}
	s.collectMu.Unlock()
	s.log.Info("silo started")
	return nil
}

// Stop stops the silo gracefully: calls from outside the silo fail at once
// with CodeUnavailable, calls already admitted (and the calls they make) run
// to completion, then every activation's OnDeactivate runs with
// ReasonShutdown, under ctx's deadline (or the default call timeout when ctx
// has none). It returns when all activations are gone, or with ctx's error
// (as CodeTimeout or CodeCanceled) when ctx ends first; an idle collection
// under way does not hold it. Once Stop has begun no timer tick runs and no
// collection starts. Calling Stop again, or on a silo never started, returns
// nil once the activations are gone; a later Stop's ctx applies to the
// OnDeactivate calls still to come.
func (s *Silo) Stop(ctx context.Context) error {
	defer s.flushLogs()
	if s.state.CompareAndSwap(siloCreated, siloStopped) {
		return nil
	}
	s.stopCtx.Store(&ctx)
	if s.state.CompareAndSwap(siloRunning, siloStopping) {
		s.collectMu.Lock()
		if s.collectTimer != nil {
			s.collectTimer.Stop()
		}
		s.collectMu.Unlock()
		s.reminders.stop(ctx, s)
		s.timers.disarm()
	} else if s.state.Load() == siloStopped {
		return nil
	}
	// Another Stop may have begun and given up at its deadline before it
	// asked every activation to go: ask again (asking twice is harmless).
	var acts []*Activation
	for _, t := range s.allTypes() {
		acts = t.all(acts)
	}
	s.deactivateAll(ctx, acts, ReasonShutdown)
	err := s.waitStopped(ctx)
	// Calls still waiting (if Stop gave up on busy activations) keep their
	// deadlines; the timer goes once none is left.
	s.stopDeadlines()
	if s.remote != nil {
		// Last: the actors deactivating may have called other processes,
		// and calls from them in their chains were still admitted.
		s.remote.close()
	}
	return err
}

// Addr returns the address the silo listens at (WithListenAddress), in the
// form other silos and clients are given: the bound address once Start has
// returned, so "127.0.0.1:0" reads as the port picked. It is "" for a silo
// that does not listen, and before Start.
func (s *Silo) Addr() string {
	if s.remote == nil {
		return ""
	}
	return s.remote.self()
}

// flushLogs writes the summaries of rate-limited events not yet logged.
func (s *Silo) flushLogs() {
	s.dropLog.flushHeld(s, true)
	s.callbackLog.flushHeld(s, true)
	s.skipLog.flushHeld(s, true)
}

// shutdownContext returns the context for OnDeactivate with ReasonShutdown:
// the latest Stop's deadline and cancellation, the actor pinned as for any
// hook.
func (a *Activation) shutdownContext() *callCtx {
	s := a.typ.silo
	p := s.stopCtx.Load()
	if p == nil {
		return a.hookContext(nil)
	}
	c := newCallCtx(s, *p, nil, nil)
	c.act = a
	c.pinned.Store(true)
	c.deadlineMono()
	return c
}

// deactivationContext returns the context OnDeactivate runs under for
// reason.
func (a *Activation) deactivationContext(reason DeactivationReason) *callCtx {
	if reason == ReasonShutdown {
		return a.shutdownContext()
	}
	return a.hookContext(nil)
}

// waitStopped waits until no activation is left, then marks the silo
// stopped.
func (s *Silo) waitStopped(ctx context.Context) error {
	for {
		for s.live.Load() > 0 {
			select {
			case <-s.idle:
			case <-time.After(50 * time.Millisecond):
				// A second Stop waiting at the same time may have taken the
				// signal; look again.
			case <-ctx.Done():
				n := s.live.Load()
				s.log.Warn("silo stop: deadline passed with activations busy", slog.Int64("activations", n))
				return Errorf(CodeOf(ctx.Err()), "stop %s: %d activations still busy: %w", s.cfg.name, n, ctx.Err())
			}
		}
		// A message admitted before Stop began may be creating an
		// activation right now: mark the silo stopped, then count again.
		// An activation counted before the mark runs (and is waited for);
		// one counted after it sees the mark and is born dead.
		s.state.Store(siloStopped)
		if s.live.Load() == 0 {
			break
		}
	}
	s.log.Info("silo stopped")
	return nil
}

// deactivateAll asks each activation to deactivate, running the hooks of idle
// ones on a few goroutines; busy ones deactivate when their turn ends.
func (s *Silo) deactivateAll(ctx context.Context, acts []*Activation, reason DeactivationReason) {
	forEachBounded(acts, func() bool { return ctx.Err() == nil }, func(a *Activation) {
		a.requestDeactivation(reason)
	})
}

// forEachBounded calls f for each activation on at most 4×GOMAXPROCS
// goroutines, so that a few slow OnDeactivate hooks hold up neither each
// other nor the rest, and returns when every f has returned. It stops
// starting new calls once more() is false.
func forEachBounded(acts []*Activation, more func() bool, f func(*Activation)) {
	workers := min(len(acts), 4*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(acts) || !more() {
					return
				}
				f(acts[i])
			}
		})
	}
	wg.Wait()
}

// activationGone counts an activation out, waking Stop when none are left.
func (s *Silo) activationGone() {
	if s.live.Add(-1) == 0 && s.state.Load() >= siloStopping {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// collectTick runs one idle collection, then arms the next one. It holds no
// lock while the collection runs (Stop must not wait for OnDeactivate hooks
// it did not ask for), and the next collection is armed only after this one
// ends, so two never overlap.
func (s *Silo) collectTick() {
	if s.state.Load() != siloRunning {
		return
	}
	now := s.cfg.clock.Now()
	s.coarse.Store(now.UnixNano())
	s.collect(now)
	s.collectMu.Lock()
	if s.state.Load() == siloRunning { // Stop, which takes collectMu, has not begun
		s.collectTimer = s.cfg.clock.AfterFunc(s.cfg.collectQuantum, s.collectTick)
	}
	s.collectMu.Unlock()
}

// collect deactivates activations idle for at least their type's collection
// age, running their OnDeactivate hooks side by side (forEachBounded, over
// every type at once), so a slow hook holds up only its own goroutine. Idle
// times are measured on the coarse clock, so an activation is collected
// between age and age plus one quantum after its last call. Once Stop has
// begun it collects no more: Stop deactivates the rest.
func (s *Silo) collect(now time.Time) {
	var acts []*Activation
	for _, t := range s.allTypes() {
		acts = t.all(acts)
	}
	var n atomic.Int64
	forEachBounded(acts, func() bool { return s.state.Load() == siloRunning }, func(a *Activation) {
		cutoff := now.UnixNano() - int64(a.typ.collectAge) - int64(s.cfg.collectQuantum)
		if a.collectIfIdle(cutoff) {
			n.Add(1)
		}
	})
	if n := n.Load(); n > 0 {
		s.log.Debug("collected idle activations", slog.Int64("count", n))
	}
}

// Stats is a snapshot of a silo's counters.
type Stats struct {
	// Activations is the number of activations not yet deactivated.
	Activations int64
	// DroppedOneWay counts one-way messages that could not be delivered
	// (full mailbox, unknown type, silo stopping, stopped or refused by an
	// interceptor) or whose method failed.
	// Drops are logged at most once a second per silo, with the count since
	// the last line.
	DroppedOneWay int64
	// LateResults counts results that arrived after their caller gave up.
	LateResults int64
	// Expired counts queued calls dropped unrun because their deadline had
	// passed or their caller had gone.
	Expired int64
	// BadReminders counts stored reminders skipped at load because they
	// cannot be scheduled (see RegisterReminder); they are logged and left
	// as they are in the store.
	BadReminders int64
	// SkippedTimerTicks counts timer ticks skipped because the activation's
	// mailbox was full; the timer itself goes on.
	SkippedTimerTicks int64
	// CallbackErrors counts timer and reminder ticks that failed: the
	// callback (or ReceiveReminder) returned an error, or the tick could
	// not reach its activation.
	CallbackErrors int64
	// DuplicateCalls counts call and one-way frames received from another
	// process a second time (a transport that duplicated them) and
	// ignored: a call never runs twice.
	DuplicateCalls int64
}

// Stats returns the silo's counters.
func (s *Silo) Stats() Stats {
	return Stats{
		Activations:       s.live.Load(),
		DroppedOneWay:     s.dropped.Load(),
		LateResults:       s.late.Load(),
		Expired:           s.expired.Load(),
		BadReminders:      s.reminders.bad.Load(),
		SkippedTimerTicks: s.skippedTicks.Load(),
		CallbackErrors:    s.callbackErrs.Load(),
		DuplicateCalls:    s.dupFrames.Load(),
	}
}
