package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	bolt "go.etcd.io/bbolt"
)

// Reminders live in their own bucket, keyed by the ring hash (4 bytes,
// big-endian) followed by the actor type, key and name, each with a uvarint
// length, so a hash range is one cursor scan. The value is the first due
// time and the period, in nanoseconds. Saves and deletes go through bbolt's
// Batch like state writes, so registrations from many actors at once share
// fsyncs (group commit).
var reminderBucket = []byte("quark.reminders")

// Watermarks live in a bucket of their own, keyed by the range's bounds
// (4 bytes each, big-endian); the value is the time in nanoseconds since
// the Unix epoch.
var watermarkBucket = []byte("quark.reminders.watermarks")

var _ storage.ReminderStore = (*Store)(nil)

func reminderKey(hash uint32, typ string, key []byte, name string) []byte {
	b := binary.BigEndian.AppendUint32(nil, hash)
	for _, part := range [][]byte{[]byte(typ), key, []byte(name)} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return b
}

// parseReminder decodes a stored reminder. A record it cannot decode comes
// back with Damaged set and as much as could be read.
func parseReminder(k, v []byte) storage.Reminder {
	var r storage.Reminder
	damaged := func(why string) storage.Reminder {
		r.Damaged = quarkerr.Errorf(quarkerr.Corrupt, "reminder record %x: %s", k, why)
		return r
	}
	if len(k) < 4 {
		return damaged("key too short")
	}
	r.Hash = binary.BigEndian.Uint32(k)
	rest := k[4:]
	var parts [3][]byte
	for i := range parts {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return damaged("bad key")
		}
		parts[i] = rest[w : w+int(n)]
		rest = rest[w+int(n):]
	}
	r.ActorType, r.ActorKey, r.Name = string(parts[0]), bytes.Clone(parts[1]), string(parts[2])
	if len(rest) != 0 || len(v) != 16 {
		return damaged("bad length")
	}
	r.First = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	r.Period = time.Duration(binary.BigEndian.Uint64(v[8:]))
	return r
}

func (s *Store) checkReminder(ctx context.Context, op, typ, name string) error {
	if typ == "" || name == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: actor type and reminder name are required", op)
	}
	return s.check(ctx, op, typ+"/"+name)
}

// reminderNames maps an actor's reminder (type, key, name) to its ring hash,
// so a save or delete finds the reminder's key without a scan.
var reminderNames = []byte("quark.reminders.names")

// findReminder returns the stored key of an actor's named reminder, which
// may sit under an older hash, or nil.
func findReminder(names *bolt.Bucket, typ string, key []byte, name string) []byte {
	suffix := reminderKey(0, typ, key, name)[4:]
	h := names.Get(suffix)
	if len(h) != 4 {
		return nil
	}
	return append(bytes.Clone(h), suffix...)
}

// SaveReminder implements storage.ReminderStore.
func (s *Store) SaveReminder(ctx context.Context, r storage.Reminder) error {
	if err := s.checkReminder(ctx, "save reminder", r.ActorType, r.Name); err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(r.First.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, uint64(r.Period))
	// Batch may run this more than once; each run gives the same result.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(reminderBucket)
		if err != nil {
			return err
		}
		names, err := tx.CreateBucketIfNotExists(reminderNames)
		if err != nil {
			return err
		}
		if old := findReminder(names, r.ActorType, r.ActorKey, r.Name); old != nil {
			if err := b.Delete(old); err != nil {
				return err
			}
		}
		k := reminderKey(r.Hash, r.ActorType, r.ActorKey, r.Name)
		if err := names.Put(k[4:], k[:4]); err != nil {
			return err
		}
		return b.Put(k, v)
	})
	if err != nil {
		return quarkerr.Errorf(quarkerr.Unavailable, "save reminder %q: %w", r.Name, err)
	}
	return nil
}

// DeleteReminder implements storage.ReminderStore.
func (s *Store) DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error {
	if err := s.checkReminder(ctx, "delete reminder", actorType, name); err != nil {
		return err
	}
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b, names := tx.Bucket(reminderBucket), tx.Bucket(reminderNames)
		if b == nil || names == nil {
			return nil
		}
		if k := findReminder(names, actorType, actorKey, name); k != nil {
			if err := names.Delete(k[4:]); err != nil {
				return err
			}
			return b.Delete(k)
		}
		return nil
	})
	if err != nil {
		return quarkerr.Errorf(quarkerr.Unavailable, "delete reminder %q: %w", name, err)
	}
	return nil
}

// Reminders implements storage.ReminderStore.
func (s *Store) Reminders(ctx context.Context, lo, hi uint32) ([]storage.Reminder, error) {
	if err := storage.CheckList(ctx, "list reminders", s.closed.Load()); err != nil {
		return nil, err
	}
	var out []storage.Reminder
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(reminderBucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint32(nil, lo)); k != nil; k, v = c.Next() {
			r := parseReminder(k, v)
			if r.Hash > hi {
				break
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "list reminders: %w", err)
	}
	return out, nil
}

// SaveWatermark implements storage.ReminderStore.
func (s *Store) SaveWatermark(ctx context.Context, w storage.Watermark) error {
	const op = "save reminder watermark"
	if err := storage.CheckWatermark(ctx, op, w, s.closed.Load()); err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w.Lo), w.Hi)
	v := binary.BigEndian.AppendUint64(nil, uint64(w.Time.UnixNano()))
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(watermarkBucket)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
	if err != nil {
		return quarkerr.Errorf(quarkerr.Unavailable, "%s: %w", op, err)
	}
	return nil
}

// Watermarks implements storage.ReminderStore. A damaged watermark record
// is skipped: without it the range's reminders fire as if none was saved,
// which delivers a tick twice at worst, never loses one.
func (s *Store) Watermarks(ctx context.Context, lo, hi uint32) ([]storage.Watermark, error) {
	const op = "list reminder watermarks"
	if err := storage.CheckList(ctx, op, s.closed.Load()); err != nil {
		return nil, err
	}
	var out []storage.Watermark
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(watermarkBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) != 8 {
				return nil
			}
			w := storage.Watermark{
				Lo:   binary.BigEndian.Uint32(k),
				Hi:   binary.BigEndian.Uint32(k[4:]),
				Time: time.Unix(0, int64(binary.BigEndian.Uint64(v))),
			}
			if w.Lo <= hi && w.Hi >= lo {
				out = append(out, w)
			}
			return nil
		})
	})
	if err != nil {
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "%s: %w", op, err)
	}
	return out, nil
}
