// Package postgres is a storage.Store kept in a PostgreSQL table, for
// clusters whose silos share one database.
//
//	st, err := postgres.Open(ctx, "postgres://quark@db:5432/quark", "quark_state")
//	defer st.Close()
//
// or, sharing a pool the application already has:
//
//	st, err := postgres.New(ctx, pool, "quark.state")
//
// New creates the table (and its version sequence) when absent:
//
//	CREATE TABLE IF NOT EXISTS <table> (
//		key     TEXT PRIMARY KEY,
//		value   BYTEA NOT NULL,
//		version BIGINT NOT NULL,
//		crc     INTEGER NOT NULL
//	);
//	CREATE SEQUENCE IF NOT EXISTS <table>_version;
//
// and, beside it, the table of reminders (the store is also a
// storage.ReminderStore):
//
//	CREATE TABLE IF NOT EXISTS <table>_reminders (
//		actor_type TEXT NOT NULL,
//		actor_key  BYTEA NOT NULL,
//		name       TEXT NOT NULL,
//		hash       BIGINT NOT NULL,
//		first_ns   BIGINT NOT NULL,
//		period_ns  BIGINT NOT NULL,
//		PRIMARY KEY (actor_type, actor_key, name),
//		UNIQUE (hash, actor_type, actor_key, name)
//	);
//
// A reminder's hash (a uint32) is stored as it is in the BIGINT, its first
// due time as nanoseconds since the Unix epoch and its period in
// nanoseconds. The UNIQUE constraint adds nothing to the primary key's
// uniqueness: it is the index on hash that Reminders' range scans use, made
// with the table so that PostgreSQL names it. A reminder's actor type and
// name are stored as they are, so they must be valid UTF-8 without NUL.
//
// The table name is made of identifier characters (letters, digits and
// underscores, not starting with a digit), optionally qualified by a schema
// ("schema.table"); each part is quoted, so it is case-sensitive. The last
// part is at most 53 characters, so that "<table>_reminders" fits
// PostgreSQL's identifier limit.
//
// A record's ETag is its version column in decimal. Every write takes its
// new version from the table's sequence, so versions only grow and an ETag
// never comes back, not even after the key is deleted and created again.
// Writes are single conditional statements: a create is an INSERT ... ON
// CONFLICT DO NOTHING and a replace an UPDATE ... WHERE version = <ETag>, so
// of two writers racing from the same version exactly one wins.
//
// The crc column holds the CRC-32C (Castagnoli) of the value; Read checks it
// and reports a mismatch as a Corrupt error, leaving the row as it is.
//
// Keys are Go strings, which may hold bytes a TEXT column cannot (NUL,
// invalid UTF-8). They are stored escaped: a backslash becomes `\\`, a NUL
// `\0`, and each byte that is not part of valid UTF-8 `\xHH`; every other
// key is stored as it is.
//
// # Deadlines
//
// Every call ends when ctx ends: waiting for a pooled connection,
// connecting (dial and startup) and each statement. On a statement, pgx's
// default context handler sets the socket's deadline to now when ctx ends,
// so the call returns at once with Timeout or Canceled and the connection
// is closed; a pool given to New with another handler (for example one
// that first sends a cancel request) returns as late as that handler
// waits. A write or delete that ends this way after its statement was sent
// has an unknown outcome: the server may still commit it. A statement
// ended by the server's statement_timeout (SQLSTATE 57014) is Timeout too.
//
// # Retries and idempotence
//
// Neither pgx nor the store sends a statement twice: pgx retries nothing
// once a statement may have reached the server, and the store retries
// nothing. A write or delete whose reply is lost (the connection drops
// after the statement was sent) fails with Unavailable, meaning its outcome
// is unknown: read the record to learn it. A Conflict always means the
// conditional statement ran and changed nothing. Serialization failures
// (SQLSTATE 40001) and deadlocks (40P01) are Unavailable too: the statement
// was rolled back and may succeed if tried again. A single-statement write
// meets them only when sessions run at REPEATABLE READ or SERIALIZABLE (for
// example with default_transaction_isolation set on the database).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
)

// MaxValueSize bounds one stored value: 64 MiB.
const MaxValueSize = 64 << 20

// Store is a storage.Store in a PostgreSQL table. It is safe for concurrent
// use.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	closed  atomic.Bool

	table string // quoted
	// Statements, built once for the table.
	qRead, qVersion, qInsert, qUpdate, qDelete string
	// Statements on the reminders table.
	qSaveReminder, qDeleteReminder, qReminders string
}

