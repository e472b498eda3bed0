package rpki

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	"github.com/rovd/rovd/engine/der"
)

// IPRange is an inclusive range of addresses of one family.
type IPRange struct {
	Min, Max netip.Addr
}

// Prefix returns the range as a prefix if it is one.
func (r IPRange) Prefix() (netip.Prefix, bool) {
	bits := r.Min.BitLen()
	a, b := r.Min.As16(), r.Max.As16()
	off := 0
	if r.Min.Is4() {
		off = 12
	}
	// Length of the common leading bits.
	n := 0
	for n < bits && bitAt(a[off:], n) == bitAt(b[off:], n) {
		n++
	}
	for i := n; i < bits; i++ {
		if bitAt(a[off:], i) || !bitAt(b[off:], i) {
			return netip.Prefix{}, false
		}
	}
	return netip.PrefixFrom(r.Min, n), true
}

func (r IPRange) String() string {
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.Min.String() + "-" + r.Max.String()
}

func bitAt(b []byte, i int) bool { return b[i/8]&(0x80>>(i%8)) != 0 }

// IPSet is the resources of one address family: inherited from the issuer
// or an explicit list of ranges, sorted and neither overlapping nor
// adjacent (adjacent ones are merged when decoding).
type IPSet struct {
	Inherit bool
	Ranges  []IPRange
}

// Empty reports whether the set holds no addresses and does not inherit.
func (s IPSet) Empty() bool { return !s.Inherit && len(s.Ranges) == 0 }

// Covers reports whether every address of c lies in s. Neither may be
// inherit: resolve inheritance first.
func (s IPSet) Covers(c IPSet) bool { return coversRanges(s.Ranges, c.Ranges) }

// CoversPrefix reports whether the prefix lies in s. It searches the
// sorted ranges in O(log n), so checking every prefix of a ROA against
// its EE certificate stays O(n log n) even for ROAs with tens of
// thousands of prefixes.
func (s IPSet) CoversPrefix(p netip.Prefix) bool {
	r := prefixRange(p)
	// The first range that does not end before r starts.
	i := sort.Search(len(s.Ranges), func(i int) bool { return !s.Ranges[i].Max.Less(r.Min) })
	return i < len(s.Ranges) && !r.Min.Less(s.Ranges[i].Min) && !s.Ranges[i].Max.Less(r.Max)
}

func coversRanges(parent, child []IPRange) bool {
	i := 0
	for _, c := range child {
		for i < len(parent) && parent[i].Max.Less(c.Min) {
			i++
		}
		if i == len(parent) || c.Min.Less(parent[i].Min) || parent[i].Max.Less(c.Max) {
			return false
		}
	}
	return true
}

// Overlaps reports whether s and c share any address.
func (s IPSet) Overlaps(c IPSet) bool {
	i, j := 0, 0
	for i < len(s.Ranges) && j < len(c.Ranges) {
		a, b := s.Ranges[i], c.Ranges[j]
		switch {
		case a.Max.Less(b.Min):
			i++
		case b.Max.Less(a.Min):
			j++
		default:
			return true
		}
	}
	return false
}

// prefixRange returns the first and last address of a prefix.
func prefixRange(p netip.Prefix) IPRange {
	p = p.Masked()
	a := p.Addr().As16()
	off, bits := 0, 128
	if p.Addr().Is4() {
		off, bits = 12, 32
	}
	for i := p.Bits(); i < bits; i++ {
		a[off+i/8] |= 0x80 >> (i % 8)
	}
	last := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		last = last.Unmap()
	}
	return IPRange{Min: p.Addr(), Max: last}
}

// ASRange is an inclusive range of AS numbers.
type ASRange struct {
	Min, Max uint32
}

func (r ASRange) String() string {
	if r.Min == r.Max {
		return "AS" + strconv.FormatUint(uint64(r.Min), 10)
	}
	return "AS" + strconv.FormatUint(uint64(r.Min), 10) + "-AS" + strconv.FormatUint(uint64(r.Max), 10)
}

// ASSet is a certificate's AS resources: inherited or an explicit sorted
// list of ranges.
type ASSet struct {
	Inherit bool
	Ranges  []ASRange
}

// Empty reports whether the set holds no AS numbers and does not inherit.
func (s ASSet) Empty() bool { return !s.Inherit && len(s.Ranges) == 0 }

