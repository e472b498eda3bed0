package rpki

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// maxROAPrefixes bounds the prefixes of one ROA. The largest real ROA
// seen (rpki-validator-3's g11HohjaKcA9vAJV9LrYPq1bKZQ.roa) has 3,870.
const maxROAPrefixes = 1 << 16

// ROAPrefix is one prefix a ROA authorizes, with its maximum length.
type ROAPrefix struct {
	Prefix    netip.Prefix
	MaxLength uint8
}

func (p ROAPrefix) String() string {
	return p.Prefix.String() + "-" + strconv.Itoa(int(p.MaxLength))
}

// ROA is a decoded Route Origin Authorization (RFC 9582).
type ROA struct {
	SignedObject
	ASID     uint32
	Prefixes []ROAPrefix

	findings
}

// Type returns TypeROA.
func (roa *ROA) Type() Type { return TypeROA }

// ParseROA decodes a ROA and checks the RFC 9582 profile.
func ParseROA(data []byte, mode der.Mode) (*ROA, error) {
	roa := new(ROA)
	if err := DecodeROA(roa, data, mode); err != nil {
		return nil, err
	}
	return roa, nil
}

// DecodeROA is ParseROA into a ROA the caller provides, whose memory
// (prefix and resource lists, key) it reuses. A validation worker keeps
// one ROA and decodes every ROA into it, so that decoding allocates
// almost nothing; whatever the previous use left in roa is overwritten,
// so nothing from it may be kept.
func DecodeROA(roa *ROA, data []byte, mode der.Mode) error {
	prefixes, problems := roa.Prefixes[:0], roa.problems[:0]
	roa.SignedObject.reset()
	*roa = ROA{SignedObject: roa.SignedObject, Prefixes: prefixes}
	r := report{problems: problems}
	if err := parseCMS(&roa.SignedObject, data, mode, oidCTROA, &r); err != nil {
		return err
	}
	if err := roa.parseContent(mode, &r); err != nil {
		return err
	}
	if ee := roa.EE; ee != nil {
		// RFC 9582 §5: the EE certificate lists the addresses explicitly
		// and carries no AS resources.
		switch {
		case ee.Resources.Inherits():
			r.inspect("certificates[0].tbsCertificate.extensions", "RFC 9582 §5", "inherit is not allowed in a ROA's EE certificate")
		case !ee.Resources.HasIP():
			r.inspect("certificates[0].tbsCertificate.extensions", "RFC 9582 §5", "EE certificate has no IP resources")
		}
		if !ee.Resources.AS.Empty() {
			r.inspect("certificates[0].tbsCertificate.extensions", "RFC 9582 §5", "EE certificate must not carry AS resources")
		}
	}
	roa.problems = r.problems
	return nil
}

func (roa *ROA) parseContent(mode der.Mode, r *report) error {
	const ref = "RFC 9582 §4"
	p := der.Parse(roa.Content, mode)
	seq, err := p.Sequence()
	if err != nil {
		return decodeErr("routeOriginAttestation", ref, err)
	}
	if err := p.Done(); err != nil {
		return decodeErr("routeOriginAttestation", ref, err)
	}
	if err := checkVersion(&seq, 0, "routeOriginAttestation.version", "RFC 9582 §4.1", r); err != nil {
		return err
	}
	asEl, err := seq.Expect(der.TagInteger)
	if err != nil {
		return decodeErr("routeOriginAttestation.asID", "RFC 9582 §4.2", err)
	}
	if roa.ASID, err = asEl.Uint32(); err != nil {
		return decodeErr("routeOriginAttestation.asID", "RFC 9582 §4.2", err)
	}
	blocks, err := seq.Sequence()
	if err != nil {
		return decodeErr("routeOriginAttestation.ipAddrBlocks", "RFC 9582 §4.3", err)
	}
	if err := seq.Done(); err != nil {
		return decodeErr("routeOriginAttestation", ref, err)
	}
	return roa.parseBlocks(&blocks, mode, r)
}

