package quark

import "testing"

// The recent-activation cache in front of the catalog never answers with
// an activation the catalog has let go, and keys sharing a slot each find
// their own activation.
func TestRecentSlotsFollowTheCatalog(t *testing.T) {
	typ := &actorType{desc: &TypeDesc{Name: "t"}, silo: &Silo{}}
	k := IntKey(7)
	a := typ.get(k)
	if typ.get(k) != a || typ.peek(k) != a {
		t.Fatal("a second lookup found another activation")
	}
	typ.remove(a)
	if p := typ.peek(k); p != nil {
		t.Fatal("peek found a removed activation")
	}
	if b := typ.get(k); b == a {
		t.Fatal("get found a removed activation")
	}
	// IntKey(7+recentSlots) maps to the slot of IntKey(7).
	k2 := IntKey(7 + recentSlots)
	if typ.slotOf(keyHash(k2)) != typ.slotOf(keyHash(k)) {
		t.Fatal("the keys do not share a slot; pick others")
	}
	c := typ.get(k2)
	b := typ.get(k)
	if typ.get(k2) != c || typ.get(k) != b || b == c {
		t.Fatal("keys sharing a slot found each other's activation")
	}
}
