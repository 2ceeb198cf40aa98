package embedded

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	bolt "go.etcd.io/bbolt"
)

// TestRemindersDamagedRecord: a reminder record that cannot be decoded is
// listed with Damaged set beside the good ones, not as a failure of the
// whole listing, and is left as it is on disk.
func TestRemindersDamagedRecord(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	good := storage.Reminder{ActorType: "T", ActorKey: []byte("k"), Name: "good", Hash: 5, First: time.Unix(100, 0), Period: time.Minute}
	if err := s.SaveReminder(ctx, good); err != nil {
		t.Fatal(err)
	}
	s.Close()
	bad := []struct{ k, v []byte }{
		{reminderKey(6, "T", []byte("k"), "short value"), []byte{1, 2, 3}},
		{[]byte{0, 0, 0, 7, 0xff}, make([]byte, 16)}, // a key that does not decode
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range bad {
			if err := tx.Bucket(reminderBucket).Put(b.k, b.v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Reminders(ctx, 0, 10)
	if err != nil {
		t.Fatalf("listing with damaged records: %v", err)
	}
	damaged := 0
	for _, r := range all {
		if r.Damaged != nil {
			damaged++
			if quarkerr.CodeOf(r.Damaged) != quarkerr.Corrupt {
				t.Fatalf("damage reported as %v", r.Damaged)
			}
		} else if r.Name != "good" {
			t.Fatalf("unexpected reminder %+v", r)
		}
	}
	if len(all) != 3 || damaged != 2 {
		t.Fatalf("listed %d reminders, %d damaged; want 3 and 2", len(all), damaged)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range bad {
			if v := tx.Bucket(reminderBucket).Get(b.k); !bytes.Equal(v, b.v) {
				t.Errorf("damaged record %x changed to %x", b.k, v)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
