package payload

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
)

// State is the route origin validation state of a route (RFC 6811 §2).
type State uint8

const (
	// NotFound: no VRP covers the route.
	NotFound State = iota
	// Valid: at least one VRP matches the route.
	Valid
	// Invalid: VRPs cover the route but none matches it.
	Invalid
)

// Reason says why a route is Invalid.
type Reason uint8

const (
	// NoReason is the Reason of a route that is not Invalid.
	NoReason Reason = iota
	// InvalidASN: no covering VRP is for the route's origin AS.
	InvalidASN
	// InvalidLength: a covering VRP is for the route's origin AS, but the
	// route is longer than its maximum length.
	InvalidLength
)

// Result is the outcome of a validity query with the covering VRPs that
// led to it, in the three lists Routinator's validity API reports. Each
// list is sorted in Set order, least specific prefix first.
type Result struct {
	State  State
	Reason Reason
	// Matched: the VRP covers the route, is for its origin AS, and
	// allows its length.
	Matched []VRP
	// UnmatchedAS: the VRP covers the route but is for another AS, or
	// for AS0, which never matches (RFC 6483 §4, RFC 7607).
	UnmatchedAS []VRP
	// UnmatchedLength: the VRP covers the route and is for its origin
	// AS, but the route is longer than the VRP's maximum length.
	UnmatchedLength []VRP
}

// Validity returns the RFC 6811 validity of a route announced for the
// prefix route by the AS origin, with the VRPs that cover it. Host bits
// of route are ignored; an invalid prefix is NotFound. Only the returned
// lists are allocated (one array for the three), and none when no VRP
// covers the route. The first query on a Set builds its lookup index
// (about 17 ms and 20 MB for 600,000 VRPs); it is then shared, without
// locks, by all readers.
func (s *Set) Validity(route netip.Prefix, origin uint32) Result {
	r, _ := s.AppendValidity(nil, route, origin)
	return r
}

// AppendValidity is Validity with the VRP lists kept in the caller's
// buffer: it appends the VRPs covering the route to buf and returns the
// Result, whose lists are slices of the returned buffer, with that
// buffer. A caller that hands the buffer back on its next query (from
// a sync.Pool, say) looks routes up without allocating once the buffer
// has grown to the longest covering chain. The Result is valid until
// the buffer is reused.
func (s *Set) AppendValidity(buf []VRP, route netip.Prefix, origin uint32) (Result, []VRP) {
	var r Result
	k, ok := keyOf(route)
	if !ok {
		return r, buf
	}
	var chainBuf [maxChain]int32
	nodes, chain := s.prefixIndex().chain(k, &chainBuf)
	if len(chain) == 0 {
		return r, buf
	}

	// Count first so the three lists can share one exact stretch of
	// buf.
	var n [3]int
	for _, ni := range chain {
		nd := &nodes[ni]
		for _, v := range s.vrps[nd.first:nd.end] {
			n[classify(v, origin, k.bits)]++
		}
	}
	start := len(buf)
	buf = slices.Grow(buf, n[0]+n[1]+n[2])
	all := buf[start : start+n[0]+n[1]+n[2]]
	r.Matched = all[:0:n[0]]
	r.UnmatchedAS = all[n[0] : n[0] : n[0]+n[1]]
	r.UnmatchedLength = all[n[0]+n[1] : n[0]+n[1]]
	lists := [3]*[]VRP{&r.Matched, &r.UnmatchedAS, &r.UnmatchedLength}
	// chain runs from the most specific prefix up; walk it backwards to
	// keep the lists in Set order.
	for i := len(chain) - 1; i >= 0; i-- {
		nd := &nodes[chain[i]]
		for _, v := range s.vrps[nd.first:nd.end] {
			l := lists[classify(v, origin, k.bits)]
			*l = append(*l, v)
		}
	}
	for _, l := range lists {
		if len(*l) == 0 {
			*l = nil
		}
	}
	r.State, r.Reason = verdict(n)
	return r, buf[:start+len(all)]
}

