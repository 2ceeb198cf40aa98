package storagetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
)

// RunReminders runs the reminder conformance cases against a provider's
// ReminderStore. Reminders of other tests sharing the backend are ignored:
// every actor type the suite uses carries a prefix unique to the test.
func RunReminders(t *testing.T, newStore func(t *testing.T) storage.ReminderStore) {
	ctx := context.Background()
	first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mine := func(t *testing.T, rs storage.ReminderStore, p string, lo, hi uint32) map[string]storage.Reminder {
		t.Helper()
		all, err := rs.Reminders(ctx, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]storage.Reminder{}
		for _, r := range all {
			if strings.HasPrefix(r.ActorType, p) {
				out[r.ActorType+"|"+string(r.ActorKey)+"|"+r.Name] = r
			}
		}
		return out
	}
	t.Run("SaveListDelete", func(t *testing.T) {
		rs := newStore(t)
		p := prefix(t)
		rems := []storage.Reminder{
			{ActorType: p + "A", ActorKey: []byte("k1"), Name: "daily", Hash: 10, First: first, Period: 24 * time.Hour},
			{ActorType: p + "A", ActorKey: []byte("k1"), Name: "hourly", Hash: 10, First: first, Period: time.Hour},
			{ActorType: p + "A", ActorKey: []byte("k2"), Name: "daily", Hash: 4000000000, First: first, Period: time.Minute},
			{ActorType: p + "B", ActorKey: []byte{0, 1, 2}, Name: "x", Hash: 0, First: first, Period: time.Minute},
		}
		for _, r := range rems {
			if err := rs.SaveReminder(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got := mine(t, rs, p, 0, ^uint32(0))
		if len(got) != len(rems) {
			t.Fatalf("listed %d reminders, want %d", len(got), len(rems))
		}
		for _, r := range rems {
			g, ok := got[r.ActorType+"|"+string(r.ActorKey)+"|"+r.Name]
			if !ok || !g.First.Equal(r.First) || g.Period != r.Period || g.Hash != r.Hash {
				t.Fatalf("reminder %s/%s: got %+v", r.ActorKey, r.Name, g)
			}
		}
		if n := len(mine(t, rs, p, 10, 10)); n != 2 {
			t.Fatalf("range [10,10] listed %d, want 2", n)
		}
		if n := len(mine(t, rs, p, 0, 9)); n != 1 {
			t.Fatalf("range [0,9] listed %d, want 1", n)
		}
		if n := len(mine(t, rs, p, 11, 3999999999)); n != 0 {
			t.Fatalf("range [11,3999999999] listed %d, want 0", n)
		}
		// Saving again replaces.
		r := rems[0]
		r.Period = 12 * time.Hour
		if err := rs.SaveReminder(ctx, r); err != nil {
			t.Fatal(err)
		}
		got = mine(t, rs, p, 10, 10)
		if len(got) != 2 || got[r.ActorType+"|k1|daily"].Period != 12*time.Hour {
			t.Fatalf("replace: %+v", got)
		}
		if err := rs.DeleteReminder(ctx, r.ActorType, r.ActorKey, r.Name); err != nil {
			t.Fatal(err)
		}
		if err := rs.DeleteReminder(ctx, r.ActorType, r.ActorKey, r.Name); err != nil {
			t.Fatalf("deleting a missing reminder: %v", err)
		}
		if n := len(mine(t, rs, p, 0, ^uint32(0))); n != 3 {
			t.Fatalf("after delete: %d reminders, want 3", n)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		rs := newStore(t)
		err := rs.SaveReminder(ctx, storage.Reminder{ActorKey: []byte("k"), Name: "n"})
		if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
			t.Fatalf("reminder without an actor type: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := rs.Reminders(cctx, 0, 1); quarkerr.CodeOf(err) != quarkerr.Canceled {
			t.Fatalf("list with a canceled context: %v", err)
		}
	})
}
