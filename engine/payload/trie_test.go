package payload_test

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

// linearValidity is RFC 6811 §2 read literally: look at every VRP.
func linearValidity(s *payload.Set, route netip.Prefix, origin uint32) payload.Result {
	var r payload.Result
	if !route.IsValid() {
		return r
	}
	route = route.Masked()
	for _, v := range s.VRPs() {
		p := v.Prefix
		covers := p.IsValid() && p.Addr().BitLen() == route.Addr().BitLen() &&
			p.Bits() <= route.Bits() && p.Contains(route.Addr())
		switch {
		case !covers:
		case v.ASN == 0 || v.ASN != origin:
			r.UnmatchedAS = append(r.UnmatchedAS, v)
		case route.Bits() > int(v.MaxLength):
			r.UnmatchedLength = append(r.UnmatchedLength, v)
		default:
			r.Matched = append(r.Matched, v)
		}
	}
	switch {
	case len(r.Matched) > 0:
		r.State = payload.Valid
	case len(r.UnmatchedLength) > 0:
		r.State, r.Reason = payload.Invalid, payload.InvalidLength
	case len(r.UnmatchedAS) > 0:
		r.State, r.Reason = payload.Invalid, payload.InvalidASN
	}
	return r
}

func checkValidity(t *testing.T, s *payload.Set, route netip.Prefix, origin uint32) {
	t.Helper()
	want := linearValidity(s, route, origin)
	got := s.Validity(route, origin)
	if d := cmp.Diff(want, got, prefixEqual); d != "" {
		t.Fatalf("Validity(%v, AS%d) (-linear scan +got):\n%s", route, origin, d)
	}
	if st := s.State(route, origin); st != want.State {
		t.Fatalf("State(%v, AS%d) = %d, want %d", route, origin, st, want.State)
	}
	// AppendValidity gives the same lists behind what buf held, which
	// it leaves alone.
	held := payload.VRP{ASN: 7, Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLength: 24}
	buf := make([]payload.VRP, 1, 2)
	buf[0] = held
	got, buf = s.AppendValidity(buf, route, origin)
	if d := cmp.Diff(want, got, prefixEqual); d != "" {
		t.Fatalf("AppendValidity(%v, AS%d) (-linear scan +got):\n%s", route, origin, d)
	}
	if n := len(want.Matched) + len(want.UnmatchedAS) + len(want.UnmatchedLength); len(buf) != 1+n || buf[0] != held {
		t.Fatalf("AppendValidity(%v, AS%d) returned a buffer of %d VRPs starting %v; want %d starting %v", route, origin, len(buf), buf[0], 1+n, held)
	}
}

