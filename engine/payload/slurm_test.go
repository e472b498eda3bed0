package payload_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

// The SKI and key of testdata/slurm/rfc8416-example.json.
const (
	testSKI = "4moPDdHQ8gOyOH06n3nJJJp2kIA"
	testKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy4jTAE5ec6KWYYoI_Kc0GQYBGNE33fwsn8DUoNykMgfAnAb4p4jmRg2m0fAUUwYAVS1M9ltOG_IOiUEmWnWcKA"
)

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testSKIBytes(t testing.TB) [20]byte {
	return [20]byte(mustB64(t, testSKI))
}

func readSLURM(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "slurm", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseSLURMRFCExample(t *testing.T) {
	got, err := payload.ParseSLURM(readSLURM(t, "rfc8416-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	ski := testSKIBytes(t)
	want := &payload.SLURM{
		PrefixFilters: []payload.PrefixFilter{
			{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Comment: "All VRPs encompassed by prefix"},
			{ASN: 64496, HasASN: true, Comment: "All VRPs matching ASN"},
			{Prefix: netip.MustParsePrefix("198.51.100.0/24"), ASN: 64497, HasASN: true, Comment: "All VRPs encompassed by prefix, matching ASN"},
		},
		BGPsecFilters: []payload.BGPsecFilter{
			{ASN: 64496, HasASN: true, Comment: "All keys for ASN"},
			{SKI: ski, HasSKI: true, Comment: "Key matching Router SKI"},
			{ASN: 64497, HasASN: true, SKI: ski, HasSKI: true, Comment: "Key for ASN 64497 matching Router SKI"},
		},
		PrefixAssertions: []payload.PrefixAssertion{
			{VRP: vrp(64496, "198.51.100.0/24", 24), Comment: "My other important route"},
			{VRP: vrp(64496, "2001:db8::/32", 48), Comment: "My other important de-aggregated routes"},
		},
		BGPsecAssertions: []payload.BGPsecAssertion{
			{Key: payload.RouterKey{ASN: 64496, SKI: ski, SPKI: mustB64(t, testKey)}, Comment: "My known key for my important ASN"},
		},
	}
	if diff := cmp.Diff(want, got, prefixEqual); diff != "" {
		t.Errorf("ParseSLURM (-want +got):\n%s", diff)
	}
}

func TestParseSLURMGoodFiles(t *testing.T) {
	ski := testSKIBytes(t)
	for _, tc := range []struct {
		file string
		want *payload.SLURM
	}{
		{"empty.json", &payload.SLURM{
			PrefixFilters: []payload.PrefixFilter{}, BGPsecFilters: []payload.BGPsecFilter{},
			PrefixAssertions: []payload.PrefixAssertion{}, BGPsecAssertions: []payload.BGPsecAssertion{},
		}},
		{"nulls.json", &payload.SLURM{
			PrefixFilters: []payload.PrefixFilter{
				{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
				{ASN: 65000, HasASN: true},
			},
			BGPsecFilters:    []payload.BGPsecFilter{{SKI: ski, HasSKI: true}},
			PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(0, "0.0.0.0/0", 0)}},
			BGPsecAssertions: []payload.BGPsecAssertion{},
		}},
		{"padded-base64.json", &payload.SLURM{
			PrefixFilters:    []payload.PrefixFilter{},
			BGPsecFilters:    []payload.BGPsecFilter{{SKI: ski, HasSKI: true}},
			PrefixAssertions: []payload.PrefixAssertion{},
			BGPsecAssertions: []payload.BGPsecAssertion{
				{Key: payload.RouterKey{ASN: 4294967295, SKI: ski, SPKI: mustB64(t, testKey)}},
			},
		}},
		{"maxlen-edges.json", &payload.SLURM{
			PrefixFilters: []payload.PrefixFilter{}, BGPsecFilters: []payload.BGPsecFilter{},
			PrefixAssertions: []payload.PrefixAssertion{
				{VRP: vrp(64496, "192.0.2.0/24", 24)},
				{VRP: vrp(64496, "192.0.2.0/24", 32)},
				{VRP: vrp(64496, "2001:db8::/32", 128)},
				{VRP: vrp(64496, "::/0", 0)},
			},
			BGPsecAssertions: []payload.BGPsecAssertion{},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := payload.ParseSLURM(readSLURM(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, prefixEqual); diff != "" {
				t.Errorf("ParseSLURM (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSLURMBadFiles(t *testing.T) {
	for _, tc := range []struct{ file, wantErr string }{
		{"rfc8416-example-verbatim.json", "bgpsecFilters[1]: SKI: not base64url"},
		{"version-2.json", "slurmVersion: 2 is not 1"},
		{"version-string.json", `slurmVersion: "1" is not 1`},
		{"version-float.json", "slurmVersion: 1.0 is not 1"},
		{"version-missing.json", `slurm: missing member "slurmVersion"`},
		{"unknown-top-member.json", `slurm: unknown member "slurmversion"`},
		{"duplicate-member.json", `slurm: member "slurmVersion" given twice`},
		{"aspa-filters.json", `validationOutputFilters: unknown member "aspaFilters"`},
		{"bgpsec-filters-missing.json", `validationOutputFilters: missing member "bgpsecFilters"`},
		{"prefix-assertions-null.json", `locallyAddedAssertions: missing member "prefixAssertions"`},
		{"prefix-filters-not-array.json", "prefixFilters: not an array"},
		{"prefix-filter-empty.json", "prefixFilters[0]: needs prefix or asn"},
		{"prefix-filter-maxlen.json", `prefixFilters[0]: unknown member "maxPrefixLength"`},
		{"prefix-host-bits.json", "prefixFilters[2]: prefix 10.0.0.1/8 has host bits set"},
		{"prefix-invalid.json", `prefixFilters[0]: prefix "10.0.0.0/33" is not a prefix`},
		{"prefix-zone.json", `prefixFilters[0]: prefix "fe80::%eth0/64" is not a prefix`},
		{"prefix-no-length.json", `prefixAssertions[0]: prefix "10.0.0.0" is not a prefix`},
		{"asn-too-large.json", "prefixFilters[0]: asn 4294967296 is not an AS number"},
		{"asn-negative.json", "prefixFilters[0]: asn -1 is not an AS number"},
		{"asn-string.json", `prefixFilters[0]: asn "AS64496" is not an AS number`},
		{"asn-float.json", "prefixFilters[0]: asn 64496.0 is not an AS number"},
		{"comment-number.json", "prefixFilters[0]: comment 7 is not a string"},
		{"bgpsec-filter-empty.json", "bgpsecFilters[0]: needs asn or SKI"},
		{"ski-short.json", "bgpsecFilters[0]: SKI is 19 bytes, not 20"},
		{"ski-std-alphabet.json", "bgpsecFilters[0]: SKI: not base64url"},
		{"ski-bad-padding.json", "bgpsecFilters[0]: SKI: not base64url"},
		{"ski-lower-case-name.json", `bgpsecFilters[0]: unknown member "ski"`},
		{"maxlen-below-prefix.json", "prefixAssertions[0]: maxPrefixLength 8 not between 16 and 32"},
		{"maxlen-above-32.json", "prefixAssertions[0]: maxPrefixLength 33 not between 16 and 32"},
		{"maxlen-above-128.json", "prefixAssertions[0]: maxPrefixLength 129 not between 32 and 128"},
		{"prefix-assertion-no-asn.json", `prefixAssertions[0]: missing member "asn"`},
		{"prefix-assertion-no-prefix.json", `prefixAssertions[0]: missing member "prefix"`},
		{"bgpsec-assertion-no-key.json", `bgpsecAssertions[0]: missing member "routerPublicKey"`},
		{"bgpsec-assertion-no-ski.json", `bgpsecAssertions[0]: missing member "SKI"`},
		{"bgpsec-assertion-no-asn.json", `bgpsecAssertions[0]: missing member "asn"`},
		{"bgpsec-key-not-der.json", "bgpsecAssertions[0]: routerPublicKey is not a DER SubjectPublicKeyInfo"},
		{"bgpsec-key-trailing-bytes.json", "bgpsecAssertions[0]: routerPublicKey is not a DER SubjectPublicKeyInfo"},
		{"trailing-data.json", "slurm: data after the JSON value"},
		{"not-object.json", "slurm: not an object"},
		{"empty-file.json", "slurm: empty file"},
		{"truncated.json", "slurm: unexpected end of JSON input"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := payload.ParseSLURM(readSLURM(t, tc.file))
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseSLURM = %v, error %v; want error %q", s, err, tc.wantErr)
			}
			if s != nil {
				t.Errorf("ParseSLURM returned %v with its error", s)
			}
		})
	}
}

// TestParseSLURMInline covers what the files do not: encodings, white
// space and values of the wrong JSON type.
func TestParseSLURMInline(t *testing.T) {
	const frame = `{"slurmVersion": 1, "validationOutputFilters": {"prefixFilters": [%s], "bgpsecFilters": []},
		"locallyAddedAssertions": {"prefixAssertions": [], "bgpsecAssertions": []}}`
	for _, tc := range []struct {
		name, json, wantErr string
	}{
		{"white space around", " \n\t" + fmt.Sprintf(frame, "") + "\n\n", ""},
		{"upper-case IPv6", fmt.Sprintf(frame, `{"prefix": "2001:DB8::/32"}`), ""},
		{"AS0", fmt.Sprintf(frame, `{"asn": 0}`), ""},
		{"escaped member name", fmt.Sprintf(frame, `{"\u0061sn": 1}`), ""},
		{"invalid UTF-8", fmt.Sprintf(frame, "{\"asn\": 1, \"comment\": \"\xff\"}"), "slurm: not UTF-8"},
		{"byte order mark", "\ufeff" + fmt.Sprintf(frame, ""), "slurm: invalid character 'ï' looking for beginning of value"},
		{"filter is an array", fmt.Sprintf(frame, `[]`), "prefixFilters[0]: not an object"},
		{"filter is null", fmt.Sprintf(frame, `null`), "prefixFilters[0]: not an object"},
		{"prefix is a number", fmt.Sprintf(frame, `{"prefix": 10}`), "prefixFilters[0]: prefix 10 is not a string"},
		{"asn is an object", fmt.Sprintf(frame, `{"asn": {}}`), "prefixFilters[0]: asn {} is not an AS number"},
		{"asn with exponent", fmt.Sprintf(frame, `{"asn": 1e3}`), "prefixFilters[0]: asn 1e3 is not an AS number"},
		{"duplicate in a filter", fmt.Sprintf(frame, `{"asn": 1, "asn": 2}`), `slurm: member "asn" given twice`},
		{"same name in two objects", fmt.Sprintf(frame, `{"asn": 1}, {"asn": 2}`), ""},
		{"ASN member name", fmt.Sprintf(frame, `{"ASN": 1}`), `prefixFilters[0]: unknown member "ASN"`},
		{"long value cut", fmt.Sprintf(frame, `{"asn": "`+strings.Repeat("x", 100)+`"}`),
			`prefixFilters[0]: asn "` + strings.Repeat("x", 39) + `... is not an AS number`},
		{"top level null", "null", "slurm: not an object"},
		{"two values", "{} {}", "slurm: data after the JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := payload.ParseSLURM([]byte(tc.json))
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("ParseSLURM: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseSLURM error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseSLURMTooLarge(t *testing.T) {
	_, err := payload.ParseSLURM(make([]byte, payload.MaxSLURMSize+1))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ParseSLURM of an oversized file: %v", err)
	}
}

func TestPrefixFilterMatches(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name   string
		filter payload.PrefixFilter
		vrp    payload.VRP
		want   bool
	}{
		{"prefix only, equal", payload.PrefixFilter{Prefix: p("192.0.2.0/24")}, vrp(1, "192.0.2.0/24", 24), true},
		{"prefix only, more specific", payload.PrefixFilter{Prefix: p("192.0.2.0/24")}, vrp(1, "192.0.2.128/25", 32), true},
		{"prefix only, less specific", payload.PrefixFilter{Prefix: p("192.0.2.0/24")}, vrp(1, "192.0.0.0/16", 24), false},
		{"prefix only, beside", payload.PrefixFilter{Prefix: p("192.0.2.0/24")}, vrp(1, "192.0.3.0/24", 24), false},
		{"prefix only, max length ignored", payload.PrefixFilter{Prefix: p("192.0.2.0/24")}, vrp(1, "192.0.0.0/22", 24), false},
		{"IPv6 default covers IPv6", payload.PrefixFilter{Prefix: p("::/0")}, vrp(1, "2001:db8::/32", 48), true},
		{"IPv6 default not IPv4", payload.PrefixFilter{Prefix: p("::/0")}, vrp(1, "10.0.0.0/8", 8), false},
		{"IPv4 default not IPv6", payload.PrefixFilter{Prefix: p("0.0.0.0/0")}, vrp(1, "::/0", 0), false},
		{"asn only, equal", payload.PrefixFilter{ASN: 64496, HasASN: true}, vrp(64496, "10.0.0.0/8", 8), true},
		{"asn only, other", payload.PrefixFilter{ASN: 64496, HasASN: true}, vrp(64497, "10.0.0.0/8", 8), false},
		{"AS0 filter", payload.PrefixFilter{ASN: 0, HasASN: true}, vrp(0, "10.0.0.0/8", 8), true},
		{"both match", payload.PrefixFilter{Prefix: p("198.51.100.0/24"), ASN: 64497, HasASN: true}, vrp(64497, "198.51.100.0/25", 25), true},
		{"both, asn differs", payload.PrefixFilter{Prefix: p("198.51.100.0/24"), ASN: 64497, HasASN: true}, vrp(64498, "198.51.100.0/24", 24), false},
		{"both, prefix differs", payload.PrefixFilter{Prefix: p("198.51.100.0/24"), ASN: 64497, HasASN: true}, vrp(64497, "203.0.113.0/24", 24), false},
		{"empty filter", payload.PrefixFilter{}, vrp(0, "0.0.0.0/0", 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.filter.Matches(tc.vrp); got != tc.want {
				t.Errorf("Matches(%v) = %v, want %v", tc.vrp, got, tc.want)
			}
		})
	}
}

func TestBGPsecFilterMatches(t *testing.T) {
	ski, other := [20]byte{1}, [20]byte{2}
	for _, tc := range []struct {
		name   string
		filter payload.BGPsecFilter
		key    payload.RouterKey
		want   bool
	}{
		{"asn only", payload.BGPsecFilter{ASN: 1, HasASN: true}, payload.RouterKey{ASN: 1, SKI: other}, true},
		{"asn only, other", payload.BGPsecFilter{ASN: 1, HasASN: true}, payload.RouterKey{ASN: 2, SKI: ski}, false},
		{"SKI only", payload.BGPsecFilter{SKI: ski, HasSKI: true}, payload.RouterKey{ASN: 9, SKI: ski}, true},
		{"SKI only, other", payload.BGPsecFilter{SKI: ski, HasSKI: true}, payload.RouterKey{ASN: 9, SKI: other}, false},
		{"zero SKI is a value", payload.BGPsecFilter{HasSKI: true}, payload.RouterKey{ASN: 9}, true},
		{"both", payload.BGPsecFilter{ASN: 1, HasASN: true, SKI: ski, HasSKI: true}, payload.RouterKey{ASN: 1, SKI: ski}, true},
		{"both, SKI differs", payload.BGPsecFilter{ASN: 1, HasASN: true, SKI: ski, HasSKI: true}, payload.RouterKey{ASN: 1, SKI: other}, false},
		{"both, asn differs", payload.BGPsecFilter{ASN: 1, HasASN: true, SKI: ski, HasSKI: true}, payload.RouterKey{ASN: 2, SKI: ski}, false},
		{"empty filter", payload.BGPsecFilter{}, payload.RouterKey{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.filter.Matches(tc.key); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestApplySLURM(t *testing.T) {
	s, err := payload.ParseSLURM(readSLURM(t, "rfc8416-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	s.Path = "/etc/rovd/exceptions.json"
	ski := testSKIBytes(t)

	// Two builders, one merged into the other, as the workers make them.
	var b, w payload.Builder
	for _, v := range []payload.VRP{
		vrp(1, "192.0.2.0/24", 24),        // prefix filter, equal: out
		vrp(2, "192.0.2.128/25", 25),      // prefix filter, more specific: out
		vrp(3, "192.0.0.0/16", 24),        // less specific: kept
		vrp(64496, "10.0.0.0/8", 8),       // asn filter: out
		vrp(64496, "2001:db8::/48", 48),   // asn filter: out
		vrp(64497, "198.51.100.0/24", 24), // prefix and asn filter: out
		vrp(64497, "198.51.100.0/25", 25), // prefix and asn filter: out
		vrp(64498, "198.51.100.0/24", 24), // prefix matches, asn not: kept
		vrp(64497, "203.0.113.0/24", 24),  // asn matches, prefix not: kept
	} {
		w.AddVRP(v, srcA1)
	}
	w.AddRouterKey(payload.RouterKey{ASN: 64496, SKI: [20]byte{9}, SPKI: []byte("k1")}, srcA1) // asn filter: out
	w.AddRouterKey(payload.RouterKey{ASN: 1, SKI: ski, SPKI: []byte("k2")}, srcA1)             // SKI filter: out
	w.AddRouterKey(payload.RouterKey{ASN: 64497, SKI: [20]byte{9}, SPKI: []byte("k3")}, srcA1) // kept
	w.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{1}}, srcA1)                    // ASPAs untouched
	b.AddVRP(vrp(64496, "198.51.100.0/24", 24), srcB1)                                         // the asn filter drops it, the assertion adds it back
	b.Merge(&w)

	got := b.ApplySLURM(s, nil)
	want := payload.ExceptionCounts{FilteredVRPs: 7, FilteredRouterKeys: 2, AddedVRPs: 2, AddedRouterKeys: 1}
	if got != want {
		t.Errorf("ApplySLURM = %+v, want %+v", got, want)
	}
	set := b.Build()

	exc := &payload.Source{URI: "/etc/rovd/exceptions.json"}
	wantVRPs := []payload.VRP{
		vrp(3, "192.0.0.0/16", 24),
		vrp(64496, "198.51.100.0/24", 24),
		vrp(64498, "198.51.100.0/24", 24),
		vrp(64497, "203.0.113.0/24", 24),
		vrp(64496, "2001:db8::/32", 48),
	}
	if diff := cmp.Diff(wantVRPs, set.VRPs(), prefixEqual); diff != "" {
		t.Errorf("VRPs (-want +got):\n%s", diff)
	}
	wantSrcs := [][]*payload.Source{{srcA1}, {exc}, {srcA1}, {srcA1}, {exc}}
	for i := range set.VRPs() {
		if diff := cmp.Diff(wantSrcs[i], set.VRPSources(i)); diff != "" {
			t.Errorf("sources of %v (-want +got):\n%s", set.VRPs()[i], diff)
		}
	}
	// Both assertions share one Source.
	if set.VRPSources(1)[0] != set.VRPSources(4)[0] {
		t.Error("assertions of one file have different sources")
	}

	wantKeys := []payload.RouterKey{
		{ASN: 64496, SKI: ski, SPKI: mustB64(t, testKey)},
		{ASN: 64497, SKI: [20]byte{9}, SPKI: []byte("k3")},
	}
	if diff := cmp.Diff(wantKeys, set.RouterKeys()); diff != "" {
		t.Errorf("router keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*payload.Source{exc}, set.RouterKeySources(0)); diff != "" {
		t.Errorf("router key source (-want +got):\n%s", diff)
	}
	if len(set.ASPAs()) != 1 {
		t.Errorf("ASPAs = %v, want the one added", set.ASPAs())
	}
	// The set does not share key bytes with the exceptions.
	s.BGPsecAssertions[0].Key.SPKI[0] ^= 0xff
	if set.RouterKeys()[0].SPKI[0] != mustB64(t, testKey)[0] {
		t.Error("the set shares key bytes with the SLURM")
	}
}

func TestApplySLURMSources(t *testing.T) {
	a := &payload.SLURM{Path: "a.json", PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(1, "10.0.0.0/8", 8)}}}
	c := &payload.SLURM{Path: "c.json", PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(2, "11.0.0.0/8", 8)}, {VRP: vrp(3, "12.0.0.0/8", 8)}}}
	m, err := payload.MergeSLURM(a, c)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	var b payload.Builder
	b.ApplySLURM(m, func(path string) *payload.Source {
		calls = append(calls, path)
		return &payload.Source{TA: "", URI: "file:" + path}
	})
	if diff := cmp.Diff([]string{"a.json", "c.json"}, calls); diff != "" {
		t.Errorf("source calls (-want +got):\n%s", diff)
	}
	set := b.Build()
	for i, want := range []string{"file:a.json", "file:c.json", "file:c.json"} {
		if got := set.VRPSources(i)[0].URI; got != want {
			t.Errorf("source of %v = %q, want %q", set.VRPs()[i], got, want)
		}
	}

	// A nil SLURM changes nothing.
	var e payload.Builder
	e.AddVRP(vrp(1, "10.0.0.0/8", 8), srcA1)
	if c := e.ApplySLURM(nil, nil); c != (payload.ExceptionCounts{}) {
		t.Errorf("ApplySLURM(nil) = %+v", c)
	}
	if n := len(e.Build().VRPs()); n != 1 {
		t.Errorf("%d VRPs after ApplySLURM(nil), want 1", n)
	}
}

// TestApplySLURMIndex checks the filter index against trying every
// filter on every VRP.
func TestApplySLURMIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randPrefix := func() netip.Prefix {
		if r.IntN(2) == 0 {
			a := [4]byte{10, byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(256))}
			return netip.PrefixFrom(netip.AddrFrom4(a), 8+r.IntN(25)).Masked()
		}
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(4)), byte(r.IntN(4))}
		return netip.PrefixFrom(netip.AddrFrom16(a), 32+r.IntN(97)).Masked()
	}
	for round := range 50 {
		s := &payload.SLURM{}
		for range r.IntN(20) {
			f := payload.PrefixFilter{}
			switch r.IntN(3) {
			case 0:
				f.Prefix = randPrefix()
			case 1:
				f.ASN, f.HasASN = uint32(r.IntN(5)), true
			default:
				f.Prefix, f.ASN, f.HasASN = randPrefix(), uint32(r.IntN(5)), true
			}
			s.PrefixFilters = append(s.PrefixFilters, f)
		}
		var b payload.Builder
		var want []payload.VRP
		for range 200 {
			v := payload.VRP{ASN: uint32(r.IntN(5)), Prefix: randPrefix()}
			v.MaxLength = uint8(v.Prefix.Bits())
			b.AddVRP(v, srcA1)
			if !slices.ContainsFunc(s.PrefixFilters, func(f payload.PrefixFilter) bool { return f.Matches(v) }) {
				want = append(want, v)
			}
		}
		b.ApplySLURM(s, nil)
		slices.SortFunc(want, payload.VRP.Compare)
		want = slices.Compact(want)
		if diff := cmp.Diff(want, b.Build().VRPs(), prefixEqual); diff != "" {
			t.Fatalf("round %d: filters %v: (-naive +indexed):\n%s", round, s.PrefixFilters, diff)
		}
	}
}

func TestMergeSLURM(t *testing.T) {
	p := netip.MustParsePrefix
	pf := func(prefix string) payload.PrefixFilter { return payload.PrefixFilter{Prefix: p(prefix)} }
	asnf := func(asn uint32) payload.PrefixFilter { return payload.PrefixFilter{ASN: asn, HasASN: true} }
	pa := func(prefix string) payload.PrefixAssertion {
		return payload.PrefixAssertion{VRP: payload.VRP{ASN: 1, Prefix: p(prefix), MaxLength: uint8(p(prefix).Bits())}}
	}
	bf := func(asn uint32) payload.BGPsecFilter { return payload.BGPsecFilter{ASN: asn, HasASN: true} }
	skif := payload.BGPsecFilter{SKI: [20]byte{1}, HasSKI: true}
	ba := func(asn uint32) payload.BGPsecAssertion {
		return payload.BGPsecAssertion{Key: payload.RouterKey{ASN: asn, SPKI: []byte("k")}}
	}
	for _, tc := range []struct {
		name    string
		files   []*payload.SLURM
		wantErr string
	}{
		{"none", nil, ""},
		{"one", []*payload.SLURM{{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/8")}}}, ""},
		{"disjoint", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/16")}, PrefixAssertions: []payload.PrefixAssertion{pa("10.1.0.0/16")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("10.2.0.0/16")}, PrefixAssertions: []payload.PrefixAssertion{pa("2001:db8::/32")}},
		}, ""},
		{"overlap inside one file", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/8"), pf("10.1.0.0/16")}, PrefixAssertions: []payload.PrefixAssertion{pa("10.1.2.0/24"), pa("10.1.2.0/24")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("11.0.0.0/8")}},
		}, ""},
		{"assertion in assertion", []*payload.SLURM{
			{Path: "a", PrefixAssertions: []payload.PrefixAssertion{pa("192.0.2.0/24")}},
			{Path: "b", PrefixAssertions: []payload.PrefixAssertion{pa("10.0.0.0/8"), pa("192.0.2.128/25")}},
		}, "slurm: a prefixAssertions[0] (192.0.2.0/24) overlaps b prefixAssertions[1] (192.0.2.128/25) (RFC 8416 §4.2)"},
		{"equal filters", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("2001:db8::/32")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("2001:db8::/32")}},
		}, "slurm: a prefixFilters[0] (2001:db8::/32) overlaps b prefixFilters[0] (2001:db8::/32) (RFC 8416 §4.2)"},
		{"filter covers another file's assertion", []*payload.SLURM{
			{Path: "a", PrefixAssertions: []payload.PrefixAssertion{pa("10.1.0.0/16")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/8")}},
		}, "slurm: b prefixFilters[0] (10.0.0.0/8) overlaps a prefixAssertions[0] (10.1.0.0/16) (RFC 8416 §4.2)"},
		{"overlap below a sibling", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/8"), pf("10.1.0.0/16"), pf("10.3.0.0/16")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("10.2.0.0/16")}},
		}, "slurm: a prefixFilters[0] (10.0.0.0/8) overlaps b prefixFilters[0] (10.2.0.0/16) (RFC 8416 §4.2)"},
		{"families apart", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{pf("0.0.0.0/0")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{pf("::/0")}},
		}, ""},
		{"asn-only prefix filters not compared", []*payload.SLURM{
			{Path: "a", PrefixFilters: []payload.PrefixFilter{asnf(1)}, PrefixAssertions: []payload.PrefixAssertion{pa("10.0.0.0/8")}},
			{Path: "b", PrefixFilters: []payload.PrefixFilter{asnf(1)}},
		}, ""},
		{"unnamed files", []*payload.SLURM{
			{PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/8")}},
			nil,
			{PrefixFilters: []payload.PrefixFilter{pf("10.0.0.0/9")}},
		}, "slurm: file 1 prefixFilters[0] (10.0.0.0/8) overlaps file 3 prefixFilters[0] (10.0.0.0/9) (RFC 8416 §4.2)"},
		{"bgpsec asn in both", []*payload.SLURM{
			{Path: "a", BGPsecFilters: []payload.BGPsecFilter{bf(1), bf(64496)}},
			{Path: "b", BGPsecAssertions: []payload.BGPsecAssertion{ba(64496)}},
		}, "slurm: a bgpsecFilters[1] and b bgpsecAssertions[0] both name AS64496 (RFC 8416 §4.2)"},
		{"bgpsec asn twice in one file", []*payload.SLURM{
			{Path: "a", BGPsecFilters: []payload.BGPsecFilter{bf(1)}, BGPsecAssertions: []payload.BGPsecAssertion{ba(1), ba(1)}},
			{Path: "b", BGPsecFilters: []payload.BGPsecFilter{bf(2), skif}},
		}, ""},
		{"SKI-only bgpsec filters not compared", []*payload.SLURM{
			{Path: "a", BGPsecFilters: []payload.BGPsecFilter{skif}},
			{Path: "b", BGPsecFilters: []payload.BGPsecFilter{skif}},
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := payload.MergeSLURM(tc.files...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("MergeSLURM error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("MergeSLURM: %v", err)
			}
			var n [4]int
			for _, f := range tc.files {
				if f == nil {
					continue
				}
				n[0] += len(f.PrefixFilters)
				n[1] += len(f.BGPsecFilters)
				n[2] += len(f.PrefixAssertions)
				n[3] += len(f.BGPsecAssertions)
			}
			if got := [4]int{len(m.PrefixFilters), len(m.BGPsecFilters), len(m.PrefixAssertions), len(m.BGPsecAssertions)}; got != n {
				t.Errorf("merged counts %v, want %v", got, n)
			}
		})
	}
}

func TestMergeSLURMPaths(t *testing.T) {
	a := &payload.SLURM{Path: "a.json", PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(1, "10.0.0.0/8", 8)}}}
	b := &payload.SLURM{Path: "b.json",
		PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(2, "11.0.0.0/8", 8)}},
		BGPsecAssertions: []payload.BGPsecAssertion{{Key: payload.RouterKey{ASN: 5}}},
	}
	ab, err := payload.MergeSLURM(a, b)
	if err != nil {
		t.Fatal(err)
	}
	// Merging a merge keeps each assertion's own file.
	c := &payload.SLURM{Path: "c.json", PrefixAssertions: []payload.PrefixAssertion{{VRP: vrp(3, "12.0.0.0/8", 8)}}}
	abc, err := payload.MergeSLURM(ab, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range abc.PrefixAssertions {
		got = append(got, a.Path)
	}
	for _, a := range abc.BGPsecAssertions {
		got = append(got, a.Path)
	}
	if diff := cmp.Diff([]string{"a.json", "b.json", "c.json", "b.json"}, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if a.PrefixAssertions[0].Path != "" {
		t.Error("MergeSLURM modified its input")
	}
}

// TestMergeSLURMOverlapNaive checks the sorted overlap scan against
// comparing every pair of prefixes.
func TestMergeSLURMOverlapNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 500 {
		files := make([]*payload.SLURM, 2+r.IntN(2))
		type entry struct {
			file int
			p    netip.Prefix
		}
		var all []entry
		for i := range files {
			files[i] = &payload.SLURM{}
			for range r.IntN(4) {
				a := [4]byte{10, byte(r.IntN(256))}
				p := netip.PrefixFrom(netip.AddrFrom4(a), 8+r.IntN(9)).Masked()
				if r.IntN(2) == 0 {
					files[i].PrefixFilters = append(files[i].PrefixFilters, payload.PrefixFilter{Prefix: p})
				} else {
					files[i].PrefixAssertions = append(files[i].PrefixAssertions, payload.PrefixAssertion{VRP: payload.VRP{Prefix: p}})
				}
				all = append(all, entry{i, p})
			}
		}
		want := false
		for _, x := range all {
			for _, y := range all {
				if x.file != y.file && x.p.Overlaps(y.p) {
					want = true
				}
			}
		}
		_, err := payload.MergeSLURM(files...)
		if got := err != nil; got != want {
			t.Fatalf("round %d: %v: overlap error %v, want overlap %v", round, all, err, want)
		}
	}
}
