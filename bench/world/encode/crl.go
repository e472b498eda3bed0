package encode

import (
	"crypto"
	"fmt"
	"math/big"
	"time"
)

// Revoked is one entry of a CRL's revokedCertificates.
type Revoked struct {
	Serial *big.Int
	Time   time.Time
}

// CRL describes an RFC 6487 §5 certificate revocation list: version 2,
// AKI and CRLNumber as its only extensions, no entry extensions.
type CRL struct {
	Issuer                 Name
	ThisUpdate, NextUpdate time.Time
	Number                 *big.Int
	// AKI is the issuer's key identifier; nil leaves it out.
	AKI     []byte
	Revoked []Revoked
	// OmitNumber leaves out the CRLNumber extension.
	OmitNumber bool
	Extra      []Extension

	SignatureAlgorithm []byte
	CorruptSignature   bool
}

// Encode signs the CRL with the issuing CA's key and returns its DER.
func (l *CRL) Encode(issuerKey crypto.Signer) ([]byte, error) {
	alg := l.SignatureAlgorithm
	if alg == nil {
		alg = AlgorithmSHA256WithRSA()
	}
	var exts [][]byte
	if l.AKI != nil {
		exts = append(exts, Extension{OIDAuthorityKeyID, false, Sequence(ImplicitPrimitive(0, l.AKI))}.Encode())
	}
	if !l.OmitNumber {
		n := l.Number
		if n == nil {
			n = big.NewInt(1)
		}
		exts = append(exts, Extension{OIDCRLNumber, false, BigInteger(n)}.Encode())
	}
	for _, e := range l.Extra {
		exts = append(exts, e.Encode())
	}
	parts := [][]byte{
		Integer(1), // v2
		alg,
		l.Issuer.Encode(),
		Time(l.ThisUpdate),
		Time(l.NextUpdate),
	}
	// revokedCertificates is left out when empty (RFC 5280 §5.1.2.6).
	if len(l.Revoked) > 0 {
		entries := make([][]byte, len(l.Revoked))
		for i, r := range l.Revoked {
			entries[i] = Sequence(BigInteger(r.Serial), Time(r.Time))
		}
		parts = append(parts, Sequence(entries...))
	}
	if len(exts) > 0 {
		parts = append(parts, Explicit(0, Sequence(exts...)))
	}
	tbs := Sequence(parts...)
	sig, err := signSHA256(issuerKey, tbs)
	if err != nil {
		return nil, fmt.Errorf("sign crl: %w", err)
	}
	if l.CorruptSignature {
		sig = corrupt(sig)
	}
	return Sequence(tbs, alg, BitStringBytes(sig)), nil
}
