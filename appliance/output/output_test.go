package output_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/x509"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/engine/payload"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// genTime is the generation time of every golden file.
var genTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// exceptionsPath is the exceptions file of the sample set's assertions.
const exceptionsPath = "/etc/rovd/exceptions.json"

// testSPKI returns a DER SubjectPublicKeyInfo of a fixed P-256 key, the
// kind a BGPsec router certificate holds (RFC 8208 §3.1).
func testSPKI(seed byte) []byte {
	scalar := bytes.Repeat([]byte{seed}, 32)
	key, err := ecdh.P256().NewPrivateKey(scalar)
	if err != nil {
		panic(err) // a fixed scalar below the group order
	}
	der, err := x509.MarshalPKIXPublicKey(key.PublicKey())
	if err != nil {
		panic(err)
	}
	return der
}

// sampleSet is the payload set every golden file shows: IPv4 and IPv6
// VRPs, maximum lengths equal to and above the prefix length, AS0, a VRP
// found in two ROAs of two trust anchors, local exception assertions (one
// of them also in a ROA), an ASPA and router keys from the RPKI and from
// an exception.
func sampleSet(t testing.TB) *payload.Set {
	t.Helper()
	day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	ripe := &payload.Source{
		TA: "ripe", URI: "rsync://rpki.example.net/repo/ca1/a.roa",
		Validity: payload.Validity{NotBefore: day(1, 1, 0), NotAfter: day(12, 31, 0)},
		Chain:    payload.Validity{NotBefore: day(11, 20, 0), NotAfter: day(11, 24, 6)},
	}
	ripeCer := &payload.Source{
		TA: "ripe", URI: "rsync://rpki.example.net/repo/ca1/router.cer",
		Validity: payload.Validity{NotBefore: day(2, 1, 0), NotAfter: day(8, 1, 0)},
		Chain:    payload.Validity{NotBefore: day(11, 20, 0), NotAfter: day(11, 24, 6)},
	}
	ripeASPA := &payload.Source{
		TA: "ripe", URI: "rsync://rpki.example.net/repo/ca1/AS64496.asa",
		Validity: payload.Validity{NotBefore: day(3, 1, 0), NotAfter: day(9, 1, 0)},
		Chain:    payload.Validity{NotBefore: day(11, 20, 0), NotAfter: day(11, 24, 6)},
	}
	apnic := &payload.Source{
		TA: "apnic", URI: "rsync://rpki.example.org/member/b.roa",
		Validity: payload.Validity{NotBefore: day(4, 1, 12), NotAfter: day(10, 1, 12)},
		Chain:    payload.Validity{NotBefore: day(11, 22, 0), NotAfter: day(11, 23, 18)},
	}
	apnicASPA := &payload.Source{
		TA: "apnic", URI: "rsync://rpki.example.org/member/AS64497.asa",
		Validity: payload.Validity{NotBefore: day(5, 1, 0), NotAfter: day(11, 30, 0)},
		Chain:    payload.Validity{NotBefore: day(11, 22, 0), NotAfter: day(11, 23, 18)},
	}
	var b payload.Builder
	vrp := func(asn uint32, prefix string, maxLen uint8) payload.VRP {
		return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
	}
	b.AddVRP(vrp(64496, "192.0.2.0/24", 24), ripe)
	b.AddVRP(vrp(64496, "192.0.2.0/24", 24), apnic)
	b.AddVRP(vrp(64497, "198.51.100.0/22", 24), apnic)
	b.AddVRP(vrp(0, "198.51.100.0/24", 24), apnic)
	b.AddVRP(vrp(64497, "2001:db8::/32", 48), apnic)
	b.AddVRP(vrp(64498, "2001:db8:1000::/36", 36), ripe)
	b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64500, 64501}}, ripeASPA)
	b.AddASPA(payload.ASPA{Customer: 64497, Providers: []uint32{64502}}, apnicASPA)
	b.AddRouterKey(payload.RouterKey{ASN: 64496, SKI: [20]byte{0xAB, 0xCD, 19: 0x01}, SPKI: testSPKI(1)}, ripeCer)
	b.ApplySLURM(&payload.SLURM{
		Path: exceptionsPath,
		PrefixAssertions: []payload.PrefixAssertion{
			{VRP: vrp(64511, "203.0.113.0/24", 24), Comment: "lab"},
			{VRP: vrp(64511, "2001:db8:ffff::/48", 56)},
			{VRP: vrp(64498, "2001:db8:1000::/36", 36)},
		},
		BGPsecAssertions: []payload.BGPsecAssertion{
			{Key: payload.RouterKey{ASN: 64511, SKI: [20]byte{0x11, 19: 0x22}, SPKI: testSPKI(2)}},
		},
	}, nil)
	return b.Build()
}