// Covers reports whether every AS number of c lies in s.
func (s ASSet) Covers(c ASSet) bool {
	i := 0
	for _, r := range c.Ranges {
		for i < len(s.Ranges) && s.Ranges[i].Max < r.Min {
			i++
		}
		if i == len(s.Ranges) || r.Min < s.Ranges[i].Min || s.Ranges[i].Max < r.Max {
			return false
		}
	}
	return true
}

// Contains reports whether the AS number lies in s.
func (s ASSet) Contains(as uint32) bool {
	return s.Covers(ASSet{Ranges: []ASRange{{as, as}}})
}

// Resources are the RFC 3779 resources of a certificate.
type Resources struct {
	IPv4, IPv6 IPSet
	AS         ASSet
}

// Inherits reports whether any part of r is inherited.
func (r Resources) Inherits() bool { return r.IPv4.Inherit || r.IPv6.Inherit || r.AS.Inherit }

// HasIP reports whether r holds or inherits addresses.
func (r Resources) HasIP() bool { return !r.IPv4.Empty() || !r.IPv6.Empty() }

// Resolve returns r with every inherited part replaced by the issuer's
// effective resources (RFC 3779 §2.2.3.5, §3.2.3.3).
func (r Resources) Resolve(issuer Resources) Resources {
	if r.IPv4.Inherit {
		r.IPv4 = issuer.IPv4
	}
	if r.IPv6.Inherit {
		r.IPv6 = issuer.IPv6
	}
	if r.AS.Inherit {
		r.AS = issuer.AS
	}
	return r
}

// Covers reports whether every explicit resource of c lies in r; inherited
// parts of c are covered by definition. r must be resolved.
func (r Resources) Covers(c Resources) bool {
	return (c.IPv4.Inherit || r.IPv4.Covers(c.IPv4)) &&
		(c.IPv6.Inherit || r.IPv6.Covers(c.IPv6)) &&
		(c.AS.Inherit || r.AS.Covers(c.AS))
}

const (
	afiIPv4 = 1
	afiIPv6 = 2
)

// maxResourceEntries bounds the entries of one resource set. The largest
// real certificates hold a few thousand (rpki-prover's big_cert.cer: 2,426);
// a million leaves room and still bounds memory.
const maxResourceEntries = 1_000_000

var (
	errEmptyRDN       = errors.New("empty relative distinguished name")
	errAddressTooLong = errors.New("address longer than its family allows")
)

// parseIPAddrBlocks decodes the sbgp-ipAddrBlock extension (RFC 3779
// §2.2.3) with the RFC 6487 §4.8.10 restrictions.
// The sets' range lists are appended to buf4 and buf6, so a caller can
// reuse their memory.
func parseIPAddrBlocks(value []byte, mode der.Mode, field string, r *report, buf4, buf6 []IPRange) (v4, v6 IPSet, err error) {
	p := der.Parse(value, mode)
	seq, err := p.Sequence()
	if err != nil {
		return v4, v6, decodeErr(field, "RFC 3779 §2.2.3.1", err)
	}
	if err := p.Done(); err != nil {
		return v4, v6, decodeErr(field, "RFC 3779 §2.2.3.1", err)
	}
	if seq.Empty() {
		r.inspect(field, "RFC 6487 §4.8.10", "empty ipAddrBlocks")
	}
	lastAFI := 0
	seen := [3]bool{}
	for !seq.Empty() {
		fam, err := seq.Sequence()
		if err != nil {
			return v4, v6, decodeErr(field, "RFC 3779 §2.2.3.2", err)
		}
		afiBytes, err := fam.OctetString()
		if err != nil {
			return v4, v6, decodeErr(field+".addressFamily", "RFC 3779 §2.2.3.3", err)
		}
		afi, ok := parseAFI(afiBytes, field, r)
		if !ok {
			continue
		}
		if seen[afi] {
			r.inspect(field, "RFC 3779 §2.2.3.3", "address family %d appears twice", afi)
			continue
		}
		seen[afi] = true
		if afi < lastAFI && mode == der.Strict {
			r.inspect(field, "RFC 3779 §2.2.3.3", "address families not in order")
		}
		lastAFI = afi
		buf := buf4
		if afi == afiIPv6 {
			buf = buf6
		}
		set, err := parseIPAddressChoice(&fam, afi, mode, field, r, buf)
		if err != nil {
			return v4, v6, err
		}
		if err := fam.Done(); err != nil {
			return v4, v6, decodeErr(field, "RFC 3779 §2.2.3.2", err)
		}
		if afi == afiIPv4 {
			v4 = set
		} else {
			v6 = set
		}
	}
	return v4, v6, nil
}

