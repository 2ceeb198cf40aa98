package quark

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/quarkgo/quark/storage"
)

// Remindable is implemented by actors that register reminders: each tick of
// a reminder is a call of ReceiveReminder, run as a turn like any method,
// activating the actor if it is not active. due is the time the tick was
// scheduled for.
type Remindable interface {
	ReceiveReminder(ctx context.Context, name string, due time.Time) error
}

// ReminderInfo describes one of an actor's reminders.
type ReminderInfo struct {
	Name   string
	Next   time.Time // the next tick
	Period time.Duration
}

// RegisterReminder makes the actor receive a tick named name after due and
// then every period, durably: the reminder is kept in the silo's reminder
// store, survives deactivation and silo restarts, and activates the actor
// when it falls due. Ticks missed while no silo ran fire once on recovery,
// not once per missed period; delivery is at least once per period.
// Registering a name again replaces the reminder. period must be at least
// the silo's minimum (WithMinReminderPeriod, default 1 minute); the actor
// must implement Remindable.
func (a *Activation) RegisterReminder(ctx context.Context, name string, due, period time.Duration) error {
	s := a.typ.silo
	rs := s.reminders.store
	switch {
	case rs == nil:
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: the silo has no reminder store", name, a.id)
	case name == "":
		return Errorf(CodeInvalidArgument, "register reminder of %s: empty name", a.id)
	case period < s.cfg.minReminder:
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: period %v is under the minimum %v",
			name, a.id, period, s.cfg.minReminder)
	}
	if _, ok := a.impl.(Remindable); !ok && a.impl != nil {
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: the actor does not implement quark.Remindable", name, a.id)
	}
	key, _ := a.id.Key.MarshalBinary()
	r := storage.Reminder{
		ActorType: a.id.Type, ActorKey: key, Name: name, Hash: reminderHash(a.id),
		First: s.cfg.clock.Now().Add(max(due, 0)), Period: period,
	}
	if err := rs.SaveReminder(ctx, r); err != nil {
		return Errorf(CodeOf(err), "register reminder %q of %s: %w", name, a.id, err)
	}
	s.reminders.add(s, r, false)
	return nil
}

// UnregisterReminder removes the named reminder; removing one that does not
// exist succeeds.
func (a *Activation) UnregisterReminder(ctx context.Context, name string) error {
	s := a.typ.silo
	if s.reminders.store == nil {
		return Errorf(CodeInvalidArgument, "unregister reminder %q of %s: the silo has no reminder store", name, a.id)
	}
	key, _ := a.id.Key.MarshalBinary()
	if err := s.reminders.store.DeleteReminder(ctx, a.id.Type, key, name); err != nil {
		return Errorf(CodeOf(err), "unregister reminder %q of %s: %w", name, a.id, err)
	}
	s.reminders.remove(remKey{a.id.Type, string(key), name})
	return nil
}

// Reminders lists the actor's reminders.
func (a *Activation) Reminders() []ReminderInfo {
	key, _ := a.id.Key.MarshalBinary()
	return a.typ.silo.reminders.of(a.id.Type, string(key))
}

// reminderHash places an actor's reminders on the ring of owners.
func reminderHash(id ID) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id.String()))
	return h.Sum32()
}

type remKey struct{ typ, key, name string }

type remEntry struct {
	r     storage.Reminder
	next  time.Time
	index int
}

// reminderService is the silo's one reminder scheduler: a heap of entries
// and a single Clock timer armed for the earliest. It owns the reminders
// whose hash is in [lo, hi]; a silo alone owns the whole ring, and a cluster
// will split it by ring range.
type reminderService struct {
	store  storage.ReminderStore
	lo, hi uint32

	mu    sync.Mutex
	heap  dueHeap[*remEntry]
	byKey map[remKey]*remEntry
	armed Timer
	at    time.Time
}

// start loads the owned reminders. A reminder whose first tick has passed
// fires once at once (the ticks missed while no silo ran, coalesced), then
// keeps its schedule.
func (rs *reminderService) start(ctx context.Context, s *Silo) error {
	if rs.store == nil {
		return nil
	}
	all, err := rs.store.Reminders(ctx, rs.lo, rs.hi)
	if err != nil {
		return Errorf(CodeOf(err), "load reminders: %w", err)
	}
	for _, r := range all {
		rs.add(s, r, true)
	}
	if len(all) > 0 {
		s.log.Info("reminders loaded", slog.Int("count", len(all)))
	}
	return nil
}

