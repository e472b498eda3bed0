package output

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/rovd/rovd/engine/payload"
)

// json and jsonext share their layout, Routinator's byte for byte: the
// metadata block, then "roas", then "routerKeys" with enable-bgpsec and
// "aspas" with enable-aspa, one item per line. json names each item's
// trust anchor in "ta"; jsonext lists all its sources in "source".

func (wr *writer) json() error    { return wr.jsonDoc(false) }
func (wr *writer) jsonExt() error { return wr.jsonDoc(true) }

func (wr *writer) jsonDoc(ext bool) error {
	b := append(wr.start(), "{\n  \"metadata\": {\n    \"generated\": "...)
	b = strconv.AppendInt(b, wr.opt.Time.Unix(), 10)
	b = append(b, ",\n    \"generatedTime\": \""...)
	b = appendTime(b, wr.opt.Time, isoTime)
	b = append(b, "\"\n  },\n  \"roas\": [\n"...)
	if err := wr.line(b); err != nil {
		return err
	}
	err := wr.vrps(",\n", func(i int, v payload.VRP) error {
		b := append(wr.start(), `    { "asn": "`...)
		b = appendASN(b, v.ASN)
		b = append(b, `", "prefix": "`...)
		b = v.Prefix.AppendTo(b)
		b = append(b, `", "maxLength": `...)
		b = appendUint(b, uint32(v.MaxLength))
		b = wr.appendAttribution(b, ext, wr.set.VRPSources(i), "roa")
		return wr.line(b)
	})
	if err != nil {
		return err
	}
	wr.w.WriteString("\n  ]")

	if wr.opt.BGPsec {
		wr.w.WriteString(",\n  \"routerKeys\": [\n")
		sep := ""
		for i, k := range wr.set.RouterKeys() {
			if !wr.opt.Selection.matchASN(k.ASN) {
				continue
			}
			b := append(append(wr.start(), sep...), `    { "asn": "`...)
			sep = ",\n"
			b = appendASN(b, k.ASN)
			b = append(b, `", "SKI": "`...)
			b = appendHexUpper(b, k.SKI[:])
			b = append(b, `", "routerPublicKey": "`...)
			b = base64.RawURLEncoding.AppendEncode(b, k.SPKI)
			b = append(b, '"')
			b = wr.appendAttribution(b, ext, wr.set.RouterKeySources(i), "cer")
			if err := wr.line(b); err != nil {
				return err
			}
		}
		wr.w.WriteString("\n  ]")
	}

	if wr.opt.ASPA {
		wr.w.WriteString(",\n  \"aspas\": [\n")
		sep := ""
		for i, a := range wr.set.ASPAs() {
			if !wr.opt.Selection.matchASN(a.Customer) {
				continue
			}
			b := append(append(wr.start(), sep...), `    { "customer": "`...)
			sep = ",\n"
			b = appendASN(b, a.Customer)
			b = append(b, `", "providers": [`...)
			for j, p := range a.Providers {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = append(b, '"')
				b = appendASN(b, p)
				b = append(b, '"')
			}
			b = append(b, ']')
			b = wr.appendAttribution(b, ext, wr.set.ASPASources(i), "aspa")
			if err := wr.line(b); err != nil {
				return err
			}
		}
		wr.w.WriteString("\n  ]")
	}
	_, err = wr.w.WriteString("\n}\n")
	return err
}

// appendAttribution ends an item's object: with its trust anchor in
// json, with its sources in jsonext, where kind is the type of object an
// item of this kind comes from ("roa", "cer" or "aspa").
func (wr *writer) appendAttribution(b []byte, ext bool, srcs []*payload.Source, kind string) []byte {
	if !ext {
		b = append(b, `, "ta": `...)
		b = appendJSONString(b, taName(srcs))
		return append(b, " }"...)
	}
	b = append(b, `, "source": [`...)
	for j, src := range wr.sorted(srcs) {
		if j > 0 {
			b = append(b, ", "...)
		}
		b = appendSource(b, src, kind)
	}
	return append(b, "] }"...)
}

// appendSource appends one jsonext source object.
//
// "stale" is, in Routinator, the earliest time a publication point above
// the object goes stale: the next update of a manifest or CRL, or the
// end of a CA certificate, on the way up. rovd's chain validity already
// ends at the earliest of those and of the object's own certificate, so
// its end is "stale" exactly, unless the object's certificate expires
// first, in which case it says when the object stops being valid, the
// earlier of the two.
func appendSource(b []byte, src *payload.Source, kind string) []byte {
	if exception(src) {
		// Routinator also gives the assertion's comment; a Source has
		// none, and the member is optional.
		b = append(b, ` { "type": "exception", "path": `...)
		b = appendJSONStringOrNull(b, src.URI)
		return append(b, " }"...)
	}
	b = append(b, ` { "type": "`...)
	b = append(b, kind...)
	b = append(b, `", "uri": `...)
	b = appendJSONStringOrNull(b, src.URI)
	b = append(b, `, "tal": `...)
	b = appendJSONString(b, src.TA)
	b = append(b, `, "validity": `...)
	b = appendValidity(b, src.Validity)
	b = append(b, `, "chainValidity": `...)
	b = appendValidity(b, src.Chain)
	b = append(b, `, "stale": "`...)
	b = appendTime(b, src.Chain.NotAfter, isoTime)
	return append(b, `" }`...)
}

func appendValidity(b []byte, v payload.Validity) []byte {
	b = append(b, `{ "notBefore": "`...)
	b = appendTime(b, v.NotBefore, isoTime)
	b = append(b, `", "notAfter": "`...)
	b = appendTime(b, v.NotAfter, isoTime)
	return append(b, `" }`...)
}

func appendJSONStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// appendJSONString appends s as a JSON string (RFC 8259 §7): quotes,
// backslashes and control characters escaped, bytes that are not UTF-8
// replaced by U+FFFD, everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(append(b, s[start:i]...), `\ufffd`...)
				start = i + 1
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendHexUpper appends p in upper-case hex, as Routinator writes key
// identifiers.
func appendHexUpper(b, p []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range p {
		b = append(b, digits[c>>4], digits[c&0xF])
	}
	return b
}
