package quark

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// The ring's ranges partition the hash space: every hash is in exactly one
// member's ranges, and that member is its owner.
func TestRingRangesPartitionTheHashSpace(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "members")
		var members []string
		for i := range n {
			members = append(members, fmt.Sprintf("10.0.0.%d:%d", i, 7000+i))
		}
		r := newRing(members)
		owned := map[string][]hashRange{}
		for _, m := range members {
			owned[m] = r.ranges(m)
		}
		hashes := []uint32{0, ^uint32(0), r.points[0], r.points[0] + 1, r.points[len(r.points)-1]}
		for range 50 {
			hashes = append(hashes, rapid.Uint32().Draw(t, "h"))
		}
		for _, p := range r.points[:min(len(r.points), 20)] {
			hashes = append(hashes, p, p-1, p+1)
		}
		for _, h := range hashes {
			var in []string
			for m, rs := range owned {
				for _, x := range rs {
					if x.lo <= h && h <= x.hi {
						in = append(in, m)
					}
				}
			}
			if len(in) != 1 || in[0] != r.owner(h) {
				t.Fatalf("hash %d is in the ranges of %q; its owner is %q", h, in, r.owner(h))
			}
		}
	})
}

// Every member computes the same ring from the same list, in any order.
func TestRingIgnoresListOrder(t *testing.T) {
	a := newRing([]string{"a:1", "b:2", "c:3"})
	b := newRing([]string{"c:3", "a:1", "b:2"})
	for h := uint32(0); h < 1<<20; h += 997 {
		if a.owner(h) != b.owner(h) {
			t.Fatalf("hash %d: owner %q in one order, %q in another", h, a.owner(h), b.owner(h))
		}
	}
	if !a.same([]string{"b:2", "c:3", "a:1"}) || a.same([]string{"a:1", "b:2"}) {
		t.Fatal("same compares member sets wrongly")
	}
}

// Members' shares of the hash space stay near equal.
func TestRingBalance(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		var members []string
		for i := range n {
			members = append(members, fmt.Sprintf("127.0.0.1:%d", 7001+i))
		}
		r := newRing(members)
		for _, m := range members {
			var share float64
			for _, x := range r.ranges(m) {
				share += float64(uint64(x.hi)-uint64(x.lo)+1) / (1 << 32)
			}
			if want := 1 / float64(n); share < want*0.6 || share > want*1.4 {
				t.Errorf("%d members: %s owns %.2f of the ring, want about %.2f", n, m, share, want)
			}
		}
	}
}

// idHash is hash32 of the ID's string form, for every kind of key.
func TestIDHashIsTheHashOfTheIDString(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		typ := rapid.String().Draw(t, "type")
		var k Key
		switch rapid.IntRange(0, 4).Draw(t, "kind") {
		case 0:
			k = StringKey(rapid.String().Draw(t, "s"))
		case 1:
			k = IntKey(rapid.Int64().Draw(t, "n"))
		case 2:
			var u [16]byte
			copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "uuid"))
			k = UUIDKey(u)
		case 3:
			k = CompoundKey(IntKey(rapid.Int64().Draw(t, "n")), rapid.String().Draw(t, "ext"))
		}
		id := ID{Type: typ, Key: k}
		if got, want := idHash(id), hash32(id.String()); got != want {
			t.Fatalf("idHash(%v) = %d, hash32 of its string %d", id, got, want)
		}
	})
}
