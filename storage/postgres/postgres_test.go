package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/storagetest"
)

var dsn = storagetest.Addr("QUARK_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// The server is probed once per package; the pool is shared by all tests.
var probe struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if probe.pool != nil {
		probe.pool.Close()
	}
	os.Exit(code)
}

func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	probe.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			probe.err = err
			return
		}
		cfg.MaxConns = 40
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			if err = pool.Ping(ctx); err != nil {
				pool.Close()
			}
		}
		probe.pool, probe.err = pool, err
		if err != nil {
			probe.pool = nil
		}
	})
	if probe.err != nil {
		storagetest.Unreachable(t, "postgresql", dsn, probe.err)
	}
	return probe.pool
}

// tableName returns a table name unique to this test process.
func tableName() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("quarktest_%d_%x", os.Getpid(), b)
}

// dropTable removes table, its sequence and its reminders table when the
// test ends.
func dropTable(t testing.TB, pool *pgxpool.Pool, table string) {
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			t.Errorf("drop table %s: %v", table, err)
		}
		if _, err := pool.Exec(ctx, "DROP SEQUENCE IF EXISTS "+pgx.Identifier{table + "_version"}.Sanitize()); err != nil {
			t.Errorf("drop sequence of %s: %v", table, err)
		}
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table + "_reminders"}.Sanitize()); err != nil {
			t.Errorf("drop reminders table of %s: %v", table, err)
		}
	})
}

// newStore returns a store on a fresh table, dropped at cleanup.
func newStore(t testing.TB) *Store {
	t.Helper()
	pool := testPool(t)
	table := tableName()
	s, err := New(context.Background(), pool, table)
	if err != nil {
		t.Fatal(err)
	}
	dropTable(t, pool, table)
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) storage.Store { return newStore(t) },
		Corrupt: func(t *testing.T, st storage.Store, key string) {
			s := st.(*Store)
			tag, err := s.pool.Exec(context.Background(),
				"UPDATE "+s.table+` SET value = value || '\x00'::bytea WHERE key = $1`, escapeKey(key))
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("damage %q: %v, %d rows", key, err, tag.RowsAffected())
			}
		},
	})
}

func TestReminderConformance(t *testing.T) {
	storagetest.RunReminders(t, func(t *testing.T) storage.ReminderStore { return newStore(t) })
}

