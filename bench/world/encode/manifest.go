package encode

import (
	"math/big"
	"time"
)

// FileAndHash is one manifest entry.
type FileAndHash struct {
	Name string
	// Hash is the SHA-256 of the file's content.
	Hash []byte
}

// Manifest describes the eContent of an RFC 9286 manifest.
type Manifest struct {
	// Version, if non-nil, writes an explicit version; DER leaves the
	// default 0 out, so only broken objects set it.
	Version                *int
	Number                 *big.Int
	ThisUpdate, NextUpdate time.Time
	// Files are written in the order given.
	Files []FileAndHash
	// HashAlg overrides id-sha256.
	HashAlg OID
}

// Encode returns the DER Manifest. thisUpdate and nextUpdate are always
// GeneralizedTime (RFC 9286 §4.2).
func (m *Manifest) Encode() []byte {
	var parts [][]byte
	if m.Version != nil {
		parts = append(parts, Explicit(0, Integer(int64(*m.Version))))
	}
	n := m.Number
	if n == nil {
		n = big.NewInt(1)
	}
	alg := m.HashAlg
	if alg == nil {
		alg = OIDSHA256
	}
	files := make([][]byte, len(m.Files))
	for i, f := range m.Files {
		files[i] = Sequence(IA5String(f.Name), BitString(f.Hash, len(f.Hash)*8))
	}
	parts = append(parts,
		BigInteger(n),
		GeneralizedTime(m.ThisUpdate),
		GeneralizedTime(m.NextUpdate),
		alg.Encode(),
		Sequence(files...),
	)
	return Sequence(parts...)
}
