package quark

import (
	"slices"
	"sort"
	"strconv"

	"github.com/quarkgo/quark/transport"
)

// A static cluster is a fixed list of silos, each told the whole list
// (WithStaticCluster): every actor has one home silo, chosen by consistent
// hashing of its ID over the list, and only its home activates it. A call
// for an actor homed elsewhere travels there over the transport; a call for
// an actor whose home is down fails with CodeUnavailable: nothing else
// takes its actors over, so an actor never has two activations. It suits
// development clusters and fixed fleets; the dynamic cluster (membership,
// directory, failure detection) replaces the fixed list.

// WithTransport sets the transport that carries calls to and from other
// processes, for example grpctransport.New(). A silo needs one to listen
// (WithListenAddress) or to be a member of a cluster; a client, to reach
// its gateways. Default none: the silo is alone and serves no one outside
// its process.
func WithTransport(t transport.Transport) SharedOption {
	return sharedOption(func(c *siloConfig) { c.transport = t })
}

// WithClusterName names the cluster the silo or client belongs to. A
// connection between processes of different clusters is refused, on both
// sides, with an error wrapping ErrForeignCluster. Default "quark".
func WithClusterName(name string) SharedOption {
	return sharedOption(func(c *siloConfig) { c.clusterName = name })
}

// WithListenAddress makes the silo accept connections from other silos and
// from clients at addr, in the transport's form ("127.0.0.1:0" picks a free
// port; Silo.Addr reads the bound address after Start). Requires
// WithTransport. Default none: the silo accepts no connections.
func WithListenAddress(addr string) SiloOption {
	return siloOption(func(c *siloConfig) { c.listenAddr = addr })
}

// WithStaticCluster makes the silo a member of the static cluster of the
// given silo addresses, its own listen address among them (as written in
// the list, which every member and client must be given alike: a silo
// whose list differs from a peer's refuses the connection, with an error
// wrapping ErrMemberMismatch, rather than risk two homes for one actor).
// Each actor lives on one home silo, chosen by consistent hashing of its ID
// over the list; calls for actors homed elsewhere go there, and fail with
// CodeUnavailable while that silo is down. The silo's reminder service
// owns the reminders of the actors homed on it. Requires WithTransport and
// WithListenAddress. Default: no cluster; a silo with a listen address
// alone is the home of every actor, and serves clients.
func WithStaticCluster(members ...string) SiloOption {
	return siloOption(func(c *siloConfig) { c.members = slices.Clone(members) })
}

// validateCluster checks the options of this file.
func (c *siloConfig) validateCluster() error {
	switch {
	case c.clusterName == "":
		return Errorf(CodeInvalidArgument, "silo option: empty cluster name")
	case c.listenAddr != "" && c.transport == nil:
		return Errorf(CodeInvalidArgument, "silo option: a listen address needs a transport (WithTransport)")
	case len(c.members) > 0 && c.listenAddr == "":
		return Errorf(CodeInvalidArgument, "silo option: a static cluster member needs a listen address (WithListenAddress)")
	}
	seen := make(map[string]bool, len(c.members))
	for _, m := range c.members {
		if m == "" {
			return Errorf(CodeInvalidArgument, "silo option: empty address in the static cluster")
		}
		if seen[m] {
			return Errorf(CodeInvalidArgument, "silo option: address %q twice in the static cluster", m)
		}
		seen[m] = true
	}
	return nil
}

// ringPoints is how many points each member has on the ring: enough that
// members' shares of the hash space stay near equal, few enough that a
// silo's reminder service reads and saves few ranges (one watermark each).
const ringPoints = 32

// ring places actors on the members of a static cluster by consistent
// hashing: each member has ringPoints points on a 32-bit circle (FNV-1a of
// "address#i"), and an actor belongs to the member of the first point at or
// after its hash (idHash), wrapping around. It is immutable once made.
type ring struct {
	members []string // sorted
	points  []uint32 // sorted
	owners  []int32  // owners[i] is the index in members of points[i]
}