var (
	_ storage.Store         = (*Store)(nil)
	_ storage.ReminderStore = (*Store)(nil)
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxIdent is PostgreSQL's identifier length limit (NAMEDATALEN-1); longer
// names would be silently truncated.
const maxIdent = 63

// The suffixes of the names derived from the table's; the longest bounds the
// table name.
const (
	seqSuffix       = "_version"
	remindersSuffix = "_reminders"
)

// parseTable validates name and returns the identifiers of the table and of
// its version sequence.
func parseTable(name string) (table, seq pgx.Identifier, err error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return nil, nil, quarkerr.Errorf(quarkerr.InvalidArgument, "postgres store: table name %q: more than one schema qualifier", name)
	}
	for _, p := range parts {
		if !identRE.MatchString(p) || len(p) > maxIdent {
			return nil, nil, quarkerr.Errorf(quarkerr.InvalidArgument, "postgres store: table name %q: %q is not an identifier of at most %d letters, digits and underscores", name, p, maxIdent)
		}
	}
	last := parts[len(parts)-1]
	if len(last)+len(remindersSuffix) > maxIdent {
		return nil, nil, quarkerr.Errorf(quarkerr.InvalidArgument, "postgres store: table name %q: over %d characters", name, maxIdent-len(remindersSuffix))
	}
	table = pgx.Identifier(parts)
	return table, derived(table, seqSuffix), nil
}

// derived returns the identifier of table with suffix appended to its last
// part.
func derived(table pgx.Identifier, suffix string) pgx.Identifier {
	id := append(pgx.Identifier(nil), table...)
	id[len(id)-1] += suffix
	return id
}

// New returns a store keeping its records in table, creating the table and
// its sequence when absent. The store uses pool but does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, table string) (*Store, error) {
	if pool == nil {
		return nil, quarkerr.New(quarkerr.InvalidArgument, "postgres store: nil pool")
	}
	tid, sid, err := parseTable(table)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckContext(ctx, "open postgres store", table); err != nil {
		return nil, err
	}
	t, seq := tid.Sanitize(), sid.Sanitize()
	rt := derived(tid, remindersSuffix).Sanitize()
	s := &Store{
		pool:     pool,
		table:    t,
		qRead:    "SELECT value, version, crc FROM " + t + " WHERE key = $1",
		qVersion: "SELECT version FROM " + t + " WHERE key = $1",
		qInsert: "INSERT INTO " + t + " (key, value, version, crc) VALUES ($1, $2, nextval('" + seq + "'), $3)" +
			" ON CONFLICT (key) DO NOTHING RETURNING version",
		qUpdate: "UPDATE " + t + " SET value = $2, crc = $3, version = nextval('" + seq + "')" +
			" WHERE key = $1 AND version = $4 RETURNING version",
		qDelete: "DELETE FROM " + t + " WHERE key = $1 AND version = $2",
		qSaveReminder: "INSERT INTO " + rt + " (actor_type, actor_key, name, hash, first_ns, period_ns) VALUES ($1, $2, $3, $4, $5, $6)" +
			" ON CONFLICT (actor_type, actor_key, name) DO UPDATE" +
			" SET hash = EXCLUDED.hash, first_ns = EXCLUDED.first_ns, period_ns = EXCLUDED.period_ns",
		qDeleteReminder: "DELETE FROM " + rt + " WHERE actor_type = $1 AND actor_key = $2 AND name = $3",
		qReminders: "SELECT actor_type, actor_key, name, hash, first_ns, period_ns FROM " + rt +
			" WHERE hash BETWEEN $1 AND $2",
	}
	for _, ddl := range []string{
		"CREATE TABLE IF NOT EXISTS " + t + " (key TEXT PRIMARY KEY, value BYTEA NOT NULL, version BIGINT NOT NULL, crc INTEGER NOT NULL)",
		"CREATE SEQUENCE IF NOT EXISTS " + seq,
		"CREATE TABLE IF NOT EXISTS " + rt + " (actor_type TEXT NOT NULL, actor_key BYTEA NOT NULL, name TEXT NOT NULL," +
			" hash BIGINT NOT NULL, first_ns BIGINT NOT NULL, period_ns BIGINT NOT NULL," +
			" PRIMARY KEY (actor_type, actor_key, name), UNIQUE (hash, actor_type, actor_key, name))",
	} {
		if _, err := pool.Exec(ctx, ddl); err != nil {
			return nil, s.fail(ctx, "open postgres store", table, err)
		}
	}
	return s, nil
}

