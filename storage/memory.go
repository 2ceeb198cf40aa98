package storage

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/quarkgo/quark/quarkerr"
)

// Memory is a Store in process memory: for tests and for actors whose state
// need not outlive the process. The zero value is not usable; call
// NewMemory.
type Memory struct {
	mu        sync.RWMutex
	records   map[string]memRecord
	reminders map[remKey]Reminder
	marks     map[[2]uint32]time.Time
	version   uint64
	closed    bool
}

type remKey struct{ typ, key, name string }

type memRecord struct {
	value []byte
	etag  string
}

var (
	_ Store         = (*Memory)(nil)
	_ ReminderStore = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		records:   make(map[string]memRecord),
		reminders: make(map[remKey]Reminder),
		marks:     make(map[[2]uint32]time.Time),
	}
}

func (m *Memory) check(ctx context.Context, op, key string) error {
	return CheckCall(ctx, op, key, m.closed)
}

// Read implements Store.
func (m *Memory) Read(ctx context.Context, key string) (Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx, "read", key); err != nil {
		return Record{}, err
	}
	r, ok := m.records[key]
	if !ok {
		return Record{}, NotFound(key)
	}
	return Record{Value: append([]byte(nil), r.value...), ETag: r.etag}, nil
}

// Write implements Store.
func (m *Memory) Write(ctx context.Context, key string, value []byte, etag string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx, "write", key); err != nil {
		return "", err
	}
	if have := m.records[key].etag; have != etag {
		return "", Conflict("write", key, etag, have)
	}
	m.version++
	next := strconv.FormatUint(m.version, 36)
	m.records[key] = memRecord{value: append([]byte(nil), value...), etag: next}
	return next, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx, "delete", key); err != nil {
		return err
	}
	if have := m.records[key].etag; have != etag {
		return Conflict("delete", key, etag, have)
	}
	delete(m.records, key)
	return nil
}

func (m *Memory) checkReminder(ctx context.Context, op, typ, name string) error {
	if typ == "" || name == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: actor type and reminder name are required", op)
	}
	return m.check(ctx, op, typ+"/"+name)
}

// SaveReminder implements ReminderStore.
func (m *Memory) SaveReminder(ctx context.Context, r Reminder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkReminder(ctx, "save reminder", r.ActorType, r.Name); err != nil {
		return err
	}
	r.ActorKey = append([]byte(nil), r.ActorKey...)
	m.reminders[remKey{r.ActorType, string(r.ActorKey), r.Name}] = r
	return nil
}

// DeleteReminder implements ReminderStore.
func (m *Memory) DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkReminder(ctx, "delete reminder", actorType, name); err != nil {
		return err
	}
	delete(m.reminders, remKey{actorType, string(actorKey), name})
	return nil
}

// Reminders implements ReminderStore.
func (m *Memory) Reminders(ctx context.Context, lo, hi uint32) ([]Reminder, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := CheckList(ctx, "list reminders", m.closed); err != nil {
		return nil, err
	}
	var out []Reminder
	for _, r := range m.reminders {
		if r.Hash >= lo && r.Hash <= hi {
			r.ActorKey = append([]byte(nil), r.ActorKey...)
			out = append(out, r)
		}
	}
	return out, nil
}

// SaveWatermark implements ReminderStore.
func (m *Memory) SaveWatermark(ctx context.Context, w Watermark) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := CheckWatermark(ctx, "save reminder watermark", w, m.closed); err != nil {
		return err
	}
	m.marks[[2]uint32{w.Lo, w.Hi}] = w.Time
	return nil
}

// Watermarks implements ReminderStore.
func (m *Memory) Watermarks(ctx context.Context, lo, hi uint32) ([]Watermark, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := CheckList(ctx, "list reminder watermarks", m.closed); err != nil {
		return nil, err
	}
	var out []Watermark
	for r, t := range m.marks {
		if r[0] <= hi && r[1] >= lo {
			out = append(out, Watermark{Lo: r[0], Hi: r[1], Time: t})
		}
	}
	return out, nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.records = nil
	m.mu.Unlock()
	return nil
}
