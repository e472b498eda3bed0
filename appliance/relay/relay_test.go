package relay_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/appliance/relay"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

// testNow is the instant the testdata documents are read at.
var testNow = time.Unix(1795435200, 0).UTC()

// items is a set's payload in comparable form.
type items struct {
	VRPs  []string
	Keys  []payload.RouterKey
	ASPAs []payload.ASPA
	TAs   []string // of the VRPs
}

func itemsOf(s *payload.Set) items {
	it := items{VRPs: vrpStrings(s.VRPs()), Keys: s.RouterKeys(), ASPAs: s.ASPAs()}
	for i := range s.VRPs() {
		it.TAs = append(it.TAs, s.VRPSources(i)[0].TA)
	}
	return it
}

var (
	key = payload.RouterKey{ASN: 64496, SKI: [20]byte{0xab, 0xcd, 19: 1}, SPKI: mustSPKI()}
	// testVRPs are the VRPs of every testdata document.
	testVRPs = []payload.VRP{
		{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24},
		{ASN: 0, Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLength: 24},
		{ASN: 64498, Prefix: netip.MustParsePrefix("2001:db8:1000::/36"), MaxLength: 48},
	}
	testTAs  = []string{"apnic", "apnic", "ripe"}
	testASPA = []payload.ASPA{{Customer: 64496, Providers: []uint32{64500, 64501}}}
)

func vrpStrings(vrps []payload.VRP) []string {
	var out []string
	for _, v := range vrps {
		out = append(out, fmt.Sprintf("AS%d %s-%d", v.ASN, v.Prefix, v.MaxLength))
	}
	return out
}

