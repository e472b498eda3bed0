package rpki_test

import (
	"net/netip"
	"testing"

	"github.com/rovd/rovd/engine/rpki"
)

func rng(t *testing.T, lo, hi string) rpki.IPRange {
	t.Helper()
	return rpki.IPRange{Min: netip.MustParseAddr(lo), Max: netip.MustParseAddr(hi)}
}

func TestIPRangePrefix(t *testing.T) {
	tests := []struct {
		lo, hi string
		prefix string // "" if the range is not a prefix
	}{
		{"10.0.0.0", "10.255.255.255", "10.0.0.0/8"},
		{"0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
		{"192.0.2.1", "192.0.2.1", "192.0.2.1/32"},
		{"10.0.0.0", "10.0.0.254", ""},
		{"10.0.0.1", "10.0.0.255", ""},
		{"80.0.0.0", "91.255.255.255", ""},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
		{"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"},
		{"2001:600::", "2001:bff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	}
	for _, tc := range tests {
		r := rng(t, tc.lo, tc.hi)
		p, ok := r.Prefix()
		switch {
		case tc.prefix == "" && ok:
			t.Errorf("%s-%s is not a prefix, got %s", tc.lo, tc.hi, p)
		case tc.prefix != "" && (!ok || p.String() != tc.prefix):
			t.Errorf("%s-%s: got %v %v, want %s", tc.lo, tc.hi, p, ok, tc.prefix)
		}
		if tc.prefix != "" && r.String() != tc.prefix || tc.prefix == "" && r.String() != tc.lo+"-"+tc.hi {
			t.Errorf("String() = %s", r.String())
		}
	}
}

func TestIPSetCovers(t *testing.T) {
	parent := rpki.IPSet{Ranges: []rpki.IPRange{
		rng(t, "10.0.0.0", "10.255.255.255"),
		rng(t, "192.0.2.0", "192.0.2.127"),
		rng(t, "198.51.100.0", "198.51.100.255"),
	}}
	tests := []struct {
		prefix string
		want   bool
	}{
		{"10.0.0.0/8", true},
		{"10.1.0.0/16", true},
		{"10.0.0.0/7", false},
		{"192.0.2.0/25", true},
		{"192.0.2.0/24", false}, // half outside
		{"192.0.2.128/25", false},
		{"198.51.100.7/32", true},
		{"9.255.255.255/32", false},
		{"203.0.113.0/24", false}, // after every range
		{"0.0.0.0/0", false},
	}
	for _, tc := range tests {
		p := netip.MustParsePrefix(tc.prefix)
		if got := parent.CoversPrefix(p); got != tc.want {
			t.Errorf("CoversPrefix(%s) = %v, want %v", tc.prefix, got, tc.want)
		}
		child := rpki.IPSet{Ranges: []rpki.IPRange{rng(t, p.Masked().Addr().String(), lastAddr(p).String())}}
		if got := parent.Covers(child); got != tc.want {
			t.Errorf("Covers(%s) = %v, want %v", tc.prefix, got, tc.want)
		}
	}
	multi := rpki.IPSet{Ranges: []rpki.IPRange{rng(t, "10.1.0.0", "10.1.255.255"), rng(t, "192.0.2.64", "192.0.2.127")}}
	if !parent.Covers(multi) {
		t.Error("Covers rejects several covered ranges")
	}
	if !parent.Overlaps(rpki.IPSet{Ranges: []rpki.IPRange{rng(t, "192.0.2.100", "192.0.2.200")}}) ||
		parent.Overlaps(rpki.IPSet{Ranges: []rpki.IPRange{rng(t, "192.0.2.128", "192.0.2.200")}}) {
		t.Error("Overlaps")
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	off := 0
	if p.Addr().Is4() {
		off = 96
	}
	for i := off + p.Bits(); i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	out := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		out = out.Unmap()
	}
	return out
}

func TestASSetCovers(t *testing.T) {
	parent := rpki.ASSet{Ranges: []rpki.ASRange{{64496, 64511}, {65536, 65551}}}
	for _, tc := range []struct {
		child rpki.ASSet
		want  bool
	}{
		{rpki.ASSet{Ranges: []rpki.ASRange{{64500, 64500}}}, true},
		{rpki.ASSet{Ranges: []rpki.ASRange{{64496, 64511}, {65540, 65541}}}, true},
		{rpki.ASSet{Ranges: []rpki.ASRange{{64495, 64500}}}, false},
		{rpki.ASSet{Ranges: []rpki.ASRange{{64511, 65536}}}, false},
		{rpki.ASSet{Ranges: []rpki.ASRange{{4294967295, 4294967295}}}, false},
		{rpki.ASSet{}, true},
	} {
		if got := parent.Covers(tc.child); got != tc.want {
			t.Errorf("Covers(%v) = %v, want %v", tc.child.Ranges, got, tc.want)
		}
	}
	if !parent.Contains(65551) || parent.Contains(65552) {
		t.Error("Contains")
	}
	inherit := rpki.Resources{IPv4: rpki.IPSet{Inherit: true}, AS: rpki.ASSet{Inherit: true}}
	issuer := rpki.Resources{AS: parent}
	got := inherit.Resolve(issuer)
	if got.AS.Inherit || len(got.AS.Ranges) != 2 || got.IPv4.Inherit || len(got.IPv4.Ranges) != 0 {
		t.Errorf("Resolve: %+v", got)
	}
	if !issuer.Covers(inherit) {
		t.Error("inherited resources are covered by definition")
	}
}
