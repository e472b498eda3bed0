package payload_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

// prefixEqual lets go-cmp compare netip values, whose fields are
// unexported.
var prefixEqual = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

// vrp builds a VRP from a prefix in slash notation.
func vrp(asn uint32, prefix string, maxLen uint8) payload.VRP {
	return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
}

func key(asn uint32, ski byte, spki string) payload.RouterKey {
	return payload.RouterKey{ASN: asn, SKI: [20]byte{ski}, SPKI: []byte(spki)}
}

var (
	srcA1 = &payload.Source{TA: "a", URI: "rsync://a/1.roa"}
	srcA2 = &payload.Source{TA: "a", URI: "rsync://a/2.roa"}
	srcB1 = &payload.Source{TA: "b", URI: "rsync://b/1.roa"}
)

// item is one Add call of a test case.
type item struct {
	vrp  *payload.VRP
	aspa *payload.ASPA
	key  *payload.RouterKey
	src  *payload.Source
}

func addV(v payload.VRP, src *payload.Source) item       { return item{vrp: &v, src: src} }
func addA(a payload.ASPA, src *payload.Source) item      { return item{aspa: &a, src: src} }
func addK(k payload.RouterKey, src *payload.Source) item { return item{key: &k, src: src} }

func build(items ...item) *payload.Set {
	var b payload.Builder
	for _, it := range items {
		switch {
		case it.vrp != nil:
			b.AddVRP(*it.vrp, it.src)
		case it.aspa != nil:
			b.AddASPA(*it.aspa, it.src)
		case it.key != nil:
			b.AddRouterKey(*it.key, it.src)
		}
	}
	return b.Build()
}