// State returns the validity state of a route as Validity would, without
// the VRP lists and without allocating.
func (s *Set) State(route netip.Prefix, origin uint32) State {
	k, ok := keyOf(route)
	if !ok {
		return NotFound
	}
	var buf [maxChain]int32
	nodes, chain := s.prefixIndex().chain(k, &buf)
	covered := false
	for _, ni := range chain {
		nd := &nodes[ni]
		for _, v := range s.vrps[nd.first:nd.end] {
			if classify(v, origin, k.bits) == classMatched {
				return Valid
			}
			covered = true
		}
	}
	if covered {
		return Invalid
	}
	return NotFound
}

const (
	classMatched = iota
	classUnmatchedAS
	classUnmatchedLength
)

// classify sorts a VRP that covers a route of the given length.
func classify(v VRP, origin uint32, routeBits uint8) int {
	switch {
	case v.ASN != origin || v.ASN == 0:
		return classUnmatchedAS
	case routeBits > v.MaxLength:
		return classUnmatchedLength
	default:
		return classMatched
	}
}

func verdict(n [3]int) (State, Reason) {
	switch {
	case n[classMatched] > 0:
		return Valid, NoReason
	// Routinator names "as" first when both lists are full. We name the
	// length: a VRP for the origin AS exists, so the origin is authorised
	// and only the length is wrong, while the other ASes' VRPs are
	// usually the covering aggregate of an upstream.
	case n[classUnmatchedLength] > 0:
		return Invalid, InvalidLength
	case n[classUnmatchedAS] > 0:
		return Invalid, InvalidASN
	default:
		return NotFound, NoReason
	}
}

func (s *Set) prefixIndex() *prefixIndex {
	s.indexOnce.Do(func() { s.index = newPrefixIndex(s.vrps) })
	return s.index
}

// maxChain bounds the covering chain of a route: one prefix per length,
// /0 to /128.
const maxChain = 129

// prefixKey is a prefix as a 128-bit number, left aligned, with IPv4 and
// IPv6 told apart by v6 so that one code path serves both families.
type prefixKey struct {
	hi, lo uint64
	bits   uint8
	v6     bool
}

func keyOf(p netip.Prefix) (prefixKey, bool) {
	if !p.IsValid() {
		return prefixKey{}, false
	}
	p = p.Masked()
	a := p.Addr()
	k := prefixKey{bits: uint8(p.Bits())}
	if a.Is4() {
		b := a.As4()
		k.hi = uint64(binary.BigEndian.Uint32(b[:])) << 32
	} else {
		b := a.As16()
		k.hi = binary.BigEndian.Uint64(b[:8])
		k.lo = binary.BigEndian.Uint64(b[8:])
		k.v6 = true
	}
	return k, true
}

// compare orders keys of the same family as VRP.Compare orders prefixes.
func (k prefixKey) compare(o prefixKey) int {
	switch {
	case k.hi != o.hi:
		if k.hi < o.hi {
			return -1
		}
		return 1
	case k.lo != o.lo:
		if k.lo < o.lo {
			return -1
		}
		return 1
	case k.bits != o.bits:
		if k.bits < o.bits {
			return -1
		}
		return 1
	}
	return 0
}

// covers reports whether the prefix k contains the prefix o of the same
// family.
func (k prefixKey) covers(o prefixKey) bool {
	if k.bits > o.bits {
		return false
	}
	common := 128
	if x := k.hi ^ o.hi; x != 0 {
		common = bits.LeadingZeros64(x)
	} else if y := k.lo ^ o.lo; y != 0 {
		common = 64 + bits.LeadingZeros64(y)
	}
	return common >= int(k.bits)
}

// prefixIndex finds the VRPs covering a route. Per address family it holds
// each distinct VRP prefix once, in Set order, and links it to the nearest
// prefix that covers it. Set order is a pre-order walk of the covering
// tree: a prefix sorts before everything it covers, and what it covers
// follows it in one run. So every prefix covering a route also covers the
// last indexed prefix that sorts at or before the route, and the covering
// prefixes are found by one binary search and a walk up the parent links.
// Unlike a binary trie it needs no glue nodes: 32 bytes per distinct
// prefix.
type prefixIndex struct {
	family [2][]indexNode // IPv4, IPv6
	// bucket[f][t] is the first node of family f whose address starts
	// with the 16 bits t (len 1<<16+1): at global scale it cuts the
	// binary search from about 19 steps to 3 or 4 for IPv4, for 256 KiB
	// a family. Nil for a family too small to be worth it.
	bucket [2][]int32
}

