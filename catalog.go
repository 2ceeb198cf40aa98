package quark

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarkgo/quark/storage"
)

const numShards = 64

// actorType is a registered actor type and its catalog: the activations of
// its keys on this silo.
type actorType struct {
	desc       *TypeDesc
	silo       *Silo
	factory    func(*Activation) any
	mailbox    int
	fullErr    error // the error of a one-way message refused by a full mailbox
	maxWorkers int
	collectAge time.Duration
	store      storage.Store // where the type's State values live
	// interrupts counts the steps that may stop a drainer's batch of
	// one-way messages (a deactivation asked for, a panic); a drainer
	// reads it before taking a batch and after each message of it.
	interrupts atomic.Uint32
	shards     [numShards]shard
	// recent is a direct-mapped cache of the type's activations in front
	// of the shards, for the messages of Refs that carry no location entry
	// (made before their actor was active): a hit costs a hash and a load,
	// with no lock taken and no shared memory written. A slot holds only an
	// activation that is in its shard's map: it is filled under the shard's
	// read lock (or its write lock, when the activation is made), and
	// remove clears it under the write lock, before the activation dies.
	// 8 KiB a type.
	recent [recentSlots]atomic.Pointer[Activation]
}

const recentSlots = 1024

type shard struct {
	mu   sync.RWMutex
	acts map[Key]*Activation
	sets map[Key]*workerSet // stateless worker types
	_    [32]byte           // keep neighbouring shards' locks off one cache line
}

// workerSet holds the activations of one stateless worker key.
type workerSet struct {
	mu      sync.Mutex
	workers []*Activation
	next    uint32
	dead    bool
}

var shardSeed = maphash.MakeSeed()

// keyHash spreads keys over the shards (its high half) and the recent
// slots (its low bits; for int keys in sequence, one slot each).
func keyHash(k Key) uint64 {
	h := uint64(k.n) * 0x9e3779b97f4a7c15
	if k.s != "" {
		h ^= maphash.String(shardSeed, k.s)
	}
	if k.ext != "" {
		h ^= maphash.String(shardSeed, k.ext) >> 1
	}
	return h
}

func (t *actorType) shard(k Key) *shard { return t.shardOf(keyHash(k)) }

func (t *actorType) shardOf(h uint64) *shard { return &t.shards[(h>>32)%numShards] }

func (t *actorType) slotOf(h uint64) *atomic.Pointer[Activation] {
	return &t.recent[h%recentSlots]
}

func (t *actorType) newActivation(key Key) *Activation {
	a := &Activation{id: ID{Type: t.desc.Name, Key: key}, typ: t}
	s := t.silo
	a.lastUsed = s.coarse.Load()
	s.live.Add(1)
	switch s.state.Load() {
	case siloStopping:
		a.deact = ReasonShutdown
	case siloStopped:
		// Stop has returned, or is returning: a message admitted before it
		// began but routed only now must not activate anything. The
		// activation is born dead, so route sees it retry and refuses the
		// message. Counting it first and looking at the state second pairs
		// with Stop, which marks the silo stopped and then counts again.
		a.status = statusDead
		a.inbox.Store(closedInbox)
		s.live.Add(-1)
	}
	return a
}

// peek returns the activation of key, or nil.
func (t *actorType) peek(key Key) *Activation {
	a, _, _ := t.lookup(key)
	return a
}

// lookup returns the activation of key, or nil, with the key's recent slot
// and shard: from the slot when it holds the key, else from the shard's
// map under its read lock, filling the slot.
func (t *actorType) lookup(key Key) (*Activation, *atomic.Pointer[Activation], *shard) {
	h := keyHash(key)
	slot, sh := t.slotOf(h), t.shardOf(h)
	if a := slot.Load(); a != nil && a.id.Key == key {
		return a, slot, sh
	}
	sh.mu.RLock()
	a := sh.acts[key]
	if a != nil {
		slot.Store(a)
	}
	sh.mu.RUnlock()
	return a, slot, sh
}

