package encode

import (
	"crypto"
	"crypto/sha256"
	"fmt"
	"time"
)

// SignedObject describes an RFC 6488 signed object: a CMS ContentInfo
// holding SignedData version 3 with one EE certificate and one SignerInfo
// (RFC 5652 §5). The EE certificate is signed separately (Cert.Encode
// with the issuing CA's key) and passed in DER.
type SignedObject struct {
	ContentType OID
	// Content is the DER eContent (a ROA, a manifest, …) or, for a
	// Ghostbusters record, the vCard text.
	Content []byte
	// EECert is the DER of the EE certificate placed in certificates.
	EECert []byte
	// SKI identifies the signer (sid [0] subjectKeyIdentifier).
	SKI []byte
	// SigningTime is the signing-time attribute (RFC 9589 §4 requires
	// it); OmitSigningTime leaves it out.
	SigningTime     time.Time
	OmitSigningTime bool
	// BinarySigningTime adds the attribute RFC 9589 §4 forbids.
	BinarySigningTime bool
	// SignatureAlgorithm overrides rsaEncryption in the SignerInfo.
	SignatureAlgorithm []byte
	// MessageDigest, if set, replaces the digest of Content.
	MessageDigest []byte
	// CorruptSignature flips a bit of the CMS signature after signing.
	CorruptSignature bool
}

// Encode signs the signed attributes with the EE key and returns the DER
// ContentInfo.
func (o *SignedObject) Encode(eeKey crypto.Signer) ([]byte, error) {
	digest := o.MessageDigest
	if digest == nil {
		d := sha256.Sum256(o.Content)
		digest = d[:]
	}
	attrs := [][]byte{
		Sequence(OIDAttrContentType.Encode(), Set(o.ContentType.Encode())),
		Sequence(OIDAttrMessageDigest.Encode(), Set(OctetString(digest))),
	}
	if !o.OmitSigningTime {
		attrs = append(attrs, Sequence(OIDAttrSigningTime.Encode(), Set(Time(o.SigningTime))))
	}
	if o.BinarySigningTime {
		attrs = append(attrs, Sequence(OIDAttrBinaryTime.Encode(), Set(Integer(o.SigningTime.Unix()))))
	}
	// The signature covers the attributes as a DER SET OF (tag 0x31);
	// in the SignerInfo they sit under the IMPLICIT [0] tag instead
	// (RFC 5652 §5.4).
	signed := SetOf(attrs...)
	sig, err := signSHA256(eeKey, signed)
	if err != nil {
		return nil, fmt.Errorf("sign cms: %w", err)
	}
	if o.CorruptSignature {
		sig = corrupt(sig)
	}
	alg := o.SignatureAlgorithm
	if alg == nil {
		alg = AlgorithmRSAEncryption()
	}
	signerInfo := Sequence(
		Integer(3),
		ImplicitPrimitive(0, o.SKI),
		AlgorithmSHA256(),
		Retag(0xa0, signed),
		alg,
		OctetString(sig),
	)
	signedData := Sequence(
		Integer(3),
		Set(AlgorithmSHA256()),
		Sequence(o.ContentType.Encode(), Explicit(0, OctetString(o.Content))),
		Explicit(0, o.EECert),
		Set(signerInfo),
	)
	return Sequence(OIDSignedData.Encode(), Explicit(0, signedData)), nil
}
