package harness_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

// diffWorld writes the truth directory Diff reads its causes from: one
// fault that removes AS64500,10.9.0.0/16,16 (and, under a policy,
// AS64500,10.8.0.0/16,16), and one unsafe VRP.
func diffWorld(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "truth"), 0o755); err != nil {
		t.Fatal(err)
	}
	vrp := func(s string) world.VRP {
		return world.VRP{ASN: 64500, Prefix: netip.MustParsePrefix(s), MaxLength: 16, TA: "ta-1"}
	}
	faults := []world.Fault{{
		CA: "ta-1-2", Kind: "roa-ee-inherit", Effect: "object-rejected",
		Removes: world.Payload{VRPs: []world.VRP{vrp("10.9.0.0/16")}},
		Policy:  "stale=warn", PolicyEffect: "kept", PolicyRemoves: &world.Payload{VRPs: []world.VRP{vrp("10.8.0.0/16")}},
	}}
	b, err := json.Marshal(faults)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "truth", "faults.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	unsafe := "ASN,IP Prefix,Max Length,Trust Anchor\nAS64501,10.7.0.0/16,16,ta-1\n"
	if err := os.WriteFile(filepath.Join(dir, "truth", "unsafe.csv"), []byte(unsafe), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDiff(t *testing.T) {
	const truth = `ASN,IP Prefix,Max Length,Trust Anchor
AS64500,10.8.0.0/16,16,ta-1
AS64501,10.7.0.0/16,16,ta-1
AS64502,10.6.0.0/16,16,ta-1
`
	dir := diffWorld(t)
	tests := []struct {
		name      string
		rovd      string
		peer      string
		ignoreTA  bool
		lines     int
		explained int
		counts    []harness.DiffCount
		first     []harness.DiffLine
	}{
		{
			name: "all agree", rovd: truth, peer: truth,
			counts: []harness.DiffCount{{Set: "rovd"}, {Set: "peer"}},
		},
		{
			name: "peer keeps an object a fault rejects",
			rovd: truth, peer: truth + "AS64500,10.9.0.0/16,16,ta-1\n",
			lines: 1, explained: 1,
			counts: []harness.DiffCount{{Set: "rovd"}, {Set: "peer", Extra: 1, ExtraVsRef: 1}},
			first: []harness.DiffLine{{VRP: "AS64500,10.9.0.0/16,16,ta-1", In: []bool{false, false, true},
				Cause: "fault roa-ee-inherit at ta-1-2 (object-rejected)"}},
		},
		{
			name:  "peer drops an unsafe VRP, rovd one that nothing explains",
			rovd:  "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,10.8.0.0/16,16,ta-1\nAS64501,10.7.0.0/16,16,ta-1\n",
			peer:  "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,10.8.0.0/16,16,ta-1\nAS64502,10.6.0.0/16,16,ta-1\n",
			lines: 2, explained: 1,
			counts: []harness.DiffCount{
				{Set: "rovd", Missing: 1, Unexplained: 1},
				{Set: "peer", Missing: 1, MissingVsRef: 1, ExtraVsRef: 1},
			},
			first: []harness.DiffLine{
				{VRP: "AS64502,10.6.0.0/16,16,ta-1", In: []bool{true, false, true}},
				{VRP: "AS64501,10.7.0.0/16,16,ta-1", In: []bool{true, true, false}, Cause: "unsafe VRP: overlaps the resources of a rejected CA (dropped under unsafe-vrps=reject)"},
			},
		},
		{
			name: "a policy's effect, a peer without trust anchors",
			rovd: truth, peer: "ASN,Prefix,Max prefix length\nAS64501,10.7.0.0/16,16\nAS64502,10.6.0.0/16,16\n",
			ignoreTA: true, lines: 1, explained: 1,
			counts: []harness.DiffCount{{Set: "rovd"}, {Set: "peer", Missing: 1, MissingVsRef: 1}},
			first: []harness.DiffLine{{VRP: "AS64500,10.8.0.0/16,16", In: []bool{true, true, false},
				Cause: "fault roa-ee-inherit at ta-1-2 (kept under stale=warn)"}},
		},
		{
			name: "a trust anchor the truth does not know",
			rovd: truth, peer: strings.ReplaceAll(truth, "ta-1\n", "RIPE\n"),
			ignoreTA: true, counts: []harness.DiffCount{{Set: "rovd"}, {Set: "peer"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "diffs", "d.csv")
			d, err := harness.DiffFiles(dir, []string{"truth", "rovd", "peer"},
				[]string{writeFile(t, "truth.csv", truth), writeFile(t, "rovd.csv", tc.rovd), writeFile(t, "peer.csv", tc.peer)},
				1, out, "diffs/d.csv")
			if err != nil {
				t.Fatal(err)
			}
			if d.IgnoreTA != tc.ignoreTA || d.Lines != tc.lines || d.Explained != tc.explained {
				t.Errorf("ignoreTA %v, lines %d, explained %d; want %v, %d, %d", d.IgnoreTA, d.Lines, d.Explained, tc.ignoreTA, tc.lines, tc.explained)
			}
			if diff := cmp.Diff(tc.counts, d.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.first, d.First); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			b, err := os.ReadFile(out)
			switch {
			case tc.lines == 0:
				if err == nil || d.File != "" {
					t.Errorf("no difference, but the file %q is there", d.File)
				}
			case err != nil:
				t.Error(err)
			default:
				if n := strings.Count(string(b), "\n"); n != tc.lines+1 || d.File != "diffs/d.csv" ||
					!strings.HasPrefix(string(b), "ASN,IP Prefix,Max Length,") || !strings.Contains(string(b), ",truth,rovd,peer,Cause\n") {
					t.Errorf("file %q:\n%s", d.File, b)
				}
			}
		})
	}
}

func TestDiffTooFewLists(t *testing.T) {
	f := &harness.VRPFile{HasTA: true}
	if _, err := harness.Diff(t.TempDir(), []string{"truth"}, []*harness.VRPFile{f}, 0, nil); err == nil {
		t.Error("one list: no error")
	}
	if _, err := harness.Diff(t.TempDir(), []string{"truth", "x"}, []*harness.VRPFile{f, f}, 2, nil); err == nil {
		t.Error("reference out of range: no error")
	}
}
