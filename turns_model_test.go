package quark_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"pgregory.net/rapid"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/quarktest"
)

// TestTurnsModel drives a real silo with random interleavings of blocking
// calls, readonly calls, one-way messages, reentrant methods with several
// outgoing calls at once (some calling back), panics, DeactivateOnIdle, idle
// collection and Stop. Each method that blocks waits on a gate the test
// opens later, so calls pile up in every order rapid finds. The model is
// simple: in each activation a writer is never inside beside anyone; every
// call returns its value, or CodePanic for a panicking one (or, for calls
// racing an early Stop, CodeUnavailable); every one-way message accepted
// runs; Stop returns with no activation left. A wedged turn shows up as a
// call timing out (calls time out after fanCallTimeout).
//
// On failure rapid prints the seed and the flags to replay it
// (-run=TestTurnsModel -rapid.seed=N). The number of runs is fixed
// (fixChecks) unless -rapid.checks is given.
func TestTurnsModel(t *testing.T) {
	fixChecks(t, 100)
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorld(rt, rapid.Bool().Draw(rt, "inline"))
		rt.Repeat(map[string]func(*rapid.T){
			"call":    w.call,
			"fan":     w.fan,
			"tell":    w.tell,
			"open":    w.open,
			"panic":   w.panic,
			"deact":   w.deactivate,
			"collect": w.collect,
			"":        w.check,
		})
		w.finish(rt)
	})
}

// fixChecks makes rapid run n times in t unless -rapid.checks was given, so
// that every run (in CI too) explores the same number of cases.
func fixChecks(t *testing.T, n int) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if given || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

// modelCallTimeout bounds every call of the model test, so that a wedged
// turn fails it in seconds.
const modelCallTimeout = 5 * time.Second

// occupancy tracks who is inside one activation's code.
type occupancy struct {
	mu               sync.Mutex
	writers, readers int
}

// world is one silo under test and what the model expects of it.
type world struct {
	s      *quark.Silo
	clk    *quarktest.Clock
	mu     sync.Mutex
	gates  map[string]chan struct{} // by gate name; closed when opened
	meets  map[string]func(context.Context) error
	inside map[*probe]*occupancy
	// broken records the first model violation seen inside a method.
	broken atomic.Pointer[string]

	next     int
	calls    sync.WaitGroup
	results  chan result
	sent     atomic.Int64 // one-way messages accepted
	ran      atomic.Int64 // one-way messages run
	expected map[string]quark.Code
	callback map[string]string // fan call -> the actor it calls back
	panicked map[string]bool   // actors that had a panicking call
}

type result struct {
	name string
	err  error
}

var (
	modelActors    = []string{"a", "b"} // Probe keys
	modelReentrant = []string{"r", "q"} // ReentrantProbe keys
)

func newWorld(rt *rapid.T, inline bool) *world {
	w := &world{
		clk:      quarktest.NewClock(time.Unix(0, 0)),
		gates:    map[string]chan struct{}{},
		meets:    map[string]func(context.Context) error{},
		inside:   map[*probe]*occupancy{},
		results:  make(chan result, 1024),
		expected: map[string]quark.Code{},
		callback: map[string]string{},
		panicked: map[string]bool{},
	}
	h := &hooks{run: w.method(false), peek: w.method(true), tell: func(ctx context.Context, p *probe, step string) error {
		defer w.ran.Add(1)
		_, err := w.method(false)(ctx, p, step)
		return err
	}}
	s, err := quark.NewSilo(quark.WithLogger(quiet), quark.WithInlineCalls(inline), quark.WithClock(w.clk),
		quark.WithCallTimeout(modelCallTimeout), quark.WithCollectionAge(time.Minute), quark.WithCollectionQuantum(time.Second))
	if err != nil {
		rt.Fatal(err)
	}
	registerProbes(h)(s)
	if err := s.Start(context.Background()); err != nil {
		rt.Fatal(err)
	}
	w.s = s
	return w
}

func (w *world) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.broken.CompareAndSwap(nil, &msg)
}

func (w *world) occupancy(p *probe) *occupancy {
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.inside[p]
	if o == nil {
		o = &occupancy{}
		w.inside[p] = o
	}
	return o
}

func (o *occupancy) enter(w *world, id quark.ID, reader bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if reader {
		o.readers++
	} else {
		o.writers++
	}
	if o.writers > 1 || o.writers == 1 && o.readers > 0 {
		w.fail("%s: %d writers and %d readers inside at once", id, o.writers, o.readers)
	}
}

func (o *occupancy) leave(reader bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if reader {
		o.readers--
	} else {
		o.writers--
	}
}

