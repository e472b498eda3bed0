package rpki

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// SignedObject is the CMS wrapper every RPKI signed object shares (RFC
// 6488): the content, the EE certificate that signs it and the signer's
// attributes. Slices alias the parsed data, except Content when a BER
// encoder split it into several OCTET STRINGs (then it is a joined copy).
type SignedObject struct {
	Raw []byte
	// ContentType is the eContentType, which says what Content is.
	ContentType der.OID
	// Content is the eContent, the encoded payload (a ROA, a manifest, …).
	Content []byte
	// EE is the end-entity certificate carried in the object. It points
	// into the object, saving an allocation per object.
	EE *Certificate
	ee Certificate
	// SignerKeyID is the signer's subjectKeyIdentifier (the SID).
	SignerKeyID []byte
	// SigningTime is the signing-time attribute, zero if absent.
	SigningTime time.Time

	signatureAlg  der.OID
	signature     []byte
	signedAttrs   []byte // the encoded [0] IMPLICIT SET, tag and all
	messageDigest []byte
}

// Signed returns the CMS layer itself. Every signed object type embeds a
// SignedObject, so through this method callers reach the layer of any of
// them with one interface instead of a switch over the types.
func (so *SignedObject) Signed() *SignedObject { return so }

// reset clears so for decoding another object into it, keeping the
// memory of the EE certificate's resource lists and key.
func (so *SignedObject) reset() {
	c := &so.ee
	v4, v6, as := c.Resources.IPv4.Ranges[:0], c.Resources.IPv6.Ranges[:0], c.Resources.AS.Ranges[:0]
	words := c.rsaN.Bits()[:0]
	*so = SignedObject{}
	c.Resources.IPv4.Ranges, c.Resources.IPv6.Ranges, c.Resources.AS.Ranges = v4, v6, as
	c.rsaN.SetBits(words)
}

// ParseSignedObject decodes the CMS layer of any signed object without
// looking at its content. Problems found go into the returned list.
func ParseSignedObject(data []byte, mode der.Mode) (*SignedObject, []Problem, error) {
	var r report
	so := new(SignedObject)
	if err := parseCMS(so, data, mode, nil, &r); err != nil {
		return nil, nil, err
	}
	return so, r.problems, nil
}

// maxSignedAttrs bounds the signed attributes; RFC 6488 allows three.
const maxSignedAttrs = 16

