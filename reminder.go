package quark

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/quarkgo/quark/storage"
)

// Remindable is implemented by actors that register reminders: each tick of
// a reminder is a call of ReceiveReminder, run as a turn like any method,
// activating the actor if it is not active. due is the time the tick was
// scheduled for (the reminder's first due time plus whole periods), the
// same on every delivery of that tick, so a handler can make its work
// idempotent per period.
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
// when it falls due. Registering a name again replaces the reminder. period
// must be at least the silo's minimum (WithMinReminderPeriod, default 1
// minute); name must be non-empty UTF-8 without NUL; the first tick must
// fall before 2262 (stores keep nanoseconds since 1970); the actor must
// implement Remindable. It fails with CodeInvalidArgument otherwise, and
// with the store's error when the reminder cannot be saved.
//
// Delivery is at least once per period, not exactly once. A tick that
// meets a full mailbox or a failing activation is retried, with backoff,
// until the next tick falls due; then it is given up, and the next tick
// stands for it. A handler's error does not cause a retry. The silo saves
// how far its ticks were delivered (a watermark) every 5 seconds and when
// it stops, so a restarted silo fires at once only the reminders whose
// scheduled tick it missed, once each (missed ticks coalesce into the
// latest, with that tick's due time). The window in which a tick can be
// delivered twice: the ticks delivered in the last 5 seconds before a
// silo dies without Stop, and ticks still undelivered when Stop's deadline
// passes, are delivered again by the next silo.
func (a *Activation) RegisterReminder(ctx context.Context, name string, due, period time.Duration) error {
	s := a.typ.silo
	rs := &s.reminders
	if rs.store == nil {
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: the silo has no reminder store", name, a.id)
	}
	if _, ok := a.impl.(Remindable); !ok && a.impl != nil {
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: the actor does not implement quark.Remindable", name, a.id)
	}
	key, _ := a.id.Key.MarshalBinary()
	r := storage.Reminder{
		ActorType: a.id.Type, ActorKey: key, Name: name, Hash: reminderHash(a.id),
		Period: period,
	}
	// Until the reminder is in the heap, the watermark must stay below its
	// first tick, or a silo dying between the save and the add would count
	// that tick as delivered.
	hold := rs.holdFirst(s, &r, due)
	defer rs.release(hold)
	if err := checkReminder(r, s.cfg.minReminder); err != nil {
		return Errorf(CodeInvalidArgument, "register reminder %q of %s: %w", name, a.id, err)
	}
	if err := rs.store.SaveReminder(ctx, r); err != nil {
		return Errorf(CodeOf(err), "register reminder %q of %s: %w", name, a.id, err)
	}
	rs.add(s, r, a.id, time.Time{}, false)
	return nil
}

// UnregisterReminder removes the named reminder; removing one that does not
// exist succeeds. A tick already being delivered may still arrive.
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

// reminderHash places an actor's reminders on the ring of owners: where
// the actor itself is placed.
func reminderHash(id ID) uint32 { return idHash(id) }

