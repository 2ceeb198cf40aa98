package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/quarkgo/quark/internal/faultproxy"
	"github.com/quarkgo/quark/quarkerr"
)

// guard bounds how long a fault test waits for a call before it fails
// instead of hanging.
const guard = 10 * time.Second

// proxied starts a fault proxy in front of the test server, stopped when
// the test ends.
func proxied(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	testPool(t) // skips when the server is unreachable
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// proxiedPool returns a pool of at most maxConns connections that reach
// the server through p, closed when the test ends (before p is).
func proxiedPool(t *testing.T, p *faultproxy.Proxy, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(n), nil
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Resume first: closing a pool waits for connections being made,
	// which a stall left by a failed test would hold.
	t.Cleanup(func() {
		p.Resume()
		pool.Close()
	})
	return pool
}

// proxiedStore returns a store on a fresh table (dropped at cleanup) whose
// pool reaches the server through p, and a store on the same table that
// reaches it directly.
func proxiedStore(t *testing.T, p *faultproxy.Proxy, maxConns int32) (proxied, direct *Store) {
	t.Helper()
	table := tableName()
	dropTable(t, testPool(t), table)
	s, err := New(context.Background(), proxiedPool(t, p, maxConns), table)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(context.Background(), testPool(t), table)
	if err != nil {
		t.Fatal(err)
	}
	return s, d
}

// unique returns bytes no other request of the test carries, to aim a
// fault at the one request that holds them.
func unique(what string) []byte {
	var b [8]byte
	rand.Read(b[:])
	return []byte(what + "-" + hex.EncodeToString(b[:]))
}

func await(t *testing.T, fired <-chan struct{}) {
	t.Helper()
	select {
	case <-fired:
	case <-time.After(guard):
		t.Fatal("the fault never fired")
	}
}

// pgx does not send a statement again once it may have reached the server,
// so a write or delete whose reply is lost fails with Unavailable (outcome
// unknown), never with a false Conflict.
func TestLostReplyIsNotConflict(t *testing.T) {
	p := proxied(t)
	s, direct := proxiedStore(t, p, 2)
	ctx := context.Background()

	for _, replace := range []bool{false, true} {
		key := string(unique("write"))
		etag := ""
		if replace {
			var err error
			if etag, err = s.Write(ctx, key, []byte("first"), ""); err != nil {
				t.Fatal(err)
			}
		}
		value := unique("value")
		lost := p.LoseReply(value)
		_, err := s.Write(ctx, key, value, etag)
		await(t, lost)
		if quarkerr.CodeOf(err) != quarkerr.Unavailable {
			t.Fatalf("write (replace %v) whose reply was lost: %v, want Unavailable", replace, err)
		}
		rec, err := direct.Read(ctx, key)
		if err != nil || string(rec.Value) != string(value) {
			t.Fatalf("after the lost reply the table holds %q, %v; want the value written", rec.Value, err)
		}
	}

	key := string(unique("delete"))
	etag, err := s.Write(ctx, key, []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}
	lost := p.LoseReply([]byte(key))
	err = s.Delete(ctx, key, etag)
	await(t, lost)
	if quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("delete whose reply was lost: %v, want Unavailable", err)
	}
	if _, err := direct.Read(ctx, key); quarkerr.CodeOf(err) != quarkerr.NotFound {
		t.Fatalf("after the lost reply: %v, want NotFound (the delete happened)", err)
	}
}

// deadline is the deadline callWithin gives each call.
const deadline = 200 * time.Millisecond

// callWithin runs call with a ctx of the deadline above and fails the test
// unless it returns Timeout well before the guard; the generous bound tells
// returning at the deadline from waiting for the server.
func callWithin(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	select {
	case err := <-done:
		if c := quarkerr.CodeOf(err); c != quarkerr.Timeout {
			t.Fatalf("%s on a stalled server: %v (code %v), want Timeout", what, err, c)
		}
		if took := time.Since(start); took > deadline+2*time.Second {
			t.Fatalf("%s with a %v deadline returned after %v", what, deadline, took)
		}
	case <-time.After(guard):
		t.Fatalf("%s with a %v deadline had not returned after %v", what, deadline, guard)
	}
}