// parseCMS decodes a signed object into so. If want is not nil, the
// eContentType must be want.
func parseCMS(so *SignedObject, data []byte, mode der.Mode, want der.OID, r *report) error {
	so.Raw = data
	p := der.Parse(data, mode)
	ci, err := p.Sequence()
	if err != nil {
		return decodeErr("contentInfo", "RFC 6488 §2", notRPKIIfUnexpected(err))
	}
	if err := p.Done(); err != nil {
		return decodeErr("contentInfo", "RFC 6488 §2", err)
	}
	ct, err := ci.OID()
	if err != nil {
		return decodeErr("contentInfo.contentType", "RFC 6488 §2", notRPKIIfUnexpected(err))
	}
	if !ct.Equal(oidSignedData) {
		return decodeErr("contentInfo.contentType", "RFC 6488 §2", fmt.Errorf("%w: content type %s", ErrNotRPKI, ct))
	}
	content, err := ci.Explicit(0)
	if err != nil {
		return decodeErr("contentInfo.content", "RFC 6488 §2", err)
	}
	if err := ci.Done(); err != nil {
		return decodeErr("contentInfo", "RFC 6488 §2", err)
	}
	sd, err := content.Sequence()
	if err != nil {
		return decodeErr("signedData", "RFC 6488 §2.1", err)
	}
	if err := content.Done(); err != nil {
		return decodeErr("signedData", "RFC 6488 §2.1", err)
	}

	if v, err := sd.Expect(der.TagInteger); err != nil {
		return decodeErr("signedData.version", "RFC 6488 §2.1.1", err)
	} else if n, err := v.Int64(); err != nil || n != 3 {
		r.inspect("signedData.version", "RFC 6488 §2.1.1", "version must be 3")
	}
	if err := checkDigestAlgorithms(&sd, r); err != nil {
		return err
	}

	eci, err := sd.Sequence()
	if err != nil {
		return decodeErr("signedData.encapContentInfo", "RFC 6488 §2.1.3", err)
	}
	if so.ContentType, err = eci.OID(); err != nil {
		return decodeErr("signedData.encapContentInfo.eContentType", "RFC 6488 §2.1.3.1", err)
	}
	if want != nil && !so.ContentType.Equal(want) {
		return decodeErr("signedData.encapContentInfo.eContentType", "RFC 6488 §2.1.3.1",
			fmt.Errorf("content type %s, want %s", oidName(so.ContentType), oidName(want)))
	}
	ec, ok, err := eci.OptionalExplicit(0)
	if err != nil {
		return decodeErr("signedData.encapContentInfo.eContent", "RFC 6488 §2.1.3.2", err)
	}
	if !ok {
		return decodeErr("signedData.encapContentInfo.eContent", "RFC 6488 §2.1.3.2", errors.New("eContent missing"))
	}
	if so.Content, err = ec.OctetString(); err != nil {
		return decodeErr("signedData.encapContentInfo.eContent", "RFC 6488 §2.1.3.2", err)
	}
	if err := errors.Join(ec.Done(), eci.Done()); err != nil {
		return decodeErr("signedData.encapContentInfo", "RFC 6488 §2.1.3", err)
	}
	if len(so.Content) == 0 {
		r.inspect("signedData.encapContentInfo.eContent", "RFC 6488 §2.1.3.2", "empty eContent")
	}

	certs, ok, err := sd.Optional(der.Explicit(0))
	if err != nil {
		return decodeErr("signedData.certificates", "RFC 6488 §2.1.4", err)
	}
	if !ok {
		return decodeErr("signedData.certificates", "RFC 6488 §2.1.4", errors.New("EE certificate missing"))
	}
	if err := so.parseCertificates(certs, mode, r); err != nil {
		return err
	}
	if _, ok, err := sd.Optional(der.Explicit(1)); err != nil {
		return decodeErr("signedData.crls", "RFC 6488 §2.1.5", err)
	} else if ok {
		r.inspect("signedData.crls", "RFC 6488 §2.1.5", "CRLs must be omitted")
	}
	signers, err := sd.Set()
	if err != nil {
		return decodeErr("signedData.signerInfos", "RFC 6488 §2.1.6", err)
	}
	if err := sd.Done(); err != nil {
		return decodeErr("signedData", "RFC 6488 §2.1", err)
	}
	if err := so.parseSignerInfo(&signers, mode, r); err != nil {
		return err
	}
	if !signers.Empty() {
		r.inspect("signedData.signerInfos", "RFC 6488 §2.1.6", "more than one SignerInfo")
	}
	return nil
}

// notRPKIIfUnexpected marks data that is not even a CMS structure as not
// an RPKI object rather than as a broken one.
func notRPKIIfUnexpected(err error) error {
	if errors.Is(err, der.ErrUnexpectedTag) {
		return fmt.Errorf("%w: %w", ErrNotRPKI, err)
	}
	return err
}

// checkDigestAlgorithms: exactly one, SHA-256 (RFC 6488 §2.1.2, RFC 7935 §2).
func checkDigestAlgorithms(sd *der.Parser, r *report) error {
	const field, ref = "signedData.digestAlgorithms", "RFC 6488 §2.1.2"
	set, err := sd.Set()
	if err != nil {
		return decodeErr(field, ref, err)
	}
	n := 0
	for !set.Empty() {
		alg, err := parseAlgorithm(&set, field, ref)
		if err != nil {
			return err
		}
		n++
		if !alg.OID.Equal(oidSHA256) {
			r.inspect(field, "RFC 7935 §2", "digest algorithm %s, want sha256", oidName(alg.OID))
		}
	}
	if n != 1 {
		r.inspect(field, ref, "want exactly one digest algorithm, have %d", n)
	}
	return nil
}

// parseCertificates reads the [0] IMPLICIT CertificateSet, which must hold
// exactly the one EE certificate (RFC 6488 §2.1.4).
func (so *SignedObject) parseCertificates(certs der.Element, mode der.Mode, r *report) error {
	const field, ref = "signedData.certificates", "RFC 6488 §2.1.4"
	set, err := certs.Children()
	if err != nil {
		return decodeErr(field, ref, err)
	}
	el, err := set.Expect(der.TagSequence)
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if !set.Empty() {
		r.inspect(field, ref, "more than one certificate")
	}
	if err := parseCertificate(&so.ee, el.Raw, mode, "certificates[0].", r); err != nil {
		return err
	}
	so.EE = &so.ee
	switch {
	case so.EE.Kind != CertEE:
		r.inspect(field, ref, "%s certificate where an EE certificate is required", so.EE.Kind)
	case so.EE.SignedObject == "" && !so.ContentType.Equal(oidCTRSC):
		// RSCs travel outside repositories and so have no signedObject
		// location (RFC 9323 §3).
		r.inspect("certificates[0].tbsCertificate.extensions.subjectInfoAccess", "RFC 6487 §4.8.8.2", "signedObject URI missing")
	}
	return nil
}

