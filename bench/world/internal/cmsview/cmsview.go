package cmsview

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
)

// OIDSignedData is the ContentInfo content type of a signed object.
const OIDSignedData = "1.2.840.113549.1.7.2"

// SignedObject is what a signed object holds.
type SignedObject struct {
	Version     int
	ContentType asn1.ObjectIdentifier
	Content     []byte
	EE          *x509.Certificate
	// Signer is the one SignerInfo.
	SignerVersion int
	SID           []byte
	Attributes    []Attribute
	// SignatureErr is the result of checking the signature over the
	// signed attributes with the EE certificate's key.
	SignatureErr error
}

// Attribute is one signed attribute.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []asn1.RawValue `asn1:"set"`
	EncapContentInfo struct {
		EContentType asn1.ObjectIdentifier
		EContent     []byte `asn1:"explicit,tag:0"`
	}
	Certificates asn1.RawValue `asn1:"tag:0"`
	SignerInfos  []signerInfo  `asn1:"set"`
}

type signerInfo struct {
	Version            int
	SID                []byte `asn1:"tag:0"`
	DigestAlgorithm    asn1.RawValue
	SignedAttrs        asn1.RawValue
	SignatureAlgorithm asn1.RawValue
	Signature          []byte
}

// Decode reads a signed object with exactly one signer and one EE
// certificate and checks its signature.
func Decode(der []byte) (*SignedObject, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("ContentInfo: %v (%d bytes left)", err, len(rest))
	}
	if ci.ContentType.String() != OIDSignedData {
		return nil, fmt.Errorf("content type %v", ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("SignedData: %v", err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%d signers", len(sd.SignerInfos))
	}
	ee, err := x509.ParseCertificate(sd.Certificates.Bytes)
	if err != nil {
		return nil, fmt.Errorf("EE certificate: %v", err)
	}
	si := sd.SignerInfos[0]
	if si.SignedAttrs.Class != asn1.ClassContextSpecific || si.SignedAttrs.Tag != 0 {
		return nil, fmt.Errorf("signedAttrs tag %d/%d", si.SignedAttrs.Class, si.SignedAttrs.Tag)
	}
	so := &SignedObject{
		Version:       sd.Version,
		ContentType:   sd.EncapContentInfo.EContentType,
		Content:       sd.EncapContentInfo.EContent,
		EE:            ee,
		SignerVersion: si.Version,
		SID:           si.SID,
	}
	if _, err := asn1.UnmarshalWithParams(si.SignedAttrs.FullBytes, &so.Attributes, "set,tag:0"); err != nil {
		return nil, fmt.Errorf("signedAttrs: %v", err)
	}
	// The signature covers the attributes re-tagged as a SET (0x31).
	signed := slices.Clone(si.SignedAttrs.FullBytes)
	signed[0] = 0x31
	digest := sha256.Sum256(signed)
	key, ok := ee.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("EE key is %T, not RSA", ee.PublicKey)
	}
	so.SignatureErr = rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], si.Signature)
	return so, nil
}