// A stalled server holds no call past its deadline: on an open
// connection, while connecting, and while waiting for the pool's only
// connection, which a stalled call holds.
func TestStalledServerHonoursDeadline(t *testing.T) {
	p := proxied(t)
	s, _ := proxiedStore(t, p, 1)
	ctx := context.Background()
	etag, err := s.Write(ctx, "k", []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}
	p.Stall()
	callWithin(t, "write", func(ctx context.Context) error {
		_, err := s.Write(ctx, "k", []byte("w"), etag)
		return err
	})
	callWithin(t, "read", func(ctx context.Context) error {
		_, err := s.Read(ctx, "k")
		return err
	})
	callWithin(t, "delete", func(ctx context.Context) error { return s.Delete(ctx, "k", etag) })
	callWithin(t, "open", func(ctx context.Context) error {
		_, err := New(ctx, proxiedPool(t, p, 1), tableName())
		return err
	})
	p.Resume()

	// The pool's one connection is held by a read that the stall keeps
	// waiting (WaitHeld proves its request is at the proxy); a write then
	// waits for the pool and must end at its deadline too.
	if _, err := s.Read(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	guardCtx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	held := make(chan error, 1)
	go func() {
		_, err := s.Read(guardCtx, "k")
		held <- err
	}()
	if err := p.WaitHeld(guardCtx, 1); err != nil {
		t.Fatalf("the read never reached the proxy: %v", err)
	}
	callWithin(t, "write waiting for a connection", func(ctx context.Context) error {
		_, err := s.Write(ctx, "k", []byte("w"), etag)
		return err
	})
	p.Resume()
	if err := <-held; err != nil && quarkerr.CodeOf(err) != quarkerr.NotFound {
		t.Fatalf("the held read, after resume: %v", err)
	}
}

func TestRetriableErrorsAreUnavailable(t *testing.T) {
	s := &Store{}
	ctx := context.Background()
	for _, c := range []struct {
		sqlstate string
		want     quarkerr.Code
	}{
		{"40001", quarkerr.Unavailable}, // serialization_failure
		{"40P01", quarkerr.Unavailable}, // deadlock_detected
		{"08006", quarkerr.Unavailable}, // connection_failure
		{"57P01", quarkerr.Unavailable}, // admin_shutdown
		{"57014", quarkerr.Timeout},     // query_canceled
		{"22001", quarkerr.InvalidArgument},
		{"42P01", quarkerr.Internal}, // undefined_table
	} {
		err := s.fail(ctx, "write", "k", &pgconn.PgError{Code: c.sqlstate})
		if got := quarkerr.CodeOf(err); got != c.want {
			t.Errorf("SQLSTATE %s: %v, want %v", c.sqlstate, got, c.want)
		}
	}
}

// A real serialization failure: a session whose transactions are
// serializable updates a row another transaction updated and committed
// while the update waited for its lock. The store reports it as
// Unavailable, which callers may retry.
func TestSerializationFailureIsUnavailable(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "serializable"
	cfg.ConnConfig.RuntimeParams["application_name"] = string(unique("quarktest-serializable"))
	sp, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	table := tableName()
	dropTable(t, pool, table)
	s, err := New(ctx, sp, table)
	if err != nil {
		t.Fatal(err)
	}
	etag, err := s.Write(ctx, "k", []byte("v"), "")
	if err != nil {
		t.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE "+s.table+" SET value = 'other' WHERE key = 'k'"); err != nil {
		t.Fatal(err)
	}
	guardCtx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Write(guardCtx, "k", []byte("w"), etag)
		done <- err
	}()
	// Prove the store's update waits for the row lock before the other
	// transaction commits.
	for {
		var waiting bool
		err := pool.QueryRow(guardCtx,
			"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock')",
			cfg.ConnConfig.RuntimeParams["application_name"]).Scan(&waiting)
		if err != nil {
			t.Fatalf("waiting for the store's update to block: %v", err)
		}
		if waiting {
			break
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "40001" {
		t.Fatalf("write: %v, want SQLSTATE 40001", err)
	}
	if quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("serialization failure: %v, want Unavailable", err)
	}
}

// A call whose ctx is cancelled (no deadline) while the server stalls
// returns Canceled at once.
func TestStalledServerHonoursCancel(t *testing.T) {
	p := proxied(t)
	s, _ := proxiedStore(t, p, 1)
	ctx := context.Background()
	if _, err := s.Write(ctx, "k", []byte("v"), ""); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(cctx, "k")
		done <- err
	}()
	gctx, gcancel := context.WithTimeout(ctx, guard)
	defer gcancel()
	if err := p.WaitHeld(gctx, 1); err != nil {
		t.Fatalf("the read never reached the proxy: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if c := quarkerr.CodeOf(err); c != quarkerr.Canceled {
			t.Fatalf("read cancelled on a stalled server: %v (code %v), want Canceled", err, c)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("read cancelled on a stalled server returned after %v", took)
		}
	case <-time.After(guard):
		t.Fatalf("read cancelled on a stalled server had not returned after %v", guard)
	}
	p.Resume()
}
