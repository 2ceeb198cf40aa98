package codectest_test

import (
	"math"
	"net/netip"
	"time"

	"github.com/quarkgo/quark/internal/codectest"
	v1 "github.com/quarkgo/quark/internal/codectest/v1"
	v2 "github.com/quarkgo/quark/internal/codectest/v2"
)

// Fixed values of every type: the golden encodings are theirs, and the
// fuzz targets start from those.

var placed = time.Date(2024, time.February, 29, 13, 14, 15, 123456789, time.FixedZone("CET", 3600))

func ptr[T any](v T) *T { return &v }

func fixtureScalars() codectest.Scalars {
	return codectest.Scalars{
		Bool:    true,
		Int:     -1 << 40,
		Int8:    math.MinInt8,
		Int16:   math.MaxInt16,
		Int32:   -70000,
		Int64:   math.MinInt64,
		Uint:    1 << 40,
		Uint8:   math.MaxUint8,
		Uint16:  300,
		Uint32:  math.MaxUint32,
		Uint64:  math.MaxUint64,
		Uintptr: 0xdeadbeef,
		Float32: -1.5,
		Float64: math.Pi,
		C64:     complex(1, -2),
		C128:    complex(math.Inf(1), math.SmallestNonzeroFloat64),
		String:  "héllo, 世界",
		Bytes:   []byte{0, 1, 2, 0xff},
		Byte:    0xab,
		Rune:    '世',
	}
}

func fixtureNamed() codectest.Named {
	return codectest.Named{
		Temp:     -40,
		Status:   codectest.Shipped,
		Name:     "Ada",
		Count:    12,
		Flag:     true,
		Blob:     codectest.Blob("blob"),
		Key:      codectest.Key{1, 2, 3, 4},
		Names:    codectest.Names{"x", "y"},
		Index:    codectest.Index{"a": 1, "b": -2, "c": 3},
		Grid:     codectest.Grid{{1, 2, 3}, {4, 5, 6}, {7, 8, -9}},
		Optional: ptr(codectest.Celsius(36.6)),
	}
}

func fixtureContainers() codectest.Containers {
	return codectest.Containers{
		Ints:        []int64{0, -1, 1 << 33},
		Strings:     []string{"", "a", "bc"},
		Nested:      [][]int32{nil, {}, {1, 2}},
		Fixed:       [4]uint16{1, 2, 3, 65535},
		ByteArray:   [8]byte{'q', 'u', 'a', 'r', 'k', 0, 0, 1},
		StrMap:      map[string]int{"one": 1, "two": 2, "three": 3},
		IntKeys:     map[int64]string{-1: "minus one", 1 << 40: "big"},
		UintKeys:    map[uint16]bool{7: true, 8: false},
		MapOfSlices: map[string][]float64{"nil": nil, "empty": {}, "pi": {math.Pi, math.E}},
		SliceOfMaps: []map[string]bool{nil, {}, {"t": true}},
		MapOfMaps:   map[string]map[string]int8{"a": {"b": 1}, "n": nil},
		Points:      []codectest.Point{{X: 1, Y: 2, Label: "p"}, {}},
		PointMap:    map[string]codectest.Point{"origin": {}, "unit": {X: 1, Y: 1}},
		PointPtrs:   []*codectest.Point{nil, {X: -1, Label: "neg"}},
		ByteSlices:  [][]byte{nil, {}, {9}},
	}
}

// fixtureEmptyContainers has every slice and map empty but not nil.
func fixtureEmptyContainers() codectest.Containers {
	return codectest.Containers{
		Ints:        []int64{},
		Strings:     []string{},
		Nested:      [][]int32{},
		StrMap:      map[string]int{},
		IntKeys:     map[int64]string{},
		UintKeys:    map[uint16]bool{},
		MapOfSlices: map[string][]float64{},
		SliceOfMaps: []map[string]bool{},
		MapOfMaps:   map[string]map[string]int8{},
		Points:      []codectest.Point{},
		PointMap:    map[string]codectest.Point{},
		PointPtrs:   []*codectest.Point{},
		ByteSlices:  [][]byte{},
	}
}