// parseAFI checks an addressFamily value: two octets, IPv4 or IPv6. The
// optional third octet, the SAFI, is not allowed (RFC 6487 §4.8.10).
func parseAFI(b []byte, field string, r *report) (int, bool) {
	if len(b) == 3 {
		r.inspect(field+".addressFamily", "RFC 6487 §4.8.10", "SAFI must not be present")
		return 0, false
	}
	if len(b) != 2 {
		r.inspect(field+".addressFamily", "RFC 3779 §2.2.3.3", "addressFamily of %d octets", len(b))
		return 0, false
	}
	afi := int(b[0])<<8 | int(b[1])
	if afi != afiIPv4 && afi != afiIPv6 {
		r.inspect(field+".addressFamily", "RFC 3779 §2.2.3.3", "unknown address family %d", afi)
		return 0, false
	}
	return afi, true
}

func parseIPAddressChoice(fam *der.Parser, afi int, mode der.Mode, field string, r *report, buf []IPRange) (IPSet, error) {
	choice, err := fam.Next()
	if err != nil {
		return IPSet{}, decodeErr(field, "RFC 3779 §2.2.3.4", err)
	}
	if choice.Tag() == der.TagNull {
		if err := choice.Null(); err != nil {
			return IPSet{}, decodeErr(field, "RFC 3779 §2.2.3.5", err)
		}
		return IPSet{Inherit: true}, nil
	}
	if choice.Tag() != der.TagSequence {
		return IPSet{}, decodeErr(field, "RFC 3779 §2.2.3.4", fmt.Errorf("ipAddressChoice is %s", choice.Tag()))
	}
	items, err := choice.Children()
	if err != nil {
		return IPSet{}, decodeErr(field, "RFC 3779 §2.2.3.6", err)
	}
	ranges := buf
	for !items.Empty() {
		if len(ranges) == maxResourceEntries {
			return IPSet{}, decodeErr(field, "", fmt.Errorf("more than %d address entries", maxResourceEntries))
		}
		rng, err := parseIPAddressOrRange(&items, afi, mode, field, r)
		if err != nil {
			return IPSet{}, err
		}
		ranges = append(ranges, rng)
	}
	if len(ranges) == 0 {
		r.inspect(field, "RFC 3779 §2.2.3.6", "empty addressesOrRanges")
	}
	ranges = normalizeIPRanges(ranges, mode, field, r)
	return IPSet{Ranges: ranges}, nil
}

// parseIPAddressOrRange reads a prefix (BIT STRING) or a range (SEQUENCE
// of two BIT STRINGs). It is shared by certificates, RSCs and SPLs.
func parseIPAddressOrRange(items *der.Parser, afi int, mode der.Mode, field string, r *report) (IPRange, error) {
	el, err := items.Next()
	if err != nil {
		return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.7", err)
	}
	switch el.Tag() {
	case der.TagBitString:
		bs, err := el.BitString()
		if err != nil {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.8", err)
		}
		p, err := prefixFromBits(bs, afi)
		if err != nil {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.8", err)
		}
		return prefixRange(p), nil
	case der.TagSequence:
		pair, err := el.Children()
		if err != nil {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.9", err)
		}
		var ends [2]der.BitString
		for i := range ends {
			e, err := pair.Expect(der.TagBitString)
			if err == nil {
				ends[i], err = e.BitString()
			}
			if err != nil {
				return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.9", err)
			}
		}
		if err := pair.Done(); err != nil {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.9", err)
		}
		lo, err1 := addrFromBits(ends[0], afi, false)
		hi, err2 := addrFromBits(ends[1], afi, true)
		if err := errors.Join(err1, err2); err != nil {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.9", err)
		}
		if hi.Less(lo) {
			return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.9", fmt.Errorf("range %s-%s ends before it starts", lo, hi))
		}
		rng := IPRange{lo, hi}
		if mode == der.Strict {
			if _, ok := rng.Prefix(); ok {
				r.inspect(field, "RFC 3779 §2.2.3.7", "range %s must be encoded as a prefix", rng)
			}
			if !minimalBits(ends[0], false) || !minimalBits(ends[1], true) {
				r.inspect(field, "RFC 3779 §2.2.3.9", "range %s not encoded in the fewest bits", rng)
			}
		}
		return rng, nil
	}
	return IPRange{}, decodeErr(field, "RFC 3779 §2.2.3.7", fmt.Errorf("IPAddressOrRange is %s", el.Tag()))
}

