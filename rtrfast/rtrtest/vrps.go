package rtrtest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rovd/rovd/engine/payload"
)

// VRPs is the set of VRPs a client holds.
type VRPs map[payload.VRP]bool

// SetVRPs returns the VRPs of s.
func SetVRPs(s *payload.Set) VRPs {
	out := VRPs{}
	for _, v := range s.VRPs() {
		out[v] = true
	}
	return out
}

// Equal reports whether v and w hold the same VRPs.
func (v VRPs) Equal(w VRPs) bool {
	if len(v) != len(w) {
		return false
	}
	for x := range w {
		if !v[x] {
			return false
		}
	}
	return true
}

// Diff describes how v differs from want: the counts and the first few
// missing and extra VRPs.
func (v VRPs) Diff(want VRPs) string {
	var sb strings.Builder
	n := 0
	for x := range want {
		if !v[x] && n < 5 {
			fmt.Fprintf(&sb, " missing %s;", format(x))
			n++
		}
	}
	for x := range v {
		if !want[x] && n < 10 {
			fmt.Fprintf(&sb, " extra %s;", format(x))
			n++
		}
	}
	return fmt.Sprintf("%d VRPs, want %d:%s", len(v), len(want), sb.String())
}

// format writes v as BIRD does: prefix-maxLength ASn.
func format(v payload.VRP) string {
	return fmt.Sprintf("%s-%d AS%d", v.Prefix, v.MaxLength, v.ASN)
}

// Counts returns the number of IPv4 and of IPv6 VRPs in v.
func (v VRPs) Counts() (v4, v6 int) {
	for x := range v {
		if x.Prefix.Addr().Is4() {
			v4++
		} else {
			v6++
		}
	}
	return v4, v6
}

// ParseRTRClientLine reads one VRP line of rtrclient's output: the csv
// export ("192.0.2.0, 24, 26, 64496") or an update line of -p
// ("+ 192.0.2.0   24 -  26   64496"; the sign is left to the caller).
// AS numbers may be printed negative, as rtrclient does above 2^31-1.
// Other lines (log lines, "Sync done") give false.
func ParseRTRClientLine(line string) (payload.VRP, bool) {
	var fs []string
	for _, x := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		if x != "-" && x != "+" {
			fs = append(fs, x)
		}
	}
	if len(fs) != 4 {
		return payload.VRP{}, false
	}
	addr, err := netip.ParseAddr(fs[0])
	if err != nil || addr.Zone() != "" {
		return payload.VRP{}, false
	}
	// rtrclient prints the AS number as a signed 32-bit integer: those
	// above 2^31-1 come out negative.
	asn, err := strconv.ParseUint(fs[3], 10, 32)
	if strings.HasPrefix(fs[3], "-") {
		var n int64
		if n, err = strconv.ParseInt(fs[3], 10, 32); err == nil && n < 0 {
			asn = uint64(uint32(int32(n)))
		} else {
			err = strconv.ErrSyntax
		}
	}
	if err != nil {
		return payload.VRP{}, false
	}
	return makeVRP(addr, fs[1], fs[2], uint32(asn))
}

// ParseBIRDRoute reads one route line of `birdc show route table T` for a
// roa4 or roa6 table: "192.0.2.0/24-26 AS64496  [rovd 12:00:00.000] *
// (100)". Other lines (the banner, "Table r4:", attribute lines) give
// false.
func ParseBIRDRoute(line string) (payload.VRP, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[1], "AS") {
		return payload.VRP{}, false
	}
	net, maxLen, ok := strings.Cut(f[0], "-")
	if !ok {
		return payload.VRP{}, false
	}
	addr, plen, ok := strings.Cut(net, "/")
	if !ok {
		return payload.VRP{}, false
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return payload.VRP{}, false
	}
	asn, err := strconv.ParseUint(f[1][len("AS"):], 10, 32)
	if err != nil {
		return payload.VRP{}, false
	}
	return makeVRP(a, plen, maxLen, uint32(asn))
}

// makeVRP checks and assembles the fields of a VRP.
func makeVRP(addr netip.Addr, plen, maxLen string, asn uint32) (payload.VRP, bool) {
	bits, err := strconv.ParseUint(plen, 10, 8)
	if err != nil {
		return payload.VRP{}, false
	}
	ml, err := strconv.ParseUint(maxLen, 10, 8)
	if err != nil {
		return payload.VRP{}, false
	}
	p := netip.PrefixFrom(addr, int(bits))
	if !p.IsValid() || int(ml) > addr.BitLen() {
		return payload.VRP{}, false
	}
	return payload.VRP{ASN: asn, Prefix: p, MaxLength: uint8(ml)}, true
}