func fixturePointers() codectest.Pointers {
	p := ptr(int64(-7))
	return codectest.Pointers{
		Int:    ptr(0),
		String: ptr(""),
		Point:  &codectest.Point{X: 3, Y: 4, Label: "hyp"},
		PtrPtr: &p,
		Slice:  &[]string{"s"},
		Map:    &map[string]int{"m": 1},
		Array:  &[2]int8{-1, 1},
		Time:   ptr(placed),
		Named:  ptr(codectest.Celsius(-273.15)),
	}
}

func fixtureTimes() codectest.Times {
	return codectest.Times{
		At:        placed,
		Took:      1500 * time.Millisecond,
		Deadline:  ptr(time.Date(1969, time.July, 20, 20, 17, 40, 0, time.UTC)),
		Durations: []time.Duration{0, -time.Nanosecond, math.MaxInt64},
		Schedule:  map[string]time.Time{"epoch": time.Unix(0, 0).UTC(), "zero": {}, "far": time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		Timeout:   codectest.Timeout(30 * time.Second),
	}
}

func fixtureMarshalers() codectest.Marshalers {
	return codectest.Marshalers{
		Version:    codectest.NewVersion(1, 26, 3),
		Level:      codectest.Warn,
		Color:      codectest.Color{R: 0x12, G: 0xab, B: 0xff},
		VersionPtr: ptr(codectest.NewVersion(0, 0, 1)),
		Levels:     []codectest.Level{codectest.Debug, codectest.Error},
		ByLevel:    map[string]codectest.Level{"http": codectest.Info},
		Addr:       netip.MustParseAddr("192.0.2.1"),
		Colors:     map[string]codectest.Color{"sky": {R: 0x87, G: 0xce, B: 0xeb}},
		ColorList:  []codectest.Color{{}, {R: 1}},
		ColorPtr:   &codectest.Color{B: 0xff},
	}
}

func fixtureTagged() codectest.Tagged {
	return codectest.Tagged{Name: "tagged", Count: -3, Secret: "never sent", Plain: true, Other: "json tag ignored", Empty: 1, Größe: -2}.WithHidden(9)
}

func fixtureTree() codectest.Tree {
	return codectest.Tree{Label: "root", Weight: 1, Children: []codectest.Tree{
		{Label: "a", Weight: 2, Children: []codectest.Tree{{Label: "a1"}, {Label: "a2", Children: []codectest.Tree{}}}},
		{Label: "b", Weight: -3},
	}}
}

func fixtureList() codectest.List {
	l := &codectest.List{Value: 5}
	for i := int64(4); i >= 1; i-- {
		l = &codectest.List{Value: i, Next: l}
	}
	return *l
}

func fixtureDir() codectest.Dir {
	return codectest.Dir{Name: "/", Sub: map[string]*codectest.Dir{
		"etc":  {Name: "etc", Size: 4096, Sub: map[string]*codectest.Dir{"hosts": {Name: "hosts", Size: 120}}},
		"tmp":  {Name: "tmp", Sub: map[string]*codectest.Dir{}},
		"lost": nil,
	}}
}

func fixtureExpr() codectest.Expr {
	// (1 + 2) * -x, with x missing.
	return codectest.Expr{Op: "*", Args: []codectest.Arg{
		{Sub: &codectest.Expr{Op: "+", Args: []codectest.Arg{{Lit: ptr(1.0)}, {Lit: ptr(2.0)}}}},
		{Sub: &codectest.Expr{Op: "neg", Args: []codectest.Arg{{}}}},
	}}
}

func fixtureOrder() codectest.Order {
	return codectest.Order{
		ID:       90210,
		Customer: "Ada Lovelace",
		Lines: []codectest.OrderLine{
			{SKU: "ENGINE-ANALYTICAL", Quantity: 1, Price: 1_000_000_00},
			{SKU: "PUNCH-CARD", Quantity: 500, Price: 2},
			{SKU: "BRASS-GEAR-12T", Quantity: 64, Price: 3_50},
		},
		Attrs:    map[string]string{"channel": "web", "coupon": "NOTES1843", "gift-note": "For Charles"},
		Placed:   placed,
		Total:    1_000_000_00 + 500*2 + 64*3_50,
		Currency: "GBP",
		Status:   codectest.Paid,
		Discount: 0.05,
		Gift:     true,
	}
}

func fixtureCustomerV1() v1.Customer {
	return v1.Customer{
		ID:      7,
		Name:    "Grace",
		Email:   "grace@example.com",
		Tags:    []string{"navy", "cobol"},
		Balance: -1250,
		Address: v1.Address{Street: "1 Main St", City: "Arlington", Zip: "22201"},
		Notes:   map[string]string{"pref": "email"},
	}
}

func fixtureCustomerV2() v2.Customer {
	return v2.Customer{
		Tags:     []string{"navy"},
		Credit:   99,
		Phone:    "+1 555 0100",
		Address:  v2.Address{Country: "US", City: "Arlington", Street: "1 Main St"},
		Name:     "Grace",
		Loyalty:  map[string][]int32{"2024": {1, 2, 3}, "2025": nil},
		ID:       7,
		Since:    placed,
		Referrer: &v2.Customer{ID: 1, Name: "Ada"},
	}
}

func fixtureDerived() codectest.Derived {
	return codectest.Derived{
		Base:  codectest.Base{ID: 11, Note: "base"},
		Point: &codectest.Point{X: 1, Y: 2, Label: "embedded pointer"},
		Extra: "extra",
		Stamp: codectest.Stamp{Time: placed, Source: "clock"},
	}.WithOwner("not encoded")
}

func fixtureKeys() codectest.Keys {
	return codectest.Keys{
		Bools:    map[bool]int8{true: 1, false: -1},
		Ints:     map[int]string{-5: "minus five", 1 << 50: "big"},
		Uints:    map[uint64]bool{math.MaxUint64: true},
		Floats:   map[float64]string{math.Pi: "pi", math.Inf(-1): "-inf", 0: "zero"},
		Strings:  map[string]string{"": "empty", "k": "v"},
		Names:    map[codectest.Name]codectest.Count{"n": 1},
		Arrays:   map[codectest.Key]string{{1, 2, 3, 4}: "1234", {}: "zero"},
		Times:    map[time.Time]int{time.Unix(0, 0).UTC(): 0, placed.UTC(): 1},
		Levels:   map[codectest.Level]bool{codectest.Debug: true, codectest.Error: false},
		Versions: map[codectest.Version]string{codectest.NewVersion(1, 2, 3): "v1.2.3"},
		Addrs:    map[netip.Addr]codectest.Flag{netip.MustParseAddr("::1"): true, {}: false},
		Colors:   map[codectest.Color]int8{{R: 0xff}: 1, {}: 0},
	}
}

func fixtureForeign() codectest.Foreign {
	c1 := fixtureCustomerV1()
	return codectest.Foreign{
		Address:  c1.Address,
		Customer: &c1,
		Next:     []v2.Address{{Country: "FR", City: "Paris"}, {}},
		ByCity:   map[string]v2.Customer{"Arlington": fixtureCustomerV2()},
		Prefix:   netip.MustParsePrefix("10.0.0.0/8"),
	}
}

func fixtureSparse() codectest.Sparse {
	return codectest.Sparse{
		Wides:  []codectest.Wide{{}, {Words: [64]uint64{7: 7}}},
		Ptrs:   []*codectest.Wide{nil, {Words: [64]uint64{1: 1}}},
		Maps:   []map[string]int64{nil, {}, {"a": 1, "b": -2}},
		ByKey:  map[int32]codectest.Wide{-1: {}, 5: {Words: [64]uint64{5: 5}}},
		Grid:   [][]codectest.Wide{nil, {}, {{}}},
		Lists:  [][]string{nil, {}, {"x", ""}},
		Labels: []string{"", "label"},
		Blobs:  [][]byte{nil, {}, {0, 1, 2}},
	}
}
