package rpki

import (
	"net/netip"

	"github.com/rovd/rovd/engine/der"
)

// splRef is the specification implemented: the signed prefix list draft.
const splRef = "draft-ietf-sidrops-rpki-prefixlist §3"

// maxSPLPrefixes bounds a signed prefix list.
const maxSPLPrefixes = 1 << 20

// SPL is a decoded Signed Prefix List: every prefix an AS may originate.
type SPL struct {
	SignedObject
	ASID     uint32
	Prefixes []netip.Prefix

	findings
}

// Type returns TypeSPL.
func (s *SPL) Type() Type { return TypeSPL }

// ParseSPL decodes a signed prefix list: version 0, the AS, and per
// address family (IPv4 first) an ascending list of prefixes.
func ParseSPL(data []byte, mode der.Mode) (*SPL, error) {
	var r report
	s := new(SPL)
	if err := parseCMS(&s.SignedObject, data, mode, oidCTSPL, &r); err != nil {
		return nil, err
	}
	const field = "signedPrefixList"
	p := der.Parse(s.Content, mode)
	seq, err := p.Sequence()
	if err == nil {
		err = p.Done()
	}
	if err != nil {
		return nil, decodeErr(field, splRef, err)
	}
	if err := checkVersion(&seq, 0, field+".version", splRef, &r); err != nil {
		return nil, err
	}
	asEl, err := seq.Expect(der.TagInteger)
	if err == nil {
		s.ASID, err = asEl.Uint32()
	}
	if err != nil {
		return nil, decodeErr(field+".asID", splRef, err)
	}
	blocks, err := seq.Sequence()
	if err == nil {
		err = seq.Done()
	}
	if err != nil {
		return nil, decodeErr(field+".prefixBlocks", splRef, err)
	}
	lastAFI := 0
	for !blocks.Empty() {
		fam, err := blocks.Sequence()
		if err != nil {
			return nil, decodeErr(field+".prefixBlocks", splRef, err)
		}
		afiBytes, err := fam.OctetString()
		if err != nil {
			return nil, decodeErr(field+".prefixBlocks.addressFamily", splRef, err)
		}
		afi, ok := parseAFI(afiBytes, field+".prefixBlocks", &r)
		if !ok {
			continue
		}
		if afi <= lastAFI {
			r.inspect(field+".prefixBlocks", splRef, "address families out of order or repeated")
		}
		lastAFI = afi
		list, err := fam.Sequence()
		if err != nil {
			return nil, decodeErr(field+".prefixBlocks.addressPrefixes", splRef, err)
		}
		var prev netip.Prefix
		for !list.Empty() {
			if len(s.Prefixes) == maxSPLPrefixes {
				return nil, decodeErr(field, "", errTooMany("prefixes", maxSPLPrefixes))
			}
			el, err := list.Expect(der.TagBitString)
			if err != nil {
				return nil, decodeErr(field+".prefixBlocks.addressPrefixes", splRef, err)
			}
			bits, err := el.BitString()
			if err != nil {
				return nil, decodeErr(field+".prefixBlocks.addressPrefixes", splRef, err)
			}
			pfx, err := prefixFromBits(bits, afi)
			if err != nil {
				return nil, decodeErr(field+".prefixBlocks.addressPrefixes", splRef, err)
			}
			if prev.IsValid() && comparePrefixes(ROAPrefix{Prefix: prev}, ROAPrefix{Prefix: pfx}) >= 0 {
				r.inspect(field+".prefixBlocks.addressPrefixes", splRef, "%s and %s out of order or repeated", prev, pfx)
			}
			prev = pfx
			s.Prefixes = append(s.Prefixes, pfx)
		}
	}
	if s.EE != nil && s.EE.Resources.Inherits() {
		r.inspect("certificates[0].tbsCertificate.extensions", splRef, "inherit is not allowed in an SPL's EE certificate")
	}
	s.problems = r.problems
	return s, nil
}