// addrFromBits builds an address from a BIT STRING, filling the bits not
// given with zeros (lower end) or ones (upper end) as RFC 3779 §2.1.2 says.
func addrFromBits(bs der.BitString, afi int, fill bool) (netip.Addr, error) {
	size := 4
	if afi == afiIPv6 {
		size = 16
	}
	if len(bs.Bytes) > size {
		return netip.Addr{}, errAddressTooLong
	}
	var a [16]byte
	copy(a[:], bs.Bytes)
	n := bs.Len()
	if fill {
		for i := n; i < size*8; i++ {
			a[i/8] |= 0x80 >> (i % 8)
		}
	} else {
		// Ignore any padding bits the encoder left set (Relaxed mode).
		for i := n; i < size*8; i++ {
			a[i/8] &^= 0x80 >> (i % 8)
		}
	}
	if size == 4 {
		return netip.AddrFrom4([4]byte(a[:4])), nil
	}
	return netip.AddrFrom16(a), nil
}

// prefixFromBits builds a prefix from an IPAddress BIT STRING.
func prefixFromBits(bs der.BitString, afi int) (netip.Prefix, error) {
	a, err := addrFromBits(bs, afi, false)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, bs.Len()), nil
}

// minimalBits reports whether the lower (fill false) or upper (fill true)
// end of a range omits its trailing zero or one bits (RFC 3779 §2.1.2).
func minimalBits(bs der.BitString, fill bool) bool {
	n := bs.Len()
	return n == 0 || bs.At(n-1) != fill
}

// normalizeIPRanges checks order and overlap and merges adjacent ranges in
// place, so later containment checks can walk both sides once. Unsorted or
// overlapping entries break RFC 3779 §2.2.3.6 in either mode; adjacent
// ones should have been merged, which only Strict mode insists on.
func normalizeIPRanges(ranges []IPRange, mode der.Mode, field string, r *report) []IPRange {
	out := ranges[:0]
	for i, rng := range ranges {
		if i == 0 {
			out = append(out, rng)
			continue
		}
		last := &out[len(out)-1]
		switch {
		case !last.Max.Less(rng.Min):
			r.inspect(field, "RFC 3779 §2.2.3.6", "%s overlaps or precedes %s", rng, *last)
			out = append(out, rng)
		case last.Max.Next() == rng.Min:
			if mode == der.Strict {
				r.inspect(field, "RFC 3779 §2.2.3.6", "adjacent %s and %s not merged", *last, rng)
			}
			last.Max = rng.Max
		default:
			out = append(out, rng)
		}
	}
	return out
}

// parseASIdentifiers decodes the sbgp-autonomousSysNum extension (RFC 3779
// §3.2.3) with the RFC 6487 §4.8.11 restrictions: asnum only, no rdi.
func parseASIdentifiers(value []byte, mode der.Mode, field string, r *report, buf []ASRange) (ASSet, error) {
	p := der.Parse(value, mode)
	seq, err := p.Sequence()
	if err != nil {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.1", err)
	}
	if err := p.Done(); err != nil {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.1", err)
	}
	var set ASSet
	asnum, hasASNum, err := seq.OptionalExplicit(0)
	if err != nil {
		return ASSet{}, decodeErr(field+".asnum", "RFC 3779 §3.2.3.2", err)
	}
	if hasASNum {
		if set, err = parseASIdentifierChoice(&asnum, mode, field, r, buf); err != nil {
			return ASSet{}, err
		}
		if err := asnum.Done(); err != nil {
			return ASSet{}, decodeErr(field+".asnum", "RFC 3779 §3.2.3.2", err)
		}
	} else {
		r.inspect(field, "RFC 6487 §4.8.11", "asnum missing")
	}
	if _, hasRDI, err := seq.OptionalExplicit(1); err != nil {
		return ASSet{}, decodeErr(field+".rdi", "RFC 3779 §3.2.3.2", err)
	} else if hasRDI {
		r.inspect(field+".rdi", "RFC 6487 §4.8.11", "routing domain identifiers must not be present")
	}
	if err := seq.Done(); err != nil {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.1", err)
	}
	return set, nil
}

