package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/redis/go-redis/v9"
)

// Reminders are kept beside the records, under keys that start with
// prefix+"{"+prefix+"rem}:", whose braces make a Redis Cluster hash tag, so
// that every reminder key of a store sits in one slot and the transactions
// below work on a cluster as on a single node:
//
//   - one hash per reminder at <base>"r:"+id, with the fields below;
//   - a sorted set at <base>"index" whose members are the ids, each
//     scored by the reminder's Hash;
//   - a hash at <base>"watermarks" with a field per ring range, "lo-hi",
//     holding the range's watermark in nanoseconds since the Unix epoch.
//
// The tag holds the prefix, so stores with different prefixes spread over
// slots; one store's reminders are all on one shard. When the prefix holds
// a '{' of its own, the tag Redis finds starts there and still ends within
// the common start of the keys, so the keys still share a slot; only a
// prefix whose first '{' is directly followed by '}' defeats hash tags
// (Redis then hashes whole keys), and such a prefix works on a single node
// only.
//
// An id is the query-escaped actor type, the hex actor key and the
// query-escaped name, joined by ':'; none of the three parts holds a ':',
// so an id names exactly one reminder. Saving and deleting change the hash
// and the index in one MULTI/EXEC transaction.
//
// Reminders saved by earlier versions, at prefix+"rem:"+id with the index at
// prefix+"rem:index", are moved to this layout by the first listing.
const (
	remTag       = "rem}:"
	remHashes    = "r:"
	remIndex     = "index"
	remWatermark = "watermarks"

	legacyPrefix = "rem:"
	legacyIndex  = "rem:index"

	remFieldType   = "t"
	remFieldKey    = "k"
	remFieldName   = "n"
	remFieldHash   = "h"
	remFieldFirst  = "f" // UnixNano
	remFieldPeriod = "p" // nanoseconds
)

var _ storage.ReminderStore = (*Store)(nil)

// remBase is the start of every reminder key of the store.
func (s *Store) remBase() string { return s.prefix + "{" + s.prefix + remTag }

func (s *Store) remKey(id string) string { return s.remBase() + remHashes + id }

func reminderID(actorType string, actorKey []byte, name string) string {
	return url.QueryEscape(actorType) + ":" + hex.EncodeToString(actorKey) + ":" + url.QueryEscape(name)
}

func (s *Store) checkReminder(ctx context.Context, op, actorType, name string) error {
	if actorType == "" || name == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: actor type and reminder name are required", op)
	}
	return s.check(ctx, op, actorType+"/"+name)
}

// SaveReminder implements storage.ReminderStore.
func (s *Store) SaveReminder(ctx context.Context, r storage.Reminder) error {
	const op = "save reminder"
	if err := s.checkReminder(ctx, op, r.ActorType, r.Name); err != nil {
		return err
	}
	if err := s.bound(ctx, func() error { return s.saveReminder(ctx, r) }); err != nil {
		return s.fail(ctx, op, r.ActorType+"/"+r.Name, err)
	}
	return nil
}

func (s *Store) saveReminder(ctx context.Context, r storage.Reminder) error {
	id := reminderID(r.ActorType, r.ActorKey, r.Name)
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.remKey(id),
			remFieldType, r.ActorType,
			remFieldKey, string(r.ActorKey),
			remFieldName, r.Name,
			remFieldHash, strconv.FormatUint(uint64(r.Hash), 10),
			remFieldFirst, strconv.FormatInt(r.First.UnixNano(), 10),
			remFieldPeriod, strconv.FormatInt(int64(r.Period), 10),
		)
		p.ZAdd(ctx, s.remBase()+remIndex, redis.Z{Score: float64(r.Hash), Member: id})
		return nil
	})
	return err
}

// DeleteReminder implements storage.ReminderStore.
func (s *Store) DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error {
	const op = "delete reminder"
	if err := s.checkReminder(ctx, op, actorType, name); err != nil {
		return err
	}
	id := reminderID(actorType, actorKey, name)
	err := s.bound(ctx, func() error {
		_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, s.remKey(id))
			p.ZRem(ctx, s.remBase()+remIndex, id)
			return nil
		})
		return err
	})
	if err != nil {
		return s.fail(ctx, op, actorType+"/"+name, err)
	}
	return nil
}

// Reminders implements storage.ReminderStore. It lists the index entries in
// [lo, hi] and then fetches their hashes in one pipeline; a reminder deleted
// between the two steps is left out. A hash whose fields cannot be read is
// listed with Damaged set.
func (s *Store) Reminders(ctx context.Context, lo, hi uint32) ([]storage.Reminder, error) {
	const op = "list reminders"
	if err := storage.CheckList(ctx, op, s.closed.Load()); err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, nil
	}
	var out []storage.Reminder
	err := s.bound(ctx, func() (err error) {
		out, err = s.listReminders(ctx, lo, hi)
		return err
	})
	var typed *quarkerr.Error
	if err != nil && !errors.As(err, &typed) {
		err = s.fail(ctx, op, remIndex, err) // ctx ended first
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listReminders is Reminders' work, run under bound.
func (s *Store) listReminders(ctx context.Context, lo, hi uint32) ([]storage.Reminder, error) {
	const op = "list reminders"
	if err := s.migrate(ctx); err != nil {
		return nil, s.fail(ctx, op, legacyIndex, err)
	}
	ids, err := s.client.ZRangeByScore(ctx, s.remBase()+remIndex, &redis.ZRangeBy{
		Min: strconv.FormatUint(uint64(lo), 10),
		Max: strconv.FormatUint(uint64(hi), 10),
	}).Result()
	if err != nil {
		return nil, s.fail(ctx, op, remIndex, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.remKey(id),
				remFieldType, remFieldKey, remFieldName, remFieldHash, remFieldFirst, remFieldPeriod)
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, op, remIndex, err)
	}
	out := make([]storage.Reminder, 0, len(ids))
	for i, cmd := range cmds {
		vals, err := cmd.Result()
		if err != nil {
			return nil, s.fail(ctx, op, remHashes+ids[i], err)
		}
		r, ok := parseReminder(op, s.remKey(ids[i]), vals)
		if ok && (r.Damaged != nil || r.Hash >= lo && r.Hash <= hi) {
			out = append(out, r)
		}
	}
	return out, nil
}

