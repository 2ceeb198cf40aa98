package quark

import (
	"testing"
	"time"
)

// sliceRun offers calls inline to an idle activation, one after another, each
// finished before the next, the fine clock advancing step per call, and
// returns the indexes of the calls whose caller was told to yield. A call
// told to yield is offered again, as route does, and must then run.
func sliceRun(t *testing.T, start, step int64, calls int) (yields []int) {
	t.Helper()
	m := turns{status: statusValid}
	now := start
	clock := func() int64 { return now }
	slice := int64(50 * time.Microsecond)
	for i := range calls {
		e := &Envelope{}
		var act actions
		r := m.offer(e, true, false, 0, clock, slice, 100, &act)
		if r == admitYield {
			yields = append(yields, i)
			r = m.offer(e, true, false, 0, clock, slice, 100, &act)
		}
		if r != admitInline {
			t.Fatalf("offer at %d: %d, want inline", now, r)
		}
		m.finish(e, 0, &act)
		now += step
	}
	return yields
}

// TestInlineSliceByTime: a caller calling an activation in a tight loop is
// told to yield once the activation has admitted calls for a whole slice,
// counted from the first look at the clock after the last yield, never
// sooner and not much later (it looks every sliceCheck calls), however many
// calls that takes, but never before 2*sliceCheck calls; across the wrap of
// the slice stamp too.
func TestInlineSliceByTime(t *testing.T) {
	const slice = int64(50 * time.Microsecond)
	for _, tc := range []struct {
		name        string
		start, step int64
	}{
		{"fast calls", 1, 100},
		{"slower calls", 1, 2_000},
		{"across the stamp's wrap", 1<<26 - 300_000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 20_000
			yields := sliceRun(t, tc.start, tc.step, calls)
			// A slice begins sliceCheck calls after a yield (or the
			// start) and ends at the first look that finds it spent; a
			// stamp is off by at most 1,024 ns.
			look := sliceCheck * tc.step
			stamp := int64(2048)
			minCalls := max(2*sliceCheck-1, int(look-tc.step+slice-stamp)/int(tc.step))
			maxCalls := int(look+slice+look+stamp) / int(tc.step)
			if len(yields) < 2 {
				t.Fatalf("told to yield %d times", len(yields))
			}
			prev := 0
			for i, y := range yields {
				if n := y - prev; n < minCalls || n > maxCalls {
					t.Fatalf("yield %d after %d calls (%v), want %d to %d calls", i, n, time.Duration(int64(n)*tc.step), minCalls, maxCalls)
				}
				prev = y
			}
			if want := calls / maxCalls; len(yields) < want {
				t.Fatalf("%d yields in %d calls, want at least %d", len(yields), calls, want)
			}
		})
	}
}

// TestInlineSliceNotByCount: however many calls an activation admits, a
// caller is not told to yield while the clock shows the slice unspent.
func TestInlineSliceNotByCount(t *testing.T) {
	if yields := sliceRun(t, 1, 0, 100_000); len(yields) != 0 {
		t.Fatalf("told to yield %d times with the clock standing still", len(yields))
	}
}
