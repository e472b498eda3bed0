package rpki

import (
	"crypto/rsa"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// CertKind is the role of a resource certificate.
type CertKind uint8

const (
	// CertTA is a self-signed CA certificate, the root of a TAL.
	CertTA CertKind = iota + 1
	// CertCA is a CA certificate issued by another CA.
	CertCA
	// CertEE is an end-entity certificate, as carried in signed objects.
	CertEE
	// CertRouter is a BGPsec router certificate (RFC 8209).
	CertRouter
)

// Key usage bits (RFC 5280 §4.2.1.3), as a mask with bit n for bit n.
const (
	KeyUsageDigitalSignature = 1 << 0
	KeyUsageKeyCertSign      = 1 << 5
	KeyUsageCRLSign          = 1 << 6
)

// maxSerialOctets is the RFC 5280 §4.1.2.2 limit on serial numbers.
const maxSerialOctets = 20

// Certificate is a decoded RPKI resource certificate (RFC 6487) or BGPsec
// router certificate (RFC 8209). Byte slices alias the data it was parsed
// from; strings are copies.
type Certificate struct {
	Raw []byte
	// TBS is the encoded TBSCertificate, what the signature covers.
	TBS          []byte
	Serial       []byte // INTEGER contents, minimal two's complement
	Issuer       Name
	Subject      Name
	NotBefore    time.Time
	NotAfter     time.Time
	SignatureAlg der.OID
	Signature    []byte

	// SPKI is the encoded SubjectPublicKeyInfo, what a TAL pins.
	SPKI []byte
	// PublicKey is the subjectPublicKey bits, what the SKI hashes.
	PublicKey []byte
	// RSAKey is the parsed key of TA, CA and EE certificates. It points
	// into the certificate, saving an allocation per object.
	RSAKey *rsa.PublicKey
	rsaKey rsa.PublicKey
	rsaN   big.Int

	Kind     CertKind
	SKI, AKI []byte
	KeyUsage uint16
	// CRLURI is the rsync URI of the issuer's CRL (CRL distribution point).
	CRLURI string
	// AIAURI is the rsync URI of the issuer's certificate (caIssuers).
	AIAURI string
	// CARepository, Manifest and Notify come from a CA's SIA: its
	// publication point, its manifest and its RRDP notification file.
	CARepository string
	Manifest     string
	Notify       string
	// SignedObject is the SIA of an EE certificate: the object it signs.
	SignedObject string

	Resources Resources

	// inProfile is false for X.509 certificates that carry neither RFC
	// 3779 resources nor the RPKI policy: identity certificates of the
	// provisioning protocols, for example, not RPKI objects at all.
	inProfile bool
	findings
}

// ParseCertificate decodes a resource certificate and checks it against
// the RFC 6487 profile (RFC 8209 for router certificates). A certificate
// that cannot be decoded yields an error (a *Problem); one that decodes but
// breaks the profile is returned with its Problems set.
func ParseCertificate(data []byte, mode der.Mode) (*Certificate, error) {
	var r report
	c := new(Certificate)
	if err := parseCertificate(c, data, mode, "", &r); err != nil {
		return nil, err
	}
	c.problems = r.problems
	return c, nil
}

// Type returns TypeCertificate.
func (c *Certificate) Type() Type { return TypeCertificate }

// parseCertificate does the work of ParseCertificate, recording profile
// problems in r with fields prefixed by prefix (for EE certificates inside
// signed objects).
func parseCertificate(c *Certificate, data []byte, mode der.Mode, prefix string, r *report) error {
	saved := r.prefix
	r.prefix += prefix
	err := c.decode(data, mode, r)
	r.prefix = saved
	if err != nil {
		var p *Problem
		if prefix != "" && errors.As(err, &p) {
			q := *p
			q.Field = prefix + q.Field
			return &q
		}
		return err
	}
	return nil
}

// decode decodes the certificate structure into c; field names in
// problems are relative to the certificate.
func (c *Certificate) decode(data []byte, mode der.Mode, r *report) error {
	c.Raw = data
	env, err := parseSigned(data, mode, "certificate", "tbsCertificate", "RFC 5280 §4.1", r)
	if err != nil {
		return err
	}
	c.TBS, c.SignatureAlg, c.Signature = env.tbs.Raw, env.alg.OID, env.signature
	tbs, sigAlg := env.body, env.alg
	return c.parseTBS(&tbs, sigAlg, mode, r)
}

// signedEnvelope is the outer layer that certificates and CRLs share: a
// SEQUENCE of the signed part, the algorithm and the signature (RFC 5280
// §4.1.1, §5.1.1).
type signedEnvelope struct {
	tbs       der.Element
	body      der.Parser // over the signed part's fields
	alg       algorithm
	signature []byte
}

// parseSigned reads a signed envelope; outer and inner name the structure
// and its signed part in problems, ref the section defining both.
func parseSigned(data []byte, mode der.Mode, outer, inner, ref string, r *report) (signedEnvelope, error) {
	var env signedEnvelope
	p := der.Parse(data, mode)
	seq, err := p.Sequence()
	if err == nil {
		err = p.Done()
	}
	if err != nil {
		return env, decodeErr(outer, ref, err)
	}
	if env.tbs, err = seq.Expect(der.TagSequence); err != nil {
		return env, decodeErr(inner, ref, err)
	}
	if env.alg, err = parseAlgorithm(&seq, "signatureAlgorithm", ref); err != nil {
		return env, err
	}
	if env.signature, err = parseSignatureBits(&seq, "signatureValue"); err != nil {
		return env, err
	}
	if err := seq.Done(); err != nil {
		return env, decodeErr(outer, ref, err)
	}
	checkSignatureAlg(env.alg, "signatureAlgorithm", "RFC 7935 §2", r)
	if env.body, err = env.tbs.Children(); err != nil {
		return env, decodeErr(inner, ref, err)
	}
	return env, nil
}

// parseSignatureBits reads the signatureValue BIT STRING.
func parseSignatureBits(p *der.Parser, field string) ([]byte, error) {
	el, err := p.Expect(der.TagBitString)
	if err != nil {
		return nil, decodeErr(field, "RFC 5280 §4.1.1.3", err)
	}
	bits, err := el.BitString()
	if err != nil {
		return nil, decodeErr(field, "RFC 5280 §4.1.1.3", err)
	}
	if bits.UnusedBits != 0 {
		return nil, decodeErr(field, "RFC 5280 §4.1.1.3", errors.New("signature is not a whole number of octets"))
	}
	return bits.Bytes, nil
}

// checkSignatureAlg accepts only sha256WithRSAEncryption (RFC 7935 §2).
func checkSignatureAlg(a algorithm, field, ref string, r *report) {
	if !a.OID.Equal(oidSHA256WithRSA) {
		r.inspect(field, ref, "algorithm %s, want sha256WithRSAEncryption", oidName(a.OID))
	} else if !a.nullOrAbsent() {
		r.inspect(field, "RFC 4055 §5", "sha256WithRSAEncryption parameters must be NULL or absent")
	}
}

func (c *Certificate) parseTBS(tbs *der.Parser, outerAlg algorithm, mode der.Mode, r *report) error {
	// version [0] EXPLICIT Version: RPKI certificates are v3 (RFC 6487 §4.1).
	if v, ok, err := tbs.OptionalExplicit(0); err != nil {
		return decodeErr("tbsCertificate.version", "RFC 5280 §4.1.2.1", err)
	} else if !ok {
		r.inspect("tbsCertificate.version", "RFC 6487 §4.1", "version 1 certificate, want version 3")
	} else {
		el, err := v.Expect(der.TagInteger)
		if err != nil {
			return decodeErr("tbsCertificate.version", "RFC 5280 §4.1.2.1", err)
		}
		if n, err := el.Int64(); err != nil || n != 2 {
			r.inspect("tbsCertificate.version", "RFC 6487 §4.1", "version must be 3")
		}
		if err := v.Done(); err != nil {
			return decodeErr("tbsCertificate.version", "RFC 5280 §4.1.2.1", err)
		}
	}

	serial, err := tbs.Integer()
	if err != nil {
		return decodeErr("tbsCertificate.serialNumber", "RFC 5280 §4.1.2.2", err)
	}
	c.Serial = serial
	checkSerial(serial, "tbsCertificate.serialNumber", "RFC 6487 §4.2", r)

	tbsAlg, err := parseAlgorithm(tbs, "tbsCertificate.signature", "RFC 5280 §4.1.2.3")
	if err != nil {
		return err
	}
	checkSameAlgorithm(tbsAlg, outerAlg, mode, "tbsCertificate.signature", r)

	if c.Issuer, err = parseName(tbs, "tbsCertificate.issuer", r); err != nil {
		return err
	}
	validity, err := tbs.Sequence()
	if err != nil {
		return decodeErr("tbsCertificate.validity", "RFC 5280 §4.1.2.5", err)
	}
	if c.NotBefore, err = parseCertTime(&validity, "tbsCertificate.validity.notBefore", r); err != nil {
		return err
	}
	if c.NotAfter, err = parseCertTime(&validity, "tbsCertificate.validity.notAfter", r); err != nil {
		return err
	}
	if err := validity.Done(); err != nil {
		return decodeErr("tbsCertificate.validity", "RFC 5280 §4.1.2.5", err)
	}
	if c.NotAfter.Before(c.NotBefore) {
		r.inspect("tbsCertificate.validity", "RFC 6487 §4.6", "notAfter precedes notBefore")
	}
	if c.Subject, err = parseName(tbs, "tbsCertificate.subject", r); err != nil {
		return err
	}
	spki, err := parsePublicKeyInfo(tbs, "tbsCertificate.subjectPublicKeyInfo")
	if err != nil {
		return err
	}
	c.SPKI, c.PublicKey = spki.Raw, spki.Key

	for _, n := range []uint32{1, 2} {
		if _, ok, err := tbs.Optional(der.Implicit(n)); err != nil {
			return decodeErr("tbsCertificate.uniqueID", "RFC 5280 §4.1.2.8", err)
		} else if ok {
			r.inspect("tbsCertificate.uniqueID", "RFC 6487 §4", "unique identifiers must not be used")
		}
	}
	extSeq, hasExt, err := tbs.OptionalExplicit(3)
	if err != nil {
		return decodeErr("tbsCertificate.extensions", "RFC 5280 §4.1.2.9", err)
	}
	if err := tbs.Done(); err != nil {
		return decodeErr("tbsCertificate", "RFC 5280 §4.1", err)
	}
	var ext extensions
	if !hasExt {
		r.inspect("tbsCertificate.extensions", "RFC 6487 §4.8", "certificate without extensions")
	} else if err := ext.parse(&extSeq, mode, "tbsCertificate.extensions", r); err != nil {
		return err
	}
	return c.applyExtensions(&ext, spki, mode, r)
}

// checkSerial: a positive integer of at most 20 octets (RFC 5280 §4.1.2.2).
func checkSerial(serial []byte, field, ref string, r *report) {
	switch {
	case serial[0]&0x80 != 0:
		r.inspect(field, ref, "negative serial number")
	case len(serial) == 1 && serial[0] == 0:
		r.inspect(field, ref, "serial number zero")
	case len(serial) > maxSerialOctets && !(len(serial) == maxSerialOctets+1 && serial[0] == 0):
		r.inspect(field, ref, "serial number longer than %d octets", maxSerialOctets)
	}
}

// parseCertTime reads a validity time. RFC 5280 §4.1.2.5 wants UTCTime
// through 2049 and GeneralizedTime from 2050; only Strict mode insists.
func parseCertTime(p *der.Parser, field string, r *report) (time.Time, error) {
	el, err := p.Next()
	if err != nil {
		return time.Time{}, decodeErr(field, "RFC 5280 §4.1.2.5", err)
	}
	t, err := el.Time()
	if err != nil {
		return time.Time{}, decodeErr(field, "RFC 5280 §4.1.2.5", err)
	}
	if el.Mode() == der.Strict && (t.Year() < 2050) != (el.Tag() == der.TagUTCTime) {
		r.inspect(field, "RFC 5280 §4.1.2.5", "%s used for %d", el.Tag(), t.Year())
	}
	return t, nil
}

// applyExtensions stores the extensions' values, decides the kind of
// certificate and checks what RFC 6487 §4.8 (RFC 8209 §3.1.3 for routers)
// asks of each kind.
func (c *Certificate) applyExtensions(e *extensions, spki publicKeyInfo, mode der.Mode, r *report) error {
	const field = "tbsCertificate.extensions"
	const keyField = "tbsCertificate.subjectPublicKeyInfo"
	if err := e.decodeAll(c, mode, field, r); err != nil {
		return err
	}
	c.inProfile = e.has(extIPResources) || e.has(extASResources) || e.has(extPolicies)
	selfIssued := c.Issuer.Equal(c.Subject)
	switch {
	case e.isCA:
		c.Kind = CertCA
		if selfIssued && (!e.has(extAKI) || string(c.AKI) == string(c.SKI)) {
			c.Kind = CertTA
		}
	case e.bgpsecRouter:
		c.Kind = CertRouter
	default:
		c.Kind = CertEE
	}

	if c.Kind == CertRouter {
		if !spki.Algorithm.OID.Equal(oidECPublicKey) {
			r.inspect(keyField, "RFC 8208 §3.1",
				"router key is %s, want ECDSA P-256", oidName(spki.Algorithm.OID))
		} else {
			checkECKey(spki, keyField, r)
		}
	} else {
		if !spki.Algorithm.OID.Equal(oidRSAEncryption) {
			r.inspect(keyField, "RFC 7935 §3.1", "key algorithm %s, want rsaEncryption", oidName(spki.Algorithm.OID))
		} else {
			c.rsaKey.N = &c.rsaN
			if err := parseRSAKey(&c.rsaKey, spki, mode, keyField, r); err != nil {
				return err
			}
			c.RSAKey = &c.rsaKey
		}
	}

	// The SKI is the SHA-1 of the subjectPublicKey bits (RFC 6487 §4.8.2).
	if e.has(extSKI) {
		if sum := sha1.Sum(c.PublicKey); string(sum[:]) != string(c.SKI) {
			r.inspect(field+".subjectKeyIdentifier", "RFC 6487 §4.8.2", "not the SHA-1 hash of the public key")
		}
	} else {
		r.inspect(field, "RFC 6487 §4.8.2", "subjectKeyIdentifier missing")
	}
	if !e.has(extPolicies) {
		r.inspect(field, "RFC 6487 §4.8.9", "certificatePolicies missing")
	}
	if !e.has(extIPResources) && !e.has(extASResources) {
		r.inspect(field, "RFC 6487 §4.8.10", "neither IP nor AS resources")
	}
	if !e.has(extKeyUsage) {
		r.inspect(field, "RFC 6487 §4.8.4", "keyUsage missing")
	}

	switch c.Kind {
	case CertTA, CertCA:
		c.checkCA(e, field, r)
	case CertEE:
		if e.has(extBasicConstraints) {
			r.inspect(field+".basicConstraints", "RFC 6487 §4.8.1", "basicConstraints in an EE certificate")
		}
		if e.has(extKeyUsage) && c.KeyUsage != KeyUsageDigitalSignature {
			r.inspect(field+".keyUsage", "RFC 6487 §4.8.4", "EE certificate key usage must be digitalSignature only")
		}
		if e.has(extEKU) {
			r.inspect(field+".extKeyUsage", "RFC 6487 §4.8.5", "extended key usage in an EE certificate")
		}
		c.checkIssued(e, field, r)
	case CertRouter:
		if e.has(extKeyUsage) && c.KeyUsage != KeyUsageDigitalSignature {
			r.inspect(field+".keyUsage", "RFC 8209 §3.1.3.2", "router key usage must be digitalSignature only")
		}
		if e.has(extSIA) {
			r.inspect(field+".subjectInfoAccess", "RFC 8209 §3.1.3.3", "SIA must be omitted from router certificates")
		}
		if e.has(extIPResources) {
			r.inspect(field+".ipAddrBlocks", "RFC 8209 §3.1.3.5", "router certificates carry AS resources only")
		}
		if !e.has(extASResources) || c.Resources.AS.Inherit {
			r.inspect(field+".autonomousSysIds", "RFC 8209 §3.1.3.5", "router certificates need explicit AS resources")
		}
		c.checkIssued(e, field, r)
	}
	return nil
}

// checkCA applies the rules for CA and TA certificates.
func (c *Certificate) checkCA(e *extensions, field string, r *report) {
	if !e.critical(extBasicConstraints) {
		r.inspect(field+".basicConstraints", "RFC 6487 §4.8.1", "basicConstraints not critical")
	}
	if e.pathLen {
		r.inspect(field+".basicConstraints", "RFC 6487 §4.8.1", "path length constraint must be absent")
	}
	if e.has(extKeyUsage) && c.KeyUsage != KeyUsageKeyCertSign|KeyUsageCRLSign {
		r.inspect(field+".keyUsage", "RFC 6487 §4.8.4", "CA key usage must be keyCertSign and cRLSign only")
	}
	if e.has(extEKU) {
		r.inspect(field+".extKeyUsage", "RFC 6487 §4.8.5", "extended key usage in a CA certificate")
	}
	switch {
	case c.CARepository == "" || c.Manifest == "":
		r.inspect(field+".subjectInfoAccess", "RFC 6487 §4.8.8.1", "missing caRepository or rpkiManifest")
	case !strings.HasPrefix(c.Manifest, c.CARepository) || strings.Contains(c.Manifest[len(c.CARepository):], "/"):
		// The manifest lives in the publication point itself, not
		// elsewhere or in a subdirectory (RFC 6481 §2.2, RFC 9286 §4).
		r.inspect(field+".subjectInfoAccess", "RFC 6487 §4.8.8.1", "rpkiManifest %s is not in caRepository %s", c.Manifest, c.CARepository)
	case !strings.HasSuffix(c.Manifest, ".mft"):
		r.inspect(field+".subjectInfoAccess", "RFC 6487 §4.8.8.1", "rpkiManifest %s is not a .mft file", c.Manifest)
	}
	if c.SignedObject != "" {
		r.inspect(field+".subjectInfoAccess", "RFC 6487 §4.8.8.1", "signedObject in a CA certificate")
	}
	if c.Kind == CertTA {
		// RFC 6487 §4.8.3, §4.8.6, §4.8.7 and RFC 8630 §2.3.
		if e.has(extCRLDP) {
			r.inspect(field+".cRLDistributionPoints", "RFC 6487 §4.8.6", "trust anchor with a CRL distribution point")
		}
		if e.has(extAIA) {
			r.inspect(field+".authorityInfoAccess", "RFC 6487 §4.8.7", "trust anchor with authorityInfoAccess")
		}
		if c.Resources.Inherits() {
			r.inspect(field, "RFC 8630 §2.3", "trust anchor resources must not be inherit")
		}
		return
	}
	c.checkIssued(e, field, r)
}

// checkIssued applies the rules for every certificate that is not a TA:
// AKI, CRL distribution point and AIA present.
func (c *Certificate) checkIssued(e *extensions, field string, r *report) {
	if !e.has(extAKI) {
		r.inspect(field, "RFC 6487 §4.8.3", "authorityKeyIdentifier missing")
	}
	if !e.has(extCRLDP) {
		r.inspect(field, "RFC 6487 §4.8.6", "cRLDistributionPoints missing")
	}
	if !e.has(extAIA) {
		r.inspect(field, "RFC 6487 §4.8.7", "authorityInfoAccess missing")
	}
}

// Issuer is what the objects a CA issued are checked against.
type Issuer struct {
	Cert *Certificate
	// Resources are the CA's effective resources, inherit resolved.
	Resources Resources
	// CRL is the CA's current CRL; nil skips the revocation check.
	CRL *CRL
	// CertURI and CRLURI are where the CA's certificate and CRL were found,
	// for the AIA and CRL distribution point checks; empty skips them.
	CertURI, CRLURI string
	// SignaturesVerified says that the signatures of the object being
	// checked were verified before, on these very bytes and under this
	// very CA key, so they are not checked again: a signature depends on
	// nothing else. Every other check still runs.
	SignaturesVerified bool
}

// Validate checks c against its issuer at time at (RFC 6487 §7.2, RFC 5280
// §6.1.3): name chaining, key identifier, signature, validity, revocation
// and resources. It returns every problem found; nil means valid.
func (c *Certificate) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	c.validate(iss, at, "", &r)
	return r.problems
}

