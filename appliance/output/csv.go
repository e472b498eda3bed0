package output

import "github.com/rovd/rovd/engine/payload"

// The three CSV formats. None of them quotes or escapes beyond what the
// manual describes: every field is an AS number, a prefix, a number, a
// date, a trust anchor label or an rsync URI, none of which holds a comma
// or a quote in a valid repository.

// csv: "AS64496,192.0.2.0/24,24,ripe", under a header naming the
// columns.
func (wr *writer) csv() error {
	wr.w.WriteString("ASN,IP Prefix,Max Length,Trust Anchor\n")
	return wr.vrps("", func(i int, v payload.VRP) error {
		b := appendASN(wr.start(), v.ASN)
		b = append(b, ',')
		b = v.Prefix.AppendTo(b)
		b = append(b, ',')
		b = appendUint(b, uint32(v.MaxLength))
		b = append(b, ',')
		b = append(b, taName(wr.set.VRPSources(i))...)
		return wr.line(append(b, '\n'))
	})
}

// csvCompat is csv with every field in double quotes and the AS number
// without "AS", as the manual describes it and as the RIPE NCC
// Validator wrote it. (Routinator itself has printed "AS" here since its
// output rewrite; the manual, its own documentation and its first
// version of the format do not.)
func (wr *writer) csvCompat() error {
	wr.w.WriteString("\"ASN\",\"IP Prefix\",\"Max Length\",\"Trust Anchor\"\n")
	return wr.vrps("", func(i int, v payload.VRP) error {
		b := append(wr.start(), '"')
		b = appendUint(b, v.ASN)
		b = append(b, `","`...)
		b = v.Prefix.AppendTo(b)
		b = append(b, `","`...)
		b = appendUint(b, uint32(v.MaxLength))
		b = append(b, `","`...)
		b = append(b, taName(wr.set.VRPSources(i))...)
		return wr.line(append(b, "\"\n"...))
	})
}

// csvExt is the RIPE NCC Validator 1 format: the URI of the ROA, the AS,
// prefix, maximum length and the ROA's validity in UTC. A VRP found in
// several ROAs is one line, with the source it is attributed to; a local
// exception has "N/A" for URI and dates.
func (wr *writer) csvExt() error {
	wr.w.WriteString("URI,ASN,IP Prefix,Max Length,Not Before,Not After\n")
	return wr.vrps("", func(i int, v payload.VRP) error {
		src := primary(wr.set.VRPSources(i))
		b := wr.start()
		if exception(src) || src.URI == "" {
			b = append(b, "N/A"...)
		} else {
			b = append(b, src.URI...)
		}
		b = append(b, ',')
		b = appendASN(b, v.ASN)
		b = append(b, ',')
		b = v.Prefix.AppendTo(b)
		b = append(b, ',')
		b = appendUint(b, uint32(v.MaxLength))
		b = append(b, ',')
		if exception(src) {
			b = append(b, "N/A,N/A"...)
		} else {
			b = appendTime(b, src.Validity.NotBefore, spaceUTC)
			b = append(b, ',')
			b = appendTime(b, src.Validity.NotAfter, spaceUTC)
		}
		return wr.line(append(b, '\n'))
	})
}