// parseASIdentifierChoice reads inherit (NULL) or a SEQUENCE OF ASIdOrRange.
func parseASIdentifierChoice(p *der.Parser, mode der.Mode, field string, r *report, buf []ASRange) (ASSet, error) {
	choice, err := p.Next()
	if err != nil {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.3", err)
	}
	if choice.Tag() == der.TagNull {
		if err := choice.Null(); err != nil {
			return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.3", err)
		}
		return ASSet{Inherit: true}, nil
	}
	if choice.Tag() != der.TagSequence {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.3", fmt.Errorf("ASIdentifierChoice is %s", choice.Tag()))
	}
	items, err := choice.Children()
	if err != nil {
		return ASSet{}, decodeErr(field, "RFC 3779 §3.2.3.4", err)
	}
	ranges, err := parseASIdOrRanges(&items, mode, field, r, buf)
	if err != nil {
		return ASSet{}, err
	}
	if len(ranges) == 0 {
		r.inspect(field, "RFC 3779 §3.2.3.4", "empty asIdsOrRanges")
	}
	return ASSet{Ranges: ranges}, nil
}

// parseASIdOrRanges reads ASIdOrRange elements until items is exhausted,
// checks their order and merges adjacent ones.
func parseASIdOrRanges(items *der.Parser, mode der.Mode, field string, r *report, buf []ASRange) ([]ASRange, error) {
	ranges := buf
	for !items.Empty() {
		if len(ranges) == maxResourceEntries {
			return nil, decodeErr(field, "", fmt.Errorf("more than %d AS entries", maxResourceEntries))
		}
		el, err := items.Next()
		if err != nil {
			return nil, decodeErr(field, "RFC 3779 §3.2.3.5", err)
		}
		var rng ASRange
		switch el.Tag() {
		case der.TagInteger:
			as, err := el.Uint32()
			if err != nil {
				return nil, decodeErr(field, "RFC 3779 §3.2.3.8", err)
			}
			rng = ASRange{as, as}
		case der.TagSequence:
			pair, err := el.Children()
			if err != nil {
				return nil, decodeErr(field, "RFC 3779 §3.2.3.7", err)
			}
			var ends [2]uint32
			for i := range ends {
				e, err := pair.Expect(der.TagInteger)
				if err == nil {
					ends[i], err = e.Uint32()
				}
				if err != nil {
					return nil, decodeErr(field, "RFC 3779 §3.2.3.7", err)
				}
			}
			if err := pair.Done(); err != nil {
				return nil, decodeErr(field, "RFC 3779 §3.2.3.7", err)
			}
			if ends[0] > ends[1] {
				return nil, decodeErr(field, "RFC 3779 §3.2.3.7", fmt.Errorf("AS range %d-%d ends before it starts", ends[0], ends[1]))
			}
			if ends[0] == ends[1] && mode == der.Strict {
				r.inspect(field, "RFC 3779 §3.2.3.7", "single AS%d encoded as a range", ends[0])
			}
			rng = ASRange{ends[0], ends[1]}
		default:
			return nil, decodeErr(field, "RFC 3779 §3.2.3.5", fmt.Errorf("ASIdOrRange is %s", el.Tag()))
		}
		if n := len(ranges); n > 0 {
			last := &ranges[n-1]
			switch {
			case rng.Min <= last.Max:
				r.inspect(field, "RFC 3779 §3.2.3.4", "%s overlaps or precedes %s", rng, *last)
			case last.Max+1 == rng.Min:
				if mode == der.Strict {
					r.inspect(field, "RFC 3779 §3.2.3.4", "adjacent %s and %s not merged", *last, rng)
				}
				last.Max = rng.Max
				continue
			}
		}
		ranges = append(ranges, rng)
	}
	return ranges, nil
}