func mustSPKI() []byte {
	// The key of appliance/output's golden files.
	b, err := base64.StdEncoding.DecodeString("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb/A7lJJBzh2t1DUZ5pYOCoW0GmmgXDKBA6orzhWUyhY8T3U6Vb8B3FP2wLDH7ueLQMb/fSWpbiKCuYnO9xwUSg==")
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		file      string
		want      items
		generated time.Time
		valid     time.Time
		expires   time.Time
	}{
		{"routinator.json", items{vrpStrings(testVRPs), []payload.RouterKey{key}, testASPA, testTAs}, testNow, time.Time{}, time.Time{}},
		{"rpki-client.json", items{vrpStrings(testVRPs), []payload.RouterKey{key}, testASPA, testTAs}, testNow, time.Time{}, time.Unix(1795500000, 0).UTC()},
		// StayRTR writes both; generated comes first.
		{"stayrtr.json", items{vrpStrings(testVRPs), nil, nil, testTAs}, testNow, time.Time{}, time.Time{}},
		{"gortr.json", items{vrpStrings(testVRPs), nil, nil, testTAs}, testNow, time.Unix(1795521600, 0).UTC(), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := relay.Parse(bytes.NewReader(data), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, itemsOf(doc.Set)); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			if !doc.Generated.Equal(tc.generated) || !doc.Valid.Equal(tc.valid) || !doc.Expires.Equal(tc.expires) || doc.Expired != 0 {
				t.Errorf("generated %v, valid %v, expires %v, %d expired", doc.Generated, doc.Valid, doc.Expires, doc.Expired)
			}
			if err := doc.Check(testNow, time.Hour); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// TestParseExpired reads rpki-client's document later: the entries
// whose expires has passed are left out and counted.
func TestParseExpired(t *testing.T) {
	data, err := os.ReadFile("testdata/rpki-client.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := relay.Parse(bytes.NewReader(data), time.Unix(1795550000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := itemsOf(doc.Set); len(got.VRPs) != 1 || got.VRPs[0] != vrpStrings(testVRPs[2:])[0] || len(got.Keys) != 1 || len(got.ASPAs) != 1 || doc.Expired != 2 {
		t.Errorf("%+v, %d expired", got, doc.Expired)
	}
	if !doc.Expires.Equal(time.Unix(1795600000, 0)) {
		t.Errorf("expires %v", doc.Expires)
	}
}

// TestParseRoundTrip writes sets in rovd's json and jsonext formats and
// reads them back.
func TestParseRoundTrip(t *testing.T) {
	var b payload.Builder
	src := map[string]*payload.Source{"apnic": {TA: "apnic"}, "ripe": {TA: "ripe"}}
	for i, v := range testVRPs {
		b.AddVRP(v, src[testTAs[i]])
	}
	b.AddRouterKey(key, src["ripe"])
	b.AddASPA(testASPA[0], src["ripe"])
	set := b.Build()
	for _, format := range []string{"json", "jsonext"} {
		var out bytes.Buffer
		if err := output.Write(&out, set, output.Options{Format: format, ASPA: true, BGPsec: true, Time: testNow}); err != nil {
			t.Fatal(err)
		}
		doc, err := relay.Parse(&out, testNow)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if diff := cmp.Diff(itemsOf(set), itemsOf(doc.Set)); diff != "" || !doc.Generated.Equal(testNow) {
			t.Errorf("%s: generated %v; payload (-wrote +read):\n%s", format, doc.Generated, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const meta = `"metadata": {"generated": 1795435200}, `
	roa := func(fields string) string { return `{` + meta + `"roas": [` + fields + `]}` }
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "truncated"},
		{"truncated", `{"roas": [{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 24}`, "truncated"},
		{"truncated in an item", `{"roas": [{"asn": 1, "prefix": "192.0`, "truncated"},
		{"truncated after the list", `{"roas": []`, "truncated"},
		{"not an object", `[]`, "the document: want"},
		{"data after", `{"roas": []} {}`, "data after the document"},
		{"no roas", `{` + meta[:len(meta)-2] + `}`, "no roas list"},
		{"roas not a list", `{"roas": {}}`, "roas: want"},
		{"roas twice", `{"roas": [], "roas": []}`, `member "roas" twice`},
		{"syntax", `{"roas": [,]}`, "invalid character"},
		{"no asn", roa(`{"prefix": "192.0.2.0/24", "maxLength": 24}`), "roas item 1: asn: missing"},
		{"asn too large", roa(`{"asn": 4294967296, "prefix": "192.0.2.0/24", "maxLength": 24}`), "4294967296 is not an AS number"},
		{"asn negative", roa(`{"asn": -1, "prefix": "192.0.2.0/24", "maxLength": 24}`), "not an AS number"},
		{"asn fraction", roa(`{"asn": 1.5, "prefix": "192.0.2.0/24", "maxLength": 24}`), "not an AS number"},
		{"asn text", roa(`{"asn": "ASx", "prefix": "192.0.2.0/24", "maxLength": 24}`), `"ASx" is not an AS number`},
		{"asn AS alone", roa(`{"asn": "AS", "prefix": "192.0.2.0/24", "maxLength": 24}`), "not an AS number"},
		{"asn bool", roa(`{"asn": true, "prefix": "192.0.2.0/24", "maxLength": 24}`), "not an AS number"},
		{"no prefix", roa(`{"asn": 1, "maxLength": 24}`), "no prefix"},
		{"bad prefix", roa(`{"asn": 1, "prefix": "192.0.2.0", "maxLength": 24}`), `prefix "192.0.2.0" is not`},
		{"host bits", roa(`{"asn": 1, "prefix": "192.0.2.1/24", "maxLength": 24}`), "without host bits"},
		{"zone", roa(`{"asn": 1, "prefix": "fe80::%eth0/64", "maxLength": 64}`), "is not an address prefix"},
		{"prefix number", roa(`{"asn": 1, "prefix": 5, "maxLength": 24}`), "cannot unmarshal number"},
		{"no maxLength", roa(`{"asn": 1, "prefix": "192.0.2.0/24"}`), "no maxLength"},
		{"maxLength short", roa(`{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 23}`), "maxLength 23 is not between 24 and 32"},
		{"maxLength long", roa(`{"asn": 1, "prefix": "2001:db8::/32", "maxLength": 129}`), "maxLength 129 is not between 32 and 128"},
		{"maxLength text", roa(`{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": "x"}`), "roas item 1: "},
		{"second item bad", roa(`{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 24}, {"asn": 1}`), "roas item 2: "},
		{"expires text", roa(`{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 24, "expires": 1e99}`), "expires: "},
		{"generated text", `{"metadata": {"generated": "yesterday"}, "roas": []}`, "metadata"},
		{"generated huge", `{"metadata": {"generated": 99999999999999}, "roas": []}`, "metadata generated: 99999999999999 is not a time"},
		{"generatedTime", `{"metadata": {"generatedTime": "today"}, "roas": []}`, `metadata time "today" is not RFC 3339`},
		{"valid", `{"metadata": {"generated": 1, "valid": -99999999999999}, "roas": []}`, "metadata valid"},
		{"SKI short", `{"roas": [], "routerKeys": [{"asn": "AS1", "SKI": "ABCD", "routerPublicKey": "AAAA"}]}`, `routerKeys item 1: SKI "ABCD" is not 20 bytes`},
		{"key not base64", `{"roas": [], "bgpsec_keys": [{"asn": 1, "ski": "ABCD000000000000000000000000000000000001", "pubkey": "!!"}]}`, "public key"},
		{"key empty", `{"roas": [], "bgpsec_keys": [{"asn": 1, "ski": "ABCD000000000000000000000000000000000001"}]}`, "public key"},
		{"aspa no providers", `{"roas": [], "aspas": [{"customer": "AS1"}]}`, "aspas item 1: no providers"},
		{"aspa bad provider", `{"roas": [], "aspas": [{"customer_asid": 1, "providers": [2, "x"]}]}`, "provider 2: "},
		{"aspa no customer", `{"roas": [], "aspas": [{"providers": [2]}]}`, "customer: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := relay.Parse(strings.NewReader(tc.doc), testNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) || doc != nil {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		doc  relay.Document
		want string // "" for accepted
	}{
		{"fresh", relay.Document{Generated: testNow.Add(-time.Hour)}, ""},
		{"from the future", relay.Document{Generated: testNow.Add(time.Hour)}, ""},
		{"just in time", relay.Document{Generated: testNow.Add(-2 * time.Hour)}, ""},
		{"too old", relay.Document{Generated: testNow.Add(-2*time.Hour - time.Second)}, "generated 2026-11-23T09:59:59Z, more than 2h0m0s ago"},
		{"no time", relay.Document{}, "no generation time"},
		{"valid passed", relay.Document{Generated: testNow, Valid: testNow.Add(-time.Second)}, "valid until 2026-11-23T11:59:59Z only"},
		{"valid ahead", relay.Document{Generated: testNow, Valid: testNow.Add(time.Second)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.doc.Check(testNow, 2*time.Hour)
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// feedServer serves one document at a time with an ETag, answering 304
// to a request that names it.
type feedServer struct {
	mu       sync.Mutex
	body     []byte
	etag     string
	requests []string // If-None-Match of each request, "-" for none
	queries  []string // the query of each request
	*httptest.Server
}

func newFeedServer(t *testing.T) *feedServer {
	f := &feedServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		inm := r.Header.Get("If-None-Match")
		if inm == "" {
			inm = "-"
		}
		f.requests = append(f.requests, inm)
		f.queries = append(f.queries, r.URL.RawQuery)
		if f.etag != "" && inm == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if f.etag != "" {
			w.Header().Set("ETag", f.etag)
		}
		w.Write(f.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *feedServer) serve(body []byte, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag = body, etag
}

// lastQuery returns the query of the last request.
func (f *feedServer) lastQuery() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1]
}

func (f *feedServer) lastRequest() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func client(t *testing.T) *netio.HTTPClient {
	t.Helper()
	c, err := netio.NewHTTPClient(netio.HTTPConfig{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFeed polls a test server: a good document, the 304 path, refused
// documents that leave the last good one in place and are fetched in
// full again, a new document, and a stale one.
func TestFeed(t *testing.T) {
	good, err := os.ReadFile("testdata/routinator.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := newFeedServer(t)
	feed := relay.NewFeed(srv.URL+"/json", client(t), 2*time.Hour)
	ctx := context.Background()

	srv.serve(good, `"v1"`)
	doc, err := feed.Fetch(ctx, testNow)
	if err != nil || len(doc.Set.VRPs()) != 3 || srv.lastRequest() != "-" {
		t.Fatalf("first fetch: %v, request %s", err, srv.lastRequest())
	}
	if _, err := feed.Fetch(ctx, testNow); !errors.Is(err, netio.ErrNotModified) || srv.lastRequest() != `"v1"` {
		t.Errorf("unchanged: %v, If-None-Match %s", err, srv.lastRequest())
	}

	for _, bad := range []struct {
		name string
		body []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "truncated"},
		{"malformed", []byte(`{"roas": [{"asn": "AS1"}]}`), "roas item 1"},
		{"no time", []byte(`{"roas": []}`), "no generation time"},
		{"stale", bytes.Replace(good, []byte("1795435200"), []byte("1795420000"), 1), "more than 2h0m0s ago"},
	} {
		srv.serve(bad.body, `"bad"`)
		if doc, err := feed.Fetch(ctx, testNow); err == nil || !strings.Contains(err.Error(), bad.want) || doc != nil {
			t.Errorf("%s: %v, want %q", bad.name, err, bad.want)
		}
		// Still asked with the last good document's ETag.
		if srv.lastRequest() != `"v1"` {
			t.Errorf("%s: If-None-Match %s", bad.name, srv.lastRequest())
		}
	}

	next := bytes.Replace(good, []byte(`"AS64496", "prefix": "192.0.2.0/24"`), []byte(`"AS64497", "prefix": "192.0.2.0/24"`), 1)
	srv.serve(next, `"v2"`)
	doc, err = feed.Fetch(ctx, testNow)
	if err != nil || doc.Set.VRPs()[0].ASN != 64497 {
		t.Fatalf("new document: %v", err)
	}
	// The document kept grows old while the server has nothing newer.
	if _, err := feed.Fetch(ctx, testNow.Add(3*time.Hour)); err == nil || errors.Is(err, netio.ErrNotModified) || !strings.Contains(err.Error(), "document kept is too old") {
		t.Errorf("304 with an old document: %v", err)
	}

	srv.serve(good, "")
	relay.SetMaxSize(feed, int64(len(good)-1))
	if _, err := feed.Fetch(ctx, testNow); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", len(good)-1)) {
		t.Errorf("too large: %v", err)
	}
	relay.SetMaxSize(feed, int64(len(good)))
	if _, err := feed.Fetch(ctx, testNow); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}

	srv.Close()
	if _, err := feed.Fetch(ctx, testNow); err == nil {
		t.Error("fetch from a closed server")
	}
}

// FuzzParse reads arbitrary documents. An error comes without a
// document; a document read is written again in rovd's json format,
// which reads back to the same payload.
func FuzzParse(f *testing.F) {
	addSeeds(f, "testdata/*.json")
	f.Add([]byte(`{"roas": [], "aspas": [{"customer": "AS1", "providers": []}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := relay.Parse(bytes.NewReader(data), testNow)
		if err != nil {
			if doc != nil {
				t.Fatal("document with an error")
			}
			return
		}
		var out bytes.Buffer
		if err := output.Write(&out, doc.Set, output.Options{Format: "json", ASPA: true, BGPsec: true, Time: testNow}); err != nil {
			t.Fatal(err)
		}
		back, err := relay.Parse(&out, testNow)
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out.String())
		}
		a, b := itemsOf(doc.Set), itemsOf(back.Set)
		// The output names a VRP without a trust anchor N/A, as it does
		// the local exceptions.
		for i, ta := range a.TAs {
			if ta == "" {
				a.TAs[i] = "N/A"
			}
		}
		if !cmp.Equal(a, b) {
			t.Fatalf("read back differently:\n%s", cmp.Diff(a, b))
		}
	})
}

// addSeeds adds the files matching pattern to f's corpus.
func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
