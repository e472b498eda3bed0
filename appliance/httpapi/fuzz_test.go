package httpapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
)

// FuzzRequest sends arbitrary request URIs and conditional and encoding
// headers to the handler. Whatever comes in, the answer has a status
// the service uses, an error of an API path is the JSON {"error": ...},
// and a JSON answer (validity, json-delta, the json formats, the data
// of /ui) parses.
func FuzzRequest(f *testing.F) {
	for _, uri := range []string{
		"/csv", "/json?select-asn=AS64496&select-prefix=192.0.2.0/24", "/jsonext", "/slurm",
		"/api/v1/validity/AS64496/192.0.2.0/24", "/api/v1/validity/64497/2001:db8::/33",
		"/validity?asn=1&prefix=10.0.0.0/8", "/validity?asn=&prefix=%2f",
		"/json-delta", "/json-delta?session=4660&serial=7", "/json-delta?session=4660&serial=6",
		"/status", "/metrics", "/api/v1/origins/?x", "/%00", "/api/v1/validity//",
		"/ui", "/ui/", "/ui/data.json", "/ui/data.json?x=1",
	} {
		f.Add(uri, `"1234-7"`, "gzip", "")
	}
	f.Add("/csv", `W/"1234-7", *`, "gzip;q=0", "Sun, 01 Nov 2026 12:00:02 GMT")
	f.Add("/csv", `"`, ";;q=", "x")

	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	// A second serial, so that /json-delta has a delta to give.
	next := fixture()
	next.Serial++
	next.Set = setOf(true, vrp(64496, "192.0.2.0/24", 24))
	s.Publish(next)

	f.Fuzz(func(t *testing.T, uri, inm, accept, ims string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(uri)
		if inm != "" {
			ctx.Request.Header.Set("If-None-Match", inm)
		}
		if accept != "" {
			ctx.Request.Header.Set("Accept-Encoding", accept)
		}
		if ims != "" {
			ctx.Request.Header.Set("If-Modified-Since", ims)
		}
		s.Handle(&ctx)
		code := ctx.Response.StatusCode()
		switch code {
		case 200, 301, 304, 400, 404: // 301: /ui/ to /ui
		default:
			t.Fatalf("%q: status %d", uri, code)
		}
		body := ctx.Response.Body()
		ctype := string(ctx.Response.Header.ContentType())
		if code == 304 || ctype != "application/json" || len(ctx.Response.Header.ContentEncoding()) > 0 {
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%q: %d answer is not JSON: %v\n%s", uri, code, err, body)
		}
		if _, ok := doc["error"]; ok != (code != 200) {
			t.Fatalf("%q: status %d with body %s", uri, code, bytes.TrimSpace(body))
		}
	})
}
