package output

import "github.com/rovd/rovd/engine/payload"

// The formats a router configuration includes: OpenBGPD's roa-set and
// BIRD's static ROA routes. They carry the VRPs only.

// openBGPD writes a roa-set block for bgpd.conf(5): one line per VRP,
// "maxlen" only where it exceeds the prefix length.
func (wr *writer) openBGPD() error {
	wr.w.WriteString("roa-set {\n")
	err := wr.vrps("", func(_ int, v payload.VRP) error {
		b := append(wr.start(), "    "...)
		b = v.Prefix.AppendTo(b)
		if int(v.MaxLength) > v.Prefix.Bits() {
			b = append(b, " maxlen "...)
			b = appendUint(b, uint32(v.MaxLength))
		}
		b = append(b, " source-as "...)
		b = appendUint(b, v.ASN)
		return wr.line(append(b, '\n'))
	})
	if err != nil {
		return err
	}
	_, err = wr.w.WriteString("}\n")
	return err
}

// bird1 writes the entries of a BIRD 1 "roa table" block:
// "roa 192.0.2.0/24 max 24 as 64496;". BIRD 1 runs IPv4 (bird) and IPv6
// (bird6) as two daemons, so each includes the lines of its family.
func (wr *writer) bird1() error { return wr.bird("roa ") }

// bird2 writes the routes of a BIRD 2 static protocol on a roa4 or roa6
// channel: "route 192.0.2.0/24 max 24 as 64496;". Such a protocol takes
// one address family, so a configuration includes the IPv4 lines in one
// and the IPv6 lines in another.
func (wr *writer) bird2() error { return wr.bird("route ") }

func (wr *writer) bird(keyword string) error {
	return wr.vrps("", func(_ int, v payload.VRP) error {
		b := append(wr.start(), keyword...)
		b = v.Prefix.AppendTo(b)
		b = append(b, " max "...)
		b = appendUint(b, uint32(v.MaxLength))
		b = append(b, " as "...)
		b = appendUint(b, v.ASN)
		return wr.line(append(b, ";\n"...))
	})
}