func sourcesOf(n int, at func(int) []*payload.Source) [][]*payload.Source {
	var out [][]*payload.Source
	for i := range n {
		out = append(out, at(i))
	}
	return out
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name        string
		items       []item
		vrps        []payload.VRP
		vrpSources  [][]*payload.Source
		aspas       []payload.ASPA
		aspaSources [][]*payload.Source
		keys        []payload.RouterKey
		keySources  [][]*payload.Source
	}{
		{
			name: "empty",
		},
		{
			name: "IPv4 before IPv6, then address, length, maxLength, ASN",
			items: []item{
				addV(vrp(1, "2001:db8::/32", 48), srcA1),
				addV(vrp(2, "10.0.0.0/16", 24), srcA1),
				addV(vrp(1, "10.0.0.0/16", 24), srcA1),
				addV(vrp(1, "10.0.0.0/16", 16), srcA1),
				addV(vrp(1, "10.0.0.0/8", 24), srcA1),
				addV(vrp(1, "9.0.0.0/8", 8), srcA1),
				addV(vrp(1, "::/0", 0), srcA1),
			},
			vrps: []payload.VRP{
				vrp(1, "9.0.0.0/8", 8),
				vrp(1, "10.0.0.0/8", 24),
				vrp(1, "10.0.0.0/16", 16),
				vrp(1, "10.0.0.0/16", 24),
				vrp(2, "10.0.0.0/16", 24),
				vrp(1, "::/0", 0),
				vrp(1, "2001:db8::/32", 48),
			},
			vrpSources: [][]*payload.Source{{srcA1}, {srcA1}, {srcA1}, {srcA1}, {srcA1}, {srcA1}, {srcA1}},
		},
		{
			name: "duplicate VRP keeps every source once",
			items: []item{
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(1, "10.0.0.0/8", 8), srcB1),
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(2, "10.0.0.0/8", 8), srcA2),
			},
			vrps:       []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(2, "10.0.0.0/8", 8)},
			vrpSources: [][]*payload.Source{{srcA1, srcB1}, {srcA2}},
		},
		{
			name: "host bits are cleared before deduplication",
			items: []item{
				addV(vrp(1, "10.1.2.3/8", 8), srcA1),
				addV(vrp(1, "10.0.0.0/8", 8), srcA2),
				addV(vrp(1, "2001:db8::1/32", 32), srcA1),
			},
			vrps:       []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(1, "2001:db8::/32", 32)},
			vrpSources: [][]*payload.Source{{srcA1, srcA2}, {srcA1}},
		},
		{
			name: "ASPAs of one customer merge their providers",
			items: []item{
				addA(payload.ASPA{Customer: 64500, Providers: []uint32{3, 5}}, srcA1),
				addA(payload.ASPA{Customer: 64499, Providers: []uint32{7}}, srcA1),
				addA(payload.ASPA{Customer: 64500, Providers: []uint32{1, 3, 9}}, srcB1),
				addA(payload.ASPA{Customer: 64500, Providers: []uint32{3}}, srcB1),
			},
			aspas: []payload.ASPA{
				{Customer: 64499, Providers: []uint32{7}},
				{Customer: 64500, Providers: []uint32{1, 3, 5, 9}},
			},
			aspaSources: [][]*payload.Source{{srcA1}, {srcA1, srcB1}},
		},
		{
			name: "router keys sorted by ASN, SKI, key, duplicates merged",
			items: []item{
				addK(key(2, 1, "k"), srcA1),
				addK(key(1, 2, "k"), srcA1),
				addK(key(1, 1, "z"), srcA1),
				addK(key(1, 1, "k"), srcA1),
				addK(key(1, 1, "k"), srcB1),
			},
			keys:       []payload.RouterKey{key(1, 1, "k"), key(1, 1, "z"), key(1, 2, "k"), key(2, 1, "k")},
			keySources: [][]*payload.Source{{srcA1, srcB1}, {srcA1}, {srcA1}, {srcA1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := build(tc.items...)
			if d := cmp.Diff(tc.vrps, s.VRPs(), prefixEqual); d != "" {
				t.Errorf("VRPs (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.vrpSources, sourcesOf(len(s.VRPs()), s.VRPSources), prefixEqual); d != "" {
				t.Errorf("VRP sources (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.aspas, s.ASPAs(), prefixEqual); d != "" {
				t.Errorf("ASPAs (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.aspaSources, sourcesOf(len(s.ASPAs()), s.ASPASources), prefixEqual); d != "" {
				t.Errorf("ASPA sources (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.keys, s.RouterKeys(), prefixEqual); d != "" {
				t.Errorf("router keys (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.keySources, sourcesOf(len(s.RouterKeys()), s.RouterKeySources), prefixEqual); d != "" {
				t.Errorf("router key sources (-want +got):\n%s", d)
			}
		})
	}
}

func TestBuildEmptiesBuilder(t *testing.T) {
	var b payload.Builder
	b.AddVRP(vrp(1, "10.0.0.0/8", 8), srcA1)
	b.Build()
	if s := b.Build(); len(s.VRPs()) != 0 {
		t.Errorf("second Build returned %v, want nothing", s.VRPs())
	}
}

func TestMerge(t *testing.T) {
	var a, o payload.Builder
	a.AddVRP(vrp(1, "10.0.0.0/8", 8), srcA1)
	o.AddVRP(vrp(1, "10.0.0.0/8", 8), srcB1)
	o.AddASPA(payload.ASPA{Customer: 1, Providers: []uint32{2}}, srcB1)
	o.AddRouterKey(key(1, 1, "k"), srcB1)
	a.Merge(&o)
	if s := o.Build(); len(s.VRPs())+len(s.ASPAs())+len(s.RouterKeys()) != 0 {
		t.Errorf("merged builder still holds items")
	}
	s := a.Build()
	if got := len(s.VRPs()) + len(s.ASPAs()) + len(s.RouterKeys()); got != 3 {
		t.Errorf("got %d items, want 3", got)
	}
	if d := cmp.Diff([]*payload.Source{srcA1, srcB1}, s.VRPSources(0), prefixEqual); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
}

func TestFilterVRPs(t *testing.T) {
	tests := []struct {
		name    string
		add     []payload.VRP
		keep    func(payload.VRP) bool
		dropped []payload.VRP
		kept    []payload.VRP
	}{
		{
			name: "keep all",
			add:  []payload.VRP{vrp(1, "10.0.0.0/8", 8)},
			keep: func(payload.VRP) bool { return true },
			kept: []payload.VRP{vrp(1, "10.0.0.0/8", 8)},
		},
		{
			name:    "drop all, duplicates returned once and sorted",
			add:     []payload.VRP{vrp(2, "10.0.0.0/8", 8), vrp(1, "10.0.0.0/8", 8), vrp(2, "10.0.0.0/8", 8)},
			keep:    func(payload.VRP) bool { return false },
			dropped: []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(2, "10.0.0.0/8", 8)},
		},
		{
			name: "drop by ASN",
			add: []payload.VRP{
				vrp(1, "2001:db8::/32", 32), vrp(2, "10.0.0.0/8", 8),
				vrp(1, "10.0.0.0/8", 8), vrp(2, "2001:db8::/32", 48),
			},
			keep:    func(v payload.VRP) bool { return v.ASN != 2 },
			dropped: []payload.VRP{vrp(2, "10.0.0.0/8", 8), vrp(2, "2001:db8::/32", 48)},
			kept:    []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(1, "2001:db8::/32", 32)},
		},
		{
			name:    "empty builder",
			keep:    func(payload.VRP) bool { return false },
			dropped: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b payload.Builder
			for _, v := range tc.add {
				b.AddVRP(v, srcA1)
			}
			b.AddASPA(payload.ASPA{Customer: 1}, srcA1)
			dropped := b.FilterVRPs(tc.keep)
			if d := cmp.Diff(tc.dropped, dropped, prefixEqual); d != "" {
				t.Errorf("dropped (-want +got):\n%s", d)
			}
			s := b.Build()
			if d := cmp.Diff(tc.kept, s.VRPs(), prefixEqual); d != "" {
				t.Errorf("kept (-want +got):\n%s", d)
			}
			if len(s.ASPAs()) != 1 {
				t.Errorf("FilterVRPs touched the ASPAs: %v", s.ASPAs())
			}
		})
	}
}
