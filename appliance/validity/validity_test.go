package validity_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/validity"
	"github.com/rovd/rovd/engine/payload"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func vrp(asn uint32, prefix string, maxLen uint8) payload.VRP {
	return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
}

// testSet holds VRPs for every case of RFC 6811 §2, with the RIS beacon
// of Routinator's documentation among them.
func testSet() *payload.Set {
	var b payload.Builder
	src := &payload.Source{TA: "test"}
	for _, v := range []payload.VRP{
		vrp(196615, "93.175.147.0/24", 24),
		vrp(12654, "2001:7fb:fd02::/48", 48),
		vrp(64496, "10.0.0.0/8", 8),
		vrp(64497, "10.0.0.0/16", 24),
		vrp(64497, "10.0.0.0/16", 16),
		vrp(64498, "10.1.0.0/16", 16),
		vrp(0, "192.0.2.0/24", 24),
	} {
		b.AddVRP(v, src)
	}
	return b.Build()
}

func route(prefix string, asn uint32) validity.Route {
	return validity.Route{Prefix: netip.MustParsePrefix(prefix), ASN: asn}
}

// jsonRoute is one entry of the JSON output, for checking its content.
type jsonRoute struct {
	Route struct {
		OriginASN string `json:"origin_asn"`
		Prefix    string `json:"prefix"`
	} `json:"route"`
	Validity struct {
		State       string `json:"state"`
		Reason      string `json:"reason"`
		Description string `json:"description"`
		VRPs        struct {
			Matched         []jsonVRP `json:"matched"`
			UnmatchedAS     []jsonVRP `json:"unmatched_as"`
			UnmatchedLength []jsonVRP `json:"unmatched_length"`
		} `json:"VRPs"`
	} `json:"validity"`
}

type jsonVRP struct {
	ASN       string `json:"asn"`
	Prefix    string `json:"prefix"`
	MaxLength string `json:"max_length"`
}

