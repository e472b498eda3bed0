package encode

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
)

// SubjectPublicKeyInfo returns the DER SubjectPublicKeyInfo of an RSA or
// ECDSA public key: rsaEncryption with NULL parameters (RFC 7935 §3.1) or
// id-ecPublicKey with the named curve (RFC 8208 §3.1).
func SubjectPublicKeyInfo(pub crypto.PublicKey) ([]byte, error) {
	alg, bits, err := publicKeyBits(pub)
	if err != nil {
		return nil, err
	}
	return Sequence(alg, BitStringBytes(bits)), nil
}

// publicKeyBits returns the AlgorithmIdentifier and the subjectPublicKey
// bits of pub.
func publicKeyBits(pub crypto.PublicKey) (alg, bits []byte, err error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		alg = Sequence(OIDRSAEncryption.Encode(), Null())
		bits = Sequence(BigInteger(k.N), Integer(int64(k.E)))
		return alg, bits, nil
	case *ecdsa.PublicKey:
		var curve OID
		switch k.Curve {
		case elliptic.P256():
			curve = OIDP256
		case elliptic.P384():
			curve = OIDP384
		default:
			return nil, nil, fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
		}
		e, err := k.ECDH()
		if err != nil {
			return nil, nil, err
		}
		return Sequence(OIDECPublicKey.Encode(), curve.Encode()), e.Bytes(), nil
	}
	return nil, nil, fmt.Errorf("unsupported public key type %T", pub)
}

// KeyIdentifier returns the RFC 6487 §4.8.2 key identifier of pub: the
// SHA-1 hash of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1).
func KeyIdentifier(pub crypto.PublicKey) ([]byte, error) {
	_, bits, err := publicKeyBits(pub)
	if err != nil {
		return nil, err
	}
	h := sha1.Sum(bits)
	return h[:], nil
}

// AlgorithmSHA256WithRSA is the signature AlgorithmIdentifier of RPKI
// certificates and CRLs (RFC 7935 §2), parameters NULL (RFC 4055 §5).
func AlgorithmSHA256WithRSA() []byte { return Sequence(OIDSHA256WithRSA.Encode(), Null()) }

// AlgorithmRSAEncryption is the CMS signatureAlgorithm RFC 7935 §2 allows
// beside sha256WithRSAEncryption.
func AlgorithmRSAEncryption() []byte { return Sequence(OIDRSAEncryption.Encode(), Null()) }

// AlgorithmSHA256 is the digest AlgorithmIdentifier, parameters absent as
// RFC 5754 §2 prefers.
func AlgorithmSHA256() []byte { return Sequence(OIDSHA256.Encode()) }

// errNoSigner is returned when an object needs a signature but no key.
var errNoSigner = errors.New("no signing key")

// signSHA256 signs the SHA-256 digest of msg. RSA PKCS #1 v1.5 signatures
// are deterministic, which keeps generated worlds reproducible.
func signSHA256(key crypto.Signer, msg []byte) ([]byte, error) {
	if key == nil {
		return nil, errNoSigner
	}
	d := sha256.Sum256(msg)
	return key.Sign(rand.Reader, d[:], crypto.SHA256)
}

// corrupt flips one bit in the middle of sig, a signature that still
// decodes but no longer verifies.
func corrupt(sig []byte) []byte {
	if len(sig) > 0 {
		sig[len(sig)/2] ^= 0x01
	}
	return sig
}