// The due times a reminder may have: stores keep them as nanoseconds since
// the Unix epoch, and the schedule arithmetic must not overflow.
var (
	minReminderTime = time.Unix(0, 0)
	maxReminderTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkReminder reports what makes r impossible to schedule, if anything:
// the checks RegisterReminder applies, which a stored row may fail when it
// was damaged or written by other means.
func checkReminder(r storage.Reminder, minPeriod time.Duration) error {
	switch {
	case r.ActorType == "":
		return errors.New("empty actor type")
	case r.Name == "":
		return errors.New("empty name")
	case !utf8.ValidString(r.Name) || strings.IndexByte(r.Name, 0) >= 0:
		return errors.New("name is not UTF-8 without NUL")
	case r.Period <= 0:
		return Errorf(CodeInvalidArgument, "period %v is not positive", r.Period)
	case r.Period < minPeriod:
		return Errorf(CodeInvalidArgument, "period %v is under the minimum %v", r.Period, minPeriod)
	case r.First.Before(minReminderTime) || !r.First.Before(maxReminderTime):
		return Errorf(CodeInvalidArgument, "first due time %v is outside %v to %v", r.First, minReminderTime.UTC(), maxReminderTime)
	}
	return nil
}

// latestTick returns r's last scheduled tick at or before t, if any.
func latestTick(r storage.Reminder, t time.Time) (time.Time, bool) {
	if r.First.After(t) {
		return time.Time{}, false
	}
	return r.First.Add(t.Sub(r.First) / r.Period * r.Period), true
}

// nextTick returns r's first scheduled tick after t.
func nextTick(r storage.Reminder, t time.Time) time.Time {
	if l, ok := latestTick(r, t); ok {
		return l.Add(r.Period)
	}
	return r.First
}

type remKey struct{ typ, key, name string }

type remEntry struct {
	r     storage.Reminder
	id    ID
	next  time.Time // the next scheduled tick not yet handed to delivery
	index int       // in the heap, -1 when not in it
}

// remTick is one tick being delivered, across its retries; while it exists
// it holds the watermark below its due time. A registration in progress
// holds the watermark the same way with a remTick of its own.
type remTick struct {
	r       storage.Reminder
	id      ID
	due     time.Time
	until   time.Time // the next scheduled tick: retries stop there
	attempt int
}

// Retry backoff for an undelivered tick: doubling from the first, capped.
const (
	reminderRetryFirst = time.Second
	reminderRetryMax   = time.Minute
)

// watermarkEvery is how often a running silo saves its watermark, on its
// Clock, when a tick has been delivered since the last save.
const watermarkEvery = 5 * time.Second

// reminderService is the silo's one reminder scheduler: a heap of entries
// and a single Clock timer armed for the earliest. It owns the reminders
// whose hash is in its ranges: the whole ring for a silo alone, the ranges
// of the actors homed on it for a member of a static cluster (ring.ranges).
//
// Delivered ticks are not written anywhere; instead the service keeps a
// watermark, the time up to which every scheduled tick of its range has
// been delivered: the earliest of now, the heap's next tick and the due
// time of every tick still being delivered, less a nanosecond. It saves it
// (storage.Watermark, keyed by the range) every watermarkEvery and at
// Stop; at start it fires at once only the reminders with a scheduled tick
// after the saved watermark and not after now. A cluster's range owner will
// do the same for its range, reading the watermarks of every saved range
// that overlaps its own and taking, for each reminder, the latest of those
// that cover its hash: each is a true statement about the ticks it covers,
// whichever silo wrote it.
type reminderService struct {
	store storage.ReminderStore
	// ranges are the ranges of reminder hashes the silo owns: the whole
	// ring when it is alone, its ring ranges in a static cluster. Set
	// before start and never changed.
	ranges []hashRange

	// gate orders deliveries against stop: a delivery hands its tick to
	// an activation under the read lock, and stop sets stopped under the
	// write lock (and mu), so once stop has returned no tick reaches an
	// actor. stopped may be read under either lock.
	gate    sync.RWMutex
	stopped bool

	mu        sync.Mutex
	heap      dueHeap[*remEntry]
	byKey     map[remKey]*remEntry
	armed     ClockTimer
	at        time.Time
	holds     map[*remTick]struct{}
	inflight  int                     // ticks handed to an activation, not yet run or failed
	retries   map[*remTick]ClockTimer // undelivered ticks waiting for their next attempt
	drained   chan struct{}           // closed when stopped and inflight is zero
	loaded    bool                    // start read the store: the watermark means something
	delivered bool                    // a tick was delivered since the last save
	claimed   time.Time               // the latest watermark computed
	saveTimer ClockTimer

	saveMu sync.Mutex // one watermark write at a time, in order

	bad atomic.Int64 // stored reminders skipped at load
}

// start loads the owned reminders and their watermark, and schedules each
// reminder: one whose latest scheduled tick is after the watermark fires at
// once with that tick's due time (the ticks missed while no silo ran,
// coalesced); the others wait for their next tick. Rows that cannot be
// scheduled are logged, counted in Stats.BadReminders and skipped.
func (rs *reminderService) start(ctx context.Context, s *Silo) error {
	if rs.store == nil {
		return nil
	}
	var all []storage.Reminder
	var marks []storage.Watermark
	for _, r := range rs.ranges {
		some, err := rs.store.Reminders(ctx, r.lo, r.hi)
		if err != nil {
			return Errorf(CodeOf(err), "load reminders: %w", err)
		}
		all = append(all, some...)
		ws, err := rs.store.Watermarks(ctx, r.lo, r.hi)
		if err != nil {
			return Errorf(CodeOf(err), "load reminder watermarks: %w", err)
		}
		marks = append(marks, ws...)
	}
	n := 0
	for _, r := range all {
		id, err := s.checkStoredReminder(r)
		if err != nil {
			rs.bad.Add(1)
			s.log.Error("stored reminder skipped: it cannot be scheduled; left as it is in the store",
				slog.String("type", r.ActorType), slog.String("reminder", r.Name), slog.Any("err", err))
			continue
		}
		var seen time.Time
		for _, w := range marks {
			if w.Lo <= r.Hash && r.Hash <= w.Hi && w.Time.After(seen) {
				seen = w.Time
			}
		}
		rs.add(s, r, id, seen, true)
		n++
	}
	rs.mu.Lock()
	rs.loaded = true
	rs.armSaveLocked(s)
	rs.mu.Unlock()
	if n > 0 {
		s.log.Info("reminders loaded", slog.Int("count", n))
	}
	return nil
}

// checkStoredReminder checks a loaded row and returns its actor.
func (s *Silo) checkStoredReminder(r storage.Reminder) (ID, error) {
	if r.Damaged != nil {
		return ID{}, r.Damaged
	}
	if err := checkReminder(r, s.cfg.minReminder); err != nil {
		return ID{}, err
	}
	s.typeMu.RLock()
	t := s.names[r.ActorType]
	s.typeMu.RUnlock()
	if t == nil {
		return ID{}, Errorf(CodeNotFound, "unknown actor type %q", r.ActorType)
	}
	var key Key
	if err := key.UnmarshalBinary(r.ActorKey); err != nil {
		return ID{}, err
	}
	if key.IsZero() {
		return ID{}, Errorf(CodeInvalidArgument, "zero actor key")
	}
	return ID{Type: r.ActorType, Key: key}, nil
}

// add schedules r, replacing the entry of the same actor and name. When
// recovering, seen is the watermark of r's range (zero when none was saved).
func (rs *reminderService) add(s *Silo, r storage.Reminder, id ID, seen time.Time, recovering bool) {
	now := s.cfg.clock.Now()
	next := r.First
	if recovering {
		if l, ok := latestTick(r, now); ok {
			next = l
			if !seen.IsZero() && !l.After(seen) {
				next = l.Add(r.Period) // delivered before the restart
			}
		}
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
	e := &remEntry{r: r, id: id, next: next, index: -1}
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

// holdFirst sets r's first due time, due from now but after every
// watermark already computed (a registration at the very instant of a save
// must not fall under it: it then moves by a nanosecond), and keeps the
// watermark below it until release.
func (rs *reminderService) holdFirst(s *Silo, r *storage.Reminder, due time.Duration) *remTick {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.First = s.cfg.clock.Now().Add(max(due, 0))
	if !r.First.After(rs.claimed) {
		r.First = rs.claimed.Add(1)
	}
	h := &remTick{due: r.First}
	rs.holdLocked(h)
	return h
}

func (rs *reminderService) holdLocked(t *remTick) {
	if rs.holds == nil {
		rs.holds = make(map[*remTick]struct{})
	}
	rs.holds[t] = struct{}{}
}

func (rs *reminderService) release(h *remTick) {
	rs.mu.Lock()
	delete(rs.holds, h)
	rs.mu.Unlock()
}

func (rs *reminderService) armLocked(s *Silo) {
	if len(rs.heap) == 0 || rs.stopped || s.state.Load() != siloRunning {
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

// fire hands every due tick to delivery and schedules each reminder's
// next: the first scheduled time after now, so ticks missed by lateness
// coalesce into one, due at the latest of them.
func (rs *reminderService) fire(s *Silo) {
	var due []*remTick
	rs.mu.Lock()
	rs.armed = nil
	if rs.stopped {
		rs.mu.Unlock()
		return
	}
	now := s.cfg.clock.Now()
	for len(rs.heap) > 0 && !rs.heap[0].next.After(now) {
		e := rs.heap[0]
		t := &remTick{r: e.r, id: e.id, due: e.next}
		if l, ok := latestTick(e.r, now); ok {
			t.due = l
		}
		e.next = nextTick(e.r, now)
		t.until = e.next
		rs.holdLocked(t)
		due = append(due, t)
		heap.Fix(&rs.heap, 0)
	}
	rs.armLocked(s)
	rs.mu.Unlock()
	for _, t := range due {
		rs.deliver(s, t)
	}
}

// deliver hands one tick to its actor, activating it if needed; the
// message reports back when it has run or failed (reminderMessage.Release).
func (rs *reminderService) deliver(s *Silo, t *remTick) {
	rs.gate.RLock()
	defer rs.gate.RUnlock()
	if rs.stopped {
		return // the tick keeps its hold: the next silo delivers it
	}
	s.typeMu.RLock()
	typ := s.names[t.id.Type]
	s.typeMu.RUnlock()
	rs.mu.Lock()
	rs.inflight++
	rs.mu.Unlock()
	m := &reminderMessage{rs: rs, s: s, tick: t}
	e := &m.Envelope
	e.msg = m
	e.target = t.id
	e.typ = typ
	e.oneWay = true
	e.refs.Store(1)
	e.state.Store(envPending)
	s.forward(e)
}

// finished ends one delivery attempt of t: ran says whether the actor's
// handler was called. An attempt that did not reach the handler (full
// mailbox, failed activation, a stopping activation) is retried with
// backoff until the next tick falls due.
func (rs *reminderService) finished(s *Silo, t *remTick, ran bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.inflight--
	if rs.stopped && rs.inflight == 0 && rs.drained != nil {
		close(rs.drained)
		rs.drained = nil
	}
	if ran {
		delete(rs.holds, t)
		rs.delivered = true
		return
	}
	if rs.stopped {
		return // undelivered: the hold keeps the watermark below it
	}
	t.attempt++
	wait := min(reminderRetryFirst<<min(t.attempt-1, 16), reminderRetryMax)
	now := s.cfg.clock.Now()
	if !now.Add(wait).Before(t.until) {
		delete(rs.holds, t)
		s.log.Warn("reminder tick not delivered before the next one fell due; given up",
			slog.String("actor", t.id.String()), slog.String("reminder", t.r.Name),
			slog.Time("due", t.due), slog.Int("attempts", t.attempt))
		return
	}
	if rs.retries == nil {
		rs.retries = make(map[*remTick]ClockTimer)
	}
	rs.retries[t] = s.cfg.clock.AfterFunc(wait, func() {
		rs.mu.Lock()
		_, ok := rs.retries[t]
		delete(rs.retries, t)
		rs.mu.Unlock()
		if ok {
			rs.deliver(s, t)
		}
	})
	s.log.Debug("reminder tick not delivered; retrying",
		slog.String("actor", t.id.String()), slog.String("reminder", t.r.Name),
		slog.Time("due", t.due), slog.Duration("in", wait), slog.Int("attempt", t.attempt))
}

// watermarkLocked returns the time up to which every scheduled tick of the
// range has been delivered, and remembers it as claimed.
func (rs *reminderService) watermarkLocked(now time.Time) time.Time {
	w := now
	if len(rs.heap) > 0 {
		if n := rs.heap[0].next.Add(-1); n.Before(w) {
			w = n
		}
	}
	for t := range rs.holds {
		if h := t.due.Add(-1); h.Before(w) {
			w = h
		}
	}
	if w.After(rs.claimed) {
		rs.claimed = w
	}
	return w
}

func (rs *reminderService) armSaveLocked(s *Silo) {
	if rs.stopped || s.state.Load() != siloRunning {
		return
	}
	rs.saveTimer = s.cfg.clock.AfterFunc(watermarkEvery, func() { rs.saveTick(s) })
}

// saveTick saves the watermark when a tick was delivered since the last
// save (otherwise the saved one still covers every delivered tick), then
// re-arms. It runs on the clock's goroutine; a slow store delays the next
// save, never overlaps it.
func (rs *reminderService) saveTick(s *Silo) {
	rs.mu.Lock()
	if rs.stopped {
		rs.mu.Unlock()
		return
	}
	need := rs.delivered
	rs.delivered = false
	var w time.Time
	if need {
		w = rs.watermarkLocked(s.cfg.clock.Now())
	}
	rs.mu.Unlock()
	if need {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.callTimeout)
		if err := rs.save(ctx, w, false); err != nil {
			s.log.Warn("reminder watermark not saved; ticks since the last save may be delivered again after a restart",
				slog.Any("err", err))
			rs.mu.Lock()
			rs.delivered = true
			rs.mu.Unlock()
		}
		cancel()
	}
	rs.mu.Lock()
	rs.armSaveLocked(s)
	rs.mu.Unlock()
}

// save writes the watermark w. A periodic save (final false) that comes
// after stop is dropped, so it cannot overwrite the final one with an older
// value.
func (rs *reminderService) save(ctx context.Context, w time.Time, final bool) error {
	rs.saveMu.Lock()
	defer rs.saveMu.Unlock()
	if !final {
		rs.mu.Lock()
		stopped := rs.stopped
		rs.mu.Unlock()
		if stopped {
			return nil
		}
	}
	for _, r := range rs.ranges {
		if err := rs.store.SaveWatermark(ctx, storage.Watermark{Lo: r.lo, Hi: r.hi, Time: w}); err != nil {
			return err
		}
	}
	return nil
}

// stop is the silo's Stop hook. From its return no reminder tick reaches
// an actor and nothing of the service is armed. Ticks already handed to
// activations run or fail (Stop lets admitted messages run); stop waits for
// them until ctx ends, then saves the watermark, so a restart neither
// repeats a delivered tick nor loses an undelivered one.
func (rs *reminderService) stop(ctx context.Context, s *Silo) {
	rs.gate.Lock()
	rs.mu.Lock()
	rs.stopped = true
	rs.gate.Unlock()
	for _, tm := range []ClockTimer{rs.armed, rs.saveTimer} {
		if tm != nil {
			tm.Stop()
		}
	}
	rs.armed, rs.saveTimer = nil, nil
	for t, tm := range rs.retries {
		tm.Stop()
		delete(rs.retries, t)
	}
	var drained chan struct{}
	if rs.inflight > 0 {
		drained = make(chan struct{})
		rs.drained = drained
	}
	loaded := rs.loaded
	rs.mu.Unlock()
	if !loaded {
		return // never started: a watermark would claim ticks it never saw
	}
	if drained != nil {
		s.log.Debug("reminder stop: waiting for ticks in delivery")
		select {
		case <-drained:
		case <-ctx.Done():
		}
	}
	rs.mu.Lock()
	w := rs.watermarkLocked(s.cfg.clock.Now())
	rs.mu.Unlock()
	if err := rs.save(ctx, w, true); err != nil {
		s.log.Warn("reminder watermark not saved at stop; ticks since the last save may be delivered again after a restart",
			slog.Any("err", err))
	}
}

// reminderMessage is one delivery attempt of a reminder tick, run as a
// turn.
type reminderMessage struct {
	runtimeMessage
	rs   *reminderService
	s    *Silo
	tick *remTick
	ran  bool // written by Invoke, read by Release, in that order
}

var reminderMethod = MethodDesc{Name: "ReceiveReminder", OneWay: true}

func (m *reminderMessage) Method() *MethodDesc { return &reminderMethod }

func (m *reminderMessage) Invoke(ctx context.Context, actor any) error {
	m.ran = true
	r, ok := actor.(Remindable)
	if !ok {
		return Errorf(CodeNotFound, "reminder %q for %s: the actor does not implement quark.Remindable", m.tick.r.Name, m.target)
	}
	return r.ReceiveReminder(ctx, m.tick.r.Name, m.tick.due)
}

// Release is called once the attempt is over, run or not.
func (m *reminderMessage) Release() { m.rs.finished(m.s, m.tick, m.ran) }

func (e *remEntry) dueAt() time.Time { return e.next }
func (e *remEntry) setIndex(i int)   { e.index = i }
