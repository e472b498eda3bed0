package output_test

import (
	"bytes"
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

func sampleSet() *payload.Set {
	var b payload.Builder
	ripe := &payload.Source{TA: "ripe", URI: "rsync://rpki.example.net/repo/a.roa"}
	apnic := &payload.Source{TA: "apnic", URI: "rsync://rpki.example.org/repo/b.roa"}
	b.AddVRP(payload.VRP{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24}, ripe)
	b.AddVRP(payload.VRP{ASN: 64497, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 48}, apnic)
	b.AddVRP(payload.VRP{ASN: 0, Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLength: 24}, apnic)
	b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64500, 64501}}, ripe)
	b.AddRouterKey(payload.RouterKey{ASN: 64496, SKI: [20]byte{0xAB, 0xCD}, SPKI: []byte{1, 2, 3, 4}}, ripe)
	return b.Build()
}

// TestFormats compares each format with its golden file (go test
// -update rewrites them).
func TestFormats(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opt  output.Options
	}{
		{"csv", output.Options{Format: "csv"}},
		{"json", output.Options{Format: "json"}},
		{"json-aspa-bgpsec", output.Options{Format: "json", ASPA: true, BGPsec: true}},
		{"summary", output.Options{Format: "summary", ROAsByTA: map[string]int{"ripe": 1, "apnic": 2}}},
		{"csv-select-asn", output.Options{Format: "csv", Selection: output.Selection{ASNs: []uint32{64497}}}},
		{"csv-select-prefix", output.Options{Format: "csv", Selection: output.Selection{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.128/25")}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Time = at
			var buf bytes.Buffer
			if err := output.Write(&buf, sampleSet(), tc.opt); err != nil {
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
	if err := output.Write(&bytes.Buffer{}, sampleSet(), output.Options{Format: "xml"}); err == nil {
		t.Error("unknown format accepted")
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
