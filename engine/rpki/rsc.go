package rpki

import (
	"errors"

	"github.com/rovd/rovd/engine/der"
)

// maxChecklistEntries bounds an RSC's checklist.
const maxChecklistEntries = 100_000

// RSC is a decoded RPKI Signed Checklist (RFC 9323): a signature by a
// resource holder over a list of file hashes. RSCs travel outside the
// repositories, so this package decodes them for inspection only.
type RSC struct {
	SignedObject
	// Resources are the resources the checklist is signed for.
	Resources Resources
	// Checklist entries; Name is empty where the file name is left out.
	Checklist []FileAndHash

	findings
}

// Type returns TypeRSC.
func (c *RSC) Type() Type { return TypeRSC }

// ParseRSC decodes a signed checklist.
func ParseRSC(data []byte, mode der.Mode) (*RSC, error) {
	var r report
	c := new(RSC)
	if err := parseCMS(&c.SignedObject, data, mode, oidCTRSC, &r); err != nil {
		return nil, err
	}
	if err := c.parseContent(mode, &r); err != nil {
		return nil, err
	}
	if c.EE != nil && c.EE.Resources.Inherits() {
		r.inspect("certificates[0].tbsCertificate.extensions", "RFC 9323 §3", "inherit is not allowed in an RSC's EE certificate")
	}
	c.problems = r.problems
	return c, nil
}

func (c *RSC) parseContent(mode der.Mode, r *report) error {
	const field, ref = "rpkiSignedChecklist", "RFC 9323 §4"
	p := der.Parse(c.Content, mode)
	seq, err := p.Sequence()
	if err == nil {
		err = p.Done()
	}
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if err := checkVersion(&seq, 0, field+".version", "RFC 9323 §4.1", r); err != nil {
		return err
	}
	block, err := seq.Sequence()
	if err != nil {
		return decodeErr(field+".resources", "RFC 9323 §4.2", err)
	}
	if err := c.parseResourceBlock(&block, mode, field+".resources", r); err != nil {
		return err
	}
	alg, err := parseAlgorithm(&seq, field+".digestAlgorithm", "RFC 9323 §4.3")
	if err != nil {
		return err
	}
	if !alg.OID.Equal(oidSHA256) {
		r.inspect(field+".digestAlgorithm", "RFC 9323 §4.3", "digest algorithm %s, want sha256", oidName(alg.OID))
	}
	list, err := seq.Sequence()
	if err == nil {
		err = seq.Done()
	}
	if err != nil {
		return decodeErr(field+".checkList", "RFC 9323 §4.4", err)
	}
	for !list.Empty() {
		if len(c.Checklist) == maxChecklistEntries {
			return decodeErr(field+".checkList", "", errTooMany("checklist entries", maxChecklistEntries))
		}
		entry, err := list.Sequence()
		if err != nil {
			return decodeErr(field+".checkList", "RFC 9323 §4.4", err)
		}
		var fh FileAndHash
		if el, ok, err := entry.Optional(der.TagIA5String); err != nil {
			return decodeErr(field+".checkList.fileName", "RFC 9323 §4.4", err)
		} else if ok {
			fh.Name = el.Content()
			if err := CheckFileName(fh.Name, der.Relaxed); err != nil {
				r.inspect(field+".checkList.fileName", "RFC 9323 §4.4", "%v", err)
			}
		}
		if fh.Hash, err = entry.OctetString(); err == nil {
			err = entry.Done()
		}
		if err != nil {
			return decodeErr(field+".checkList.hash", "RFC 9323 §4.4", err)
		}
		if len(fh.Hash) != 32 {
			r.inspect(field+".checkList.hash", "RFC 9323 §4.4", "hash of %d octets, want 32", len(fh.Hash))
		}
		c.Checklist = append(c.Checklist, fh)
	}
	if len(c.Checklist) == 0 {
		r.inspect(field+".checkList", "RFC 9323 §4.4", "empty checklist")
	}
	return nil
}

// parseResourceBlock reads the ConstrainedASIdentifiers [0] and
// ConstrainedIPAddrBlocks [1]: RFC 3779 resources without inherit.
func (c *RSC) parseResourceBlock(block *der.Parser, mode der.Mode, field string, r *report) error {
	const ref = "RFC 9323 §4.2"
	as, hasAS, err := block.OptionalExplicit(0)
	if err != nil {
		return decodeErr(field+".asID", ref, err)
	}
	if hasAS {
		seq, err := as.Sequence()
		if err != nil {
			return decodeErr(field+".asID", ref, err)
		}
		asnum, err := seq.Explicit(0)
		if err != nil {
			return decodeErr(field+".asID.asnum", ref, err)
		}
		list, err := asnum.Sequence()
		if err != nil {
			return decodeErr(field+".asID.asnum", ref, err)
		}
		if c.Resources.AS.Ranges, err = parseASIdOrRanges(&list, mode, field+".asID", r, nil); err != nil {
			return err
		}
	}
	ip, hasIP, err := block.OptionalExplicit(1)
	if err != nil {
		return decodeErr(field+".ipAddrBlocks", ref, err)
	}
	if hasIP {
		fams, err := ip.Sequence()
		if err != nil {
			return decodeErr(field+".ipAddrBlocks", ref, err)
		}
		for !fams.Empty() {
			fam, err := fams.Sequence()
			if err != nil {
				return decodeErr(field+".ipAddrBlocks", ref, err)
			}
			afiBytes, err := fam.OctetString()
			if err != nil {
				return decodeErr(field+".ipAddrBlocks.addressFamily", ref, err)
			}
			afi, ok := parseAFI(afiBytes, field+".ipAddrBlocks", r)
			if !ok {
				continue
			}
			items, err := fam.Sequence()
			if err != nil {
				return decodeErr(field+".ipAddrBlocks", ref, err)
			}
			var ranges []IPRange
			for !items.Empty() {
				if len(ranges) == maxResourceEntries {
					return decodeErr(field, "", errTooMany("address entries", maxResourceEntries))
				}
				rng, err := parseIPAddressOrRange(&items, afi, mode, field+".ipAddrBlocks", r)
				if err != nil {
					return err
				}
				ranges = append(ranges, rng)
			}
			set := IPSet{Ranges: normalizeIPRanges(ranges, mode, field+".ipAddrBlocks", r)}
			if afi == afiIPv4 {
				c.Resources.IPv4 = set
			} else {
				c.Resources.IPv6 = set
			}
		}
	}
	if !hasAS && !hasIP {
		return decodeErr(field, ref, errors.New("neither AS nor IP resources"))
	}
	if err := block.Done(); err != nil {
		return decodeErr(field, ref, err)
	}
	return nil
}
