package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/redis/go-redis/v9"
)

// Reminders are kept beside the records, under the store's prefix:
//
//   - one hash per reminder at prefix+"rem:"+id, with the fields below;
//   - a sorted set at prefix+"rem:index" whose members are the ids, each
//     scored by the reminder's Hash.
//
// An id is the query-escaped actor type, the hex actor key and the
// query-escaped name, joined by ':'; none of the three parts holds a ':',
// so an id names exactly one reminder. Saving and deleting change the hash
// and the index in one MULTI/EXEC transaction.
const (
	remPrefix = "rem:"
	remIndex  = "rem:index"

	remFieldType   = "t"
	remFieldKey    = "k"
	remFieldName   = "n"
	remFieldHash   = "h"
	remFieldFirst  = "f" // UnixNano
	remFieldPeriod = "p" // nanoseconds
)

var _ storage.ReminderStore = (*Store)(nil)

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
	id := reminderID(r.ActorType, r.ActorKey, r.Name)
	key := r.ActorType + "/" + r.Name
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.prefix+remPrefix+id,
			remFieldType, r.ActorType,
			remFieldKey, string(r.ActorKey),
			remFieldName, r.Name,
			remFieldHash, strconv.FormatUint(uint64(r.Hash), 10),
			remFieldFirst, strconv.FormatInt(r.First.UnixNano(), 10),
			remFieldPeriod, strconv.FormatInt(int64(r.Period), 10),
		)
		p.ZAdd(ctx, s.prefix+remIndex, redis.Z{Score: float64(r.Hash), Member: id})
		return nil
	})
	if err != nil {
		return s.fail(ctx, op, key, err)
	}
	return nil
}

// DeleteReminder implements storage.ReminderStore.
func (s *Store) DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error {
	const op = "delete reminder"
	if err := s.checkReminder(ctx, op, actorType, name); err != nil {
		return err
	}
	id := reminderID(actorType, actorKey, name)
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.prefix+remPrefix+id)
		p.ZRem(ctx, s.prefix+remIndex, id)
		return nil
	})
	if err != nil {
		return s.fail(ctx, op, actorType+"/"+name, err)
	}
	return nil
}

// Reminders implements storage.ReminderStore. It lists the index entries in
// [lo, hi] and then fetches their hashes in one pipeline; a reminder deleted
// between the two steps is left out.
func (s *Store) Reminders(ctx context.Context, lo, hi uint32) ([]storage.Reminder, error) {
	const op = "list reminders"
	if s.closed.Load() {
		return nil, quarkerr.New(quarkerr.Unavailable, "list reminders: store closed")
	}
	if err := storage.CheckContext(ctx, op, ""); err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, nil
	}
	ids, err := s.client.ZRangeByScore(ctx, s.prefix+remIndex, &redis.ZRangeBy{
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
			cmds[i] = p.HMGet(ctx, s.prefix+remPrefix+id,
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
			return nil, s.fail(ctx, op, remPrefix+ids[i], err)
		}
		r, ok, err := parseReminder(vals)
		if err != nil {
			return nil, damaged(op, remPrefix+ids[i], err.Error())
		}
		if ok && r.Hash >= lo && r.Hash <= hi {
			out = append(out, r)
		}
	}
	return out, nil
}

// parseReminder decodes the fields of a reminder's hash, in the order
// Reminders asks for them. It reports false for a hash that no longer
// exists.
func parseReminder(vals []any) (storage.Reminder, bool, error) {
	if len(vals) != 6 {
		return storage.Reminder{}, false, errors.New("unexpected reply")
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
	switch {
	case missing == len(vals):
		return storage.Reminder{}, false, nil
	case missing > 0:
		return storage.Reminder{}, false, errors.New("missing fields")
	}
	hash, err := strconv.ParseUint(strs[3], 10, 32)
	if err != nil {
		return storage.Reminder{}, false, errors.New("bad hash")
	}
	first, err := strconv.ParseInt(strs[4], 10, 64)
	if err != nil {
		return storage.Reminder{}, false, errors.New("bad first time")
	}
	period, err := strconv.ParseInt(strs[5], 10, 64)
	if err != nil {
		return storage.Reminder{}, false, errors.New("bad period")
	}
	return storage.Reminder{
		ActorType: strs[0],
		ActorKey:  []byte(strs[1]),
		Name:      strs[2],
		Hash:      uint32(hash),
		First:     time.Unix(0, first),
		Period:    time.Duration(period),
	}, true, nil
}
