package storage

import (
	"context"
	"strconv"
	"time"

	"github.com/quarkgo/quark/quarkerr"
)

// Reminder is a durable reminder as stored: which actor, which name, when it
// first falls due and how often it repeats. Ticks are not stored: the
// schedule is First plus whole periods.
type Reminder struct {
	// ActorType and ActorKey (the key's binary form) name the actor.
	ActorType string
	ActorKey  []byte
	// Name is unique per actor.
	Name string
	// Hash places the reminder on the ring of reminder owners; it is a hash
	// of the actor's identity, so all of an actor's reminders sit together.
	Hash uint32
	// First is when the reminder first falls due.
	First time.Time
	// Period separates ticks.
	Period time.Duration
	// Damaged is set by Reminders, in place of failing the whole listing,
	// for a stored row it cannot decode: it says what is wrong, and the
	// other fields hold what could be read. Such a row is left as it is in
	// the store; the runtime logs, counts and skips it.
	Damaged error
}

// Watermark is how far the owner of a ring range has delivered reminder
// ticks: every tick scheduled at or before Time of every reminder whose
// Hash is in [Lo, Hi] has been delivered. A silo saves its range's
// watermark every few seconds and when it stops, never per tick; on start
// it fires only the reminders with a scheduled tick after the watermark and
// not after now. A range whose watermark is unknown fires every reminder
// whose latest tick has passed, once.
type Watermark struct {
	Lo, Hi uint32
	Time   time.Time
}

// RangeKey names w's range, "lo-hi" in decimal: the key providers store
// the watermark under and name in errors.
func (w Watermark) RangeKey() string {
	return strconv.FormatUint(uint64(w.Lo), 10) + "-" + strconv.FormatUint(uint64(w.Hi), 10)
}

// CheckWatermark is the check every provider makes before SaveWatermark:
// CheckCall's, for w's range key, and an empty range InvalidArgument.
func CheckWatermark(ctx context.Context, op string, w Watermark, closed bool) error {
	if err := CheckCall(ctx, op, w.RangeKey(), closed); err != nil {
		return err
	}
	if w.Lo > w.Hi {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: empty range [%d, %d]", op, w.Lo, w.Hi)
	}
	return nil
}

// ReminderStore keeps reminders and the watermarks of their owners. A
// provider that can hold reminders implements it beside Store; errors
// follow Store's rules. Implementations are safe for concurrent use.
type ReminderStore interface {
	// SaveReminder stores r, replacing the reminder of the same actor and
	// name.
	SaveReminder(ctx context.Context, r Reminder) error
	// DeleteReminder removes the named reminder of an actor; removing one
	// that does not exist succeeds.
	DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error
	// Reminders returns every reminder whose Hash is in [lo, hi], in no
	// particular order: the range a silo owns. A row that cannot be decoded
	// is returned with Damaged set rather than failing the listing.
	Reminders(ctx context.Context, lo, hi uint32) ([]Reminder, error)
	// SaveWatermark stores w, replacing the watermark saved for exactly
	// the same range. Watermarks of other ranges are kept.
	SaveWatermark(ctx context.Context, w Watermark) error
	// Watermarks returns every saved watermark whose range overlaps
	// [lo, hi], in no particular order.
	Watermarks(ctx context.Context, lo, hi uint32) ([]Watermark, error)
}
