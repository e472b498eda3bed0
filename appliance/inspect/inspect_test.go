package inspect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/inspect"
	"github.com/rovd/rovd/engine/der"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const corpus = "../../../shared/testdata/real/"

// goldenCases are one object of each kind from the real corpus, plus
// broken ones; their reports are kept in testdata/NAME.golden.
var goldenCases = []struct{ name, file string }{
	{"ta-cert", "rpki-rs/repository/ta.cer"},
	{"ca-cert", "krill/v0_13_1_pubserver-repo/rsync/current/testbed/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.cer"},
	{"router-cert", "rpki-prover/bgp_router_cert.cer"},
	{"crl", "rpki-rs/repository/ta.crl"},
	{"manifest-ber", "rpki-rs/repository/ca1.mft"},
	{"roa", "krill/v0_13_1_pubserver-repo/rsync/current/NLnetLabs/0/3138352e34392e3134302e302f32332d3332203d3e2038353837.roa"},
	{"aspa", "rpki-commons/interop/aspa/GOOD-profile-15-draft-ietf-sidrops-profile-15-sample.asa"},
	{"gbr", "rpki-prover/ClF4YOBviAEnwFokhNG1NXBZjEA.gbr"},
	{"tal", "routinator/tals/ripe.tal"},
	{"tak", "rpki-commons/interop/openbsd-regress/42AE70A64DA711EDB37796549E174E93.tak"},
	{"spl", "rpki-prover/9X0AhXWTJDl8lJhfOwvnac-42CA.spl"},
	{"rsc", "rpki-commons/interop/openbsd-regress/checklist-08.sig"},
	{"roa-maxlen-underflow", "rpki-rs/repository/maxlen-underflow.roa"},
	{"aspa-old-profile", "rpki-rs/repository/aspa-bm.asa"},
	{"not-rpki-rfc6492", "rpki-rs/ca/rfc6492/list.der"},
	{"historic-ta", "rpki.net/historic-ta-certs/ripencc.cer"},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			// Report the file by its corpus path so the golden file does
			// not depend on where the corpus sits.
			data, err := os.ReadFile(corpus + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			res := inspect.File(tc.file, data, inspect.Options{Mode: der.Relaxed})
			inspect.WriteText(&out, res)
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("report differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	files := []string{corpus + "rpki-rs/repository/example-ripe.roa", corpus + "rpki-rs/repository/maxlen-overflow.roa"}
	var out bytes.Buffer
	if inspect.Run(files, inspect.Options{JSON: true}, &out) {
		t.Error("Run reported success with a broken ROA among the files")
	}
	var results []inspect.Result
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(results) != 2 || !results[0].Valid || results[1].Valid || results[1].Type != "ROA" {
		t.Fatalf("unexpected results: %+v", results)
	}
	found := false
	for _, p := range results[1].Problems {
		found = found || strings.Contains(p.Message, "maxLength 124") && p.Ref == "RFC 9582 §4.3.2.2"
	}
	if !found {
		t.Errorf("maxLength problem missing: %+v", results[1].Problems)
	}
}