func (so *SignedObject) parseSignerInfo(signers *der.Parser, mode der.Mode, r *report) error {
	const field = "signerInfo"
	si, err := signers.Sequence()
	if err != nil {
		return decodeErr(field, "RFC 6488 §2.1.6", err)
	}
	if v, err := si.Expect(der.TagInteger); err != nil {
		return decodeErr(field+".version", "RFC 6488 §2.1.6.1", err)
	} else if n, err := v.Int64(); err != nil || n != 3 {
		r.inspect(field+".version", "RFC 6488 §2.1.6.1", "version must be 3")
	}
	sid, err := si.Next()
	if err != nil {
		return decodeErr(field+".sid", "RFC 6488 §2.1.6.2", err)
	}
	if sid.Tag() != der.Implicit(0) {
		r.inspect(field+".sid", "RFC 6488 §2.1.6.2", "signer identified by %s instead of subjectKeyIdentifier", sid.Tag())
	} else {
		so.SignerKeyID = sid.Content()
		if so.EE != nil && string(so.SignerKeyID) != string(so.EE.SKI) {
			r.inspect(field+".sid", "RFC 6488 §2.1.6.2", "signer %s is not the EE certificate %s", hexString(so.SignerKeyID), hexString(so.EE.SKI))
		}
	}
	digestAlg, err := parseAlgorithm(&si, "signerInfo.digestAlgorithm", "RFC 6488 §2.1.6.3")
	if err != nil {
		return err
	}
	if !digestAlg.OID.Equal(oidSHA256) {
		r.inspect(field+".digestAlgorithm", "RFC 6488 §2.1.6.3", "digest algorithm %s, want sha256", oidName(digestAlg.OID))
	}
	attrs, ok, err := si.Optional(der.Explicit(0))
	if err != nil {
		return decodeErr(field+".signedAttrs", "RFC 6488 §2.1.6.4", err)
	}
	if !ok {
		return decodeErr(field+".signedAttrs", "RFC 6488 §2.1.6.4", errors.New("signed attributes missing"))
	}
	so.signedAttrs = attrs.Raw
	if err := so.parseSignedAttrs(attrs, r); err != nil {
		return err
	}
	sigAlg, err := parseAlgorithm(&si, "signerInfo.signatureAlgorithm", "RFC 6488 §2.1.6.5")
	if err != nil {
		return err
	}
	so.signatureAlg = sigAlg.OID
	if !sigAlg.OID.Equal(oidRSAEncryption) && !sigAlg.OID.Equal(oidSHA256WithRSA) {
		r.inspect(field+".signatureAlgorithm", "RFC 7935 §2", "signature algorithm %s, want rsaEncryption", oidName(sigAlg.OID))
	}
	if so.signature, err = si.OctetString(); err != nil {
		return decodeErr(field+".signature", "RFC 6488 §2.1.6.6", err)
	}
	if _, ok, err := si.Optional(der.Explicit(1)); err != nil {
		return decodeErr(field+".unsignedAttrs", "RFC 6488 §2.1.6.7", err)
	} else if ok {
		r.inspect(field+".unsignedAttrs", "RFC 6488 §2.1.6.7", "unsigned attributes must be omitted")
	}
	if err := si.Done(); err != nil {
		return decodeErr(field, "RFC 6488 §2.1.6", err)
	}
	return nil
}