// Open connects to the database dsn names (a PostgreSQL URL or key=value
// string, as pgxpool.ParseConfig takes) and returns a store on table, as
// New. The store owns its connection pool: Close closes it.
func Open(ctx context.Context, dsn, table string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, quarkerr.Errorf(quarkerr.InvalidArgument, "open postgres store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, quarkerr.Errorf(quarkerr.Unavailable, "open postgres store: %w", err)
	}
	s, err := New(ctx, pool, table)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

func (s *Store) check(ctx context.Context, op, key string) error {
	return storage.CheckCall(ctx, op, key, s.closed.Load())
}

// fail turns an error from the database into a typed error.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return quarkerr.Errorf(quarkerr.CodeOf(cerr), "%s %q: %w", op, key, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return quarkerr.Errorf(quarkerr.CodeOf(err), "%s %q: %w", op, key, err)
	}
	if s.closed.Load() {
		return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: store closed: %w", op, key, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		code := quarkerr.Internal
		switch {
		case pgErr.Code == "57014": // query_canceled: statement_timeout
			code = quarkerr.Timeout
		case pgErr.Code == "40001", // serialization_failure
			pgErr.Code == "40P01", // deadlock_detected
			// The transaction was rolled back and may succeed if tried
			// again: retriable, like an outage.
			strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"), // insufficient resources
			strings.HasPrefix(pgErr.Code, "57"), // operator intervention
			strings.HasPrefix(pgErr.Code, "58"): // system error
			code = quarkerr.Unavailable
		case strings.HasPrefix(pgErr.Code, "22"), // data exception
			strings.HasPrefix(pgErr.Code, "54"): // program limit exceeded
			code = quarkerr.InvalidArgument
		}
		return quarkerr.Errorf(code, "%s %q: %w", op, key, err)
	}
	// Anything else failed to reach the server or lost the connection.
	return quarkerr.Errorf(quarkerr.Unavailable, "%s %q: %w", op, key, err)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(value []byte) int32 { return int32(crc32.Checksum(value, castagnoli)) }

// escapeKey maps a key to the text stored for it (see the package doc).
func escapeKey(key string) string {
	clean := true
	for i := 0; i < len(key); {
		r, w := utf8.DecodeRuneInString(key[i:])
		if r == '\\' || r == 0 || (r == utf8.RuneError && w == 1) {
			clean = false
			break
		}
		i += w
	}
	if clean {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); {
		r, w := utf8.DecodeRuneInString(key[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == 0:
			b.WriteString(`\0`)
		case r == utf8.RuneError && w == 1:
			fmt.Fprintf(&b, `\x%02x`, key[i])
		default:
			b.WriteString(key[i : i+w])
		}
		i += w
	}
	return b.String()
}

func etagOf(version int64) string { return strconv.FormatInt(version, 10) }

// current returns the stored ETag of key, "" if none, for the message of a
// Conflict error; a failure to read it reads as "".
func (s *Store) current(ctx context.Context, k string) string {
	var v int64
	if err := s.pool.QueryRow(ctx, s.qVersion, k).Scan(&v); err != nil {
		return ""
	}
	return etagOf(v)
}

// conflict returns the Conflict error of op on key expecting want, naming
// the version now stored.
func (s *Store) conflict(ctx context.Context, op, key, k, want string) error {
	have := s.current(ctx, k)
	if have == "" && want == "" {
		return quarkerr.Errorf(quarkerr.Conflict, "%s %q: expected nothing stored, found a value that has since been removed", op, key)
	}
	return storage.Conflict(op, key, want, have)
}

// Read implements storage.Store.
func (s *Store) Read(ctx context.Context, key string) (storage.Record, error) {
	if err := s.check(ctx, "read", key); err != nil {
		return storage.Record{}, err
	}
	var value []byte
	var version int64
	var crc int32
	err := s.pool.QueryRow(ctx, s.qRead, escapeKey(key)).Scan(&value, &version, &crc)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Record{}, storage.NotFound(key)
	}
	if err != nil {
		return storage.Record{}, s.fail(ctx, "read", key, err)
	}
	if got := checksum(value); got != crc {
		return storage.Record{}, quarkerr.Errorf(quarkerr.Corrupt, "read %q: stored record damaged: checksum %08x, want %08x", key, uint32(got), uint32(crc))
	}
	if value == nil {
		value = []byte{}
	}
	return storage.Record{Value: value, ETag: etagOf(version)}, nil
}