const (
	bucketBits = 16
	// minBucketNodes: below this the table's 256 KiB and the time to
	// fill it cost more than the few search steps it saves.
	minBucketNodes = 1 << 12
)

type indexNode struct {
	hi, lo uint64
	// first and end delimit the prefix's VRPs in Set.vrps, which Builder
	// keeps adjacent by masking prefixes before sorting.
	first, end int32
	parent     int32 // -1: no indexed prefix covers this one
	bits       uint8
}

func (n *indexNode) key(v6 bool) prefixKey {
	return prefixKey{hi: n.hi, lo: n.lo, bits: n.bits, v6: v6}
}

func familyOf(k prefixKey) int {
	if k.v6 {
		return 1
	}
	return 0
}

func newPrefixIndex(vrps []VRP) *prefixIndex {
	idx := &prefixIndex{}
	// Size each family exactly: at global scale, growing by append would
	// copy and drop several times the final 20 MB.
	var distinct [2]int
	for i, v := range vrps {
		if v.Prefix.IsValid() && (i == 0 || v.Prefix != vrps[i-1].Prefix) {
			distinct[familyOf(prefixKey{v6: v.Prefix.Addr().Is6()})]++
		}
	}
	for f, n := range distinct {
		idx.family[f] = make([]indexNode, 0, n)
	}
	var stack []int32 // the chain of prefixes covering the current one
	lastFam := -1
	for i := 0; i < len(vrps); {
		j := i + 1
		for j < len(vrps) && vrps[j].Prefix == vrps[i].Prefix {
			j++
		}
		k, ok := keyOf(vrps[i].Prefix)
		if ok {
			f := familyOf(k)
			if f != lastFam {
				stack, lastFam = stack[:0], f
			}
			nodes := idx.family[f]
			for len(stack) > 0 && !nodes[stack[len(stack)-1]].key(k.v6).covers(k) {
				stack = stack[:len(stack)-1]
			}
			parent := int32(-1)
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			idx.family[f] = append(nodes, indexNode{
				hi: k.hi, lo: k.lo, bits: k.bits,
				first: int32(i), end: int32(j), parent: parent,
			})
			stack = append(stack, int32(len(nodes)))
		}
		i = j
	}
	for f, nodes := range idx.family {
		if len(nodes) < minBucketNodes {
			continue
		}
		b := make([]int32, 1<<bucketBits+1)
		n := 0
		for t := range b {
			for n < len(nodes) && int(nodes[n].hi>>(64-bucketBits)) < t {
				n++
			}
			b[t] = int32(n)
		}
		idx.bucket[f] = b
	}
	return idx
}

// chain stores in buf the indexed prefixes of route's family that cover
// route, most specific first, and returns them as a slice of buf. Their
// lengths differ, so there are at most maxChain of them.
func (idx *prefixIndex) chain(route prefixKey, buf *[maxChain]int32) (nodes []indexNode, chain []int32) {
	f := familyOf(route)
	nodes = idx.family[f]
	// Find the last node that sorts at or before route. The nodes before
	// route's bucket all sort before route, those after it all after.
	lo, hi := 0, len(nodes)
	if b := idx.bucket[f]; b != nil {
		t := route.hi >> (64 - bucketBits)
		lo, hi = int(b[t]), int(b[t+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if nodes[m].key(route.v6).compare(route) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	n := int32(lo - 1)
	// Climb past the prefixes that sort before route without covering
	// it; once one covers it, all its ancestors do too.
	for n >= 0 && !nodes[n].key(route.v6).covers(route) {
		n = nodes[n].parent
	}
	c := 0
	for ; n >= 0; n = nodes[n].parent {
		buf[c] = n
		c++
	}
	return nodes, buf[:c]
}