func (c *Certificate) validate(iss *Issuer, at time.Time, prefix string, r *report) {
	ic := iss.Cert
	if ic.Kind != CertTA && ic.Kind != CertCA {
		r.add(Verify, prefix+"issuer", "RFC 6487 §7.2", "issuer is not a CA certificate")
		return
	}
	if !c.Issuer.Equal(ic.Subject) {
		r.add(Verify, prefix+"tbsCertificate.issuer", "RFC 5280 §6.1.3", "issuer name %q is not the CA's subject %q", c.Issuer.String(), ic.Subject.String())
	}
	if string(c.AKI) != string(ic.SKI) {
		r.add(Verify, prefix+"tbsCertificate.extensions.authorityKeyIdentifier", "RFC 6487 §4.8.3", "AKI %s is not the CA's SKI %s", hexString(c.AKI), hexString(ic.SKI))
	}
	if !iss.SignaturesVerified {
		if err := verifyRSA(ic.RSAKey, c.TBS, c.Signature); err != nil {
			r.add(Verify, prefix+"signatureValue", "RFC 5280 §6.1.3", "%v", err)
		}
	}
	checkValidity(c.NotBefore, c.NotAfter, at, prefix+"tbsCertificate.validity", r)
	if iss.CRL != nil && iss.CRL.Revoked(c.Serial) {
		r.add(Verify, prefix+"tbsCertificate.serialNumber", "RFC 5280 §6.1.3", "certificate %s is revoked", hexString(c.Serial))
	}
	if !iss.Resources.Covers(c.Resources) {
		r.add(Verify, prefix+"tbsCertificate.extensions", "RFC 6487 §7.2", "resources exceed the issuer's")
	}
	if iss.CertURI != "" && c.AIAURI != iss.CertURI {
		r.add(Verify, prefix+"tbsCertificate.extensions.authorityInfoAccess", "RFC 6487 §4.8.7", "caIssuers %s, the issuer is at %s", c.AIAURI, iss.CertURI)
	}
	if iss.CRLURI != "" && c.CRLURI != iss.CRLURI {
		r.add(Verify, prefix+"tbsCertificate.extensions.cRLDistributionPoints", "RFC 6487 §4.8.6", "CRL %s, the issuer's CRL is %s", c.CRLURI, iss.CRLURI)
	}
}