// newRing returns the ring of members; nil for none.
func newRing(members []string) *ring {
	if len(members) == 0 {
		return nil
	}
	r := &ring{members: slices.Clone(members)}
	slices.Sort(r.members)
	type point struct {
		h     uint32
		owner int32
	}
	pts := make([]point, 0, len(r.members)*ringPoints)
	for i, m := range r.members {
		for v := range ringPoints {
			pts = append(pts, point{hash32(m + "#" + strconv.Itoa(v)), int32(i)})
		}
	}
	// Ties (vanishingly rare) go to the smaller address, on every member alike.
	sort.Slice(pts, func(i, j int) bool {
		if pts[i].h != pts[j].h {
			return pts[i].h < pts[j].h
		}
		return pts[i].owner < pts[j].owner
	})
	r.points = make([]uint32, len(pts))
	r.owners = make([]int32, len(pts))
	for i, p := range pts {
		r.points[i], r.owners[i] = p.h, p.owner
	}
	return r
}

// owner returns the address of the member that owns hash h.
func (r *ring) owner(h uint32) string { return r.members[r.ownerIndex(h)] }

// ownerIndex returns the index in members of the member that owns hash h.
func (r *ring) ownerIndex(h uint32) int {
	i, _ := slices.BinarySearch(r.points, h)
	if i == len(r.points) {
		i = 0
	}
	return int(r.owners[i])
}

// ranges returns the hash ranges, inclusive, that member owns, in order.
func (r *ring) ranges(member string) []hashRange {
	var out []hashRange
	for i, p := range r.points {
		if r.members[r.owners[i]] != member {
			continue
		}
		var lo uint32
		if i > 0 {
			lo = r.points[i-1] + 1
			if r.points[i-1] == p {
				continue // a tie: the earlier point took it
			}
		}
		out = appendRange(out, hashRange{lo, p})
	}
	// The arc past the last point wraps to the first point's owner.
	if last := r.points[len(r.points)-1]; last != ^uint32(0) && r.members[r.owners[0]] == member {
		out = appendRange(out, hashRange{last + 1, ^uint32(0)})
	}
	return out
}

// same reports whether the ring is over exactly members, in any order.
func (r *ring) same(members []string) bool {
	if len(members) != len(r.members) {
		return false
	}
	sorted := slices.Clone(members)
	slices.Sort(sorted)
	return slices.Equal(sorted, r.members)
}

// hashRange is an inclusive range of idHash values.
type hashRange struct{ lo, hi uint32 }

// appendRange appends h to rs, merging it with the last range when they
// touch.
func appendRange(rs []hashRange, h hashRange) []hashRange {
	if n := len(rs); n > 0 && rs[n-1].hi != ^uint32(0) && rs[n-1].hi+1 == h.lo {
		rs[n-1].hi = h.hi
		return rs
	}
	return append(rs, h)
}

// idHash places an actor on the ring: hash32 of the ID's string form
// (ID.String), computed without building the string. The reminder store
// keeps it with each reminder (storage.Reminder.Hash), so that a silo loads
// the reminders of the actors homed on it.
func idHash(id ID) uint32 {
	h := fnvString(fnvOffset, id.Type)
	h = fnvString(h, "/")
	k := &id.Key
	var buf [36]byte
	switch k.kind {
	case KeyString:
		h = fnvString(h, k.s)
	case KeyInt:
		h = fnvBytes(h, strconv.AppendInt(buf[:0], k.n, 10))
	case KeyUUID:
		h = fnvString(h, formatUUID(k.s))
	default:
		return fmix32(fnvString(h, "<none>"))
	}
	if k.compound {
		h = fnvString(fnvString(h, "+"), k.ext)
	}
	return fmix32(h)
}

const fnvOffset = 2166136261

func fnvString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func fnvBytes(h uint32, b []byte) uint32 {
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// fmix32 is MurmurHash3's finalizer.
func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// hash32 is FNV-1a followed by MurmurHash3's finalizer: FNV-1a alone
// leaves strings that differ only at the end (a member's points, keys
// numbered in sequence) close together on the ring.
func hash32(s string) uint32 { return fmix32(fnvString(fnvOffset, s)) }
