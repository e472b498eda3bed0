package rpki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"github.com/rovd/rovd/engine/der"
)

// RFC 7935 §3: RPKI keys are RSA with a 2048-bit modulus and exponent 65537.
const (
	rsaModulusBits  = 2048
	rsaExponent     = 65537
	ecPointP256Size = 65 // uncompressed point: 0x04 || X || Y (RFC 8208 §3.1)
)

// algorithm is a decoded AlgorithmIdentifier.
type algorithm struct {
	OID       der.OID
	Params    der.Element
	HasParams bool
	Raw       []byte
}

func parseAlgorithm(p *der.Parser, field, ref string) (algorithm, error) {
	el, err := p.Expect(der.TagSequence)
	if err != nil {
		return algorithm{}, decodeErr(field, ref, err)
	}
	inner, err := el.Children()
	if err != nil {
		return algorithm{}, decodeErr(field, ref, err)
	}
	oid, err := inner.OID()
	if err != nil {
		return algorithm{}, decodeErr(field, ref, err)
	}
	a := algorithm{OID: oid, Raw: el.Raw}
	if !inner.Empty() {
		if a.Params, err = inner.Next(); err != nil {
			return algorithm{}, decodeErr(field, ref, err)
		}
		a.HasParams = true
	}
	if err := inner.Done(); err != nil {
		return algorithm{}, decodeErr(field, ref, err)
	}
	return a, nil
}

// nullOrAbsent reports whether the parameters are absent or NULL, the two
// forms RFC 4055 §5 allows for the RSA algorithms.
func (a algorithm) nullOrAbsent() bool {
	return !a.HasParams || a.Params.Tag() == der.TagNull && len(a.Params.Content()) == 0
}

// publicKeyInfo is a decoded SubjectPublicKeyInfo.
type publicKeyInfo struct {
	Raw       []byte
	Algorithm algorithm
	// Key is the subjectPublicKey BIT STRING's bytes, what the SKI hashes.
	Key []byte
}

func parsePublicKeyInfo(p *der.Parser, field string) (publicKeyInfo, error) {
	const ref = "RFC 5280 §4.1.2.7"
	el, err := p.Expect(der.TagSequence)
	if err != nil {
		return publicKeyInfo{}, decodeErr(field, ref, err)
	}
	inner, err := el.Children()
	if err != nil {
		return publicKeyInfo{}, decodeErr(field, ref, err)
	}
	alg, err := parseAlgorithm(&inner, field, ref)
	if err != nil {
		return publicKeyInfo{}, err
	}
	bitsEl, err := inner.Expect(der.TagBitString)
	if err != nil {
		return publicKeyInfo{}, decodeErr(field+".subjectPublicKey", ref, err)
	}
	bits, err := bitsEl.BitString()
	if err != nil {
		return publicKeyInfo{}, decodeErr(field+".subjectPublicKey", ref, err)
	}
	if bits.UnusedBits != 0 {
		return publicKeyInfo{}, decodeErr(field+".subjectPublicKey", ref, errors.New("key is not a whole number of octets"))
	}
	if err := inner.Done(); err != nil {
		return publicKeyInfo{}, decodeErr(field, ref, err)
	}
	return publicKeyInfo{Raw: el.Raw, Algorithm: alg, Key: bits.Bytes}, nil
}

