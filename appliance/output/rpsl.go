package output

import (
	"strings"
	"unicode/utf8"

	"github.com/rovd/rovd/engine/payload"
)

// rpsl writes one RPSL route (IPv4) or route6 (IPv6) object per VRP,
// each between blank lines, with the fields Routinator gives: the
// maximum length is not among them. "created" and "last-modified" are
// the time the data set was made (Routinator takes the time each object
// is written, which makes two runs on the same data differ), and the
// source names the trust anchor in upper case: "ROA-RIPE-RPKI-ROOT", or
// "ROA-N/A-RPKI-ROOT" for a local exception.
func (wr *writer) rpsl() error {
	var stamp [len(isoTime)]byte
	at := appendTime(stamp[:0], wr.opt.Time, isoTime)
	return wr.vrps("", func(i int, v payload.VRP) error {
		b := wr.start()
		if v.Prefix.Addr().Is4() {
			b = append(b, "\nroute: "...)
		} else {
			b = append(b, "\nroute6: "...)
		}
		b = v.Prefix.AppendTo(b)
		b = append(b, "\norigin: "...)
		b = appendASN(b, v.ASN)
		b = append(b, "\ndescr: RPKI attestation\nmnt-by: NA\ncreated: "...)
		b = append(b, at...)
		b = append(b, "\nlast-modified: "...)
		b = append(b, at...)
		b = append(b, "\nsource: ROA-"...)
		b = appendUpper(b, taName(wr.set.VRPSources(i)))
		return wr.line(append(b, "-RPKI-ROOT\n\n"...))
	})
}

// appendUpper appends s in upper case, without allocating when s is
// ASCII, as trust anchor labels are.
func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToUpper(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
