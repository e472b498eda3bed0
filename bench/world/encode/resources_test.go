package encode_test

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world/encode"
)

// expand turns an RFC 3779 bit string into a 32-bit bound, filling the
// missing bits with fill.
func expand(bits string, fill byte) uint32 {
	bits += strings.Repeat(string('0'+fill), 32-len(bits))
	var v uint32
	for _, c := range bits {
		v = v<<1 | uint32(c-'0')
	}
	return v
}

// TestIPResourcesProperty checks random IPv4 sets against a bitmap: the
// encoding covers exactly the union of the input, in sorted, disjoint,
// non-adjacent elements, and never uses a range where a prefix would do.
func TestIPResourcesProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		// Prefixes of /16../24 inside 10.0.0.0/12, counted in /24 blocks,
		// so that overlaps and adjacency are common.
		var in []netip.Prefix
		want := make([]bool, 1<<12)
		for range 1 + r.IntN(8) {
			bits := 16 + r.IntN(9)
			block := r.IntN(1<<12) &^ (1<<(24-bits) - 1)
			in = append(in, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(block >> 8), byte(block), 0}), bits))
			for b := block; b < block+1<<(24-bits); b++ {
				want[b] = true
			}
		}
		fams := decodeIPBlocks(t, (&encode.IPResources{Prefixes: in}).Encode())
		got := make([]bool, 1<<12)
		var lastMax uint32
		for i, e := range fams[1] {
			lo, hi := expand(e.Min, 0), expand(e.Min, 1)
			if e.Max != "" {
				hi = expand(e.Max, 1)
				// A range must not be a prefix: hi-lo+1 a power of two
				// aligned at lo.
				size := hi - lo + 1
				if size&(size-1) == 0 && lo&(size-1) == 0 {
					t.Fatalf("iteration %d: range %s-%s is a prefix (input %v)", iter, e.Min, e.Max, in)
				}
			}
			if i > 0 && lo <= lastMax+1 {
				t.Fatalf("iteration %d: elements overlap, touch or are out of order (input %v): %v", iter, in, fams[1])
			}
			lastMax = hi
			for a := lo; a <= hi && a >= lo; a += 256 {
				got[(a>>8)&0xfff] = true
			}
		}
		for b := range want {
			if want[b] != got[b] {
				t.Fatalf("iteration %d: block %d covered %v, want %v (input %v, encoded %v)", iter, b, got[b], want[b], in, fams[1])
			}
		}
	}
}
