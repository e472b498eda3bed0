package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/appliance/validity"
)

// client talks to the service without Go's transparent gzip, so that
// the tests see the encoding the service chose.
var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// render is what appliance/output writes for the fixture in format f.
func render(t *testing.T, f string, sel output.Selection) []byte {
	t.Helper()
	snap := fixture()
	opt := output.Options{
		Format: f, Selection: sel, ASPA: true, BGPsec: true,
		Time:     t0.Add(fixtureElapsed),
		ROAsByTA: map[string]int{"ripe": 1, "apnic": 2},
	}
	var b bytes.Buffer
	if err := output.Write(&b, snap.Set, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func validityJSON(asn uint32, prefix string) []byte {
	r := validity.Route{ASN: asn, Prefix: netip.MustParsePrefix(prefix)}
	return validity.AppendSingleJSON(nil, fixture().Set, r, t0.Add(fixtureElapsed))
}

const (
	csvType  = "text/csv;charset=utf-8;header=present"
	jsonType = "application/json"
	textType = "text/plain;charset=utf-8"
)

func TestPaths(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	base := serve(t, s)
	etag := `"1234-7"`
	lastModified := t0.Add(fixtureElapsed).Format(http.TimeFormat)
	jsonErr := func(msg string) string { return "{\n   \"error\": \"" + msg + "\"\n}" }

	tests := []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		code     int
		ctype    string
		body     string // exact, if not empty
		contains string // a part of the body, if not empty
	}{
		{name: "version", path: "/version", code: 200, ctype: textType, body: "0.1.0-test"},
		{name: "status", path: "/status", code: 200, ctype: textType, contains: "serial: 7\n"},
		{name: "metrics", path: "/metrics", code: 200, ctype: "text/plain; version=0.0.4; charset=utf-8", contains: "routinator_serial 7\n"},
		{name: "log", path: "/log", code: 200, ctype: textType, body: string(fixture().Log)},
		{name: "json delta without version", path: "/json-delta", code: 200, ctype: jsonType, contains: "\"reset\": true"},

		{name: "validity path valid", path: "/api/v1/validity/AS64496/192.0.2.0/24", code: 200, ctype: jsonType, body: string(validityJSON(64496, "192.0.2.0/24"))},
		{name: "validity path plain ASN", path: "/api/v1/validity/64497/2001:db8::/48", code: 200, ctype: jsonType, body: string(validityJSON(64497, "2001:db8::/48"))},
		{name: "validity path host bits cleared", path: "/api/v1/validity/AS64496/192.0.2.77/24", code: 200, ctype: jsonType, body: string(validityJSON(64496, "192.0.2.0/24"))},
		{name: "validity path invalid length", path: "/api/v1/validity/AS64496/198.51.100.0/25", code: 200, ctype: jsonType, contains: `"reason": "length"`},
		{name: "validity path not found", path: "/api/v1/validity/AS1/100.64.0.0/10", code: 200, ctype: jsonType, contains: `"state": "not-found"`},
		{name: "validity path bad ASN", path: "/api/v1/validity/ASx/192.0.2.0/24", code: 400, ctype: jsonType, body: jsonErr("invalid ASN")},
		{name: "validity path bad prefix", path: "/api/v1/validity/AS1/192.0.2.0", code: 400, ctype: jsonType, body: jsonErr("invalid prefix")},
		{name: "validity path no prefix", path: "/api/v1/validity/AS1", code: 400, ctype: jsonType, body: jsonErr("missing prefix in path")},
		{name: "validity query", path: "/validity?asn=AS64497&prefix=198.51.100.0/24", code: 200, ctype: jsonType, body: string(validityJSON(64497, "198.51.100.0/24"))},
		{name: "validity query escaped", path: "/validity?asn=64497&prefix=198.51.100.0%2F24", code: 200, ctype: jsonType, body: string(validityJSON(64497, "198.51.100.0/24"))},
		{name: "validity query empty", path: "/validity", code: 400, ctype: jsonType, body: jsonErr("missing query arguments")},
		{name: "validity query no prefix", path: "/validity?asn=1", code: 400, ctype: jsonType, body: jsonErr("missing 'prefix' argument in query")},
		{name: "validity query no asn", path: "/validity?prefix=10.0.0.0/8", code: 400, ctype: jsonType, body: jsonErr("missing 'asn' argument in query")},
		{name: "validity query extra argument", path: "/validity?asn=1&prefix=10.0.0.0/8&x=1", code: 400, ctype: jsonType, body: jsonErr("unexpected argument 'x' in query")},
		{name: "validity query bad asn", path: "/validity?asn=AS-1&prefix=10.0.0.0/8", code: 400, ctype: jsonType, body: jsonErr("invalid ASN")},

		{name: "json delta session only", path: "/json-delta?session=1", code: 400, ctype: jsonType, body: jsonErr("missing 'serial' argument in query")},
		{name: "json delta serial only", path: "/json-delta?serial=1", code: 400, ctype: jsonType, body: jsonErr("missing 'session' argument in query")},
		{name: "json delta bad session", path: "/json-delta?session=x&serial=1", code: 400, ctype: jsonType, body: jsonErr("invalid 'session' argument in query")},
		{name: "json delta bad serial", path: "/json-delta?session=1&serial=4294967296", code: 400, ctype: jsonType, body: jsonErr("invalid 'serial' argument in query")},
		{name: "json delta duplicate", path: "/json-delta?session=1&session=1&serial=2", code: 400, ctype: jsonType, body: jsonErr("duplicate 'session' argument in query")},
		{name: "json delta extra argument", path: "/json-delta?session=1&serial=2&x=", code: 400, ctype: jsonType, body: jsonErr("unexpected argument 'x' in query")},

		{name: "csv select asn", path: "/csv?select-asn=AS64496", code: 200, ctype: csvType, body: string(render(t, "csv", output.Selection{ASNs: []uint32{64496}}))},
		{name: "csv select asn repeated", path: "/csv?select-asn=64496&select-asn=64497", code: 200, ctype: csvType, body: string(render(t, "csv", output.Selection{ASNs: []uint32{64496, 64497}}))},
		{name: "json select prefix", path: "/json?select-prefix=198.51.100.0/24", code: 200, ctype: jsonType, body: string(render(t, "json", output.Selection{Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}))},
		{name: "csv filter alias", path: "/csv?filter-asn=64497", code: 200, ctype: csvType, body: string(render(t, "csv", output.Selection{ASNs: []uint32{64497}}))},
		{name: "csv bad asn", path: "/csv?select-asn=x", code: 400, ctype: textType, body: "invalid query"},
		{name: "csv bad prefix", path: "/csv?select-prefix=10.0.0.0", code: 400, ctype: textType, body: "invalid query"},
		{name: "csv unknown field", path: "/csv?format=json", code: 400, ctype: textType, body: "invalid query"},
		{name: "origins api bad field", path: "/api/v1/origins/?x=1", code: 400, ctype: jsonType, body: jsonErr("invalid query")},
		{name: "origins api", path: "/api/v1/origins/", code: 200, ctype: jsonType, body: string(render(t, "json", output.Selection{}))},

		{name: "unknown path", path: "/nope", code: 404, ctype: textType, body: "resource not found"},
		{name: "unknown API path", path: "/api/v1/nope", code: 404, ctype: jsonType, body: jsonErr("resource not found")},
		{name: "trailing slash", path: "/csv/", code: 404, ctype: textType, body: "resource not found"},
		{name: "POST", method: "POST", path: "/csv", code: 405, ctype: textType, body: "method not allowed"},
		{name: "DELETE unknown", method: "DELETE", path: "/nope", code: 405, ctype: textType, body: "method not allowed"},
		{name: "PUT API", method: "PUT", path: "/api/v1/validity/AS1/10.0.0.0/8", code: 405, ctype: jsonType, body: jsonErr("method not allowed")},
	}
	for _, f := range output.Formats {
		ctype := textType
		switch f {
		case "csv", "csvcompat", "csvext":
			ctype = csvType
		case "json", "jsonext", "slurm":
			ctype = jsonType
		}
		tests = append(tests, struct {
			name     string
			method   string
			path     string
			header   map[string]string
			code     int
			ctype    string
			body     string
			contains string
		}{name: "format " + f, path: "/" + f, code: 200, ctype: ctype, body: string(render(t, f, output.Selection{}))})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			a := do(t, method, base+tc.path, tc.header)
			if a.code != tc.code {
				t.Errorf("status %d, want %d (body %q)", a.code, tc.code, a.body)
			}
			if got := a.header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := a.header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			if tc.code == 405 && a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", a.header.Get("Allow"))
			}
			if tc.body != "" && string(a.body) != tc.body {
				t.Errorf("body\n%s\nwant\n%s", a.body, tc.body)
			}
			if tc.contains != "" && !bytes.Contains(a.body, []byte(tc.contains)) {
				t.Errorf("body lacks %q:\n%s", tc.contains, a.body)
			}
			if strings.HasPrefix(tc.path, "/csv") && tc.code == 200 {
				if a.header.Get("ETag") != etag || a.header.Get("Last-Modified") != lastModified {
					t.Errorf("ETag %q, Last-Modified %q; want %q, %q", a.header.Get("ETag"), a.header.Get("Last-Modified"), etag, lastModified)
				}
			}
		})
	}
}

