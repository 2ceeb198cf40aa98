package redisstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/redis/go-redis/v9"
)

// crc16 is the CRC-16/XMODEM Redis Cluster hashes keys with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// slot returns the Redis Cluster slot of key, honouring hash tags as the
// server does: the part between the first '{' and the first '}' after it,
// when not empty.
func slot(key string) uint16 {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					return crc16([]byte(key)) % 16384
				}
			}
			break
		}
	}
	return crc16([]byte(key)) % 16384
}

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]uint16{
		"123456789":            0x31c3,
		"foo":                  12182,
		"somekey":              11058,
		"{user1000}.following": crc16([]byte("user1000")) % 16384,
		"foo{}{bar}":           crc16([]byte("foo{}{bar}")) % 16384,
		"foo{{bar}}zap":        crc16([]byte("{bar")) % 16384,
		"foo{bar}{zap}":        crc16([]byte("bar")) % 16384,
		"no{tag":               crc16([]byte("no{tag")) % 16384,
	} {
		if got := slot(key); got != want {
			t.Errorf("slot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestReminderKeysShareOneSlot: every key the store writes for reminders
// hashes to one Redis Cluster slot, so its multi-key transactions work on a
// cluster.
func TestReminderKeysShareOneSlot(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	for _, name := range []string{"plain", "tagged prefix", "open brace in prefix", "close brace in prefix"} {
		t.Run(name, func(t *testing.T) {
			p := newPrefix()
			switch name {
			case "tagged prefix":
				p = "{app" + p + "}:"
			case "open brace in prefix":
				p += "{x:"
			case "close brace in prefix":
				p += "}x:"
			}
			t.Cleanup(func() { removeAll(t, c, p) })
			s := New(c, p)
			first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range 20 {
				r := storage.Reminder{ActorType: "T", ActorKey: []byte{byte(i)}, Name: "n" + strconv.Itoa(i),
					Hash: uint32(i) * 200_000_000, First: first, Period: time.Minute}
				if err := s.SaveReminder(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteReminder(ctx, "T", []byte{3}, "n3"); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveWatermark(ctx, storage.Watermark{Lo: 0, Hi: ^uint32(0), Time: first}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Reminders(ctx, 0, ^uint32(0)); err != nil {
				t.Fatal(err)
			}
			keys, err := c.Keys(ctx, p+"*").Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) < 20 {
				t.Fatalf("%d keys under the prefix, want at least 20", len(keys))
			}
			want := slot(keys[0])
			for _, k := range keys {
				if got := slot(k); got != want {
					t.Fatalf("key %q in slot %d, key %q in slot %d", keys[0], want, k, got)
				}
			}
		})
	}
}

// TestRemindersDamagedRow: a reminder hash with unreadable fields is listed
// with Damaged set, beside the good ones, and left as it is.
func TestRemindersDamagedRow(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	good := storage.Reminder{ActorType: "T", ActorKey: []byte("k"), Name: "good", Hash: 5,
		First: time.Unix(100, 0), Period: time.Minute}
	if err := s.SaveReminder(ctx, good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Name = "bad"
	if err := s.SaveReminder(ctx, bad); err != nil {
		t.Fatal(err)
	}
	key := s.remKey(reminderID(bad.ActorType, bad.ActorKey, bad.Name))
	if err := s.client.HSet(ctx, key, remFieldPeriod, "soon").Err(); err != nil {
		t.Fatal(err)
	}
	all, err := s.Reminders(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("listed %d reminders, want 2", len(all))
	}
	for _, r := range all {
		if (r.Name == "bad") != (r.Damaged != nil) {
			t.Fatalf("reminder %q: Damaged = %v", r.Name, r.Damaged)
		}
		if r.Damaged != nil && quarkerr.CodeOf(r.Damaged) != quarkerr.Corrupt {
			t.Fatalf("damage reported as %v", r.Damaged)
		}
	}
	if v, _ := s.client.HGet(ctx, key, remFieldPeriod).Result(); v != "soon" {
		t.Fatalf("damaged row changed: period field %q", v)
	}
}

// TestRemindersOldLayoutMigrated: reminders kept under the keys of the
// layout before hash tags are listed and moved to the current layout.
func TestRemindersOldLayoutMigrated(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	id := reminderID("T", []byte("k"), "old")
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.prefix+legacyPrefix+id,
			remFieldType, "T", remFieldKey, "k", remFieldName, "old", remFieldHash, "9",
			remFieldFirst, strconv.FormatInt(time.Unix(100, 0).UnixNano(), 10),
			remFieldPeriod, strconv.FormatInt(int64(time.Hour), 10))
		p.ZAdd(ctx, s.prefix+legacyIndex, redis.Z{Score: 9, Member: id})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second listing reads the migrated copy
		all, err := s.Reminders(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || all[0].Name != "old" || all[0].Period != time.Hour || !all[0].First.Equal(time.Unix(100, 0)) {
			t.Fatalf("listed %+v", all)
		}
	}
	if n, _ := s.client.Exists(ctx, s.prefix+legacyPrefix+id, s.prefix+legacyIndex).Result(); n != 0 {
		t.Fatalf("%d keys of the old layout left", n)
	}
}
