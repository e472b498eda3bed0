package rtrtest_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast/rtrtest"
)

func vrp(asn uint32, prefix string, maxLen uint8) payload.VRP {
	return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
}

func TestParseRTRClientLine(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       payload.VRP
		ok         bool
	}{
		{"csv export IPv4", "192.0.2.0, 24, 26, 64496\n", vrp(64496, "192.0.2.0/24", 26), true},
		{"csv export IPv6", "2001:db8::, 32, 48, 4200000000", vrp(4200000000, "2001:db8::/32", 48), true},
		{"AS number printed negative", "136.157.90.0, 24, 30, -2000458536", vrp(2294508760, "136.157.90.0/24", 30), true},
		{"AS 4294967295 printed negative", "10.0.1.0, 24, 24, -1", vrp(4294967295, "10.0.1.0/24", 24), true},
		{"negative zero", "10.0.1.0, 24, 24, -0", payload.VRP{}, false},
		{"below int32", "10.0.1.0, 24, 24, -2147483649", payload.VRP{}, false},
		{"update announce", "+ 192.0.2.0                         24 -  26        64496", vrp(64496, "192.0.2.0/24", 26), true},
		{"update withdraw", "- 2001:db8::                         48 -  64          0", vrp(0, "2001:db8::/48", 64), true},
		{"update with a negative AS number", "- 2001:db8::  48 -  64  -2147483648", vrp(2147483648, "2001:db8::/48", 64), true},
		{"sync done", "Sync done", payload.VRP{}, false},
		{"log line", "(2026/11/23 16:33:13:186621): RTR Socket: Sync successful, received 6 Prefix PDUs", payload.VRP{}, false},
		{"empty", "", payload.VRP{}, false},
		{"prefix length too long", "192.0.2.0, 33, 33, 64496", payload.VRP{}, false},
		{"max length too long", "192.0.2.0, 24, 33, 64496", payload.VRP{}, false},
		{"AS number too large", "192.0.2.0, 24, 24, 4294967296", payload.VRP{}, false},
		{"zone", "fe80::%eth0, 64, 64, 1", payload.VRP{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rtrtest.ParseRTRClientLine(tc.line)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseBIRDRoute(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       payload.VRP
		ok         bool
	}{
		{"IPv4", "10.0.3.0/24-27 AS64499  [rovd 16:33:10.127] * (100)\n", vrp(64499, "10.0.3.0/24", 27), true},
		{"IPv6", "2001:db8::/48-64 AS64501  [rovd 16:33:10.127] * (100)", vrp(64501, "2001:db8::/48", 64), true},
		{"AS0", "192.0.2.0/24-24 AS0  [rovd 2026-11-23] * (100)", vrp(0, "192.0.2.0/24", 24), true},
		{"banner", "BIRD 2.0.12 ready.", payload.VRP{}, false},
		{"table header", "Table r4:", payload.VRP{}, false},
		{"attribute", "\tType: RPKI univ", payload.VRP{}, false},
		{"no max length", "10.0.3.0/24 AS64499  [rovd 16:33:10.127] * (100)", payload.VRP{}, false},
		{"no prefix length", "10.0.3.0-24 AS64499", payload.VRP{}, false},
		{"bad AS", "10.0.3.0/24-24 ASx", payload.VRP{}, false},
		{"max length too long", "10.0.3.0/24-40 AS1", payload.VRP{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rtrtest.ParseBIRDRoute(tc.line)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestVRPs(t *testing.T) {
	var b payload.Builder
	b.AddVRP(vrp(1, "192.0.2.0/24", 24), nil)
	b.AddVRP(vrp(2, "198.51.100.0/24", 28), nil)
	b.AddVRP(vrp(3, "2001:db8::/32", 48), nil)
	a := rtrtest.SetVRPs(b.Build())
	if v4, v6 := a.Counts(); v4 != 2 || v6 != 1 {
		t.Errorf("Counts: %d, %d; want 2, 1", v4, v6)
	}
	if !a.Equal(a) {
		t.Error("a set differs from itself")
	}
	c := rtrtest.VRPs{vrp(1, "192.0.2.0/24", 24): true, vrp(2, "198.51.100.0/24", 28): true, vrp(4, "2001:db8::/32", 48): true}
	if a.Equal(c) || c.Equal(a) {
		t.Error("sets of the same size with different VRPs are equal")
	}
	if got, want := c.Diff(a), "3 VRPs, want 3: missing 2001:db8::/32-48 AS3; extra 2001:db8::/32-48 AS4;"; got != want {
		t.Errorf("Diff: %q, want %q", got, want)
	}
}

// FuzzParseRTRClientLine checks that what parses prints back, in the
// csv export's form, to a line that parses to the same VRP.
func FuzzParseRTRClientLine(f *testing.F) {
	for _, s := range []string{"192.0.2.0, 24, 26, 64496", "+ 2001:db8::   48 -  64   0", "10.0.1.0, 24, 24, -1", "Sync done", ", , , ,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		v, ok := rtrtest.ParseRTRClientLine(line)
		if !ok {
			if v != (payload.VRP{}) {
				t.Fatalf("no VRP, but %v", v)
			}
			return
		}
		back := fmt.Sprintf("%s, %d, %d, %d", v.Prefix.Addr(), v.Prefix.Bits(), v.MaxLength, v.ASN)
		if w, ok := rtrtest.ParseRTRClientLine(back); !ok || w != v {
			t.Fatalf("%q gives %v; printed %q, it gives %v, %v", line, v, back, w, ok)
		}
	})
}

// FuzzParseBIRDRoute checks that what parses prints back, in BIRD's
// form, to a line that parses to the same VRP.
func FuzzParseBIRDRoute(f *testing.F) {
	for _, s := range []string{"10.0.3.0/24-27 AS64499  [rovd 16:33:10.127] * (100)", "2001:db8::/48-64 AS1", "Table r4:", "/- AS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		v, ok := rtrtest.ParseBIRDRoute(line)
		if !ok {
			if v != (payload.VRP{}) {
				t.Fatalf("no VRP, but %v", v)
			}
			return
		}
		back := fmt.Sprintf("%s-%d AS%d  [rovd 12:00:00.000] * (100)", v.Prefix, v.MaxLength, v.ASN)
		if w, ok := rtrtest.ParseBIRDRoute(back); !ok || w != v {
			t.Fatalf("%q gives %v; printed %q, it gives %v, %v", line, v, back, w, ok)
		}
	})
}

// birdKeeps lists prefixes and whether BIRD keeps their VRPs.
var birdKeeps = []struct {
	prefix string
	want   bool
}{
	{"192.0.2.0/24", true},
	{"10.0.0.0/8", true},
	{"172.16.0.0/12", true},
	{"192.168.0.0/16", true},
	{"1.0.0.0/8", true},
	{"223.255.255.0/24", true},
	{"0.0.0.0/0", true},
	{"0.0.0.0/8", true},
	{"0.3.226.0/24", false},
	{"127.0.0.0/8", false},
	{"224.0.0.0/4", false},
	{"239.0.0.0/8", false},
	{"240.0.0.0/4", true},
	{"250.1.0.0/16", true},
	{"255.255.255.254/32", true},
	{"255.255.255.255/32", false},
	{"2001:db8::/32", true},
	{"3fff::/16", true},
	{"fc00::/7", true},
	{"fec0::/10", true},
	{"4000::/2", true},
	{"::/0", true},
	{"fe80::/10", false},
	{"ff00::/8", false},
	{"ff0e::/16", false},
	{"::1/128", false},
	{"::192.0.2.0/120", true},
	{"::ffff:192.0.2.0/120", true},
	{"::ffff:127.0.0.0/104", false},
	{"::ffff:0.0.0.0/96", false},
	{"::ffff:240.0.0.0/100", true},
	{"::2/128", false},
	{"::1.0.0.0/104", true},
	{"::1:0:0:0/80", false},
	{"0:0:0:1::/64", true},
}

func TestBIRDKeeps(t *testing.T) {
	for _, tc := range birdKeeps {
		v := vrp(1, tc.prefix, uint8(netip.MustParsePrefix(tc.prefix).Bits()))
		if got := rtrtest.BIRDKeeps(v); got != tc.want {
			t.Errorf("BIRDKeeps(%s) = %v, want %v", tc.prefix, got, tc.want)
		}
	}
	all := rtrtest.VRPs{vrp(1, "192.0.2.0/24", 24): true, vrp(2, "0.3.226.0/24", 24): true}
	if got, want := rtrtest.BIRDView(all), (rtrtest.VRPs{vrp(1, "192.0.2.0/24", 24): true}); !got.Equal(want) {
		t.Errorf("BIRDView: %s", got.Diff(want))
	}
}
