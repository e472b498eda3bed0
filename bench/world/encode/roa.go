package encode

import (
	"cmp"
	"net/netip"
	"slices"
)

// ROAPrefix is one ROAIPAddress.
type ROAPrefix struct {
	Prefix netip.Prefix
	// MaxLength is written only when it differs from the prefix length
	// (RFC 9582 §4.3.3), unless ForceMaxLength is set.
	MaxLength      int
	ForceMaxLength bool
}

// ROA describes the eContent of an RFC 9582 Route Origin Authorization.
type ROA struct {
	// Version, if non-nil, writes an explicit version (DER omits the
	// default 0, so only broken objects set it).
	Version  *int
	ASID     uint32
	Prefixes []ROAPrefix
	// Unsorted keeps the prefixes in the given order instead of the
	// canonical one (RFC 9582 §4.3.3: sorted, no duplicates).
	Unsorted bool
}

// Encode returns the DER RouteOriginAttestation: IPv4 before IPv6, each
// family's addresses sorted by address then length, duplicates removed.
func (r *ROA) Encode() []byte {
	var v4, v6 []ROAPrefix
	for _, p := range r.Prefixes {
		p.Prefix = p.Prefix.Masked()
		if p.Prefix.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	var fams [][]byte
	for i, ps := range [][]ROAPrefix{v4, v6} {
		if len(ps) == 0 {
			continue
		}
		if !r.Unsorted {
			slices.SortFunc(ps, func(a, b ROAPrefix) int {
				if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
					return c
				}
				if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
					return c
				}
				return cmp.Compare(a.MaxLength, b.MaxLength)
			})
			ps = slices.Compact(ps)
		}
		addrs := make([][]byte, len(ps))
		for j, p := range ps {
			bs := BitString(p.Prefix.Addr().AsSlice(), p.Prefix.Bits())
			if p.ForceMaxLength || (p.MaxLength != 0 && p.MaxLength != p.Prefix.Bits()) {
				addrs[j] = Sequence(bs, Integer(int64(p.MaxLength)))
			} else {
				addrs[j] = Sequence(bs)
			}
		}
		fams = append(fams, Sequence(OctetString([]byte{0, byte(i + 1)}), Sequence(addrs...)))
	}
	var parts [][]byte
	if r.Version != nil {
		parts = append(parts, Explicit(0, Integer(int64(*r.Version))))
	}
	parts = append(parts, Uint(uint64(r.ASID)), Sequence(fams...))
	return Sequence(parts...)
}

// Resources returns the IP resources an EE certificate needs to cover
// exactly the ROA's prefixes.
func (r *ROA) Resources() *IPResources {
	res := &IPResources{}
	for _, p := range r.Prefixes {
		res.Prefixes = append(res.Prefixes, p.Prefix)
	}
	return res
}