// parseSignedAttrs checks the signed attributes: content-type and
// message-digest required (RFC 6488 §2.1.6.4), signing-time required and
// binary-signing-time forbidden (RFC 9589 §4), nothing else, each once
// with one value.
func (so *SignedObject) parseSignedAttrs(attrs der.Element, r *report) error {
	const field, ref = "signerInfo.signedAttrs", "RFC 6488 §2.1.6.4"
	set, err := attrs.Children()
	if err != nil {
		return decodeErr(field, ref, err)
	}
	var seen [4]bool // contentType, messageDigest, signingTime, binarySigningTime
	var prev []byte
	for n := 0; !set.Empty(); n++ {
		if n == maxSignedAttrs {
			return decodeErr(field, ref, errTooMany("signed attributes", maxSignedAttrs))
		}
		attrEl, err := set.Expect(der.TagSequence)
		if err != nil {
			return decodeErr(field, ref, err)
		}
		// DER orders SET OF elements by their encodings (X.690 §11.6).
		if attrs.Mode() == der.Strict && prev != nil && string(prev) > string(attrEl.Raw) {
			r.inspect(field, "X.690 §11.6", "signed attributes not in DER order")
		}
		prev = attrEl.Raw
		attr, err := attrEl.Children()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		typ, err := attr.OID()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		values, err := attr.Set()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		if err := attr.Done(); err != nil {
			return decodeErr(field, ref, err)
		}
		value, err := values.Next()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		if !values.Empty() {
			r.inspect(field, ref, "attribute %s has more than one value", oidName(typ))
		}
		idx := -1
		switch {
		case typ.Equal(oidAttrContentType):
			idx = 0
			if got, err := value.OID(); err != nil || value.Tag() != der.TagOID {
				r.inspect(field+".contentType", "RFC 6488 §2.1.6.4.1", "malformed content-type value")
			} else if !got.Equal(so.ContentType) {
				r.inspect(field+".contentType", "RFC 6488 §2.1.6.4.1", "content-type %s differs from eContentType %s", oidName(got), oidName(so.ContentType))
			}
		case typ.Equal(oidAttrMessageDigest):
			idx = 1
			if value.Tag() != der.TagOctetString {
				return decodeErr(field+".messageDigest", "RFC 6488 §2.1.6.4.2", fmt.Errorf("message-digest is %s", value.Tag()))
			}
			so.messageDigest = value.Content()
		case typ.Equal(oidAttrSigningTime):
			idx = 2
			t, err := value.Time()
			if err != nil {
				return decodeErr(field+".signingTime", "RFC 5652 §11.3", err)
			}
			so.SigningTime = t
		case typ.Equal(oidAttrBinaryTime):
			idx = 3
			r.inspect(field, "RFC 9589 §4", "binary-signing-time must not be used")
		default:
			r.inspect(field, ref, "unexpected signed attribute %s", oidName(typ))
			continue
		}
		if seen[idx] {
			r.inspect(field, ref, "attribute %s appears twice", oidName(typ))
		}
		seen[idx] = true
	}
	if !seen[0] || !seen[1] {
		r.inspect(field, ref, "content-type or message-digest missing")
	}
	if !seen[2] {
		r.inspect(field, "RFC 9589 §4", "signing-time missing")
	}
	return nil
}

// maxSignedAttrsStack is the size up to which the signed attributes are
// re-tagged on the stack rather than on the heap: real ones are ~110 bytes.
const maxSignedAttrsStack = 512

// VerifyContent checks what the object proves about itself, without its
// issuer (RFC 6488 §3 items 1-2, RFC 5652 §5.4): the message digest is the
// SHA-256 of the content, and the EE key's signature covers the signed
// attributes.
func (so *SignedObject) VerifyContent() error {
	if err := so.checkDigest(); err != nil {
		return err
	}
	return so.checkSignature()
}

// checkDigest checks that the message digest is the SHA-256 of the
// content.
func (so *SignedObject) checkDigest() error {
	sum := sha256.Sum256(so.Content)
	if string(sum[:]) != string(so.messageDigest) {
		return &Problem{Stage: Verify, Field: "signerInfo.signedAttrs.messageDigest", Ref: "RFC 5652 §11.2",
			Err: errors.New("message digest does not match the content")}
	}
	return nil
}

// checkSignature checks the EE key's signature over the signed
// attributes.
func (so *SignedObject) checkSignature() error {
	if so.EE == nil || so.EE.RSAKey == nil {
		return &Problem{Stage: Verify, Field: "certificates[0]", Ref: "RFC 6488 §3", Err: errors.New("EE certificate has no usable key")}
	}
	// The signature covers the attributes encoded as a SET OF, so the
	// [0] IMPLICIT tag becomes the SET tag 0x31 (RFC 5652 §5.4).
	var stack [maxSignedAttrsStack]byte
	buf := stack[:0]
	if len(so.signedAttrs) > len(stack) {
		buf = make([]byte, 0, len(so.signedAttrs))
	}
	buf = append(buf, 0x31)
	buf = append(buf, so.signedAttrs[1:]...)
	if err := verifyRSA(so.EE.RSAKey, buf, so.signature); err != nil {
		return &Problem{Stage: Verify, Field: "signerInfo.signature", Ref: "RFC 6488 §3", Err: err}
	}
	return nil
}

// validate runs VerifyContent (only its digest check when the issuer
// vouches for the signatures) and checks the EE certificate against the
// issuer, recording problems in r.
func (so *SignedObject) validate(iss *Issuer, at time.Time, r *report) {
	var err error
	if iss.SignaturesVerified {
		err = so.checkDigest()
	} else {
		err = so.VerifyContent()
	}
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			r.problems = append(r.problems, *p)
		}
	}
	so.EE.validate(iss, at, "certificates[0].", r)
}
