package quark

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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

	in, out Invoker // interceptor chains, built at Start

	coarse atomic.Int64 // the clock at the last collection, in Unix nanoseconds
	live   atomic.Int64 // activations not yet dead
	idle   chan struct{}

	collectMu    sync.Mutex
	collectTimer Timer

	timers    scheduler
	reminders reminderService

	dropped atomic.Int64
	late    atomic.Int64
	expired atomic.Int64
}

// NewSilo returns a silo configured by opts; it returns an *Error with
// CodeInvalidArgument for an invalid option value.
func NewSilo(opts ...Option) (*Silo, error) {
	cfg := defaultSiloConfig()
	for _, o := range opts {
		o.applyToSilo(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Silo{
		cfg:   cfg,
		log:   cfg.log.With(slog.String("silo", cfg.name)),
		types: make(map[*TypeDesc]*actorType),
		names: make(map[string]*actorType),
		idle:  make(chan struct{}, 1),
	}
	s.coarse.Store(cfg.clock.Now().UnixNano())
	s.reminders.store = cfg.reminderStore
	if s.reminders.store == nil {
		s.reminders.store, _ = cfg.store.(storage.ReminderStore)
	}
	s.reminders.hi = ^uint32(0)
	return s, nil
}

func (s *Silo) callerSilo() *Silo { return s }

// Register adds an actor type; factory makes the implementation of each new
// activation. Generated RegisterX functions call it with a typed factory.
// It returns an *Error with CodeInvalidArgument for a type registered twice
// (by descriptor or name), an invalid option, or a silo already started.
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

// Start starts serving calls and the idle collector. It returns an *Error
// with CodeInvalidArgument when the silo was already started.
func (s *Silo) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.state.CompareAndSwap(siloCreated, siloRunning) {
		return Errorf(CodeInvalidArgument, "start %s: already started", s.cfg.name)
	}
	s.in = chain(invokeActor, s.cfg.incoming)
	s.out = chain(s.dispatch, s.cfg.outgoing)
	s.coarse.Store(s.cfg.clock.Now().UnixNano())
	s.collectMu.Lock()
	s.collectTimer = s.cfg.clock.AfterFunc(s.cfg.collectQuantum, s.collectTick)
	s.collectMu.Unlock()
	if err := s.reminders.start(ctx, s); err != nil {
		s.state.Store(siloStopping)
		s.Stop(ctx)
		return err
	}
	s.log.Info("silo started")
	return nil
}

// Stop stops the silo gracefully: calls from outside the silo fail at once
// with CodeUnavailable, calls already admitted (and the calls they make) run
// to completion, then every activation's OnDeactivate runs with
// ReasonShutdown. It returns when all activations are gone, or with ctx's
// error (as CodeTimeout or CodeCanceled) when ctx ends first. Calling Stop
// again, or on a silo never started, returns nil.
func (s *Silo) Stop(ctx context.Context) error {
	if s.state.CompareAndSwap(siloCreated, siloStopped) {
		return nil
	}
	if !s.state.CompareAndSwap(siloRunning, siloStopping) {
		if s.state.Load() == siloStopped {
			return nil
		}
		// Another Stop began (and perhaps gave up at its deadline): wait
		// for the activations it asked to go.
		return s.waitStopped(ctx)
	}
	s.collectMu.Lock()
	if s.collectTimer != nil {
		s.collectTimer.Stop()
	}
	s.collectMu.Unlock()
	s.reminders.stop(ctx, s)
	s.timers.mu.Lock()
	if s.timers.armed != nil {
		s.timers.armed.Stop()
		s.timers.armed = nil
	}
	s.timers.mu.Unlock()

	var acts []*Activation
	for _, t := range s.allTypes() {
		acts = t.all(acts)
	}
	s.deactivateAll(ctx, acts, ReasonShutdown)
	return s.waitStopped(ctx)
}

// waitStopped waits until no activation is left, then marks the silo
// stopped.
func (s *Silo) waitStopped(ctx context.Context) error {
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
	s.state.Store(siloStopped)
	s.log.Info("silo stopped")
	return nil
}

// deactivateAll asks each activation to deactivate, running the hooks of idle
// ones on a few goroutines; busy ones deactivate when their turn ends.
func (s *Silo) deactivateAll(ctx context.Context, acts []*Activation, reason DeactivationReason) {
	workers := min(len(acts), 4*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(acts) || ctx.Err() != nil {
					return
				}
				acts[i].requestDeactivation(reason)
			}
		})
	}
	wg.Wait()
}

// activationGone counts an activation out, waking Stop when none are left.
func (s *Silo) activationGone() {
	if s.live.Add(-1) == 0 && s.state.Load() == siloStopping {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// collectTick runs one idle collection and re-arms the collector.
func (s *Silo) collectTick() {
	s.collectMu.Lock()
	defer s.collectMu.Unlock()
	if s.state.Load() != siloRunning {
		return
	}
	now := s.cfg.clock.Now()
	s.coarse.Store(now.UnixNano())
	s.collect(now)
	if s.state.Load() == siloRunning {
		s.collectTimer = s.cfg.clock.AfterFunc(s.cfg.collectQuantum, s.collectTick)
	}
}

// collect deactivates activations idle for at least their type's collection
// age. Idle times are measured on the coarse clock, so an activation is
// collected between age and age plus one quantum after its last call.
func (s *Silo) collect(now time.Time) {
	var acts []*Activation
	for _, t := range s.allTypes() {
		cutoff := now.UnixNano() - int64(t.collectAge) - int64(s.cfg.collectQuantum)
		acts = t.all(acts[:0])
		n := 0
		for _, a := range acts {
			if a.collectIfIdle(cutoff) {
				n++
			}
		}
		if n > 0 {
			s.log.Debug("collected idle activations", slog.String("type", t.desc.Name), slog.Int("count", n))
		}
	}
}

// Stats is a snapshot of a silo's counters.
type Stats struct {
	// Activations is the number of activations not yet deactivated.
	Activations int64
	// DroppedOneWay counts one-way messages that could not be delivered
	// (full mailbox, unknown type, silo stopping) or whose method failed.
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
}

// Stats returns the silo's counters.
func (s *Silo) Stats() Stats {
	return Stats{
		Activations:   s.live.Load(),
		DroppedOneWay: s.dropped.Load(),
		LateResults:   s.late.Load(),
		Expired:       s.expired.Load(),
		BadReminders:  s.reminders.bad.Load(),
	}
}