func TestValidity(t *testing.T) {
	s := build(
		addV(vrp(0, "192.0.2.0/24", 24), srcA1),
		addV(vrp(64496, "10.0.0.0/8", 8), srcA1),
		addV(vrp(64497, "10.0.0.0/16", 24), srcA1),
		addV(vrp(64497, "10.0.0.0/16", 16), srcA1),
		addV(vrp(64498, "10.0.0.0/16", 20), srcA1),
		addV(vrp(64497, "10.1.0.0/16", 16), srcA1),
		addV(vrp(64499, "2001:db8::/32", 48), srcA1),
		addV(vrp(64500, "2001:db8:1::/48", 48), srcA1),
		addV(vrp(64501, "::/0", 128), srcA1),
	)
	tests := []struct {
		name   string
		route  string
		origin uint32
		want   payload.Result
	}{
		{
			name:  "no covering VRP",
			route: "11.0.0.0/8", origin: 64496,
		},
		{
			name:  "IPv6 default does not cover IPv4",
			route: "198.51.100.0/24", origin: 64501,
		},
		{
			name:  "exact prefix, maxLength equal to length",
			route: "10.0.0.0/8", origin: 64496,
			want: payload.Result{State: payload.Valid, Matched: []payload.VRP{vrp(64496, "10.0.0.0/8", 8)}},
		},
		{
			name:  "more specific than maxLength",
			route: "10.2.0.0/16", origin: 64496,
			want: payload.Result{
				State: payload.Invalid, Reason: payload.InvalidLength,
				UnmatchedLength: []payload.VRP{vrp(64496, "10.0.0.0/8", 8)},
			},
		},
		{
			name:  "valid through a nested VRP, the others listed",
			route: "10.0.1.0/24", origin: 64497,
			want: payload.Result{
				State:           payload.Valid,
				Matched:         []payload.VRP{vrp(64497, "10.0.0.0/16", 24)},
				UnmatchedAS:     []payload.VRP{vrp(64496, "10.0.0.0/8", 8), vrp(64498, "10.0.0.0/16", 20)},
				UnmatchedLength: []payload.VRP{vrp(64497, "10.0.0.0/16", 16)},
			},
		},
		{
			name:  "other AS only",
			route: "10.1.0.0/16", origin: 64498,
			want: payload.Result{
				State: payload.Invalid, Reason: payload.InvalidASN,
				UnmatchedAS: []payload.VRP{vrp(64496, "10.0.0.0/8", 8), vrp(64497, "10.1.0.0/16", 16)},
			},
		},
		{
			name:  "length reason wins over AS reason",
			route: "10.1.0.0/24", origin: 64497,
			want: payload.Result{
				State: payload.Invalid, Reason: payload.InvalidLength,
				UnmatchedAS:     []payload.VRP{vrp(64496, "10.0.0.0/8", 8)},
				UnmatchedLength: []payload.VRP{vrp(64497, "10.1.0.0/16", 16)},
			},
		},
		{
			name:  "AS0 VRP never matches, even for origin AS0",
			route: "192.0.2.0/24", origin: 0,
			want: payload.Result{
				State: payload.Invalid, Reason: payload.InvalidASN,
				UnmatchedAS: []payload.VRP{vrp(0, "192.0.2.0/24", 24)},
			},
		},
		{
			name:  "host bits of the route are ignored",
			route: "10.0.0.1/8", origin: 64496,
			want: payload.Result{State: payload.Valid, Matched: []payload.VRP{vrp(64496, "10.0.0.0/8", 8)}},
		},
		{
			name:  "less specific than every VRP",
			route: "10.0.0.0/7", origin: 64496,
		},
		{
			name:  "IPv6 under the default route",
			route: "2001:db8:1::/48", origin: 64500,
			want: payload.Result{
				State:       payload.Valid,
				Matched:     []payload.VRP{vrp(64500, "2001:db8:1::/48", 48)},
				UnmatchedAS: []payload.VRP{vrp(64501, "::/0", 128), vrp(64499, "2001:db8::/32", 48)},
			},
		},
		{
			name:  "IPv4-mapped IPv6 is IPv6",
			route: "::ffff:10.0.0.0/104", origin: 64501,
			want: payload.Result{State: payload.Valid, Matched: []payload.VRP{vrp(64501, "::/0", 128)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			route := netip.MustParsePrefix(tc.route)
			got := s.Validity(route, tc.origin)
			if d := cmp.Diff(tc.want, got, prefixEqual); d != "" {
				t.Errorf("Validity (-want +got):\n%s", d)
			}
			if st := s.State(route, tc.origin); st != tc.want.State {
				t.Errorf("State = %d, want %d", st, tc.want.State)
			}
			checkValidity(t, s, route, tc.origin)
		})
	}

	t.Run("invalid prefix is not found", func(t *testing.T) {
		if r := s.Validity(netip.Prefix{}, 64496); r.State != payload.NotFound || r.Matched != nil {
			t.Errorf("got %+v", r)
		}
		if st := s.State(netip.Prefix{}, 64496); st != payload.NotFound {
			t.Errorf("State = %d", st)
		}
	})
	t.Run("empty set", func(t *testing.T) {
		empty := build()
		if st := empty.State(netip.MustParsePrefix("0.0.0.0/0"), 1); st != payload.NotFound {
			t.Errorf("State = %d", st)
		}
	})
}

// randomPrefix draws from a narrow space (the top 12 bits vary) so that
// random prefixes often nest.
func randomPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(3) == 0 {
		var a [16]byte
		a[0], a[1] = 0x20, byte(r.IntN(16))<<4
		return netip.PrefixFrom(netip.AddrFrom16(a), r.IntN(129)).Masked()
	}
	a := [4]byte{byte(r.IntN(256)), byte(r.IntN(16)) << 4, byte(r.IntN(4)), byte(r.IntN(2))}
	return netip.PrefixFrom(netip.AddrFrom4(a), r.IntN(33)).Masked()
}