// checkValidity reports a validity window that does not contain at.
func checkValidity(notBefore, notAfter, at time.Time, field string, r *report) {
	switch {
	case at.Before(notBefore):
		r.add(Verify, field, "RFC 5280 §4.1.2.5", "not valid before %s", notBefore.Format(time.RFC3339))
	case at.After(notAfter):
		r.add(Verify, field, "RFC 5280 §4.1.2.5", "expired at %s", notAfter.Format(time.RFC3339))
	}
}

// ValidateTA checks a trust anchor certificate against its TAL (RFC 8630
// §3): the key the TAL pins, the self-signature and validity.
func (c *Certificate) ValidateTA(tal *TAL, at time.Time) []Problem {
	var r report
	if c.Kind != CertTA {
		r.add(Verify, "", "RFC 8630 §3", "%s certificate where a trust anchor was expected", c.Kind)
	}
	if tal != nil && string(c.SPKI) != string(tal.SPKI) {
		r.add(Verify, "tbsCertificate.subjectPublicKeyInfo", "RFC 8630 §3", "key differs from the one in the TAL")
	}
	if err := verifyRSA(c.RSAKey, c.TBS, c.Signature); err != nil {
		r.add(Verify, "signatureValue", "RFC 8630 §3", "self-signature: %v", err)
	}
	checkValidity(c.NotBefore, c.NotAfter, at, "tbsCertificate.validity", &r)
	if !c.Resources.HasIP() && c.Resources.AS.Empty() {
		r.add(Verify, "tbsCertificate.extensions", "RFC 6487 §4.8.10", "trust anchor without resources")
	}
	return r.problems
}

// AsIssuer returns the issuer context for the objects c issued, given the
// context c itself was validated in (nil for a trust anchor).
func (c *Certificate) AsIssuer(parent *Issuer, certURI string) *Issuer {
	res := c.Resources
	if parent != nil {
		res = res.Resolve(parent.Resources)
	}
	return &Issuer{Cert: c, Resources: res, CertURI: certURI}
}

func hexString(b []byte) string { return fmt.Sprintf("%X", b) }

// SerialString returns the serial number in upper-case hex.
func (c *Certificate) SerialString() string { return hexString(c.Serial) }
