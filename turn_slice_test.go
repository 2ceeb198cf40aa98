package quark

import (
	"testing"
	"time"
)

// sliceRun offers calls inline to an idle activation, one after another, each
// finished before the next, the fine clock advancing step per call, and
// returns the clock readings at which a caller was told to yield. A call told
// to yield is offered again, as route does, and must then run.
func sliceRun(t *testing.T, start, step int64, calls int) (yields []int64) {
	t.Helper()
	m := turns{status: statusValid}
	now := start
	clock := func() int64 { return now }
	slice := int64(50 * time.Microsecond)
	for range calls {
		e := &Envelope{}
		var act actions
		r := m.offer(e, true, false, 0, clock, slice, 100, &act)
		if r == admitYield {
			yields = append(yields, now)
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
// never sooner and not much later (the activation looks at the clock every
// sliceCheck calls), however many calls that takes; across the wrap of the
// slice stamp too.
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
			// The first slice begins at the first look at the clock,
			// sliceCheck calls in; a slice after a yield with the next
			// call. A slice ends at the first look that finds it spent,
			// within sliceCheck calls; a stamp is off by at most 1,024 ns.
			look := sliceCheck * tc.step
			stamp := int64(2048)
			minGap := slice - stamp
			if len(yields) < 2 {
				t.Fatalf("told to yield %d times", len(yields))
			}
			prev := tc.start
			for i, y := range yields {
				gap, maxGap := y-prev, slice+look+stamp
				if i == 0 {
					maxGap += look
				}
				if gap < minGap || gap > maxGap {
					t.Fatalf("yield %d after %v, want within [%v, %v]", i, time.Duration(gap), time.Duration(minGap), time.Duration(maxGap))
				}
				prev = y
			}
			total := int64(calls) * tc.step
			if want := total / (slice + look + stamp); int64(len(yields)) < want {
				t.Fatalf("%d yields in %v, want at least %d", len(yields), time.Duration(total), want)
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
