package encode

import (
	"strings"
)

// VCard describes the RFC 6493 §5 profile of a vCard 4.0 (RFC 6350):
// FN and ORG, and at least one of ADR, TEL or EMAIL.
type VCard struct {
	FullName, Org       string
	Address, Tel, Email string
	// Extra lines are added before END, e.g. a forbidden property.
	Extra []string
	// Version overrides "4.0".
	Version string
}

// Encode returns the vCard text with CRLF line ends (RFC 6350 §3.2), the
// eContent of a Ghostbusters record.
func (v *VCard) Encode() []byte {
	ver := v.Version
	if ver == "" {
		ver = "4.0"
	}
	lines := []string{"BEGIN:VCARD", "VERSION:" + ver, "FN:" + v.FullName, "ORG:" + v.Org}
	if v.Address != "" {
		lines = append(lines, "ADR:"+v.Address)
	}
	if v.Tel != "" {
		lines = append(lines, "TEL:"+v.Tel)
	}
	if v.Email != "" {
		lines = append(lines, "EMAIL:"+v.Email)
	}
	lines = append(lines, v.Extra...)
	lines = append(lines, "END:VCARD")
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}