// TestBeforeFirstData checks the answers until a data set is published.
func TestBeforeFirstData(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	base := serve(t, s)
	const msg = "Initial validation ongoing. Please wait."
	jsonMsg := "{\n   \"error\": \"" + msg + "\"\n}"
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/version", 200, "0.1.0-test"},
		{"/csv", 503, msg},
		{"/json?select-asn=1", 503, msg},
		{"/summary", 503, msg},
		{"/status", 503, msg},
		{"/metrics", 503, msg},
		{"/log", 503, msg},
		{"/json-delta", 503, jsonMsg},
		{"/validity?asn=1&prefix=10.0.0.0/8", 503, jsonMsg},
		{"/api/v1/validity/AS1/10.0.0.0/8", 503, jsonMsg},
		{"/api/v1/origins/", 503, jsonMsg},
		{"/nope", 404, "resource not found"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			a := do(t, "GET", base+tc.path, nil)
			if a.code != tc.code || string(a.body) != tc.body {
				t.Errorf("%d %q, want %d %q", a.code, a.body, tc.code, tc.body)
			}
		})
	}
	s.Publish(fixture())
	if a := do(t, "GET", base+"/csv", nil); a.code != 200 {
		t.Errorf("after Publish: /csv answers %d", a.code)
	}
}

