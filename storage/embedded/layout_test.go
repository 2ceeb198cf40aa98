package embedded

import (
	"context"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestLayoutIsAsDocumented backs docs/storage.md: a record is kept in the
// bucket quark.records under the storage key as it is, its value starting
// with the format byte 1.
func TestLayoutIsAsDocumented(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "quark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const key = "bank.Account:str:alice"
	if _, err := s.Write(context.Background(), key, []byte("value"), ""); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("quark.records"))
		if b == nil {
			t.Fatal("no bucket quark.records")
		}
		v := b.Get([]byte(key))
		if len(v) == 0 || v[0] != 1 {
			t.Fatalf("record under %q: %x, want the format byte 1 first", key, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
