package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/quarkgo/quark/internal/faultproxy"
	"github.com/quarkgo/quark/quarkerr"
	"github.com/quarkgo/quark/storage"
	"github.com/redis/go-redis/v9"
)

// guard bounds how long a fault test waits for a call before it fails
// instead of hanging.
const guard = 10 * time.Second

// proxied starts a fault proxy in front of the test server, stopped when
// the test ends.
func proxied(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	client(t) // skips when the server is unreachable
	p, err := faultproxy.Start(addr)
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

// faultStores returns, for each way a store gets its client, a store that
// reaches the server through p: one from Open, one from New given a client
// with go-redis's default options (three retries). Their keys are removed
// when the test ends.
func faultStores(t *testing.T, p *faultproxy.Proxy) map[string]*Store {
	t.Helper()
	ctx := context.Background()
	opened, err := Open(ctx, p.Addr(), newPrefix())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		removeAll(t, shared, opened.prefix)
		opened.Close()
	})
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { c.Close() })
	given := New(c, newPrefix())
	t.Cleanup(func() {
		removeAll(t, shared, given.prefix)
		given.Close()
	})
	// The scripts are cached on the server, so that the request carrying a
	// value is the one that runs it (not an EVALSHA answered NOSCRIPT).
	for _, s := range []*redis.Script{writeScript, deleteScript} {
		if err := s.Load(ctx, shared).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]*Store{"Open": opened, "New": given}
}

// unique returns bytes no other request of the test carries, to aim a
// fault at the one request that holds them.
func unique(what string) []byte {
	var b [8]byte
	rand.Read(b[:])
	return []byte(what + "-" + hex.EncodeToString(b[:]))
}

// await waits for a fault to fire, failing the test at the guard.
func await(t *testing.T, fired <-chan struct{}) {
	t.Helper()
	select {
	case <-fired:
	case <-time.After(guard):
		t.Fatal("the fault never fired")
	}
}

// A write whose reply is lost happened; it must not be reported as a
// Conflict, which would tell a caller that retries on Conflict to apply its
// change again.
func TestLostReplyOnWriteIsNotConflict(t *testing.T) {
	p := proxied(t)
	for name, s := range faultStores(t, p) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, replace := range []bool{false, true} {
				etag := ""
				if replace {
					var err error
					if etag, err = s.Write(ctx, "k", []byte("first"), ""); err != nil {
						t.Fatal(err)
					}
				} else if err := s.Delete(ctx, "k", ""); err != nil {
					t.Fatal(err)
				}
				value := unique("value")
				lost := p.LoseReply(value)
				_, err := s.Write(ctx, "k", value, etag)
				await(t, lost)
				if quarkerr.CodeOf(err) != quarkerr.Unavailable {
					t.Fatalf("write (replace %v) whose reply was lost: %v, want Unavailable", replace, err)
				}
				rec, err := s.Read(ctx, "k")
				if err != nil || string(rec.Value) != string(value) {
					t.Fatalf("after the lost reply the store holds %q, %v; want the value written", rec.Value, err)
				}
				if err := s.Delete(ctx, "k", rec.ETag); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// A delete whose reply is lost happened; it must not be reported as a
// Conflict.
func TestLostReplyOnDeleteIsNotConflict(t *testing.T) {
	p := proxied(t)
	for name, s := range faultStores(t, p) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			etag, err := s.Write(ctx, "k", []byte("v"), "")
			if err != nil {
				t.Fatal(err)
			}
			// The ETag is random, so only the delete's request carries it.
			lost := p.LoseReply([]byte(etag))
			err = s.Delete(ctx, "k", etag)
			await(t, lost)
			if quarkerr.CodeOf(err) != quarkerr.Unavailable {
				t.Fatalf("delete whose reply was lost: %v, want Unavailable", err)
			}
			if _, err := s.Read(ctx, "k"); quarkerr.CodeOf(err) != quarkerr.NotFound {
				t.Fatalf("after the lost reply: %v, want NotFound (the delete happened)", err)
			}
		})
	}
}

// A store returns at its ctx deadline when the server stalls, not at the
// client's read timeout: one from Open, and one from New given a client
// with go-redis's default options (no ContextTimeoutEnabled). So does Open.
// stalledReminder is what the reminder calls of the stall tests save.
var stalledReminder = storage.Reminder{ActorType: "t", ActorKey: []byte("k"), Name: "r", Hash: 1,
	First: time.Unix(60, 0), Period: time.Minute}

