package quark

import "testing"

// TestIDWindowAcceptsLateFrames numbers frames as a connection does and
// delivers one of them after more than the window's worth of later ones (a
// sender held up between numbering its frame and sending it): it is new
// once, then a duplicate.
func TestIDWindowAcceptsLateFrames(t *testing.T) {
	var w idWindow
	const late = 3
	last := uint64(late + idWindowSize + 10)
	for id := uint64(1); id <= last; id++ {
		if id != late && !w.fresh(id) {
			t.Fatalf("fresh(%d) = false for a new ID", id)
		}
	}
	if !w.fresh(late) {
		t.Fatalf("fresh(%d) = false for a frame %d IDs late, never seen", late, last-late)
	}
	if w.fresh(late) {
		t.Fatalf("fresh(%d) = true the second time", late)
	}
	for _, id := range []uint64{1, 2, late + 1, last - idWindowSize, last - 1, last} {
		if w.fresh(id) {
			t.Errorf("fresh(%d) = true for a duplicate", id)
		}
	}
}

// TestIDWindowJump skips more than a window's worth of IDs at once: the
// unseen IDs of the old window, the first skipped ones (up to the bound on
// late IDs) and those of the new window are new once when they arrive; the
// seen ones stay duplicates.
func TestIDWindowJump(t *testing.T) {
	var w idWindow
	for id := uint64(1); id <= 10; id++ {
		if id != 5 {
			w.fresh(id)
		}
	}
	far := uint64(10 + 3*idWindowSize)
	if !w.fresh(far) {
		t.Fatal("fresh(far) = false")
	}
	for _, id := range []uint64{5, 11, 12, far - idWindowSize + 1, far - 1} {
		if !w.fresh(id) {
			t.Errorf("fresh(%d) = false for an ID never seen", id)
		}
		if w.fresh(id) {
			t.Errorf("fresh(%d) = true the second time", id)
		}
	}
	for _, id := range []uint64{1, 4, 6, 10, far} {
		if w.fresh(id) {
			t.Errorf("fresh(%d) = true for a duplicate", id)
		}
	}
}

// TestIDWindowLateBound checks that the IDs remembered behind the window
// stay bounded when many are never sent (numbered, then not sent because
// encoding failed).
func TestIDWindowLateBound(t *testing.T) {
	var w idWindow
	for id := uint64(1); id <= 4*idWindowSize; id += 2 {
		w.fresh(id)
	}
	if n := len(w.late); n > idLateMax {
		t.Fatalf("%d late IDs remembered, bound %d", n, idLateMax)
	}
}
