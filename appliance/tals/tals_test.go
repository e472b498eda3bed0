package tals_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/tals"
	"github.com/rovd/rovd/engine/rpki"
)

// TestBundledTALsParse checks that every bundled TAL is one that the
// engine accepts: it parses, names rsync and https locations and carries
// an RSA key.
func TestBundledTALsParse(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range tals.All() {
		t.Run(b.Name, func(t *testing.T) {
			if seen[b.Name] {
				t.Fatalf("name %q bundled twice", b.Name)
			}
			seen[b.Name] = true
			tal, err := rpki.ParseTAL(b.Content)
			if err != nil {
				t.Fatal(err)
			}
			if tal.Key == nil {
				t.Error("no RSA key")
			}
			var rsync, https bool
			for _, u := range tal.URIs {
				rsync = rsync || strings.HasPrefix(u, "rsync://")
				https = https || strings.HasPrefix(u, "https://")
			}
			if !rsync || !https {
				t.Errorf("URIs %v: want an rsync and an https one", tal.URIs)
			}
			if b.Description == "" {
				t.Error("no description")
			}
		})
	}
	if n := len(seen); n != 9 {
		t.Errorf("%d TALs bundled, want 9", n)
	}
}

func names(ts []*tals.TAL) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestSelect(t *testing.T) {
	rir := []string{"afrinic", "apnic", "arin", "lacnic", "ripe"}
	rirNoARIN := []string{"afrinic", "apnic", "lacnic", "ripe"}
	test := []string{"apnic-testbed", "arin-ote", "ripe-pilot"}
	for _, tc := range []struct {
		name    string
		sel     tals.Selection
		want    []string
		wantErr string
	}{
		{"default is the RIR TALs, ARIN needs the RPA", tals.Selection{}, nil, "--accept-arin-rpa"},
		{"default with the RPA accepted", tals.Selection{AcceptRPA: true}, rir, ""},
		{"default without ARIN", tals.Selection{Skip: []string{"arin"}}, rirNoARIN, ""},
		{"rir-tals", tals.Selection{RIR: true, AcceptRPA: true}, rir, ""},
		{"rir-test-tals alone", tals.Selection{RIRTest: true}, test, ""},
		{"rir-tals and rir-test-tals", tals.Selection{RIR: true, RIRTest: true, Skip: []string{"arin"}}, append(slices.Clone(rirNoARIN), test...), ""},
		{"one named TAL", tals.Selection{Names: []string{"ripe"}}, []string{"ripe"}, ""},
		{"named TAL twice", tals.Selection{Names: []string{"ripe", "ripe"}}, []string{"ripe"}, ""},
		{"named other testbed", tals.Selection{Names: []string{"nlnetlabs-testbed"}}, []string{"nlnetlabs-testbed"}, ""},
		{"named TAL plus rir-tals", tals.Selection{Names: []string{"ripe-pilot"}, RIR: true, AcceptRPA: true}, append(slices.Clone(rir), "ripe-pilot"), ""},
		{"named ARIN needs the RPA", tals.Selection{Names: []string{"arin"}}, nil, "Relying Party Agreement"},
		{"ARIN OTE needs no RPA", tals.Selection{Names: []string{"arin-ote"}}, []string{"arin-ote"}, ""},
		{"unknown name", tals.Selection{Names: []string{"iana"}}, nil, `unknown TAL "iana"`},
		{"skip of a TAL not selected", tals.Selection{Skip: []string{"ripe-pilot"}, AcceptRPA: true}, nil, "not selected"},
		{"skip of an unknown TAL", tals.Selection{Skip: []string{"iana"}, AcceptRPA: true}, nil, "not selected"},
		{"skip everything", tals.Selection{Names: []string{"ripe"}, Skip: []string{"ripe"}}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tals.Select(tc.sel)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("selected %v, want %v", names(got), tc.want)
			}
		})
	}
	if _, err := tals.Select(tals.Selection{}); !errors.Is(err, tals.ErrRPANotAccepted) {
		t.Errorf("default selection: %v, want ErrRPANotAccepted", err)
	}
}
