package harness_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/bench/harness"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readVRPs(t *testing.T, content string) *harness.VRPFile {
	t.Helper()
	f, err := harness.ReadVRPs(writeFile(t, "vrps.csv", content))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const truthCSV = `ASN,IP Prefix,Max Length,Trust Anchor
AS4491,10.0.0.0/18,18,ta-1
AS4491,10.0.0.0/18,20,ta-1
AS65000,2001:db8::/32,48,ta-2
AS0,192.0.2.0/24,24,ta-2
`

func TestReadVRPs(t *testing.T) {
	tests := []struct {
		name    string
		content string
		hasTA   bool
		n       int
	}{
		{"routinator", truthCSV, true, 4},
		{"rpki-client", "ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS4491,10.0.0.0/18,18,ta-1,1795524911\n", true, 1},
		{"fort", "ASN,Prefix,Max prefix length\nAS4491,10.0.0.0/18,18\n", false, 1},
		{"duplicates collapse", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,a\nAS1,10.0.0.0/8,8,a\n", true, 1},
		{"ASN without AS", "ASN,IP Prefix,Max Length\n4491,10.0.0.0/18,18\n", false, 1},
		{"header only", "ASN,IP Prefix,Max Length,Trust Anchor\n", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := readVRPs(t, tc.content)
			if f.HasTA != tc.hasTA || len(f.VRPs) != tc.n {
				t.Errorf("HasTA %v, %d VRPs; want %v, %d", f.HasTA, len(f.VRPs), tc.hasTA, tc.n)
			}
		})
	}
	for _, bad := range []string{"", "prefix,asn\n", "ASN,IP Prefix,Max Length\nAS1,10.0.0.0,8\n", "ASN,IP Prefix,Max Length\nASx,10.0.0.0/8,8\n"} {
		if _, err := harness.ReadVRPs(writeFile(t, "bad.csv", bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	truth := readVRPs(t, truthCSV)
	tests := []struct {
		name string
		got  string
		want harness.Comparison
	}{
		{"same, in another order", `ASN,IP Prefix,Max Length,Trust Anchor
AS0,192.0.2.0/24,24,ta-2
AS65000,2001:0db8::/32,48,ta-2
AS4491,10.0.0.0/18,20,ta-1
AS4491,10.0.0.0/18,18,ta-1
`, harness.Comparison{VRPs: 4, Truth: 4}},
		{"one missing, one extra", `ASN,IP Prefix,Max Length,Trust Anchor
AS4491,10.0.0.0/18,18,ta-1
AS4491,10.0.0.0/18,20,ta-1
AS65000,2001:db8::/32,48,ta-2
AS65001,2001:db8::/32,48,ta-2
`, harness.Comparison{VRPs: 4, Truth: 4, Missing: 1, Extra: 1,
			Examples: []string{"-AS0,192.0.2.0/24,24,ta-2", "+AS65001,2001:db8::/32,48,ta-2"}}},
		{"wrong trust anchor counts", `ASN,IP Prefix,Max Length,Trust Anchor
AS4491,10.0.0.0/18,18,ta-2
AS4491,10.0.0.0/18,20,ta-1
AS65000,2001:db8::/32,48,ta-2
AS0,192.0.2.0/24,24,ta-2
`, harness.Comparison{VRPs: 4, Truth: 4, Missing: 1, Extra: 1,
			Examples: []string{"-AS4491,10.0.0.0/18,18,ta-1", "+AS4491,10.0.0.0/18,18,ta-2"}}},
		{"no trust anchor column", `ASN,Prefix,Max prefix length
AS4491,10.0.0.0/18,18
AS4491,10.0.0.0/18,20
AS65000,2001:db8::/32,48
AS0,192.0.2.0/24,24
`, harness.Comparison{VRPs: 4, Truth: 4, IgnoreTA: true}},
		{"trust anchors named otherwise", `ASN,IP Prefix,Max Length,Trust Anchor
AS4491,10.0.0.0/18,18,RIPE
AS4491,10.0.0.0/18,20,RIPE
AS65000,2001:db8::/32,48,APNIC
`, harness.Comparison{VRPs: 3, Truth: 4, Missing: 1, IgnoreTA: true,
			Examples: []string{"-AS0,192.0.2.0/24,24"}}},
		{"empty", "ASN,IP Prefix,Max Length,Trust Anchor\n", harness.Comparison{Truth: 4, Missing: 4,
			Examples: []string{"-AS4491,10.0.0.0/18,18,ta-1", "-AS4491,10.0.0.0/18,20,ta-1", "-AS0,192.0.2.0/24,24,ta-2", "-AS65000,2001:db8::/32,48,ta-2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := harness.Compare(readVRPs(t, tc.got), truth)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("comparison (-want +got):\n%s", diff)
			}
		})
	}
}
