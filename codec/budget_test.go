package codec_test

import (
	"errors"
	"math"
	"runtime"
	"testing"

	"github.com/quarkgo/quark/codec"
)

func TestNewBudget(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		// 8 bytes of the factor are kept for copies of strings.
		{0, codec.AllocBase},
		{1, codec.AllocFactor - 8 + codec.AllocBase},
		{1 << 20, (codec.AllocFactor-8)<<20 + codec.AllocBase},
		{math.MaxInt / 2, math.MaxInt}, // saturates rather than overflowing
	} {
		b := codec.NewBudget(c.n)
		if got := b.Left(); got != c.want {
			t.Errorf("NewBudget(%d).Left() = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestBudgetAlloc: a charge is the bytes asked for, a quarter more (at most
// 8 KiB more) and 16, nothing for zero bytes; one the budget cannot pay
// fails with ErrOverBudget and takes nothing, however large its factors.
func TestBudgetAlloc(t *testing.T) {
	b := codec.NewBudget(1 << 20)
	for _, c := range []struct{ n, size, cost int }{
		{0, 512, 0},
		{1, 1, 17},
		{10, 8, 116},
		{1000, 24, 30016},
		{100_000, 8, 800_000 + 8192 + 16},
	} {
		left := b.Left()
		if err := b.Alloc(c.n, c.size); err != nil {
			t.Fatalf("Alloc(%d, %d): %v", c.n, c.size, err)
		}
		if got := left - b.Left(); got != c.cost {
			t.Errorf("Alloc(%d, %d) cost %d, want %d", c.n, c.size, got, c.cost)
		}
	}
	left := b.Left()
	for _, c := range []struct{ n, size int }{
		{left, 1},                   // the rounding takes it over
		{1, left},                   // one value too large
		{math.MaxInt, 1 << 20},      // the product overflows
		{1 << 32, math.MaxInt / 16}, // so does this one
	} {
		if err := b.Alloc(c.n, c.size); !errors.Is(err, codec.ErrOverBudget) {
			t.Errorf("Alloc(%d, %d) with %d left: %v, want ErrOverBudget", c.n, c.size, left, err)
		}
		if b.Left() != left {
			t.Fatalf("a refused charge took %d bytes", left-b.Left())
		}
	}
}

func TestBudgetMap(t *testing.T) {
	b := codec.NewBudget(0)
	for _, c := range []struct{ n, slot, indirect, cost int }{
		{0, 16, 0, 48},                                    // the header alone
		{1, 16, 0, 48 + 8*17*5/4 + 16},                    // a group of eight slots
		{8, 16, 512, 48 + 8*17*5/4 + 16 + 8*(512+128+16)}, // and each indirect value
		{9, 16, 0, 48 + 9*3*17},                           // three slots an entry
	} {
		left := b.Left()
		if err := b.Map(c.n, c.slot, c.indirect); err != nil {
			t.Fatalf("Map(%d, %d, %d): %v", c.n, c.slot, c.indirect, err)
		}
		if got := left - b.Left(); got != c.cost {
			t.Errorf("Map(%d, %d, %d) cost %d, want %d", c.n, c.slot, c.indirect, got, c.cost)
		}
	}
	left := b.Left()
	for _, c := range []struct{ n, slot, indirect int }{
		{left / 50, 16, 0},
		{math.MaxInt, 16, 0},
		{1 << 20, 16, math.MaxInt / 4},
	} {
		if err := b.Map(c.n, c.slot, c.indirect); !errors.Is(err, codec.ErrOverBudget) {
			t.Errorf("Map(%d, %d, %d) with %d left: %v, want ErrOverBudget", c.n, c.slot, c.indirect, left, err)
		}
		if b.Left() != left {
			t.Fatalf("a refused charge took %d bytes", left-b.Left())
		}
	}
	empty := codec.NewBudget(0)
	for empty.Left() >= 48 {
		if err := empty.Map(0, 16, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := empty.Map(0, 16, 0); !errors.Is(err, codec.ErrOverBudget) {
		t.Errorf("Map of no entries with %d left: %v, want ErrOverBudget", empty.Left(), err)
	}
}

// Values for the allocations below to escape to.
var (
	sinkInt64s  []int64
	sinkStrings []string
	sinkBytes   []byte
	sinkString  string
	sinkWide    *[64]uint64
	sinkSmall   map[int64]int64
	sinkStrMap  map[string][2]string
	sinkBig     map[int32][64]uint64
)

// TestBudgetChargesCoverAllocations: what a charge counts is at least what
// the Go runtime this is built with allocates for it, for slices, strings,
// pointers and maps across the sizes where their layouts change (a map's
// first group, its first table, tables of many groups, and values kept
// outside the table). The decoders' bound rests on it.
func TestBudgetChargesCoverAllocations(t *testing.T) {
	type alloc struct {
		name   string
		make   func(n int)
		charge func(b *codec.Budget, n int) error
	}
	allocs := []alloc{
		{"[]int64", func(n int) { sinkInt64s = make([]int64, n) }, func(b *codec.Budget, n int) error { return b.Alloc(n, 8) }},
		{"[]string", func(n int) { sinkStrings = make([]string, n) }, func(b *codec.Budget, n int) error { return b.Alloc(n, 16) }},
		{"[]byte", func(n int) { sinkBytes = make([]byte, n) }, func(b *codec.Budget, n int) error { return b.Alloc(n, 1) }},
		{"new([64]uint64)", func(int) { sinkWide = new([64]uint64) }, func(b *codec.Budget, _ int) error { return b.Alloc(1, 512) }},
		{"map[int64]int64", func(n int) {
			m := make(map[int64]int64, n)
			for i := range n {
				m[int64(i)] = 1
			}
			sinkSmall = m
		}, func(b *codec.Budget, n int) error { return b.Map(n, 16, 0) }},
		{"map[string][2]string", func(n int) {
			m := make(map[string][2]string, n)
			for i := range n {
				m[keys[i]] = [2]string{}
			}
			sinkStrMap = m
		}, func(b *codec.Budget, n int) error { return b.Map(n, 48, 0) }},
		{"map[int32][64]uint64", func(n int) {
			m := make(map[int32][64]uint64, n)
			for i := range n {
				m[int32(i)] = [64]uint64{}
			}
			sinkBig = m
		}, func(b *codec.Budget, n int) error { return b.Map(n, 16, 512) }},
	}
	for _, a := range allocs {
		for _, n := range []int{0, 1, 2, 7, 8, 9, 14, 15, 16, 100, 1000, 1024, 1025, 5000, 70000} {
			b := codec.NewBudget(1 << 30)
			left := b.Left()
			if err := a.charge(&b, n); err != nil {
				t.Fatalf("%s of %d: %v", a.name, n, err)
			}
			charged := uint64(left - b.Left())
			// The least of three, as the runtime may allocate for itself
			// while one runs.
			got := uint64(math.MaxUint64)
			for range 3 {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				a.make(n)
				runtime.ReadMemStats(&after)
				got = min(got, after.TotalAlloc-before.TotalAlloc)
			}
			if got > charged {
				t.Errorf("%s of %d allocated %d bytes, charged %d", a.name, n, got, charged)
			}
		}
	}
}

// TestStringCopiesWithinReserve: the copy of a string or byte slice of n
// bytes, whose encoding takes at least n+1 bytes, takes at most 8 bytes of
// memory per byte of that encoding: the part of codec.AllocFactor that
// NewBudget keeps for such copies, which are not charged one by one.
func TestStringCopiesWithinReserve(t *testing.T) {
	src := make([]byte, 100_000)
	for _, n := range []int{1, 2, 7, 15, 16, 17, 33, 100, 1000, 4097, 32 << 10, 32<<10 + 1, 100_000} {
		got := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			sinkString = string(src[:n])
			sinkBytes = append([]byte(nil), src[:n]...)
			runtime.ReadMemStats(&after)
			got = min(got, after.TotalAlloc-before.TotalAlloc)
		}
		// Two copies, of at least n+1 bytes of input each.
		if limit := uint64(8 * 2 * (n + 1)); got > limit {
			t.Errorf("copying %d bytes twice allocated %d, more than %d", n, got, limit)
		}
	}
}

// keys are distinct map keys made before anything is measured.
var keys = func() []string {
	k := make([]string, 70000)
	for i := range k {
		k[i] = string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)) + string(rune('a'+i/17576))
	}
	return k
}()