func (rs *reminderService) add(s *Silo, r storage.Reminder, recovering bool) {
	now := s.cfg.clock.Now()
	next := r.First
	if recovering && !r.First.After(now) {
		next = now
	}
	k := remKey{r.ActorType, string(r.ActorKey), r.Name}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.byKey == nil {
		rs.byKey = make(map[remKey]*remEntry)
	}
	if old := rs.byKey[k]; old != nil && old.index >= 0 {
		heap.Remove(&rs.heap, old.index)
	}
	e := &remEntry{r: r, next: next, index: -1}
	rs.byKey[k] = e
	heap.Push(&rs.heap, e)
	rs.armLocked(s)
}

func (rs *reminderService) remove(k remKey) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if e := rs.byKey[k]; e != nil {
		if e.index >= 0 {
			heap.Remove(&rs.heap, e.index)
		}
		delete(rs.byKey, k)
	}
}

func (rs *reminderService) of(typ, key string) []ReminderInfo {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []ReminderInfo
	for k, e := range rs.byKey {
		if k.typ == typ && k.key == key {
			out = append(out, ReminderInfo{Name: k.name, Next: e.next, Period: e.r.Period})
		}
	}
	return out
}

func (rs *reminderService) armLocked(s *Silo) {
	if len(rs.heap) == 0 || s.state.Load() != siloRunning {
		return
	}
	next := rs.heap[0].next
	if rs.armed != nil && !rs.at.After(next) {
		return
	}
	if rs.armed != nil {
		rs.armed.Stop()
	}
	rs.at = next
	rs.armed = s.cfg.clock.AfterFunc(next.Sub(s.cfg.clock.Now()), func() { rs.fire(s) })
}

func (rs *reminderService) stop() {
	rs.mu.Lock()
	if rs.armed != nil {
		rs.armed.Stop()
		rs.armed = nil
	}
	rs.mu.Unlock()
}

// fire delivers every due tick and schedules each reminder's next: the
// first scheduled time after now, so ticks missed by lateness coalesce.
func (rs *reminderService) fire(s *Silo) {
	now := s.cfg.clock.Now()
	type tick struct {
		r   storage.Reminder
		due time.Time
	}
	var due []tick
	rs.mu.Lock()
	rs.armed = nil
	for len(rs.heap) > 0 && !rs.heap[0].next.After(now) {
		e := rs.heap[0]
		due = append(due, tick{e.r, e.next})
		n := e.r.First
		if !n.After(now) {
			periods := now.Sub(e.r.First)/e.r.Period + 1
			n = e.r.First.Add(periods * e.r.Period)
		}
		e.next = n
		heap.Fix(&rs.heap, 0)
	}
	rs.armLocked(s)
	rs.mu.Unlock()
	for _, t := range due {
		s.deliverReminder(t.r, t.due)
	}
}

// deliverReminder sends one tick to the actor, activating it if needed.
func (s *Silo) deliverReminder(r storage.Reminder, due time.Time) {
	s.typeMu.RLock()
	t := s.names[r.ActorType]
	s.typeMu.RUnlock()
	var key Key
	if t == nil || key.UnmarshalBinary(r.ActorKey) != nil {
		s.log.Warn("reminder for an unknown actor type or a damaged key dropped",
			slog.String("type", r.ActorType), slog.String("reminder", r.Name))
		s.dropped.Add(1)
		return
	}
	m := &reminderMessage{name: r.Name, due: due}
	e := &m.Envelope
	e.msg = m
	e.target = ID{Type: r.ActorType, Key: key}
	e.typ = t
	e.oneWay = true
	e.refs.Store(1)
	e.state.Store(envPending)
	s.forward(e)
}

// reminderMessage is one reminder tick, run as a turn.
type reminderMessage struct {
	runtimeMessage
	name string
	due  time.Time
}

var reminderMethod = MethodDesc{Name: "ReceiveReminder"}

func (m *reminderMessage) Method() *MethodDesc { return &reminderMethod }

func (m *reminderMessage) Invoke(ctx context.Context, actor any) error {
	r, ok := actor.(Remindable)
	if !ok {
		return Errorf(CodeNotFound, "reminder %q for %s: the actor does not implement quark.Remindable", m.name, m.target)
	}
	return r.ReceiveReminder(ctx, m.name, m.due)
}

func (e *remEntry) dueAt() time.Time { return e.next }
func (e *remEntry) setIndex(i int)   { e.index = i }
