package quark_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

// total is an implementation of the generated Counter interface.
type total struct{ n int64 }

func (c *total) Add(_ context.Context, n int64) (int64, error) { c.n += n; return c.n, nil }
func (c *total) Get(context.Context) (int64, error)            { return c.n, nil }
func (c *total) Inc(_ context.Context, n int64) error          { c.n += n; return nil }

func Example() {
	ctx := context.Background()
	silo, err := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	testactors.RegisterCounter(silo, func(*quark.Activation) testactors.Counter { return &total{} })
	if err := silo.Start(ctx); err != nil {
		panic(err)
	}
	defer silo.Stop(ctx)

	// The first call activates the actor; every key is its own actor.
	visits := testactors.NewCounterRef(silo, quark.StringKey("visits"))
	visits.Add(ctx, 2)
	n, _ := visits.Add(ctx, 3)
	other, _ := testactors.NewCounterRef(silo, quark.StringKey("other")).Get(ctx)
	fmt.Println(n, other)
	// Output: 5 0
}

func ExampleCodeOf() {
	ctx := context.Background()
	silo, _ := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)))
	silo.Start(ctx)
	defer silo.Stop(ctx)

	// Counter is not registered on this silo.
	_, err := testactors.NewCounterRef(silo, quark.IntKey(1)).Get(ctx)
	fmt.Println(quark.CodeOf(err) == quark.CodeNotFound)
	fmt.Println(err)
	// Output:
	// true
	// quark not found: call testactors.Counter/1.Get: unknown actor type "testactors.Counter"
}

func ExampleWithIncomingInterceptors() {
	ctx := context.Background()
	logCalls := quark.CallInterceptorFunc(func(next quark.Invoker) quark.Invoker {
		return func(ctx context.Context, m quark.Message) error {
			fmt.Println("call", m.Target(), m.Method().Name)
			return next(ctx, m)
		}
	})
	silo, _ := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)),
		quark.WithIncomingInterceptors(logCalls))
	testactors.RegisterCounter(silo, func(*quark.Activation) testactors.Counter { return &total{} })
	silo.Start(ctx)
	defer silo.Stop(ctx)

	testactors.NewCounterRef(silo, quark.IntKey(7)).Add(ctx, 1)
	// Output: call testactors.Counter/7 Add
}

// tenantKey carries the caller's tenant; the silo's tenantPropagator carries
// it to the callee's side.
type tenantKey struct{}

// tenantPropagator carries the tenant in a context under tenantKey from a
// caller to the actors it calls, as the string "tenant".
type tenantPropagator struct{}

func (tenantPropagator) Inject(ctx context.Context, c quark.Carrier) {
	if t, ok := ctx.Value(tenantKey{}).(string); ok {
		c.Set("tenant", t)
	}
}

func (tenantPropagator) Extract(ctx context.Context, c quark.Carrier) context.Context {
	if t := c.Get("tenant"); t != "" {
		return context.WithValue(ctx, tenantKey{}, t)
	}
	return ctx
}

func ExampleAdmitInterceptorFunc() {
	ctx := context.Background()
	// Authorization: refuse calls from other tenants before the actor
	// activates, so their factory and OnActivate never run.
	sameTenant := quark.AdmitInterceptorFunc(func(ctx context.Context, m quark.Message) error {
		if tenant, _ := m.Target().Key.Extension(); ctx.Value(tenantKey{}) != tenant {
			return quark.Errorf(quark.CodeInvalidArgument, "%s is not yours", m.Target())
		}
		return nil
	})
	silo, _ := quark.NewSilo(quark.WithLogger(slog.New(slog.DiscardHandler)),
		quark.WithPropagators(tenantPropagator{}),
		quark.WithIncomingInterceptors(sameTenant))
	testactors.RegisterCounter(silo, func(*quark.Activation) testactors.Counter { return &total{} })
	silo.Start(ctx)
	defer silo.Stop(ctx)

	acme := context.WithValue(ctx, tenantKey{}, "acme")
	_, err := testactors.NewCounterRef(silo, quark.CompoundKey(quark.IntKey(1), "globex")).Add(acme, 1)
	fmt.Println(err)
	fmt.Println("activations:", silo.Stats().Activations)
	n, _ := testactors.NewCounterRef(silo, quark.CompoundKey(quark.IntKey(1), "acme")).Add(acme, 1)
	fmt.Println(n, "activations:", silo.Stats().Activations)
	// Output:
	// quark invalid argument: testactors.Counter/1+globex is not yours
	// activations: 0
	// 1 activations: 1
}

func ExampleCompoundKey() {
	k := quark.CompoundKey(quark.IntKey(42), "eu-west")
	ext, _ := k.Extension()
	fmt.Println(k, k.Kind(), k.Int(), ext)
	// Output: 42+eu-west int 42 eu-west
}

func ExampleNewClient() {
	ctx := context.Background()
	quiet := quark.WithLogger(slog.New(slog.DiscardHandler))
	// Two silos in a static cluster and a client, on an in-memory network;
	// with grpctransport.New() and real addresses it is the same code.
	network := quarktest.NewNetwork(nil)
	defer network.Close()
	for _, name := range []string{"s1", "s2"} {
		silo, err := quark.NewSilo(quiet,
			quark.WithTransport(network.Host(name)),
			quark.WithListenAddress(name),
			quark.WithStaticCluster("s1", "s2"))
		if err != nil {
			panic(err)
		}
		testactors.RegisterCounter(silo, func(*quark.Activation) testactors.Counter { return &total{} })
		if err := silo.Start(ctx); err != nil {
			panic(err)
		}
		defer silo.Stop(ctx)
	}

	client, err := quark.NewClient(ctx, quiet,
		quark.WithTransport(network.Host("frontend")),
		quark.WithGateways("s1", "s2"))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	// The same generated references; each call goes to its actor's home.
	for _, key := range []string{"a", "b", "c"} {
		testactors.NewCounterRef(client, quark.StringKey(key)).Add(ctx, 1)
	}
	n, _ := testactors.NewCounterRef(client, quark.StringKey("a")).Add(ctx, 10)
	fmt.Println(n)
	// Output: 11
}
