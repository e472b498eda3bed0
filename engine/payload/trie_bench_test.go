package payload_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/rovd/rovd/engine/payload"
)

// globalVRPs is about the VRP count of the global RPKI in 2025.
const globalVRPs = 600_000

// globalSet draws VRPs shaped like the real ones: four in five IPv4,
// mostly /24s, IPv6 mostly /32 to /48; maxLength a few bits over the
// prefix length at times.
func globalSet(r *rand.Rand, n int) *payload.Set {
	var b payload.Builder
	src := &payload.Source{TA: "bench"}
	for range n {
		var p netip.Prefix
		if r.IntN(5) != 0 {
			// Each length one bit shorter is half as common: half are
			// /24s, a handful are /8s, as in the global set.
			bits := 24
			for bits > 8 && r.IntN(2) == 0 {
				bits--
			}
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256))}), bits)
		} else {
			bits := []int{32, 48, 48, 48, 29, 36, 40, 44}[r.IntN(8)]
			var a [16]byte
			a[0], a[1] = 0x20, byte(r.IntN(16))
			for i := 2; i < 6; i++ {
				a[i] = byte(r.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(a), bits)
		}
		maxLen := p.Bits()
		if r.IntN(4) == 0 {
			maxLen = min(maxLen+r.IntN(9), p.Addr().BitLen())
		}
		b.AddVRP(payload.VRP{ASN: uint32(1 + r.IntN(400_000)), Prefix: p, MaxLength: uint8(maxLen)}, src)
	}
	return b.Build()
}

type benchQuery struct {
	route  netip.Prefix
	origin uint32
}

// benchQueries are half routes inside some VRP (origin right half the
// time), half random /24s and /48s, which are mostly not found.
func benchQueries(r *rand.Rand, s *payload.Set, n int) []benchQuery {
	vrps := s.VRPs()
	qs := make([]benchQuery, n)
	for i := range qs {
		q := &qs[i]
		if i%2 == 0 {
			v := vrps[r.IntN(len(vrps))]
			width := v.Prefix.Addr().BitLen()
			q.route = netip.PrefixFrom(v.Prefix.Addr(), min(v.Prefix.Bits()+r.IntN(4), width))
			q.origin = v.ASN
			if r.IntN(2) == 0 {
				q.origin = uint32(1 + r.IntN(400_000))
			}
		} else if r.IntN(5) != 0 {
			q.route = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 24)
			q.origin = uint32(1 + r.IntN(400_000))
		} else {
			q.route = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, byte(r.IntN(16)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 48)
			q.origin = uint32(1 + r.IntN(400_000))
		}
	}
	return qs
}

func BenchmarkValidity(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	s := globalSet(r, globalVRPs)
	qs := benchQueries(r, s, 1<<16)
	s.State(qs[0].route, qs[0].origin) // build the index outside the timings

	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload.BuildIndex(s)
		}
	})
	b.Run("State", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := &qs[i&(len(qs)-1)]
			s.State(q.route, q.origin)
			i++
		}
	})
	b.Run("Validity", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := &qs[i&(len(qs)-1)]
			s.Validity(q.route, q.origin)
			i++
		}
	})
	b.Run("AppendValidity", func(b *testing.B) {
		b.ReportAllocs()
		var buf []payload.VRP
		i := 0
		for b.Loop() {
			q := &qs[i&(len(qs)-1)]
			_, buf = s.AppendValidity(buf[:0], q.route, q.origin)
			i++
		}
	})
	b.Run("State-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				q := &qs[i&(len(qs)-1)]
				s.State(q.route, q.origin)
				i++
			}
		})
	})
}

// BenchmarkBuild times Builder.Build on a global-scale run's VRPs; adding
// them is in the timing too, as a Builder is spent by Build.
func BenchmarkBuild(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	vrps := globalSet(r, globalVRPs).VRPs()
	src := &payload.Source{TA: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		var bl payload.Builder
		for _, v := range vrps {
			bl.AddVRP(v, src)
		}
		bl.Build()
	}
}
