package storage

import (
	"context"
	"time"
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
}

// ReminderStore keeps reminders. A provider that can hold reminders
// implements it beside Store; errors follow Store's rules. Implementations
// are safe for concurrent use.
type ReminderStore interface {
	// SaveReminder stores r, replacing the reminder of the same actor and
	// name.
	SaveReminder(ctx context.Context, r Reminder) error
	// DeleteReminder removes the named reminder of an actor; removing one
	// that does not exist succeeds.
	DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error
	// Reminders returns every reminder whose Hash is in [lo, hi], in no
	// particular order: the range a silo owns.
	Reminders(ctx context.Context, lo, hi uint32) ([]Reminder, error)
}