// goldenCases are the golden files: every format on the sample set, the
// optional parts switched on, the selectors, and an empty set where a
// format has a frame around its list.
var goldenCases = []struct {
	name  string
	opt   output.Options
	empty bool
}{
	{name: "csv", opt: output.Options{Format: "csv"}},
	{name: "csvcompat", opt: output.Options{Format: "csvcompat"}},
	{name: "csvext", opt: output.Options{Format: "csvext"}},
	{name: "json", opt: output.Options{Format: "json"}},
	{name: "json-aspa-bgpsec", opt: output.Options{Format: "json", ASPA: true, BGPsec: true}},
	{name: "jsonext", opt: output.Options{Format: "jsonext"}},
	{name: "jsonext-aspa-bgpsec", opt: output.Options{Format: "jsonext", ASPA: true, BGPsec: true}},
	{name: "slurm", opt: output.Options{Format: "slurm"}},
	{name: "slurm-bgpsec", opt: output.Options{Format: "slurm", BGPsec: true}},
	{name: "openbgpd", opt: output.Options{Format: "openbgpd"}},
	{name: "bird1", opt: output.Options{Format: "bird1"}},
	{name: "bird2", opt: output.Options{Format: "bird2"}},
	{name: "rpsl", opt: output.Options{Format: "rpsl"}},
	{name: "summary", opt: output.Options{Format: "summary", ROAsByTA: map[string]int{"ripe": 1, "apnic": 2}}},
	{name: "summary-aspa-bgpsec", opt: output.Options{Format: "summary", ASPA: true, BGPsec: true, ROAsByTA: map[string]int{"ripe": 1, "apnic": 2}}},
	{name: "none", opt: output.Options{Format: "none"}},
	{name: "csv-select-asn", opt: output.Options{Format: "csv", Selection: output.Selection{ASNs: []uint32{64497}}}},
	{name: "csv-select-prefix", opt: output.Options{Format: "csv", Selection: output.Selection{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.128/25")}}}},
	{name: "json-select-asn-aspa-bgpsec", opt: output.Options{Format: "json", ASPA: true, BGPsec: true, Selection: output.Selection{ASNs: []uint32{64496}}}},
	{name: "json-select-prefix-aspa-bgpsec", opt: output.Options{Format: "json", ASPA: true, BGPsec: true, Selection: output.Selection{Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}}}},
	{name: "json-empty", opt: output.Options{Format: "json", ASPA: true, BGPsec: true}, empty: true},
	{name: "jsonext-empty", opt: output.Options{Format: "jsonext"}, empty: true},
	{name: "slurm-empty", opt: output.Options{Format: "slurm", BGPsec: true}, empty: true},
	{name: "openbgpd-empty", opt: output.Options{Format: "openbgpd"}, empty: true},
}

// TestFormats compares each format with its golden file (go test
// -update rewrites them).
func TestFormats(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			set := sampleSet(t)
			if tc.empty {
				set = new(payload.Builder).Build()
			}
			tc.opt.Time = genTime
			var buf bytes.Buffer
			if err := output.Write(&buf, set, tc.opt); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("got:\n%s\nwant:\n%s", buf.Bytes(), want)
			}
		})
	}
}

// TestEveryFormatHasAGoldenFile keeps Formats and the golden files in
// step: a format added to the list must come with its golden file.
func TestEveryFormatHasAGoldenFile(t *testing.T) {
	have := map[string]bool{}
	for _, tc := range goldenCases {
		have[tc.opt.Format] = true
	}
	for _, f := range output.Formats {
		if !have[f] {
			t.Errorf("format %s has no golden file", f)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	err := output.Write(&bytes.Buffer{}, sampleSet(t), output.Options{Format: "xml"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"xml"`)) {
		t.Errorf("unknown format: %v", err)
	}
}

// TestWriteError checks that a failing writer's error comes back.
func TestWriteError(t *testing.T) {
	for _, f := range output.Formats {
		if f == "none" {
			continue
		}
		t.Run(f, func(t *testing.T) {
			err := output.Write(failWriter{}, genSet(5000), output.Options{Format: f, Time: genTime})
			if err != errFail {
				t.Errorf("error %v, want %v", err, errFail)
			}
		})
	}
}

func TestParseASN(t *testing.T) {
	for in, want := range map[string]uint32{"AS64496": 64496, "64496": 64496, "as0": 0, "AS4294967295": 4294967295} {
		if got, err := output.ParseASN(in); err != nil || got != want {
			t.Errorf("ParseASN(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "AS", "AS-1", "AS4294967296", "ASx"} {
		if _, err := output.ParseASN(in); err == nil {
			t.Errorf("ParseASN(%q) accepted", in)
		}
	}
}