func randomSet(r *rand.Rand, n int) *payload.Set {
	var b payload.Builder
	for range n {
		p := randomPrefix(r)
		b.AddVRP(payload.VRP{ASN: uint32(r.IntN(4)), Prefix: p, MaxLength: uint8(p.Bits() + r.IntN(8))}, srcA1)
	}
	return b.Build()
}

func TestValidityRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// 20,000 VRPs give the IPv4 family enough prefixes for the bucketed
	// search.
	for _, n := range []int{1, 10, 100, 3000, 20_000} {
		s := randomSet(r, n)
		for range 1000 {
			route := randomPrefix(r)
			if r.IntN(2) == 0 && len(s.VRPs()) > 0 {
				// A route inside a VRP's prefix is covered at least once.
				v := s.VRPs()[r.IntN(len(s.VRPs()))]
				route = netip.PrefixFrom(v.Prefix.Addr(), v.Prefix.Bits()+r.IntN(v.Prefix.Addr().BitLen()-v.Prefix.Bits()+1))
			}
			checkValidity(t, s, route, uint32(r.IntN(4)))
		}
	}
}

func TestValidityConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := randomSet(r, 2000)
	type query struct {
		route  netip.Prefix
		origin uint32
		want   payload.Result
	}
	queries := make([]query, 500)
	for i := range queries {
		q := &queries[i]
		q.route, q.origin = randomPrefix(r), uint32(r.IntN(4))
		q.want = linearValidity(s, q.route, q.origin)
	}
	// The index is built by whichever reader comes first; the race
	// detector checks that the others see it complete.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range queries {
				q := &queries[(i+g*61)%len(queries)]
				if st := s.State(q.route, q.origin); st != q.want.State {
					t.Errorf("State(%v, AS%d) = %d, want %d", q.route, q.origin, st, q.want.State)
					return
				}
				if got := s.Validity(q.route, q.origin); !cmp.Equal(got, q.want, prefixEqual) {
					t.Errorf("Validity(%v, AS%d) differs from the linear scan", q.route, q.origin)
					return
				}
			}
		})
	}
	wg.Wait()
}

// fuzzPrefix reads a prefix from 4 bytes; like randomPrefix, it keeps to a
// narrow space so that prefixes nest.
func fuzzPrefix(b []byte) netip.Prefix {
	if b[0]&1 != 0 {
		var a [16]byte
		a[0], a[1], a[2] = b[1], b[2]&0xf0, b[0]&0x80
		return netip.PrefixFrom(netip.AddrFrom16(a), int(b[3])%129)
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{b[1], b[2] & 0xf0, b[0] & 0x80, 0}), int(b[3])%33)
}

func FuzzValidity(f *testing.F) {
	f.Add([]byte{0, 10, 0, 16, 1}, []byte{0, 10, 0, 8, 8, 0, 10, 0, 16, 2})
	f.Add([]byte{1, 0x20, 0x01, 48, 3}, []byte{1, 0x20, 0, 0, 0x13, 1, 0x20, 0x01, 32, 0x21})
	f.Fuzz(func(t *testing.T, query, vrps []byte) {
		if len(query) < 5 {
			return
		}
		var b payload.Builder
		for i := 0; i+5 <= len(vrps); i += 5 {
			p := fuzzPrefix(vrps[i : i+4])
			x := vrps[i+4]
			b.AddVRP(payload.VRP{ASN: uint32(x >> 6), Prefix: p, MaxLength: uint8(p.Bits()) + x&7}, srcA1)
		}
		s := b.Build()
		// The route keeps its host bits: Validity must ignore them.
		checkValidity(t, s, fuzzPrefix(query[:4]), uint32(query[4]>>6))
	})
}

// The index entry is what a global-scale set holds 600,000 of.
func TestIndexNodeSize(t *testing.T) {
	if payload.IndexNodeSize != 32 {
		t.Errorf("index entry is %d bytes, want 32", payload.IndexNodeSize)
	}
}
