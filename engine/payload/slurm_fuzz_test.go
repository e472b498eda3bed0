package payload_test

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

// encodeSLURM writes s as an exceptions file, the way an operator would:
// maxPrefixLength only when it differs from the prefix length, no
// padding in base64, no empty comments.
func encodeSLURM(t *testing.T, s *payload.SLURM) []byte {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	obj := func(comment string) map[string]any {
		m := map[string]any{}
		if comment != "" {
			m["comment"] = comment
		}
		return m
	}
	pf := []any{}
	for _, f := range s.PrefixFilters {
		m := obj(f.Comment)
		if f.Prefix.IsValid() {
			m["prefix"] = f.Prefix.String()
		}
		if f.HasASN {
			m["asn"] = f.ASN
		}
		pf = append(pf, m)
	}
	bf := []any{}
	for _, f := range s.BGPsecFilters {
		m := obj(f.Comment)
		if f.HasASN {
			m["asn"] = f.ASN
		}
		if f.HasSKI {
			m["SKI"] = b64(f.SKI[:])
		}
		bf = append(bf, m)
	}
	pa := []any{}
	for _, a := range s.PrefixAssertions {
		m := obj(a.Comment)
		m["prefix"] = a.VRP.Prefix.String()
		m["asn"] = a.VRP.ASN
		if int(a.VRP.MaxLength) != a.VRP.Prefix.Bits() {
			m["maxPrefixLength"] = a.VRP.MaxLength
		}
		pa = append(pa, m)
	}
	ba := []any{}
	for _, a := range s.BGPsecAssertions {
		m := obj(a.Comment)
		m["asn"] = a.Key.ASN
		m["SKI"] = b64(a.Key.SKI[:])
		m["routerPublicKey"] = b64(a.Key.SPKI)
		ba = append(ba, m)
	}
	data, err := json.Marshal(map[string]any{
		"slurmVersion":            1,
		"validationOutputFilters": map[string]any{"prefixFilters": pf, "bgpsecFilters": bf},
		"locallyAddedAssertions":  map[string]any{"prefixAssertions": pa, "bgpsecAssertions": ba},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func FuzzParseSLURM(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "slurm", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := payload.ParseSLURM(data)
		if (err == nil) == (s == nil) {
			t.Fatalf("ParseSLURM = %v, %v: want exactly one of them", s, err)
		}
		if err != nil {
			return
		}

		// Every rule of RFC 8416 §3 holds for what came out.
		overlapping := false
		for i, f := range s.PrefixFilters {
			if !f.Prefix.IsValid() && !f.HasASN {
				t.Errorf("prefixFilters[%d] has neither prefix nor asn", i)
			}
			if f.Prefix.IsValid() {
				overlapping = true
				if f.Prefix != f.Prefix.Masked() {
					t.Errorf("prefixFilters[%d]: host bits in %v", i, f.Prefix)
				}
			}
		}
		for i, f := range s.BGPsecFilters {
			if !f.HasASN && !f.HasSKI {
				t.Errorf("bgpsecFilters[%d] has neither asn nor SKI", i)
			}
			overlapping = overlapping || f.HasASN
		}
		for i, a := range s.PrefixAssertions {
			p := a.VRP.Prefix
			if !p.IsValid() || p != p.Masked() || int(a.VRP.MaxLength) < p.Bits() || int(a.VRP.MaxLength) > p.Addr().BitLen() {
				t.Errorf("prefixAssertions[%d]: bad VRP %v", i, a.VRP)
			}
			overlapping = true
		}
		for i, a := range s.BGPsecAssertions {
			if len(a.Key.SPKI) == 0 {
				t.Errorf("bgpsecAssertions[%d]: empty key", i)
			}
			overlapping = true
		}

		// Parse, encode, parse gives the same exceptions.
		again, err := payload.ParseSLURM(encodeSLURM(t, s))
		if err != nil {
			t.Fatalf("parsing the re-encoded file: %v", err)
		}
		if diff := cmp.Diff(s, again, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}

		// A file merged with itself overlaps exactly when it has an entry
		// that the overlap check compares.
		s.Path = "x"
		if _, err := payload.MergeSLURM(s, s); (err != nil) != overlapping {
			t.Errorf("MergeSLURM(s, s) = %v, want an error: %v", err, overlapping)
		}

		// Applying it keeps every assertion and nothing a filter matches.
		var b payload.Builder
		b.AddVRP(payload.VRP{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24}, nil)
		b.AddVRP(payload.VRP{ASN: 0, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 48}, nil)
		c := b.ApplySLURM(s, nil)
		if c.AddedVRPs != len(s.PrefixAssertions) || c.AddedRouterKeys != len(s.BGPsecAssertions) {
			t.Errorf("ApplySLURM counts %+v for %d and %d assertions", c, len(s.PrefixAssertions), len(s.BGPsecAssertions))
		}
		set := b.Build()
		for i, v := range set.VRPs() {
			for _, src := range set.VRPSources(i) {
				if src == nil {
					for _, f := range s.PrefixFilters {
						if f.Matches(v) {
							t.Errorf("%v kept though %+v matches it", v, f)
						}
					}
				}
			}
		}
	})
}
