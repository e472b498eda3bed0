package encode

import (
	"crypto"
	"fmt"
	"math/big"
	"time"
)

// Extension is one raw certificate or CRL extension.
type Extension struct {
	OID      OID
	Critical bool
	// Value is the DER placed inside the extnValue OCTET STRING.
	Value []byte
}

// Encode returns the Extension SEQUENCE; critical is omitted when false,
// as DER requires for a DEFAULT FALSE field.
func (e Extension) Encode() []byte {
	if e.Critical {
		return Sequence(e.OID.Encode(), Boolean(true), OctetString(e.Value))
	}
	return Sequence(e.OID.Encode(), OctetString(e.Value))
}

// Cert describes a resource certificate (RFC 6487), an EE certificate of
// a signed object or a BGPsec router certificate (RFC 8209). Zero fields
// are left out, so the caller decides which extensions exist; the
// defaults of NewCA, NewEE and NewRouter follow the profiles.
type Cert struct {
	Serial              *big.Int
	Issuer, Subject     Name
	NotBefore, NotAfter time.Time
	// PublicKey is the subject key; SPKI, if set, replaces its encoding.
	PublicKey crypto.PublicKey
	SPKI      []byte

	// CA adds BasicConstraints cA=TRUE (critical, no pathLen) and makes
	// the default KeyUsage keyCertSign|cRLSign; otherwise the default is
	// digitalSignature (RFC 6487 §4.8.1 and §4.8.4).
	CA bool
	// KeyUsageBits overrides the default KeyUsage named bits.
	KeyUsageBits []int
	// OmitKeyUsage leaves KeyUsage out.
	OmitKeyUsage bool
	// SKI overrides the computed subject key identifier; OmitSKI leaves
	// the extension out.
	SKI     []byte
	OmitSKI bool
	// AKI is the issuer's key identifier; nil leaves it out, as for a
	// self-signed trust anchor (RFC 6487 §4.8.3).
	AKI []byte
	// CRLURI is the CRLDistributionPoints rsync URI.
	CRLURI string
	// CAIssuers is the AIA id-ad-caIssuers rsync URI.
	CAIssuers string
	// SIA entries: caRepository, rpkiManifest and rpkiNotify for CAs,
	// signedObject for the EE certificate of a signed object.
	CARepository, Manifest, Notify, SignedObject string
	// OmitPolicy leaves out the critical CertificatePolicies extension
	// with id-cp-ipAddr-asNumber (RFC 6487 §4.8.9).
	OmitPolicy bool
	// ExtKeyUsage lists extended key usages, e.g. id-kp-bgpsec-router.
	ExtKeyUsage []OID
	// IP and AS are the RFC 3779 resources, both critical; nil leaves the
	// extension out.
	IP *IPResources
	AS *ASResources
	// Extra extensions are appended after the generated ones, which may
	// duplicate one of them.
	Extra []Extension

	// SignatureAlgorithm overrides sha256WithRSAEncryption (both copies).
	SignatureAlgorithm []byte
	// CorruptSignature flips a bit of the signature after signing.
	CorruptSignature bool
}