// get returns the activation of key, creating one (not yet activated) when
// there is none.
func (t *actorType) get(key Key) *Activation {
	a, slot, sh := t.lookup(key)
	if a != nil {
		return a
	}
	sh.mu.Lock()
	if a = sh.acts[key]; a == nil {
		if sh.acts == nil {
			sh.acts = make(map[Key]*Activation)
		}
		a = t.newActivation(key)
		sh.acts[key] = a
	}
	slot.Store(a)
	sh.mu.Unlock()
	return a
}

// workers returns the worker set of a stateless key, creating it when absent.
func (t *actorType) workers(key Key) *workerSet {
	sh := t.shard(key)
	sh.mu.RLock()
	ws := sh.sets[key]
	sh.mu.RUnlock()
	if ws != nil {
		return ws
	}
	sh.mu.Lock()
	if ws = sh.sets[key]; ws == nil {
		if sh.sets == nil {
			sh.sets = make(map[Key]*workerSet)
		}
		ws = &workerSet{}
		sh.sets[key] = ws
	}
	sh.mu.Unlock()
	return ws
}

// remove takes a from the catalog if it is still there.
func (t *actorType) remove(a *Activation) {
	sh := t.shard(a.id.Key)
	sh.mu.Lock()
	if ws := a.set; ws != nil {
		ws.mu.Lock()
		if i := slices.Index(ws.workers, a); i >= 0 {
			ws.workers = slices.Delete(ws.workers, i, i+1)
		}
		if len(ws.workers) == 0 && sh.sets[a.id.Key] == ws {
			ws.dead = true
			delete(sh.sets, a.id.Key)
		}
		ws.mu.Unlock()
	} else if sh.acts[a.id.Key] == a {
		delete(sh.acts, a.id.Key)
		t.slotOf(keyHash(a.id.Key)).CompareAndSwap(a, nil)
	}
	sh.mu.Unlock()
}

// all appends every activation of the type to dst.
func (t *actorType) all(dst []*Activation) []*Activation {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, a := range sh.acts {
			dst = append(dst, a)
		}
		for _, ws := range sh.sets {
			ws.mu.Lock()
			dst = append(dst, ws.workers...)
			ws.mu.Unlock()
		}
		sh.mu.RUnlock()
	}
	return dst
}

// deliverStateless offers e to the workers of its key: the first that can
// take it at once, else a new worker while under the limit, else the next in
// turn.
func (t *actorType) deliverStateless(e *Envelope, inline bool) (*Activation, admit) {
	for {
		ws := t.workers(e.target.Key)
		ws.mu.Lock()
		if ws.dead {
			ws.mu.Unlock()
			continue
		}
		n := len(ws.workers)
		start := ws.next
		ws.mu.Unlock()
		for i := range n {
			ws.mu.Lock()
			if i >= len(ws.workers) {
				ws.mu.Unlock()
				break
			}
			w := ws.workers[(int(start)+i)%len(ws.workers)]
			ws.mu.Unlock()
			if r := w.submitIfIdle(e, inline); r != admitBusy {
				if r == admitRetry {
					continue
				}
				return w, r
			}
		}
		ws.mu.Lock()
		if ws.dead {
			ws.mu.Unlock()
			continue
		}
		var w *Activation
		if len(ws.workers) < t.maxWorkers {
			w = t.newActivation(e.target.Key)
			w.set = ws
			ws.workers = append(ws.workers, w)
			// e is queued before another caller can see the new worker:
			// one that found it idle first would take it, and e would
			// queue behind that call on a set that is not full. submit
			// does not block; ws.mu is never taken inside an activation's
			// mu, so the nesting is safe.
			r := w.submit(e, inline)
			ws.mu.Unlock()
			return w, r
		}
		w = ws.workers[int(ws.next)%len(ws.workers)]
		ws.next++
		ws.mu.Unlock()
		if r := w.submit(e, inline); r != admitRetry {
			return w, r
		}
	}
}