// parseRSAKey decodes an RSAPublicKey (RFC 8017 §A.1.1) and checks the
// RFC 7935 sizes; a key of another size is still returned, so inspect can
// show it, with the problem recorded.
func parseRSAKey(key *rsa.PublicKey, spki publicKeyInfo, mode der.Mode, field string, r *report) error {
	const ref = "RFC 7935 §3"
	if !spki.Algorithm.nullOrAbsent() {
		r.inspect(field+".algorithm", "RFC 4055 §1.2", "rsaEncryption parameters must be NULL")
	}
	p := der.Parse(spki.Key, mode)
	seq, err := p.Sequence()
	if err != nil {
		return decodeErr(field, "RFC 8017 §A.1.1", err)
	}
	n, err := seq.Integer()
	if err != nil {
		return decodeErr(field+".modulus", "RFC 8017 §A.1.1", err)
	}
	eEl, err := seq.Expect(der.TagInteger)
	if err != nil {
		return decodeErr(field+".publicExponent", "RFC 8017 §A.1.1", err)
	}
	e, err := eEl.Int64()
	if err != nil || e < 3 || e > 1<<31-1 {
		return decodeErr(field+".publicExponent", "RFC 8017 §A.1.1", fmt.Errorf("unusable public exponent"))
	}
	if err := seq.Done(); err != nil {
		return decodeErr(field, "RFC 8017 §A.1.1", err)
	}
	if err := p.Done(); err != nil {
		return decodeErr(field, "RFC 8017 §A.1.1", err)
	}
	if n[0]&0x80 != 0 {
		return decodeErr(field+".modulus", "RFC 8017 §A.1.1", errors.New("negative modulus"))
	}
	if n[0] == 0 {
		n = n[1:]
	}
	// The caller may provide the big.Int to fill, saving an allocation.
	if key.N == nil {
		key.N = new(big.Int)
	}
	key.N.SetBytes(n)
	key.E = int(e)
	if bits := key.N.BitLen(); bits != rsaModulusBits {
		r.inspect(field+".modulus", ref, "want a %d-bit RSA modulus, have %d", rsaModulusBits, bits)
	}
	if e != rsaExponent {
		r.inspect(field+".publicExponent", ref, "public exponent %d, want %d", e, rsaExponent)
	}
	return nil
}

// checkECKey checks a BGPsec router key: id-ecPublicKey on P-256 with an
// uncompressed point that lies on the curve (RFC 8208 §3.1).
func checkECKey(spki publicKeyInfo, field string, r *report) {
	const ref = "RFC 8208 §3.1"
	alg := spki.Algorithm
	if !alg.HasParams || alg.Params.Tag() != der.TagOID {
		r.inspect(field+".algorithm", ref, "id-ecPublicKey without a named curve")
		return
	}
	if curve, err := alg.Params.OID(); err != nil || !curve.Equal(oidP256) {
		r.inspect(field+".algorithm", ref, "curve is not P-256")
		return
	}
	if len(spki.Key) != ecPointP256Size || spki.Key[0] != 0x04 {
		r.inspect(field+".subjectPublicKey", ref, "not an uncompressed P-256 point")
		return
	}
	if _, err := ecdh.P256().NewPublicKey(spki.Key); err != nil {
		r.inspect(field+".subjectPublicKey", ref, "point is not on the P-256 curve")
	}
}

// errBadSignature is what every failed signature check wraps.
var errBadSignature = errors.New("signature does not verify")

// verifyRSA checks an RSASSA-PKCS1-v1_5 SHA-256 signature (RFC 7935 §2)
// over signed.
func verifyRSA(key *rsa.PublicKey, signed, sig []byte) error {
	if key == nil {
		return errors.New("issuer has no RSA key")
	}
	digest := sha256.Sum256(signed)
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return errBadSignature
	}
	return nil
}

// checkSameAlgorithm checks that the signed part names the algorithm the
// outer structure does (RFC 5280 §4.1.1.2, §5.1.1.2). Strict mode compares
// the encodings; Relaxed mode, like rpki-rs, only the OIDs, since some
// encoders write NULL parameters in one place and leave them out in the
// other, which RFC 4055 §5 makes equivalent.
func checkSameAlgorithm(inner, outer algorithm, mode der.Mode, field string, r *report) {
	same := inner.OID.Equal(outer.OID)
	if mode == der.Strict {
		same = string(inner.Raw) == string(outer.Raw)
	}
	if !same {
		r.inspect(field, "RFC 5280 §4.1.1.2", "differs from the outer signatureAlgorithm")
	}
}