func TestConditionalAndGzip(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	base := serve(t, s)
	full := render(t, "csv", output.Selection{})
	lm := t0.Add(fixtureElapsed).Format(http.TimeFormat)
	tests := []struct {
		name   string
		path   string
		header map[string]string
		code   int
		gzip   bool
		etag   string
	}{
		{"no condition", "/csv", nil, 200, false, `"1234-7"`},
		{"matching tag", "/csv", map[string]string{"If-None-Match": `"1234-7"`}, 304, false, `"1234-7"`},
		{"weak tag", "/csv", map[string]string{"If-None-Match": `W/"1234-7"`}, 304, false, `"1234-7"`},
		{"tag in a list", "/csv", map[string]string{"If-None-Match": `"x", "1234-6" ,"1234-7"`}, 304, false, `"1234-7"`},
		{"star", "/csv", map[string]string{"If-None-Match": `*`}, 304, false, `"1234-7"`},
		{"other serial", "/csv", map[string]string{"If-None-Match": `"1234-6"`}, 200, false, `"1234-7"`},
		{"other session", "/csv", map[string]string{"If-None-Match": `"1235-7"`}, 200, false, `"1234-7"`},
		{"malformed tag", "/csv", map[string]string{"If-None-Match": `1234-7`}, 200, false, `"1234-7"`},
		{"modified since before", "/csv", map[string]string{"If-Modified-Since": t0.Add(-time.Hour).Format(http.TimeFormat)}, 200, false, `"1234-7"`},
		{"not modified since", "/csv", map[string]string{"If-Modified-Since": lm}, 304, false, `"1234-7"`},
		{"tag beats date", "/csv", map[string]string{"If-None-Match": `"1234-6"`, "If-Modified-Since": lm}, 200, false, `"1234-7"`},
		{"bad date", "/csv", map[string]string{"If-Modified-Since": "yesterday"}, 200, false, `"1234-7"`},
		{"gzip", "/csv", map[string]string{"Accept-Encoding": "gzip, deflate, br"}, 200, true, `"1234-7-gzip"`},
		{"gzip refused", "/csv", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, 200, false, `"1234-7"`},
		{"gzip tag matches", "/csv", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"1234-7-gzip"`}, 304, true, `"1234-7-gzip"`},
		{"filtered with tag", "/csv?select-asn=1", map[string]string{"If-None-Match": `"1234-7"`}, 304, false, `"1234-7"`},
		{"filtered never gzip", "/csv?select-asn=64496", map[string]string{"Accept-Encoding": "gzip"}, 200, false, `"1234-7"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, "GET", base+tc.path, tc.header)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d", a.code, tc.code)
			}
			if got := a.header.Get("ETag"); got != tc.etag {
				t.Errorf("ETag %q, want %q", got, tc.etag)
			}
			if got := a.header.Get("Last-Modified"); got != lm {
				t.Errorf("Last-Modified %q, want %q", got, lm)
			}
			enc := a.header.Get("Content-Encoding")
			if (enc == "gzip") != (tc.gzip && tc.code == 200) {
				t.Errorf("Content-Encoding %q", enc)
			}
			switch {
			case tc.code == 304:
				if len(a.body) != 0 {
					t.Errorf("304 with a body of %d bytes", len(a.body))
				}
			case tc.gzip:
				zr, err := gzip.NewReader(bytes.NewReader(a.body))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(plain, full) {
					t.Errorf("gunzipped body differs (%v)", err)
				}
			case tc.path == "/csv" && !bytes.Equal(a.body, full):
				t.Errorf("body differs from the csv output")
			}
		})
	}
}