// Write implements storage.Store. The write is committed when it returns.
func (s *Store) Write(ctx context.Context, key string, value []byte, etag string) (string, error) {
	if err := s.check(ctx, "write", key); err != nil {
		return "", err
	}
	if len(value) > MaxValueSize {
		return "", quarkerr.Errorf(quarkerr.InvalidArgument, "write %q: %d bytes, over the %d-byte limit", key, len(value), MaxValueSize)
	}
	if value == nil {
		value = []byte{} // NULL would break the NOT NULL constraint
	}
	k := escapeKey(key)
	var row pgx.Row
	if etag == "" {
		row = s.pool.QueryRow(ctx, s.qInsert, k, value, checksum(value))
	} else {
		want, err := strconv.ParseInt(etag, 10, 64)
		if err != nil {
			// No stored record can have this ETag.
			return "", s.conflict(ctx, "write", key, k, etag)
		}
		row = s.pool.QueryRow(ctx, s.qUpdate, k, value, checksum(value), want)
	}
	var version int64
	err := row.Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", s.conflict(ctx, "write", key, k, etag)
	}
	if err != nil {
		return "", s.fail(ctx, "write", key, err)
	}
	return etagOf(version), nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string, etag string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	k := escapeKey(key)
	if etag == "" {
		var v int64
		err := s.pool.QueryRow(ctx, s.qVersion, k).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return s.fail(ctx, "delete", key, err)
		}
		return storage.Conflict("delete", key, "", etagOf(v))
	}
	want, err := strconv.ParseInt(etag, 10, 64)
	if err != nil {
		return s.conflict(ctx, "delete", key, k, etag)
	}
	tag, err := s.pool.Exec(ctx, s.qDelete, k, want)
	if err != nil {
		return s.fail(ctx, "delete", key, err)
	}
	if tag.RowsAffected() == 0 {
		return s.conflict(ctx, "delete", key, k, etag)
	}
	return nil
}

// The due times a reminder's first_ns column can hold.
var (
	minFirst = time.Unix(0, math.MinInt64)
	maxFirst = time.Unix(0, math.MaxInt64)
)

func (s *Store) checkReminder(ctx context.Context, op, actorType, name string) error {
	if actorType == "" || name == "" {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s: actor type and reminder name are required", op)
	}
	return s.check(ctx, op, actorType+"/"+name)
}

// SaveReminder implements storage.ReminderStore.
func (s *Store) SaveReminder(ctx context.Context, r storage.Reminder) error {
	const op = "save reminder"
	if err := s.checkReminder(ctx, op, r.ActorType, r.Name); err != nil {
		return err
	}
	if r.First.Before(minFirst) || r.First.After(maxFirst) {
		return quarkerr.Errorf(quarkerr.InvalidArgument, "%s %q: first due time %v outside %v to %v", op, r.ActorType+"/"+r.Name, r.First, minFirst.UTC(), maxFirst.UTC())
	}
	key := r.ActorKey
	if key == nil {
		key = []byte{} // NULL would break the NOT NULL constraint
	}
	_, err := s.pool.Exec(ctx, s.qSaveReminder, r.ActorType, key, r.Name, int64(r.Hash), r.First.UnixNano(), int64(r.Period))
	if err != nil {
		return s.fail(ctx, op, r.ActorType+"/"+r.Name, err)
	}
	return nil
}

// DeleteReminder implements storage.ReminderStore.
func (s *Store) DeleteReminder(ctx context.Context, actorType string, actorKey []byte, name string) error {
	const op = "delete reminder"
	if err := s.checkReminder(ctx, op, actorType, name); err != nil {
		return err
	}
	if actorKey == nil {
		actorKey = []byte{}
	}
	if _, err := s.pool.Exec(ctx, s.qDeleteReminder, actorType, actorKey, name); err != nil {
		return s.fail(ctx, op, actorType+"/"+name, err)
	}
	return nil
}

// Reminders implements storage.ReminderStore.
func (s *Store) Reminders(ctx context.Context, lo, hi uint32) ([]storage.Reminder, error) {
	const op = "list reminders"
	if err := storage.CheckList(ctx, op, s.closed.Load()); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.qReminders, int64(lo), int64(hi))
	if err != nil {
		return nil, s.fail(ctx, op, "", err)
	}
	defer rows.Close()
	var out []storage.Reminder
	for rows.Next() {
		var r storage.Reminder
		var hash, firstNS, periodNS int64
		if err := rows.Scan(&r.ActorType, &r.ActorKey, &r.Name, &hash, &firstNS, &periodNS); err != nil {
			return nil, s.fail(ctx, op, "", err)
		}
		r.Hash = uint32(hash) // in [lo, hi], so a uint32
		r.First = time.Unix(0, firstNS).UTC()
		r.Period = time.Duration(periodNS)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, "", err)
	}
	return out, nil
}

// Close releases the store, closing its pool when Open made it. Calls after
// Close fail with Unavailable.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}