// Extensions returns the encoded extensions in the order the builder
// writes them.
func (c *Cert) Extensions() ([]Extension, error) {
	var exts []Extension
	if c.CA {
		exts = append(exts, Extension{OIDBasicConstraints, true, Sequence(Boolean(true))})
	}
	if !c.OmitSKI {
		ski := c.SKI
		if ski == nil {
			var err error
			if ski, err = KeyIdentifier(c.PublicKey); err != nil {
				return nil, fmt.Errorf("subject key identifier: %w", err)
			}
		}
		exts = append(exts, Extension{OIDSubjectKeyID, false, OctetString(ski)})
	}
	if c.AKI != nil {
		exts = append(exts, Extension{OIDAuthorityKeyID, false, Sequence(ImplicitPrimitive(0, c.AKI))})
	}
	if !c.OmitKeyUsage {
		kub := c.KeyUsageBits
		if kub == nil {
			if c.CA {
				kub = []int{5, 6} // keyCertSign, cRLSign
			} else {
				kub = []int{0} // digitalSignature
			}
		}
		exts = append(exts, Extension{OIDKeyUsage, true, NamedBits(kub...)})
	}
	if len(c.ExtKeyUsage) > 0 {
		var oids [][]byte
		for _, o := range c.ExtKeyUsage {
			oids = append(oids, o.Encode())
		}
		exts = append(exts, Extension{OIDExtKeyUsage, false, Sequence(oids...)})
	}
	if c.CRLURI != "" {
		// DistributionPoint{distributionPoint [0] {fullName [0]
		// {uniformResourceIdentifier [6]}}} (RFC 5280 §4.2.1.13).
		uri := ImplicitPrimitive(6, []byte(c.CRLURI))
		exts = append(exts, Extension{OIDCRLDistPoints, false, Sequence(Sequence(Explicit(0, Explicit(0, uri))))})
	}
	if c.CAIssuers != "" {
		exts = append(exts, Extension{OIDAuthorityInfoAccess, false, Sequence(accessDescription(OIDADCAIssuers, c.CAIssuers))})
	}
	var sia [][]byte
	for _, ad := range []struct {
		oid OID
		uri string
	}{
		{OIDADCARepository, c.CARepository},
		{OIDADRPKIManifest, c.Manifest},
		{OIDADRPKINotify, c.Notify},
		{OIDADSignedObject, c.SignedObject},
	} {
		if ad.uri != "" {
			sia = append(sia, accessDescription(ad.oid, ad.uri))
		}
	}
	if sia != nil {
		exts = append(exts, Extension{OIDSubjectInfoAccess, false, Sequence(sia...)})
	}
	if !c.OmitPolicy {
		exts = append(exts, Extension{OIDCertPolicies, true, Sequence(Sequence(OIDCPIPAddrASNumber.Encode()))})
	}
	if c.IP != nil {
		if v := c.IP.Encode(); v != nil {
			exts = append(exts, Extension{OIDIPAddrBlocks, true, v})
		}
	}
	if c.AS != nil {
		exts = append(exts, Extension{OIDASIdentifiers, true, c.AS.Encode()})
	}
	return append(exts, c.Extra...), nil
}

func accessDescription(method OID, uri string) []byte {
	return Sequence(method.Encode(), ImplicitPrimitive(6, []byte(uri)))
}

// TBS returns the DER TBSCertificate.
func (c *Cert) TBS() ([]byte, error) {
	spki := c.SPKI
	if spki == nil {
		var err error
		if spki, err = SubjectPublicKeyInfo(c.PublicKey); err != nil {
			return nil, fmt.Errorf("subject public key: %w", err)
		}
	}
	exts, err := c.Extensions()
	if err != nil {
		return nil, err
	}
	encExts := make([][]byte, len(exts))
	for i, e := range exts {
		encExts[i] = e.Encode()
	}
	serial := c.Serial
	if serial == nil {
		serial = big.NewInt(1)
	}
	return Sequence(
		Explicit(0, Integer(2)), // v3
		BigInteger(serial),
		c.sigAlg(),
		c.Issuer.Encode(),
		Sequence(Time(c.NotBefore), Time(c.NotAfter)),
		c.Subject.Encode(),
		spki,
		Explicit(3, Sequence(encExts...)),
	), nil
}

func (c *Cert) sigAlg() []byte {
	if c.SignatureAlgorithm != nil {
		return c.SignatureAlgorithm
	}
	return AlgorithmSHA256WithRSA()
}

// Encode signs the certificate with the issuer's key (the subject's own
// key for a self-signed trust anchor) and returns its DER.
func (c *Cert) Encode(issuerKey crypto.Signer) ([]byte, error) {
	tbs, err := c.TBS()
	if err != nil {
		return nil, err
	}
	sig, err := signSHA256(issuerKey, tbs)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	if c.CorruptSignature {
		sig = corrupt(sig)
	}
	return Sequence(tbs, c.sigAlg(), BitStringBytes(sig)), nil
}