// migrate moves reminders of the old layout, whose keys share no hash tag,
// to the current one: each is saved anew, then its old hash and index entry
// are removed, so a migration cut short is finished by the next listing.
// A damaged old hash is left where it is.
func (s *Store) migrate(ctx context.Context) error {
	ids, err := s.client.ZRange(ctx, s.prefix+legacyIndex, 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		key := s.prefix + legacyPrefix + id
		vals, err := s.client.HMGet(ctx, key,
			remFieldType, remFieldKey, remFieldName, remFieldHash, remFieldFirst, remFieldPeriod).Result()
		if err != nil {
			return err
		}
		r, ok := parseReminder("migrate reminder", key, vals)
		if r.Damaged != nil {
			continue
		}
		if ok {
			if err := s.bound(ctx, func() error { return s.saveReminder(ctx, r) }); err != nil {
				return err
			}
			if err := s.client.Del(ctx, key).Err(); err != nil {
				return err
			}
		}
		if err := s.client.ZRem(ctx, s.prefix+legacyIndex, id).Err(); err != nil {
			return err
		}
	}
	return nil
}

// parseReminder decodes the fields of a reminder's hash, in the order
// Reminders asks for them. It reports false for a hash that no longer
// exists; one it cannot decode comes back with Damaged set.
func parseReminder(op, key string, vals []any) (storage.Reminder, bool) {
	var r storage.Reminder
	bad := func(why string) (storage.Reminder, bool) {
		r.Damaged = damaged(op, key, why)
		return r, true
	}
	if len(vals) != 6 {
		return bad("unexpected reply")
	}
	strs := make([]string, len(vals))
	missing := 0
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			missing++
		}
		strs[i] = s
	}
	r.ActorType, r.ActorKey, r.Name = strs[0], []byte(strs[1]), strs[2]
	switch {
	case missing == len(vals):
		return storage.Reminder{}, false
	case missing > 0:
		return bad("missing fields")
	}
	hash, err := strconv.ParseUint(strs[3], 10, 32)
	if err != nil {
		return bad("bad hash")
	}
	r.Hash = uint32(hash)
	first, err := strconv.ParseInt(strs[4], 10, 64)
	if err != nil {
		return bad("bad first time")
	}
	r.First = time.Unix(0, first)
	period, err := strconv.ParseInt(strs[5], 10, 64)
	if err != nil {
		return bad("bad period")
	}
	r.Period = time.Duration(period)
	return r, true
}

// SaveWatermark implements storage.ReminderStore.
func (s *Store) SaveWatermark(ctx context.Context, w storage.Watermark) error {
	const op = "save reminder watermark"
	field := w.RangeKey()
	if err := storage.CheckWatermark(ctx, op, w, s.closed.Load()); err != nil {
		return err
	}
	err := s.bound(ctx, func() error {
		return s.client.HSet(ctx, s.remBase()+remWatermark, field, strconv.FormatInt(w.Time.UnixNano(), 10)).Err()
	})
	if err != nil {
		return s.fail(ctx, op, field, err)
	}
	return nil
}

// Watermarks implements storage.ReminderStore. A field it cannot decode is
// skipped: without it the range's reminders fire as if none was saved,
// which delivers a tick twice at worst, never loses one.
func (s *Store) Watermarks(ctx context.Context, lo, hi uint32) ([]storage.Watermark, error) {
	const op = "list reminder watermarks"
	if err := storage.CheckList(ctx, op, s.closed.Load()); err != nil {
		return nil, err
	}
	var all map[string]string
	err := s.bound(ctx, func() (err error) {
		all, err = s.client.HGetAll(ctx, s.remBase()+remWatermark).Result()
		return err
	})
	if err != nil {
		return nil, s.fail(ctx, op, remWatermark, err)
	}
	var out []storage.Watermark
	for field, v := range all {
		var w storage.Watermark
		a, b, ok := strings.Cut(field, "-")
		l, err1 := strconv.ParseUint(a, 10, 32)
		h, err2 := strconv.ParseUint(b, 10, 32)
		ns, err3 := strconv.ParseInt(v, 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		w.Lo, w.Hi, w.Time = uint32(l), uint32(h), time.Unix(0, ns)
		if w.Lo <= hi && w.Hi >= lo {
			out = append(out, w)
		}
	}
	return out, nil
}
