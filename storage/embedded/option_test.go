package embedded

import (
	"path/filepath"
	"testing"
	"time"
)

// TestOptions: each option reaches the bbolt database Open configures, and
// the defaults are the documented ones.
func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []Option
		wantDelay  time.Duration
		wantNoSync bool
	}{
		{name: "defaults", wantDelay: time.Millisecond},
		{name: "batch delay", opts: []Option{WithBatchDelay(5 * time.Millisecond)}, wantDelay: 5 * time.Millisecond},
		{name: "sync off", opts: []Option{WithSync(false)}, wantDelay: time.Millisecond, wantNoSync: true},
		{name: "sync on", opts: []Option{WithSync(true)}, wantDelay: time.Millisecond},
		{name: "the later wins", opts: []Option{WithSync(false), WithSync(true), WithBatchDelay(time.Second), WithBatchDelay(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "quark.db"), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.db.MaxBatchDelay != tc.wantDelay || s.db.NoSync != tc.wantNoSync {
				t.Fatalf("batch delay %v, no sync %v; want %v, %v", s.db.MaxBatchDelay, s.db.NoSync, tc.wantDelay, tc.wantNoSync)
			}
		})
	}
}
