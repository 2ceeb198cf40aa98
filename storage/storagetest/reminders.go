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
	t.Run("UnschedulableRowsKept", func(t *testing.T) {
		// The store keeps rows the runtime cannot schedule as they are: it
		// is the runtime that skips them, and they stay for repair.
		rs := newStore(t)
		p := prefix(t)
		rems := []storage.Reminder{
			{ActorType: p + "A", ActorKey: []byte("k"), Name: "zero", Hash: 1, First: first, Period: 0},
			{ActorType: p + "A", ActorKey: []byte("k"), Name: "negative", Hash: 1, First: first, Period: -time.Minute},
			{ActorType: p + "A", ActorKey: nil, Name: "nokey", Hash: 1, First: first, Period: time.Minute},
		}
		for _, r := range rems {
			if err := rs.SaveReminder(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got := mine(t, rs, p, 0, ^uint32(0))
		for _, r := range rems {
			g, ok := got[r.ActorType+"|"+string(r.ActorKey)+"|"+r.Name]
			if !ok || g.Period != r.Period || g.Damaged != nil {
				t.Fatalf("reminder %q: got %+v", r.Name, g)
			}
		}
	})
	t.Run("Watermarks", func(t *testing.T) {
		rs := newStore(t)
		all := ^uint32(0)
		t1, t2, t3 := first, first.Add(time.Hour), first.Add(2*time.Hour)
		if ws, err := rs.Watermarks(ctx, 0, all); err != nil || len(ws) != 0 {
			t.Fatalf("watermarks of a new store: %v, %v", ws, err)
		}
		for _, w := range []storage.Watermark{{Lo: 0, Hi: all, Time: t1}, {Lo: 10, Hi: 20, Time: t2}, {Lo: 0, Hi: all, Time: t3}} {
			if err := rs.SaveWatermark(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			lo, hi uint32
			want   map[[2]uint32]time.Time
		}{
			{0, all, map[[2]uint32]time.Time{{0, all}: t3, {10, 20}: t2}},
			{0, 5, map[[2]uint32]time.Time{{0, all}: t3}},
			{20, 20, map[[2]uint32]time.Time{{0, all}: t3, {10, 20}: t2}},
			{21, all, map[[2]uint32]time.Time{{0, all}: t3}},
		}
		for _, c := range cases {
			ws, err := rs.Watermarks(ctx, c.lo, c.hi)
			if err != nil {
				t.Fatal(err)
			}
			got := map[[2]uint32]time.Time{}
			for _, w := range ws {
				got[[2]uint32{w.Lo, w.Hi}] = w.Time
			}
			if len(got) != len(c.want) || len(ws) != len(c.want) {
				t.Fatalf("watermarks overlapping [%d, %d]: %v, want %v", c.lo, c.hi, ws, c.want)
			}
			for r, w := range c.want {
				if !got[r].Equal(w) {
					t.Fatalf("watermarks overlapping [%d, %d]: %v, want %v", c.lo, c.hi, ws, c.want)
				}
			}
		}
		// Watermarks are not reminders.
		rems, err := rs.Reminders(ctx, 0, all)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rems {
			if r.ActorType == "" {
				t.Fatalf("a watermark listed as a reminder: %+v", r)
			}
		}
		err = rs.SaveWatermark(ctx, storage.Watermark{Lo: 5, Hi: 4, Time: t1})
		if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
			t.Fatalf("watermark of an empty range: %v", err)
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
