package encode

import (
	"cmp"
	"math/bits"
	"net/netip"
	"slices"
)

// IPRange is an inclusive range of addresses of one family.
type IPRange struct {
	Min, Max netip.Addr
}

// IPResources is the content of an RFC 3779 §2 IP address delegation
// extension. The builder merges and sorts what it is given and picks the
// canonical form (RFC 3779 §2.2.3.6 and §2.2.3.7): a prefix wherever a
// merged run is exactly a prefix, a range otherwise, IPv4 before IPv6.
type IPResources struct {
	// InheritV4 and InheritV6 encode the family as inherit (NULL); any
	// prefixes given for that family are then ignored.
	InheritV4, InheritV6 bool
	Prefixes             []netip.Prefix
	Ranges               []IPRange
	// Raw, if set, replaces the whole encoded IPAddrBlocks.
	Raw []byte
}

// InheritIP returns resources that inherit both address families, as the
// EE certificates of manifests and Ghostbusters records carry.
func InheritIP() *IPResources { return &IPResources{InheritV4: true, InheritV6: true} }

// u128 is an address as an unsigned integer, IPv4 in the low 32 bits.
type u128 struct{ hi, lo uint64 }

func addrU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var v u128
	for i := range 8 {
		v.hi = v.hi<<8 | uint64(b[i])
		v.lo = v.lo<<8 | uint64(b[8+i])
	}
	return v
}

func (v u128) cmp(w u128) int {
	if c := cmp.Compare(v.hi, w.hi); c != 0 {
		return c
	}
	return cmp.Compare(v.lo, w.lo)
}

func (v u128) add1() (u128, bool) {
	lo, carry := bits.Add64(v.lo, 1, 0)
	hi, over := bits.Add64(v.hi, 0, carry)
	return u128{hi, lo}, over != 0
}

func (v u128) trailingZeros() int {
	if v.lo != 0 {
		return bits.TrailingZeros64(v.lo)
	}
	if v.hi != 0 {
		return 64 + bits.TrailingZeros64(v.hi)
	}
	return 128
}

func (v u128) not() u128 { return u128{^v.hi, ^v.lo} }

// bytes returns the address bytes for a family of width bits.
func (v u128) bytes(width int) []byte {
	if width == 32 {
		return []byte{byte(v.lo >> 24), byte(v.lo >> 16), byte(v.lo >> 8), byte(v.lo)}
	}
	b := make([]byte, 16)
	for i := range 8 {
		b[i] = byte(v.hi >> (56 - 8*i))
		b[8+i] = byte(v.lo >> (56 - 8*i))
	}
	return b
}

type interval struct{ lo, hi u128 }

// prefixInterval returns the addresses a prefix covers.
func prefixInterval(p netip.Prefix) interval {
	p = p.Masked()
	width := p.Addr().BitLen()
	lo := addrU128(p.Addr())
	host := width - p.Bits()
	// The host mask is host one-bits in the low end of the family width.
	var mask u128
	switch {
	case host >= 128:
		mask = u128{^uint64(0), ^uint64(0)}
	case host >= 64:
		mask = u128{1<<(host-64) - 1, ^uint64(0)}
	default:
		mask = u128{0, 1<<host - 1}
	}
	return interval{lo, u128{lo.hi | mask.hi, lo.lo | mask.lo}}
}

// mergeIntervals sorts and merges overlapping or adjacent intervals.
func mergeIntervals(in []interval) []interval {
	slices.SortFunc(in, func(a, b interval) int { return a.lo.cmp(b.lo) })
	var out []interval
	for _, iv := range in {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next, over := last.hi.add1()
			if over || iv.lo.cmp(next) <= 0 {
				if iv.hi.cmp(last.hi) > 0 {
					last.hi = iv.hi
				}
				continue
			}
		}
		out = append(out, iv)
	}
	return out
}

