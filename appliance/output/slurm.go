package output

import (
	"encoding/base64"

	"github.com/rovd/rovd/engine/payload"
)

// slurm writes the VRPs (and, with enable-bgpsec, the router keys) as the
// locally added assertions of an RFC 8416 exceptions file with no
// filters, laid out as Routinator lays it out. Each assertion's comment
// is the trust anchor it came from. The file can be read back with -x,
// for instance to keep serving a known set.
//
// Routinator writes "maxPrefixLength" only when the ROA's own encoding
// had one; a VRP does not remember that, so rovd always writes it. It
// means the same (RFC 8416 §3.4.1: absent is the prefix length).
func (wr *writer) slurm() error {
	wr.w.WriteString(`{
  "slurmVersion": 1,
  "validationOutputFilters": {
    "prefixFilters": [ ],
    "bgpsecFilters": [ ]
  },
  "locallyAddedAssertions": {
    "prefixAssertions": [
`)
	err := wr.vrps(",\n", func(i int, v payload.VRP) error {
		b := append(wr.start(), "      {\n        \"asn\": "...)
		b = appendUint(b, v.ASN)
		b = append(b, ",\n        \"prefix\": \""...)
		b = v.Prefix.AppendTo(b)
		b = append(b, "\",\n        \"maxPrefixLength\": "...)
		b = appendUint(b, uint32(v.MaxLength))
		b = append(b, ",\n        \"comment\": "...)
		b = appendJSONString(b, taName(wr.set.VRPSources(i)))
		return wr.line(append(b, "\n      }"...))
	})
	if err != nil {
		return err
	}
	wr.w.WriteString("\n    ],\n    \"bgpsecAssertions\": [\n")
	if wr.opt.BGPsec {
		sep := ""
		for i, k := range wr.set.RouterKeys() {
			if !wr.opt.Selection.matchASN(k.ASN) {
				continue
			}
			b := append(append(wr.start(), sep...), "      {\n        \"asn\": "...)
			sep = ",\n"
			b = appendUint(b, k.ASN)
			// RFC 8416 §3.3.2: SKI and key in the URL-safe Base64 of
			// RFC 4648 §5, without padding.
			b = append(b, ",\n        \"SKI\": \""...)
			b = base64.RawURLEncoding.AppendEncode(b, k.SKI[:])
			b = append(b, "\",\n        \"routerPublicKey\": \""...)
			b = base64.RawURLEncoding.AppendEncode(b, k.SPKI)
			b = append(b, "\",\n        \"comment\": "...)
			b = appendJSONString(b, taName(wr.set.RouterKeySources(i)))
			if err := wr.line(append(b, "\n      }"...)); err != nil {
				return err
			}
		}
	}
	_, err = wr.w.WriteString("\n    ]\n  }\n}\n")
	return err
}
