package storage

import (
	"context"
	"strconv"
	"sync"

	"github.com/quarkgo/quark/quarkerr"
)

// Memory is a Store in process memory: for tests and for actors whose state
// need not outlive the process. The zero value is not usable; call
// NewMemory.
type Memory struct {
	mu      sync.RWMutex
	records map[string]memRecord
	version uint64
	closed  bool
}

type memRecord struct {
	value []byte
	etag  string
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{records: make(map[string]memRecord)} }

func (m *Memory) check(ctx context.Context, op, key string) error {
	if key == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: empty key", op)
	}
	if m.closed {
		return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: store closed", op, key)
	}
	return CheckContext(ctx, op, key)
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

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.records = nil
	m.mu.Unlock()
	return nil
}
