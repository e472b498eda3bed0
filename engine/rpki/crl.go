package rpki

import (
	"bytes"
	"slices"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// maxCRLEntries bounds the revoked certificates of one CRL. The biggest
// real CRLs list tens of thousands; a million bounds memory.
const maxCRLEntries = 1_000_000

// CRL is a decoded certificate revocation list (RFC 6487 §5).
type CRL struct {
	Raw          []byte
	TBS          []byte
	Issuer       Name
	ThisUpdate   time.Time
	NextUpdate   time.Time
	Number       []byte // CRLNumber INTEGER contents
	AKI          []byte
	SignatureAlg der.OID
	Signature    []byte

	// revoked holds the serial numbers, sorted by serialLess.
	revoked [][]byte

	findings
}

// ParseCRL decodes a CRL and checks the RFC 6487 §5 profile.
func ParseCRL(data []byte, mode der.Mode) (*CRL, error) {
	var r report
	c := &CRL{Raw: data}
	if err := c.parse(data, mode, &r); err != nil {
		return nil, err
	}
	c.problems = r.problems
	return c, nil
}

// Type returns TypeCRL.
func (c *CRL) Type() Type { return TypeCRL }

func (c *CRL) parse(data []byte, mode der.Mode, r *report) error {
	env, err := parseSigned(data, mode, "certificateList", "tbsCertList", "RFC 5280 §5.1", r)
	if err != nil {
		return err
	}
	c.TBS, c.SignatureAlg, c.Signature = env.tbs.Raw, env.alg.OID, env.signature
	tbs, sigAlg := env.body, env.alg
	if v, ok, err := tbs.Optional(der.TagInteger); err != nil {
		return decodeErr("tbsCertList.version", "RFC 5280 §5.1.2.1", err)
	} else if n, err := v.Int64(); !ok || err != nil || n != 1 {
		r.inspect("tbsCertList.version", "RFC 6487 §5", "version 2 expected")
	}
	tbsAlg, err := parseAlgorithm(&tbs, "tbsCertList.signature", "RFC 5280 §5.1.2.2")
	if err != nil {
		return err
	}
	checkSameAlgorithm(tbsAlg, sigAlg, mode, "tbsCertList.signature", r)
	if c.Issuer, err = parseName(&tbs, "tbsCertList.issuer", r); err != nil {
		return err
	}
	if c.ThisUpdate, err = parseCertTime(&tbs, "tbsCertList.thisUpdate", r); err != nil {
		return err
	}
	if t, err := tbs.PeekTag(); err == nil && (t == der.TagUTCTime || t == der.TagGeneralizedTime) {
		if c.NextUpdate, err = parseCertTime(&tbs, "tbsCertList.nextUpdate", r); err != nil {
			return err
		}
		if c.NextUpdate.Before(c.ThisUpdate) {
			r.inspect("tbsCertList.nextUpdate", "RFC 5280 §5.1.2.5", "nextUpdate precedes thisUpdate")
		}
	} else {
		r.inspect("tbsCertList.nextUpdate", "RFC 6487 §5", "nextUpdate missing")
	}
	if list, ok, err := tbs.Optional(der.TagSequence); err != nil {
		return decodeErr("tbsCertList.revokedCertificates", "RFC 5280 §5.1.2.6", err)
	} else if ok {
		if err := c.parseRevoked(list, mode, r); err != nil {
			return err
		}
	}
	ext, hasExt, err := tbs.OptionalExplicit(0)
	if err != nil {
		return decodeErr("tbsCertList.crlExtensions", "RFC 5280 §5.1.2.7", err)
	}
	if err := tbs.Done(); err != nil {
		return decodeErr("tbsCertList", "RFC 5280 §5.1.2", err)
	}
	if !hasExt {
		r.inspect("tbsCertList.crlExtensions", "RFC 6487 §5", "authorityKeyIdentifier and cRLNumber missing")
		return nil
	}
	return c.parseExtensions(&ext, mode, r)
}

func (c *CRL) parseRevoked(list der.Element, mode der.Mode, r *report) error {
	const field, ref = "tbsCertList.revokedCertificates", "RFC 5280 §5.1.2.6"
	entries, err := list.Children()
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if entries.Empty() && mode == der.Strict {
		r.inspect(field, ref, "empty list must be omitted")
	}
	for !entries.Empty() {
		if len(c.revoked) == maxCRLEntries {
			return decodeErr(field, "", errTooMany("revoked certificates", maxCRLEntries))
		}
		entry, err := entries.Sequence()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		serial, err := entry.Integer()
		if err != nil {
			return decodeErr(field+".userCertificate", ref, err)
		}
		el, err := entry.Next()
		if err == nil {
			err = el.CheckTime()
		}
		if err != nil {
			return decodeErr(field+".revocationDate", ref, err)
		}
		if !entry.Empty() {
			r.inspect(field, "RFC 6487 §5", "CRL entry extensions are not allowed")
		}
		c.revoked = append(c.revoked, serial)
	}
	if !slices.IsSortedFunc(c.revoked, compareSerials) {
		slices.SortFunc(c.revoked, compareSerials)
	}
	return nil
}

// compareSerials orders minimal positive INTEGER encodings numerically:
// a longer encoding is a larger number.
func compareSerials(a, b []byte) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return bytes.Compare(a, b)
}