// TestRFC6811 runs each case of route origin validation through both
// output formats.
func TestRFC6811(t *testing.T) {
	set := testSet()
	for _, tc := range []struct {
		name            string
		route           validity.Route
		state, reason   string
		matched         []jsonVRP
		unmatchedAS     []jsonVRP
		unmatchedLength []jsonVRP
	}{
		{
			name: "no VRP covers the route", route: route("198.51.100.0/24", 64496),
			state: "not-found",
		},
		{
			name: "a VRP for another AS covers the route", route: route("93.175.147.0/24", 12654),
			state: "invalid", reason: "as",
			unmatchedAS: []jsonVRP{{"AS196615", "93.175.147.0/24", "24"}},
		},
		{
			name: "exact match", route: route("2001:7fb:fd02::/48", 12654),
			state: "valid", matched: []jsonVRP{{"AS12654", "2001:7fb:fd02::/48", "48"}},
		},
		{
			name: "longer than the maximum length", route: route("10.2.0.0/16", 64496),
			state: "invalid", reason: "length",
			unmatchedLength: []jsonVRP{{"AS64496", "10.0.0.0/8", "8"}},
		},
		{
			name: "valid through a more specific VRP, the others listed", route: route("10.0.1.0/24", 64497),
			state:           "valid",
			matched:         []jsonVRP{{"AS64497", "10.0.0.0/16", "24"}},
			unmatchedAS:     []jsonVRP{{"AS64496", "10.0.0.0/8", "8"}},
			unmatchedLength: []jsonVRP{{"AS64497", "10.0.0.0/16", "16"}},
		},
		{
			name: "less specific than every VRP", route: route("10.0.0.0/7", 64496),
			state: "not-found",
		},
		{
			name: "AS0 VRP never matches, even origin AS0", route: route("192.0.2.0/24", 0),
			state: "invalid", reason: "as",
			unmatchedAS: []jsonVRP{{"AS0", "192.0.2.0/24", "24"}},
		},
		{
			name: "other AS and too long", route: route("10.1.1.0/24", 64496),
			state: "invalid", reason: "length",
			unmatchedAS:     []jsonVRP{{"AS64498", "10.1.0.0/16", "16"}},
			unmatchedLength: []jsonVRP{{"AS64496", "10.0.0.0/8", "8"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var text bytes.Buffer
			if err := validity.WriteText(&text, set, []validity.Route{tc.route}); err != nil {
				t.Fatal(err)
			}
			wantLine := tc.route.Prefix.String() + " => AS" + itoa(tc.route.ASN) + ": " + tc.state + "\n"
			if text.String() != wantLine {
				t.Errorf("text %q, want %q", text.String(), wantLine)
			}
			var out bytes.Buffer
			if err := validity.WriteJSON(&out, set, []validity.Route{tc.route}, time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Routes    []jsonRoute `json:"validated_routes"`
				Generated string      `json:"generatedTime"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("%v:\n%s", err, out.String())
			}
			if len(doc.Routes) != 1 || doc.Generated != "1970-01-01T00:00:00Z" {
				t.Fatalf("bad document:\n%s", out.String())
			}
			got := doc.Routes[0]
			if got.Route.Prefix != tc.route.Prefix.String() || got.Route.OriginASN != "AS"+itoa(tc.route.ASN) {
				t.Errorf("route %+v", got.Route)
			}
			v := got.Validity
			if v.State != tc.state || v.Reason != tc.reason || v.Description == "" {
				t.Errorf("state %q reason %q description %q, want %q %q", v.State, v.Reason, v.Description, tc.state, tc.reason)
			}
			if d := cmp.Diff(tc.matched, v.VRPs.Matched, cmpEmpty); d != "" {
				t.Errorf("matched (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.unmatchedAS, v.VRPs.UnmatchedAS, cmpEmpty); d != "" {
				t.Errorf("unmatched_as (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.unmatchedLength, v.VRPs.UnmatchedLength, cmpEmpty); d != "" {
				t.Errorf("unmatched_length (-want +got):\n%s", d)
			}
		})
	}
}

// cmpEmpty treats an empty list and a missing one alike.
var cmpEmpty = cmp.Comparer(func(a, b []jsonVRP) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
})

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

func goldenRoutes(t *testing.T) []validity.Route {
	t.Helper()
	f, err := os.Open("testdata/beacons.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	routes, err := validity.ParsePlain(f)
	if err != nil {
		t.Fatal(err)
	}
	return append(routes, route("10.0.1.0/24", 64497), route("198.51.100.0/24", 64496), route("10.1.1.0/24", 64496))
}

func TestGolden(t *testing.T) {
	set := testSet()
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	routes := goldenRoutes(t)
	var text, list bytes.Buffer
	if err := validity.WriteText(&text, set, routes); err != nil {
		t.Fatal(err)
	}
	golden(t, "text", text.Bytes())
	if err := validity.WriteJSON(&list, set, routes, at); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(list.Bytes()) {
		t.Error("JSON output does not parse")
	}
	golden(t, "json", list.Bytes())
	single := validity.AppendSingleJSON(nil, set, routes[0], at)
	if !json.Valid(single) {
		t.Error("single JSON output does not parse")
	}
	golden(t, "single", single)

	var empty bytes.Buffer
	if err := validity.WriteJSON(&empty, set, nil, at); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(empty.Bytes()) {
		t.Errorf("empty list does not parse:\n%s", empty.String())
	}
}

func TestParsePlain(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []validity.Route
		wantErr  string
	}{
		{"empty input", "", []validity.Route{}, ""},
		{"one route", "192.0.2.0/24 => AS64496\n", []validity.Route{route("192.0.2.0/24", 64496)}, ""},
		{"ASN without AS, no final newline", "192.0.2.0/24 => 64496", []validity.Route{route("192.0.2.0/24", 64496)}, ""},
		{"lower-case as, tabs and CRLF", "2001:db8::/32\t=>\tas64496\r\n", []validity.Route{route("2001:db8::/32", 64496)}, ""},
		{"comments and blank lines", "# list\n\n  # indented\n192.0.2.0/24 => AS1 # trailing\n192.0.2.0/25 => AS2 #tight\n",
			[]validity.Route{route("192.0.2.0/24", 1), route("192.0.2.0/25", 2)}, ""},
		{"largest ASN", "0.0.0.0/0 => AS4294967295", []validity.Route{route("0.0.0.0/0", 4294967295)}, ""},
		{"ASN too large", "0.0.0.0/0 => AS4294967296", nil, "line 1: invalid AS number"},
		{"bad prefix", "\n192.0.2.0/33 => AS1", nil, "line 2: invalid prefix"},
		{"host bits", "192.0.2.1/24 => AS1", nil, "host bits set (did you mean 192.0.2.0/24?)"},
		{"address without length", "192.0.2.1 => AS1", nil, "invalid prefix"},
		{"no arrow", "192.0.2.0/24 AS1", nil, "expected '=>'"},
		{"arrow without spaces", "192.0.2.0/24=>AS1", nil, "invalid prefix"},
		{"prefix alone", "192.0.2.0/24", nil, "end of the line"},
		{"no ASN", "192.0.2.0/24 =>", nil, "expected an AS number"},
		{"signed ASN", "192.0.2.0/24 => +1", nil, "invalid AS number"},
		{"trailing junk", "192.0.2.0/24 => AS1 AS2", nil, `got "AS2"`},
		{"line too long", "192.0.2.0/24 => AS1 #" + strings.Repeat("x", 5000), nil, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validity.ParsePlain(strings.NewReader(tc.in))
			checkParse(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []validity.Route
		wantErr  string
	}{
		{"no routes", `{"routes": []}`, []validity.Route{}, ""},
		{"string and number ASNs", `{"routes": [{"prefix": "192.0.2.0/24", "asn": "AS1"}, {"asn": 2, "prefix": "2001:db8::/32"}, {"prefix": "192.0.2.0/25", "asn": "3"}]}`,
			[]validity.Route{route("192.0.2.0/24", 1), route("2001:db8::/32", 2), route("192.0.2.0/25", 3)}, ""},
		{"other members ignored", `{"routes": [{"prefix": "192.0.2.0/24", "asn": 1, "x": [1]}], "generated": 5}`,
			[]validity.Route{route("192.0.2.0/24", 1)}, ""},
		{"missing routes", `{}`, nil, `no "routes" member`},
		{"routes not a list", `{"routes": {}}`, nil, "JSON input"},
		{"missing asn", `{"routes": [{"prefix": "192.0.2.0/24"}]}`, nil, `route 1: needs "prefix" and "asn"`},
		{"null asn", `{"routes": [{"prefix": "192.0.2.0/24", "asn": null}]}`, nil, "needs"},
		{"fractional asn", `{"routes": [{"prefix": "192.0.2.0/24", "asn": 1.5}]}`, nil, "invalid AS number"},
		{"negative asn", `{"routes": [{"prefix": "192.0.2.0/24", "asn": -1}]}`, nil, "invalid AS number"},
		{"asn of wrong type", `{"routes": [{"prefix": "192.0.2.0/24", "asn": true}]}`, nil, "invalid AS number"},
		{"prefix a number", `{"routes": [{"prefix": 5, "asn": 1}]}`, nil, "JSON input"},
		{"bad prefix", `{"routes": [{"prefix": "192.0.2.0/24", "asn": 1}, {"prefix": "x", "asn": 1}]}`, nil, "route 2: invalid prefix"},
		{"truncated", `{"routes": [`, nil, "JSON input"},
		{"data after the object", `{"routes": []} {}`, nil, "data after the object"},
		{"not JSON", `192.0.2.0/24 => AS1`, nil, "JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validity.ParseJSON(strings.NewReader(tc.in))
			checkParse(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func checkParse(t *testing.T, got []validity.Route, err error, want []validity.Route, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one with %q", err, wantErr)
		}
		if got != nil {
			t.Errorf("routes %v with an error", got)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestBeaconFiles reads the same routes from both input formats.
func TestBeaconFiles(t *testing.T) {
	read := func(name string, parse func(r *os.File) ([]validity.Route, error)) []validity.Route {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		routes, err := parse(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return routes
	}
	plain := read("beacons.txt", func(f *os.File) ([]validity.Route, error) { return validity.ParsePlain(f) })
	js := read("beacons.json", func(f *os.File) ([]validity.Route, error) { return validity.ParseJSON(f) })
	if len(plain) != 3 || !equalRoutes(plain, js) {
		t.Errorf("plain %v, JSON %v", plain, js)
	}
}

func equalRoutes(a, b []validity.Route) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