func (roa *ROA) parseBlocks(blocks *der.Parser, mode der.Mode, r *report) error {
	const field = "routeOriginAttestation.ipAddrBlocks"
	var seen [3]bool
	families, lastAFI := 0, 0
	for !blocks.Empty() {
		fam, err := blocks.Sequence()
		if err != nil {
			return decodeErr(field, "RFC 9582 §4.3", err)
		}
		families++
		afiBytes, err := fam.OctetString()
		if err != nil {
			return decodeErr(field+".addressFamily", "RFC 9582 §4.3.1", err)
		}
		afi := 0
		if len(afiBytes) == 2 {
			afi = int(afiBytes[0])<<8 | int(afiBytes[1])
		}
		if afi != afiIPv4 && afi != afiIPv6 {
			return decodeErr(field+".addressFamily", "RFC 9582 §4.3.1", fmt.Errorf("address family %x is neither IPv4 nor IPv6", afiBytes))
		}
		if seen[afi] {
			r.inspect(field, "RFC 9582 §4.3.1", "address family %d appears twice", afi)
		}
		seen[afi] = true
		if afi < lastAFI && mode == der.Strict {
			r.inspect(field, "RFC 9582 §4.3.1", "address families not in order")
		}
		lastAFI = afi
		addrs, err := fam.Sequence()
		if err != nil {
			return decodeErr(field+".addresses", "RFC 9582 §4.3.2", err)
		}
		if err := fam.Done(); err != nil {
			return decodeErr(field, "RFC 9582 §4.3", err)
		}
		if addrs.Empty() {
			r.inspect(field+".addresses", "RFC 9582 §4.3.2", "empty address list")
		}
		if err := roa.parseAddresses(&addrs, afi, mode, r); err != nil {
			return err
		}
	}
	if families == 0 || families > 2 {
		r.inspect(field, "RFC 9582 §4.3", "%d address families, want 1 or 2", families)
	}
	return nil
}

func (roa *ROA) parseAddresses(addrs *der.Parser, afi int, mode der.Mode, r *report) error {
	const field = "routeOriginAttestation.ipAddrBlocks.addresses"
	maxBits := 32
	if afi == afiIPv6 {
		maxBits = 128
	}
	first := len(roa.Prefixes)
	for !addrs.Empty() {
		if len(roa.Prefixes) == maxROAPrefixes {
			return decodeErr(field, "", errTooMany("prefixes", maxROAPrefixes))
		}
		entry, err := addrs.Sequence()
		if err != nil {
			return decodeErr(field, "RFC 9582 §4.3.2", err)
		}
		bitsEl, err := entry.Expect(der.TagBitString)
		if err != nil {
			return decodeErr(field+".address", "RFC 9582 §4.3.2.1", err)
		}
		bits, err := bitsEl.BitString()
		if err != nil {
			return decodeErr(field+".address", "RFC 9582 §4.3.2.1", err)
		}
		prefix, err := prefixFromBits(bits, afi)
		if err != nil {
			return decodeErr(field+".address", "RFC 9582 §4.3.2.1", err)
		}
		maxLen := prefix.Bits()
		if el, ok, err := entry.Optional(der.TagInteger); err != nil {
			return decodeErr(field+".maxLength", "RFC 9582 §4.3.2.2", err)
		} else if ok {
			v, err := el.Int64()
			if err != nil {
				return decodeErr(field+".maxLength", "RFC 9582 §4.3.2.2", err)
			}
			switch {
			case v > int64(maxBits):
				r.inspect(field+".maxLength", "RFC 9582 §4.3.2.2", "maxLength %d of %s exceeds %d", v, prefix, maxBits)
				v = int64(maxBits)
			case v < int64(prefix.Bits()):
				r.inspect(field+".maxLength", "RFC 9582 §4.3.2.2", "maxLength %d is below the length of %s", v, prefix)
				v = int64(prefix.Bits())
			}
			maxLen = int(v)
		}
		if err := entry.Done(); err != nil {
			return decodeErr(field, "RFC 9582 §4.3.2", err)
		}
		roa.Prefixes = append(roa.Prefixes, ROAPrefix{Prefix: prefix, MaxLength: uint8(maxLen)})
	}
	if mode == der.Strict {
		// RFC 9582 §4.3.3: canonical form sorts the addresses and lists
		// each once.
		got := roa.Prefixes[first:]
		for i := 1; i < len(got); i++ {
			if c := comparePrefixes(got[i-1], got[i]); c >= 0 {
				r.inspect(field, "RFC 9582 §4.3.3", "%s and %s not in canonical order", got[i-1], got[i])
				break
			}
		}
	}
	return nil
}

// comparePrefixes orders ROA prefixes by address, then length, then
// maxLength, the canonical order of RFC 9582 §4.3.3.
func comparePrefixes(a, b ROAPrefix) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
		return c
	}
	return int(a.MaxLength) - int(b.MaxLength)
}

// Validate checks the ROA against its issuer at time at: the CMS layer,
// the EE certificate, and that the EE certificate covers every prefix
// (RFC 9582 §5).
func (roa *ROA) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	roa.validate(iss, at, &r)
	res := roa.EE.Resources
	for _, p := range roa.Prefixes {
		set := res.IPv4
		if p.Prefix.Addr().Is6() {
			set = res.IPv6
		}
		if !set.CoversPrefix(p.Prefix) {
			r.add(Verify, "routeOriginAttestation.ipAddrBlocks", "RFC 9582 §5", "%s is not covered by the EE certificate", p.Prefix)
		}
	}
	return r.problems
}
