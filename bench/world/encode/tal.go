package encode

import (
	"encoding/base64"
	"strings"
)

// TAL describes an RFC 8630 trust anchor locator.
type TAL struct {
	// Comments are written first, each as a "# " line (RFC 8630 §2.2).
	Comments []string
	// URIs of the trust anchor certificate, https preferred first.
	URIs []string
	// SPKI is the DER SubjectPublicKeyInfo of the trust anchor key.
	SPKI []byte
}

// Encode returns the TAL text: comments, URIs, an empty line and the
// base64 SPKI wrapped at 64 columns.
func (t *TAL) Encode() []byte {
	var b strings.Builder
	for _, c := range t.Comments {
		b.WriteString("# " + c + "\n")
	}
	for _, u := range t.URIs {
		b.WriteString(u + "\n")
	}
	b.WriteString("\n")
	s := base64.StdEncoding.EncodeToString(t.SPKI)
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
	return []byte(b.String())
}