func TestStalledServerHonoursDeadline(t *testing.T) {
	p := proxied(t)
	ctx := context.Background()
	stores := faultStores(t, p)
	etags := map[string]string{}
	for name, s := range stores {
		etag, err := s.Write(ctx, "k", []byte("v"), "")
		if err != nil {
			t.Fatal(err)
		}
		etags[name] = etag
	}
	p.Stall()
	const deadline = 200 * time.Millisecond
	type op struct {
		name string
		call func(ctx context.Context) error
	}
	ops := []op{{"open", func(ctx context.Context) error {
		s, err := Open(ctx, p.Addr(), newPrefix())
		if err == nil {
			s.Close()
		}
		return err
	}}}
	for name, s := range stores {
		etag := etags[name]
		ops = append(ops,
			op{name + "/read", func(ctx context.Context) error { _, err := s.Read(ctx, "k"); return err }},
			op{name + "/write", func(ctx context.Context) error { _, err := s.Write(ctx, "k", []byte("w"), etag); return err }},
			op{name + "/delete", func(ctx context.Context) error { return s.Delete(ctx, "k", etag) }},
			op{name + "/save reminder", func(ctx context.Context) error { return s.SaveReminder(ctx, stalledReminder) }},
			op{name + "/delete reminder", func(ctx context.Context) error {
				return s.DeleteReminder(ctx, stalledReminder.ActorType, stalledReminder.ActorKey, stalledReminder.Name)
			}},
			op{name + "/list reminders", func(ctx context.Context) error { _, err := s.Reminders(ctx, 0, ^uint32(0)); return err }},
			op{name + "/save watermark", func(ctx context.Context) error {
				return s.SaveWatermark(ctx, storage.Watermark{Lo: 0, Hi: ^uint32(0), Time: time.Unix(1, 0)})
			}},
			op{name + "/list watermarks", func(ctx context.Context) error { _, err := s.Watermarks(ctx, 0, ^uint32(0)); return err }},
		)
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- op.call(ctx) }()
			select {
			case err := <-done:
				if c := quarkerr.CodeOf(err); c != quarkerr.Timeout {
					t.Fatalf("%s on a stalled server: %v (code %v), want Timeout", op.name, err, c)
				}
				// A generous bound: it tells returning at the deadline
				// from returning at the client's read timeout (5 s).
				if took := time.Since(start); took > deadline+2*time.Second {
					t.Fatalf("%s with a %v deadline returned after %v", op.name, deadline, took)
				}
			case <-time.After(guard):
				t.Fatalf("%s with a %v deadline had not returned after %v", op.name, deadline, guard)
			}
		})
	}
	// The stores serve again once the server answers again. The calls
	// that timed out had unknown outcomes (some may run now that the
	// proxy delivers what it held), so the record may be there or not.
	p.Resume()
	for name, s := range stores {
		if _, err := s.Read(ctx, "k"); err != nil && quarkerr.CodeOf(err) != quarkerr.NotFound {
			t.Fatalf("%s: read after the stall: %v", name, err)
		}
	}
}

// A call whose ctx is cancelled while the server stalls returns Canceled
// at once, from either store, whether ctx has no deadline or a distant one
// (go-redis watches neither).
func TestStalledServerHonoursCancel(t *testing.T) {
	p := proxied(t)
	ctx := context.Background()
	stores := faultStores(t, p)
	for _, s := range stores {
		if _, err := s.Write(ctx, "k", []byte("v"), ""); err != nil {
			t.Fatal(err)
		}
	}
	p.Stall()
	held := 0
	for name, s := range stores {
		for kind, newCtx := range map[string]func() (context.Context, context.CancelFunc){
			"no deadline": func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) },
			"deadline":    func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Hour) },
		} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				cctx, cancel := newCtx()
				defer cancel()
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					_, err := s.Read(cctx, "k")
					done <- err
				}()
				// The read is at the proxy, past the store's check of
				// ctx. Every read holds one more chunk: the ones before
				// stay held with their connections.
				held++
				wctx, wcancel := context.WithTimeout(ctx, guard)
				defer wcancel()
				if err := p.WaitHeld(wctx, held); err != nil {
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
			})
		}
	}
	p.Resume()
}

// A call waiting for the pool's only connection, which a stalled call
// holds, ends at its deadline.
func TestPoolWaitHonoursDeadline(t *testing.T) {
	p := proxied(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), PoolSize: 1, ContextTimeoutEnabled: true})
	defer c.Close()
	s := New(c, newPrefix())
	t.Cleanup(func() { removeAll(t, shared, s.prefix) })
	ctx := context.Background()
	if _, err := s.Write(ctx, "k", []byte("v"), ""); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	gctx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := s.Read(gctx, "k")
		first <- err
	}()
	if err := p.WaitHeld(gctx, 1); err != nil {
		t.Fatalf("the first read never reached the proxy: %v", err)
	}
	const deadline = 200 * time.Millisecond
	dctx, dcancel := context.WithTimeout(ctx, deadline)
	defer dcancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(dctx, "k")
		done <- err
	}()
	select {
	case err := <-done:
		if c := quarkerr.CodeOf(err); c != quarkerr.Timeout {
			t.Fatalf("read waiting for a connection: %v (code %v), want Timeout", err, c)
		}
		if took := time.Since(start); took > deadline+2*time.Second {
			t.Fatalf("read waiting for a connection with a %v deadline returned after %v", deadline, took)
		}
	case <-time.After(guard):
		t.Fatalf("read waiting for a connection had not returned after %v", guard)
	}
	p.Resume()
	if err := <-first; err != nil {
		t.Fatalf("the held read, after resume: %v", err)
	}
}
