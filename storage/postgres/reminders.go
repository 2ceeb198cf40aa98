package postgres

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
)

// Watermarks are kept in the reminders table as reserved rows, so that no
// table is added: actor_type ” (which no reminder has: SaveReminder refuses
// an empty actor type), actor_key the range's bounds (4 bytes each,
// big-endian), name 'watermark', hash -1 (outside every uint32 range, so
// Reminders' range scans never see the rows), first_ns the watermark in
// nanoseconds since the Unix epoch and period_ns 0.
const (
	watermarkName = "watermark"
	watermarkHash = -1
)

// SaveWatermark implements storage.ReminderStore.
func (s *Store) SaveWatermark(ctx context.Context, w storage.Watermark) error {
	const op = "save reminder watermark"
	key := w.RangeKey()
	if err := storage.CheckWatermark(ctx, op, w, s.closed.Load()); err != nil {
		return err
	}
	if w.Time.Before(minFirst) || w.Time.After(maxFirst) {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s %s: time %v outside %v to %v", op, key, w.Time, minFirst.UTC(), maxFirst.UTC())
	}
	bounds := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w.Lo), w.Hi)
	if _, err := s.pool.Exec(ctx, s.qSaveReminder, "", bounds, watermarkName, int64(watermarkHash), w.Time.UnixNano(), int64(0)); err != nil {
		return s.fail(ctx, op, key, err)
	}
	return nil
}

// Watermarks implements storage.ReminderStore. A reserved row it cannot
// decode is skipped: without it the range's reminders fire as if none was
// saved, which delivers a tick twice at worst, never loses one.
func (s *Store) Watermarks(ctx context.Context, lo, hi uint32) ([]storage.Watermark, error) {
	const op = "list reminder watermarks"
	if err := storage.CheckList(ctx, op, s.closed.Load()); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.qReminders, int64(watermarkHash), int64(watermarkHash))
	if err != nil {
		return nil, s.fail(ctx, op, "", err)
	}
	defer rows.Close()
	var out []storage.Watermark
	for rows.Next() {
		var typ, name string
		var bounds []byte
		var hash, ns, period int64
		if err := rows.Scan(&typ, &bounds, &name, &hash, &ns, &period); err != nil {
			return nil, s.fail(ctx, op, "", err)
		}
		if typ != "" || name != watermarkName || len(bounds) != 8 {
			continue
		}
		w := storage.Watermark{
			Lo:   binary.BigEndian.Uint32(bounds),
			Hi:   binary.BigEndian.Uint32(bounds[4:]),
			Time: time.Unix(0, ns).UTC(),
		}
		if w.Lo <= hi && w.Hi >= lo {
			out = append(out, w)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, "", err)
	}
	return out, nil
}