func TestTableNames(t *testing.T) {
	for _, ok := range []string{"t", "quark_state", "Quark.State_2", "_x", strings.Repeat("a", 53)} {
		if _, _, err := parseTable(ok); err != nil {
			t.Errorf("parseTable(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "a.", ".a", "a.b.c", "1t", "t-x", `t"; DROP TABLE x; --`, "t x", "tä", strings.Repeat("a", 54)} {
		if _, _, err := parseTable(bad); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
			t.Errorf("parseTable(%q): %v, want InvalidArgument", bad, err)
		}
	}
	tbl, seq, _ := parseTable("Sch.Tab")
	if got := tbl.Sanitize(); got != `"Sch"."Tab"` {
		t.Errorf("table = %s", got)
	}
	if got := seq.Sanitize(); got != `"Sch"."Tab_version"` {
		t.Errorf("sequence = %s", got)
	}
}

func TestEscapeKey(t *testing.T) {
	cases := map[string]string{
		"bank.Account/alice": "bank.Account/alice",
		"ä ö/ü":              "ä ö/ü",
		"a\x00b":             `a\0b`,
		`a\0b`:               `a\\0b`,
		"a\xffb":             `a\xffb`,
		`a\xffb`:             `a\\xffb`,
	}
	seen := map[string]string{}
	for in, want := range cases {
		got := escapeKey(in)
		if got != want {
			t.Errorf("escapeKey(%q) = %q, want %q", in, got, want)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%q and %q both escape to %q", prev, in, got)
		}
		seen[got] = in
	}
}

func TestVersionsNeverRepeat(t *testing.T) {
	s := newStore(t)
	defer s.Close()
	ctx := context.Background()
	seen := map[string]bool{}
	etag := ""
	for range 3 {
		var err error
		if etag, err = s.Write(ctx, "k", []byte("v"), ""); err != nil {
			t.Fatal(err)
		}
		if seen[etag] {
			t.Fatalf("ETag %s came back after delete and create", etag)
		}
		seen[etag] = true
		if err := s.Delete(ctx, "k", etag); err != nil {
			t.Fatal(err)
		}
	}
	// An ETag from before the delete does not match the new record.
	next, err := s.Write(ctx, "k", []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, "k", []byte("w"), etag); quarkerr.CodeOf(err) != quarkerr.Conflict {
		t.Fatalf("write with the ETag of a deleted record: %v, want Conflict", err)
	}
	if _, err := s.Write(ctx, "k", []byte("w"), "not-a-version"); quarkerr.CodeOf(err) != quarkerr.Conflict ||
		!strings.Contains(err.Error(), next) {
		t.Fatalf("write with a malformed ETag: %v, want Conflict naming %s", err, next)
	}
}

func TestConflictNamesStoredVersion(t *testing.T) {
	s := newStore(t)
	defer s.Close()
	ctx := context.Background()
	e1, err := s.Write(ctx, "k", []byte("1"), "")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := s.Write(ctx, "k", []byte("2"), e1)
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"create":       second(s.Write(ctx, "k", []byte("x"), "")),
		"stale write":  second(s.Write(ctx, "k", []byte("x"), e1)),
		"stale delete": s.Delete(ctx, "k", e1),
		"blind delete": s.Delete(ctx, "k", ""),
	} {
		if quarkerr.CodeOf(err) != quarkerr.Conflict || !strings.Contains(err.Error(), `"`+e2+`"`) {
			t.Errorf("%s: %v, want a Conflict naming version %s", what, err, e2)
		}
	}
	err = s.Delete(ctx, "missing", e1)
	if quarkerr.CodeOf(err) != quarkerr.Conflict || !strings.Contains(err.Error(), "nothing is stored") {
		t.Errorf("delete of a missing key with an ETag: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestLimits(t *testing.T) {
	s := newStore(t)
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Write(ctx, "big", make([]byte, MaxValueSize+1), ""); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("write over the limit: %v, want InvalidArgument", err)
	}
	for what, err := range map[string]error{
		"read":   second(s.Read(ctx, "")),
		"write":  second(s.Write(ctx, "", nil, "")),
		"delete": s.Delete(ctx, "", ""),
	} {
		if quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
			t.Errorf("%s with an empty key: %v, want InvalidArgument", what, err)
		}
	}
	if _, err := New(ctx, testPool(t), "bad-name"); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Errorf("New with a bad table name: %v", err)
	}
}

func TestSchemaQualified(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	schema := tableName()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	s, err := New(ctx, pool, schema+".State")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.Write(ctx, "k", []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "State"}.Sanitize()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in %s.State: %d, %v", schema, n, err)
	}
	if r, err := s.Read(ctx, "k"); err != nil || string(r.Value) != "v" || r.ETag != e {
		t.Fatalf("read: %q %q, %v", r.Value, r.ETag, err)
	}
}

func TestOpenOwnsPool(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	table := tableName()
	dropTable(t, pool, table)
	s, err := Open(ctx, dsn, table)
	if err != nil {
		t.Fatal(err)
	}
	etag, err := s.Write(ctx, "k", []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for what, err := range map[string]error{
		"read":   second(s.Read(ctx, "k")),
		"write":  second(s.Write(ctx, "k", nil, etag)),
		"delete": s.Delete(ctx, "k", etag),
	} {
		if quarkerr.CodeOf(err) != quarkerr.Unavailable {
			t.Errorf("%s after Close: %v, want Unavailable", what, err)
		}
	}
	if err := s.pool.Ping(ctx); err == nil {
		t.Error("Close left the store's own pool open")
	}
	// The value outlives the store.
	s2, err := New(ctx, pool, table)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s2.Read(ctx, "k"); err != nil || r.ETag != etag {
		t.Fatalf("read from a new store: %q, %v", r.ETag, err)
	}
	s2.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("Close of a store from New closed the caller's pool: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "t")
	if quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("open against a closed port: %v, want Unavailable", err)
	}
	if _, err := Open(ctx, "postgres://%zz", "t"); quarkerr.CodeOf(err) != quarkerr.InvalidArgument {
		t.Fatalf("open with a malformed DSN: %v, want InvalidArgument", err)
	}
}

func TestDeadlineDuringQuery(t *testing.T) {
	s := newStore(t)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Hold the row locked so the write waits until the deadline.
	tx, err := s.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "INSERT INTO "+s.table+" (key, value, version, crc) VALUES ('k', '', 1, 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, "k", []byte("v"), ""); quarkerr.CodeOf(err) != quarkerr.Timeout {
		t.Fatalf("write blocked past its deadline: %v, want Timeout", err)
	}
}

// BenchmarkLatency50 measures save and load latency with 50 concurrent
// writers, each saving then loading its own key, and reports the p99 of
// each.
func BenchmarkLatency50(b *testing.B) {
	s := newStore(b)
	defer s.Close()
	ctx := context.Background()
	const writers = 50
	value := make([]byte, 256)
	per := b.N/writers + 1
	saves := make([][]time.Duration, writers)
	loads := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("bench/%d", w)
			etag := ""
			for range per {
				start := time.Now()
				var err error
				if etag, err = s.Write(ctx, key, value, etag); err != nil {
					b.Error(err)
					return
				}
				mid := time.Now()
				if _, err := s.Read(ctx, key); err != nil {
					b.Error(err)
					return
				}
				saves[w] = append(saves[w], mid.Sub(start))
				loads[w] = append(loads[w], time.Since(mid))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(p99(saves).Seconds()*1e3, "p99-save-ms")
	b.ReportMetric(p99(loads).Seconds()*1e3, "p99-load-ms")
}

func p99(per [][]time.Duration) time.Duration {
	all := slices.Concat(per...)
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	return all[len(all)*99/100]
}

// BenchmarkWrites1000 measures committed writes of 256-byte values from
// 1,000 concurrent writers, each to its own key.
func BenchmarkWrites1000(b *testing.B) {
	s := newStore(b)
	defer s.Close()
	ctx := context.Background()
	value := make([]byte, 256)
	const writers = 1000
	per := b.N/writers + 1
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("bench/%d", w)
			etag := ""
			for range per {
				var err error
				if etag, err = s.Write(ctx, key, value, etag); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "writes/s")
}

// TestLayoutIsAsDocumented backs docs/storage.md: a record is a row keyed by
// the storage key, with its value, its version (the ETag) and a checksum.
func TestLayoutIsAsDocumented(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const key = "bank.Account:str:alice"
	etag, err := s.Write(ctx, key, []byte("value"), "")
	if err != nil {
		t.Fatal(err)
	}
	var value []byte
	var version int64
	var crc int32
	err = s.pool.QueryRow(ctx, "SELECT value, version, crc FROM "+s.table+" WHERE key = $1", key).Scan(&value, &version, &crc)
	if err != nil {
		t.Fatalf("row keyed %q: %v", key, err)
	}
	if string(value) != "value" || etagOf(version) != etag {
		t.Fatalf("row keyed %q: value %q, version %d; want %q and the ETag %s", key, value, version, "value", etag)
	}
}