// method is the behaviour of every probe method. Steps:
//
//	gate:G         wait until gate G opens
//	fan:F:N        call N leaves at once (errgroup with ctx); they meet, so
//	               all N calls are out together; some call back first
//	meet:F         a fan's leaf: meet the others
//	back:F:KEY     a fan's leaf: call back into reentrant KEY, then meet
//	panic          the method panics
//	deact          DeactivateOnIdle
//	plain          return
func (w *world) method(reader bool) func(ctx context.Context, p *probe, step string) (string, error) {
	return func(ctx context.Context, p *probe, step string) (string, error) {
		o := w.occupancy(p)
		o.enter(w, p.a.ID(), reader)
		inside := true
		defer func() {
			if inside {
				o.leave(reader)
			}
		}()
		parts := strings.Split(step, ":")
		switch parts[0] {
		case "gate":
			w.mu.Lock()
			g := w.gates[parts[1]]
			w.mu.Unlock()
			select {
			case <-g:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case "fan":
			n, _ := strconv.Atoi(parts[2])
			// The turn is released while the calls are out (reentrant):
			// the method is not inside meanwhile.
			o.leave(reader)
			inside = false
			g, gctx := errgroup.WithContext(ctx)
			for i := range n {
				leaf := testactors.NewProbeRef(w.s, quark.StringKey(fmt.Sprintf("leaf%s.%d", parts[1], i)))
				sub := "meet:" + parts[1]
				if i == 0 && len(parts) > 3 {
					sub = "back:" + parts[1] + ":" + parts[3]
				}
				g.Go(func() error {
					_, err := leaf.Run(gctx, sub)
					return err
				})
			}
			err := g.Wait()
			o.enter(w, p.a.ID(), reader)
			inside = true
			if err != nil {
				return "", err
			}
		case "back":
			if _, err := testactors.NewReentrantProbeRef(w.s, quark.StringKey(parts[2])).Peek(ctx, "plain"); err != nil {
				return "", err
			}
			fallthrough
		case "meet":
			w.mu.Lock()
			meet := w.meets[parts[1]]
			w.mu.Unlock()
			if err := meet(ctx); err != nil {
				return "", err
			}
		case "panic":
			panic("model: " + p.a.ID().String())
		case "deact":
			p.a.DeactivateOnIdle()
		}
		return "ok", nil
	}
}

// start runs a call on its own goroutine; its result is checked at the end.
func (w *world) start(name string, want quark.Code, f func(ctx context.Context) (string, error)) {
	w.expected[name] = want
	w.calls.Go(func() {
		got, err := f(context.Background())
		if err == nil && got != "ok" {
			err = fmt.Errorf("got %q", got)
		}
		w.results <- result{name, err}
	})
}

func (w *world) newName(kind string) string {
	w.next++
	return fmt.Sprintf("%s%d", kind, w.next)
}

// gate makes a new gate, shut until open opens it, and returns its name.
func (w *world) gate() string {
	name := w.newName("g")
	w.mu.Lock()
	w.gates[name] = make(chan struct{})
	w.mu.Unlock()
	return name
}

// call makes a blocking or plain call, exclusive or readonly, to any actor.
func (w *world) call(rt *rapid.T) {
	reentrant := rapid.Bool().Draw(rt, "reentrant")
	key := rapid.SampledFrom(modelActors).Draw(rt, "key")
	if reentrant {
		key = rapid.SampledFrom(modelReentrant).Draw(rt, "key")
	}
	readonly := rapid.Bool().Draw(rt, "readonly")
	step := "plain"
	if rapid.Bool().Draw(rt, "blocks") {
		step = "gate:" + w.gate()
	}
	w.startOn(w.newName("call"), quark.CodeOK, reentrant, readonly, key, step)
}

func (w *world) startOn(name string, want quark.Code, reentrant, readonly bool, key, step string) {
	k := quark.StringKey(key)
	switch {
	case reentrant && readonly:
		w.start(name, want, func(ctx context.Context) (string, error) {
			return testactors.NewReentrantProbeRef(w.s, k).Peek(ctx, step)
		})
	case reentrant:
		w.start(name, want, func(ctx context.Context) (string, error) {
			return testactors.NewReentrantProbeRef(w.s, k).Run(ctx, step)
		})
	case readonly:
		w.start(name, want, func(ctx context.Context) (string, error) {
			return testactors.NewProbeRef(w.s, k).Peek(ctx, step)
		})
	default:
		w.start(name, want, func(ctx context.Context) (string, error) {
			return testactors.NewProbeRef(w.s, k).Run(ctx, step)
		})
	}
}

// fan makes a method of a reentrant actor (or, less often, a non-reentrant
// one) call two or three leaves at once; with a callback, one leaf calls
// back into the reentrant actor first.
func (w *world) fan(rt *rapid.T) {
	reentrant := rapid.IntRange(0, 3).Draw(rt, "reentrant") > 0
	key := rapid.SampledFrom(modelActors).Draw(rt, "key")
	if reentrant {
		key = rapid.SampledFrom(modelReentrant).Draw(rt, "key")
	}
	n := rapid.IntRange(2, 3).Draw(rt, "calls")
	f := w.newName("f")
	w.mu.Lock()
	w.meets[f] = meet(n)
	w.mu.Unlock()
	step := fmt.Sprintf("fan:%s:%d", f, n)
	name := w.newName("fan")
	if reentrant && rapid.Bool().Draw(rt, "callback") {
		step += ":" + key
		w.callback[name] = key
	}
	w.startOn(name, quark.CodeOK, reentrant, rapid.Bool().Draw(rt, "readonly"), key, step)
}

func (w *world) tell(rt *rapid.T) {
	key := quark.StringKey(rapid.SampledFrom(modelActors).Draw(rt, "key"))
	step := "plain"
	if rapid.Bool().Draw(rt, "blocks") {
		step = "gate:" + w.gate()
	}
	if err := testactors.NewProbeRef(w.s, key).Tell(context.Background(), step); err != nil {
		rt.Fatalf("tell: %v", err)
	}
	w.sent.Add(1)
}

// open opens a gate not yet opened.
func (w *world) open(rt *rapid.T) {
	w.mu.Lock()
	var shut []string
	for name, g := range w.gates {
		select {
		case <-g:
		default:
			shut = append(shut, name)
		}
	}
	w.mu.Unlock()
	if len(shut) == 0 {
		rt.Skip("no gate to open")
	}
	// Map order is random; draw from a sorted list to replay exactly.
	sortStrings(shut)
	name := rapid.SampledFrom(shut).Draw(rt, "gate")
	w.mu.Lock()
	close(w.gates[name])
	w.mu.Unlock()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (w *world) panic(rt *rapid.T) {
	reentrant := rapid.Bool().Draw(rt, "reentrant")
	key := rapid.SampledFrom(modelActors).Draw(rt, "key")
	if reentrant {
		key = rapid.SampledFrom(modelReentrant).Draw(rt, "key")
	}
	w.panicked[key] = true
	w.startOn(w.newName("panic"), quark.CodePanic, reentrant, rapid.Bool().Draw(rt, "readonly"), key, "panic")
}

func (w *world) deactivate(rt *rapid.T) {
	reentrant := rapid.Bool().Draw(rt, "reentrant")
	key := rapid.SampledFrom(modelActors).Draw(rt, "key")
	if reentrant {
		key = rapid.SampledFrom(modelReentrant).Draw(rt, "key")
	}
	w.startOn(w.newName("deact"), quark.CodeOK, reentrant, false, key, "deact")
}

// collect moves the clock past the collection age: idle activations go.
func (w *world) collect(*rapid.T) { w.clk.Advance(time.Minute + 2*time.Second) }

func (w *world) check(rt *rapid.T) {
	if msg := w.broken.Load(); msg != nil {
		rt.Fatal(*msg)
	}
}

// finish opens every gate (with Stop begun first, in some runs), collects
// every result and stops the silo.
func (w *world) finish(rt *rapid.T) {
	early := rapid.Bool().Draw(rt, "stop early")
	stopped := make(chan error, 1)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*modelCallTimeout)
		defer cancel()
		stopped <- w.s.Stop(ctx)
	}
	if early {
		go stop()
	}
	w.mu.Lock()
	for _, g := range w.gates {
		select {
		case <-g:
		default:
			close(g)
		}
	}
	w.mu.Unlock()
	w.calls.Wait()
	close(w.results)
	if !early {
		stop()
	}
	if err := <-stopped; err != nil {
		rt.Fatalf("stop: %v", err)
	}
	w.check(rt)
	for r := range w.results {
		want := w.expected[r.name]
		got := quark.CodeOf(r.err)
		if r.err == nil {
			got = quark.CodeOK
		}
		// A call that reached the silo only after an early Stop began is
		// refused.
		if got == quark.CodeUnavailable && w.panicked[w.callback[r.name]] {
			// Its callback met its actor discarded after a panic: the
			// actor's suspended turn waits for the callback and nothing
			// starts there any more, so it fails at once.
			continue
		}
		if got != want && !(early && got == quark.CodeUnavailable) {
			rt.Fatalf("%s: %v, want %v", r.name, r.err, want)
		}
	}
	if sent, ran := w.sent.Load(), w.ran.Load(); sent != ran {
		rt.Fatalf("%d one-way messages accepted, %d ran", sent, ran)
	}
	if n := w.s.Stats().Activations; n != 0 {
		rt.Fatalf("%d activations left after Stop", n)
	}
}