func TestHEAD(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	base := serve(t, s)
	for _, path := range []string{"/csv", "/jsonext", "/status", "/metrics", "/api/v1/validity/AS1/10.0.0.0/8", "/json-delta"} {
		t.Run(path, func(t *testing.T) {
			get := do(t, "GET", base+path, nil)
			head := do(t, "HEAD", base+path, nil)
			if head.code != 200 || len(head.body) != 0 {
				t.Errorf("HEAD: %d with %d bytes", head.code, len(head.body))
			}
			if path == "/csv" || path == "/jsonext" {
				if cl := head.header.Get("Content-Length"); cl != strconv.Itoa(len(get.body)) {
					t.Errorf("HEAD Content-Length %s, GET body %d bytes", cl, len(get.body))
				}
			}
		})
	}
}

// TestLimits sends requests beyond the size limits.
func TestLimits(t *testing.T) {
	s := httpapi.New(httpapi.Config{MaxHeaderSize: 4096})
	s.Publish(fixture())
	base := serve(t, s)
	if a := do(t, "GET", base+"/csv?select-asn="+strings.Repeat("1", 8000), nil); a.code != fasthttp.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("long URL: %d, want 431", a.code)
	}
	if a := do(t, "GET", base+"/csv", map[string]string{"X-Padding": strings.Repeat("x", 8000)}); a.code != fasthttp.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("large header: %d, want 431", a.code)
	}
	q := strings.Repeat("select-asn=1&", 257)
	if a := do(t, "GET", base+"/csv?"+q, nil); a.code != 400 {
		t.Errorf("257 selectors: %d, want 400", a.code)
	}
	if a := do(t, "GET", base+"/version", nil); a.code != 200 {
		t.Errorf("normal request after the refused ones: %d", a.code)
	}
}

func TestETagMatches(t *testing.T) {
	tests := []struct {
		list string
		want bool
	}{
		{`"a-1"`, true},
		{`"a-1-gzip"`, true},
		{`W/"a-1"`, true},
		{` , "b", W/"a-1"`, true},
		{`*`, true},
		{`"a-10"`, false},
		{`"a-1-br"`, false},
		{`"a-`, false},
		{`a-1`, false},
		{``, false},
		{`"b", garbage "a-1"`, false},
	}
	for _, tc := range tests {
		if got := httpapi.EtagMatches([]byte(tc.list), []byte("a-1")); got != tc.want {
			t.Errorf("EtagMatches(%q) = %v, want %v", tc.list, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"x-gzip", true},
		{"*", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"br, deflate", false},
		{"identity", false},
		{"", false},
		{"gzipx", false},
	}
	for _, tc := range tests {
		if got := httpapi.AcceptsGzip([]byte(tc.value)); got != tc.want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestBytesString(t *testing.T) {
	b := []byte("AS64496")
	if s := httpapi.BytesString(b); s != "AS64496" {
		t.Errorf("got %q", s)
	}
	if s := httpapi.BytesString(nil); s != "" {
		t.Errorf("nil: got %q", s)
	}
}

func TestISODuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{2500 * time.Millisecond, "PT2.5S"},
		{time.Minute, "PT60S"},
		{26 * time.Hour, "P1DT7200S"},
		{-time.Second, "-PT1S"},
		{time.Nanosecond, "PT0.000000001S"},
	}
	for _, tc := range tests {
		if got := httpapi.ISODuration(tc.d); got != tc.want {
			t.Errorf("ISODuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
