package embedded

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/quarkgo/quark/quarkerr"
	bolterrors "go.etcd.io/bbolt/errors"
)

// TestOpenLockedStoreNamesTheLock: a store file held by another Open (here
// in this process: bbolt's flock belongs to the open file description, so a
// second Open of the same path waits for the first like another process
// would) fails with Unavailable naming the lock and the path, not only
// "timeout". The wait for the lock runs on synctest's fake clock.
func TestOpenLockedStoreNamesTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quark.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	synctest.Test(t, func(t *testing.T) {
		second, err := Open(path)
		if err == nil {
			second.Close()
			t.Fatal("a second Open of a held store succeeded")
		}
		if quarkerr.CodeOf(err) != quarkerr.Unavailable || !errors.Is(err, bolterrors.ErrTimeout) {
			t.Fatalf("second Open: %v (code %v), want Unavailable wrapping bbolt's timeout", err, quarkerr.CodeOf(err))
		}
		for _, want := range []string{path, "locked by another process"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("second Open: %q does not name %q", err, want)
			}
		}
	})
}
