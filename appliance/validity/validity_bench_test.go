package validity_test

import (
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/validity"
	"github.com/rovd/rovd/engine/payload"
)

// benchVRPs is a tenth of the global RPKI's VRP count: enough for the
// index to have the global set's shape without a long setup.
const benchVRPs = 60_000

// benchSet draws mostly IPv4 /16 to /24 VRPs and some IPv6 /32 to /48s.
func benchSet(r *rand.Rand) (*payload.Set, []validity.Route) {
	var b payload.Builder
	src := &payload.Source{TA: "bench"}
	for range benchVRPs {
		var p netip.Prefix
		if r.IntN(5) != 0 {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256))}), 16+r.IntN(9))
		} else {
			p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 32+r.IntN(17))
		}
		b.AddVRP(payload.VRP{ASN: uint32(1 + r.IntN(100_000)), Prefix: p, MaxLength: uint8(p.Bits() + r.IntN(3))}, src)
	}
	set := b.Build()
	// Half the routes fall inside a VRP (with its AS half the time), the
	// others are random /24s, mostly not found.
	vrps := set.VRPs()
	routes := make([]validity.Route, 1<<12)
	for i := range routes {
		if i%2 == 0 {
			v := vrps[r.IntN(len(vrps))]
			routes[i] = validity.Route{Prefix: netip.PrefixFrom(v.Prefix.Addr(), min(v.Prefix.Bits()+r.IntN(3), v.Prefix.Addr().BitLen())), ASN: v.ASN}
			if r.IntN(2) == 0 {
				routes[i].ASN++
			}
		} else {
			routes[i] = validity.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 24), ASN: 64496}
		}
	}
	return set, routes
}

// BenchmarkLookup times one route's lookup and formatting: plain text,
// which must not allocate, and the JSON detail, which allocates the VRP
// lists of a covered route once.
func BenchmarkLookup(b *testing.B) {
	set, routes := benchSet(rand.New(rand.NewPCG(1, 2)))
	set.State(routes[0].Prefix, routes[0].ASN) // build the index outside the timings
	at := time.Unix(0, 0)

	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		i := 0
		for b.Loop() {
			r := routes[i&(len(routes)-1)]
			buf = validity.AppendText(buf[:0], r, set.State(r.Prefix, r.ASN))
			i++
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		i := 0
		for b.Loop() {
			buf = validity.AppendSingleJSON(buf[:0], set, routes[i&(len(routes)-1)], at)
			i++
		}
	})
	b.Run("WriteText", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := validity.WriteText(io.Discard, set, routes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