// parseExtensions reads the CRL extensions: exactly the AKI and the
// CRLNumber, both non-critical (RFC 6487 §5).
func (c *CRL) parseExtensions(wrapper *der.Parser, mode der.Mode, r *report) error {
	const field, ref = "tbsCertList.crlExtensions", "RFC 6487 §5"
	seq, err := wrapper.Sequence()
	if err != nil {
		return decodeErr(field, "RFC 5280 §5.1.2.7", err)
	}
	var hasAKI, hasNumber bool
	for !seq.Empty() {
		ext, err := seq.Sequence()
		if err != nil {
			return decodeErr(field, "RFC 5280 §5.1.2.7", err)
		}
		oid, err := ext.OID()
		if err != nil {
			return decodeErr(field, "RFC 5280 §5.1.2.7", err)
		}
		critical := false
		if el, ok, err := ext.Optional(der.TagBoolean); err != nil {
			return decodeErr(field, "RFC 5280 §5.1.2.7", err)
		} else if ok {
			critical, _ = el.Bool()
		}
		value, err := ext.Expect(der.TagOctetString)
		if err != nil {
			return decodeErr(field, "RFC 5280 §5.1.2.7", err)
		}
		switch {
		case oid.Equal(oidAuthorityKeyID):
			if hasAKI {
				r.inspect(field, "RFC 5280 §4.2", "authorityKeyIdentifier appears twice")
			}
			hasAKI = true
			if c.AKI, err = decodeAKI(value.Content(), mode, "tbsCertList.crlExtensions.authorityKeyIdentifier", r); err != nil {
				return decodeErr(field+".authorityKeyIdentifier", ref, err)
			}
		case oid.Equal(oidCRLNumber):
			if hasNumber {
				r.inspect(field, "RFC 5280 §4.2", "cRLNumber appears twice")
			}
			hasNumber = true
			np := der.Parse(value.Content(), mode)
			if c.Number, err = np.Integer(); err == nil {
				err = np.Done()
			}
			if err != nil {
				return decodeErr(field+".cRLNumber", "RFC 5280 §5.2.3", err)
			}
			checkSequenceNumber(c.Number, "tbsCertList.crlExtensions.cRLNumber", "RFC 5280 §5.2.3", r)
		default:
			r.inspect(field, ref, "extension %s is not allowed", oid)
			continue
		}
		if critical {
			r.inspect(field, ref, "extension %s must not be critical", oid)
		}
	}
	if !hasAKI {
		r.inspect(field, ref, "authorityKeyIdentifier missing")
	}
	if !hasNumber {
		r.inspect(field, ref, "cRLNumber missing")
	}
	if err := wrapper.Done(); err != nil {
		return decodeErr(field, "RFC 5280 §5.1.2.7", err)
	}
	return nil
}

// checkSequenceNumber: CRL and manifest numbers are non-negative and at
// most 20 octets, i.e. below 2^159 (RFC 5280 §5.2.3, RFC 9286 §4.2.1).
func checkSequenceNumber(n []byte, field, ref string, r *report) {
	switch {
	case n[0]&0x80 != 0:
		r.inspect(field, ref, "negative number")
	case len(n) > maxSerialOctets:
		r.inspect(field, ref, "number longer than %d octets", maxSerialOctets)
	}
}

// Revoked reports whether a certificate serial number is on the list.
func (c *CRL) Revoked(serial []byte) bool {
	_, found := slices.BinarySearchFunc(c.revoked, serial, compareSerials)
	return found
}

// RevokedSerials returns the revoked serial numbers in ascending order.
// The slices alias the CRL's data.
func (c *CRL) RevokedSerials() [][]byte { return c.revoked }

// Stale reports whether the next update is past at time at: the CA
// should have issued a newer CRL (the manual's stale policy applies).
func (c *CRL) Stale(at time.Time) bool { return !c.NextUpdate.IsZero() && at.After(c.NextUpdate) }

// Validate checks the CRL against the CA that issued it (RFC 6487 §5, RFC
// 5280 §6.3.3): issuer name, key identifier, signature, and a thisUpdate
// that is not in the future. Staleness is left to the caller's policy.
func (c *CRL) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	ic := iss.Cert
	if !c.Issuer.Equal(ic.Subject) {
		r.add(Verify, "tbsCertList.issuer", "RFC 5280 §6.3.3", "issuer name %q is not the CA's subject %q", c.Issuer.String(), ic.Subject.String())
	}
	if string(c.AKI) != string(ic.SKI) {
		r.add(Verify, "tbsCertList.crlExtensions.authorityKeyIdentifier", "RFC 6487 §5", "AKI %s is not the CA's SKI %s", hexString(c.AKI), hexString(ic.SKI))
	}
	if !iss.SignaturesVerified {
		if err := verifyRSA(ic.RSAKey, c.TBS, c.Signature); err != nil {
			r.add(Verify, "signatureValue", "RFC 5280 §6.3.3", "%v", err)
		}
	}
	if at.Before(c.ThisUpdate) {
		r.add(Verify, "tbsCertList.thisUpdate", "RFC 5280 §5.1.2.4", "issued in the future (%s)", c.ThisUpdate.Format(time.RFC3339))
	}
	return r.problems
}
