package quark_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/embedded"
	"github.com/quarkgo/quark/storage/postgres"
	"github.com/quarkgo/quark/storage/redisstore"
	"github.com/quarkgo/quark/storage/storagetest"
	"github.com/redis/go-redis/v9"
)

// everyStateStore runs f against each storage provider: the memory store, the
// embedded store in a temporary folder, and Redis and PostgreSQL on loopback
// (addresses from QUARK_REDIS_ADDR and QUARK_POSTGRES_DSN), each under a
// prefix or table of its own that is removed when the test ends. An
// unreachable server skips its subtest, or fails it when
// QUARK_REQUIRE_SERVICES=1.
func everyStateStore(t *testing.T, f func(t *testing.T, st storage.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, storage.NewMemory()) })
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "quark.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("redis", func(t *testing.T) { f(t, redisStateStore(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresStateStore(t)) })
}

// stateTestSuffix is unique to one test in this process and run.
func stateTestSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%d_%x", os.Getpid(), b)
}

func redisStateStore(t *testing.T) storage.Store {
	addr := storagetest.Addr("QUARK_REDIS_ADDR", "127.0.0.1:6379")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		storagetest.Unreachable(t, "redis", addr, err)
	}
	prefix := "quarktest:state:" + stateTestSuffix() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = c.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("remove test keys %s*: %v", prefix, err)
		}
		c.Close()
	})
	st := redisstore.New(c, prefix)
	t.Cleanup(func() { st.Close() })
	return st
}

func postgresStateStore(t *testing.T) storage.Store {
	dsn := storagetest.Addr("QUARK_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		storagetest.Unreachable(t, "postgresql", dsn, err)
	}
	table := "quarktest_state_" + stateTestSuffix()
	st, err := postgres.New(ctx, pool, table)
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, drop := range []string{
			"DROP TABLE IF EXISTS " + pgx.Identifier{table}.Sanitize(),
			"DROP TABLE IF EXISTS " + pgx.Identifier{table + "_reminders"}.Sanitize(),
			"DROP SEQUENCE IF EXISTS " + pgx.Identifier{table + "_version"}.Sanitize(),
		} {
			if _, err := pool.Exec(ctx, drop); err != nil {
				t.Errorf("%s: %v", drop, err)
			}
		}
		pool.Close()
	})
	return st
}