// encodeFamily returns the IPAddressOrRange elements of one family.
func encodeFamily(ivs []interval, width int) [][]byte {
	var out [][]byte
	for _, iv := range mergeIntervals(ivs) {
		// The run is a prefix when it spans exactly the host bits of
		// one: with k the smaller of lo's trailing zeros and hi's
		// trailing ones, lo/(width-k) must end at hi. (k may be less
		// than either count: 8.0.0.0/5 ends at 15.255.255.255, which
		// has 28 trailing ones.)
		zeros := min(iv.lo.trailingZeros(), width)
		ones := min(iv.hi.not().trailingZeros(), width)
		k := min(zeros, ones)
		if prefixInterval(netip.PrefixFrom(addrFrom(iv.lo, width), width-k)).hi == iv.hi {
			out = append(out, BitString(iv.lo.bytes(width), width-k))
			continue
		}
		// RFC 3779 §2.2.3.7: min drops its trailing zero bits, max its
		// trailing one bits.
		out = append(out, Sequence(
			BitString(iv.lo.bytes(width), width-zeros),
			BitString(iv.hi.bytes(width), width-ones),
		))
	}
	return out
}

func addrFrom(v u128, width int) netip.Addr {
	if width == 32 {
		return netip.AddrFrom4([4]byte(v.bytes(32)))
	}
	return netip.AddrFrom16([16]byte(v.bytes(128)))
}

// Encode returns the DER IPAddrBlocks, or nil when there is nothing to
// encode (no family inherits and no addresses are given).
func (r *IPResources) Encode() []byte {
	if r.Raw != nil {
		return r.Raw
	}
	var v4, v6 []interval
	for _, p := range r.Prefixes {
		if p.Addr().Is4() {
			v4 = append(v4, prefixInterval(p))
		} else {
			v6 = append(v6, prefixInterval(p))
		}
	}
	for _, rg := range r.Ranges {
		iv := interval{addrU128(rg.Min), addrU128(rg.Max)}
		if rg.Min.Is4() {
			v4 = append(v4, iv)
		} else {
			v6 = append(v6, iv)
		}
	}
	var fams [][]byte
	family := func(afi byte, inherit bool, ivs []interval, width int) {
		switch {
		case inherit:
			fams = append(fams, Sequence(OctetString([]byte{0, afi}), Null()))
		case len(ivs) > 0:
			fams = append(fams, Sequence(OctetString([]byte{0, afi}), Sequence(encodeFamily(ivs, width)...)))
		}
	}
	family(1, r.InheritV4, v4, 32)
	family(2, r.InheritV6, v6, 128)
	if fams == nil {
		return nil
	}
	return Sequence(fams...)
}

// ASRange is an inclusive range of AS numbers.
type ASRange struct {
	Min, Max uint32
}

// ASResources is the content of an RFC 3779 §3 AS identifier delegation
// extension (asnum only; rdi is never used in the RPKI, RFC 6487 §4.8.11).
type ASResources struct {
	Inherit bool
	Ranges  []ASRange
	// Raw, if set, replaces the whole encoded ASIdentifiers.
	Raw []byte
}

// InheritAS returns AS resources that inherit.
func InheritAS() *ASResources { return &ASResources{Inherit: true} }

// ASNs returns AS resources for single AS numbers.
func ASNs(asns ...uint32) *ASResources {
	r := &ASResources{}
	for _, a := range asns {
		r.Ranges = append(r.Ranges, ASRange{a, a})
	}
	return r
}

// Encode returns the DER ASIdentifiers with asnum sorted and merged, a
// single AS as an ASId and longer runs as ranges (RFC 3779 §3.2.3.4).
func (r *ASResources) Encode() []byte {
	if r.Raw != nil {
		return r.Raw
	}
	if r.Inherit {
		return Sequence(Explicit(0, Null()))
	}
	rs := slices.Clone(r.Ranges)
	slices.SortFunc(rs, func(a, b ASRange) int { return cmp.Compare(a.Min, b.Min) })
	var merged []ASRange
	for _, x := range rs {
		if n := len(merged); n > 0 && uint64(x.Min) <= uint64(merged[n-1].Max)+1 {
			merged[n-1].Max = max(merged[n-1].Max, x.Max)
			continue
		}
		merged = append(merged, x)
	}
	var elems [][]byte
	for _, x := range merged {
		if x.Min == x.Max {
			elems = append(elems, Uint(uint64(x.Min)))
		} else {
			elems = append(elems, Sequence(Uint(uint64(x.Min)), Uint(uint64(x.Max))))
		}
	}
	return Sequence(Explicit(0, Sequence(elems...)))
}
