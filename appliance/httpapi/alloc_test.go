//go:build !race

package httpapi_test

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
)

// The race detector allocates on its own, hence the build tag.

// TestHotPathAllocs keeps the validity lookups and the cached outputs
// free of allocations per request, as fasthttp's own handlers are: the
// request and response memory is fasthttp's, reused, and the answers
// are prebuilt or built in pooled scratch space, the VRP lists of a
// covered route's answer included (payload.Set.AppendValidity).
func TestHotPathAllocs(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	tests := []struct {
		name    string
		uri     string
		headers [][2]string
		want    float64
	}{
		{"validity not found", "/api/v1/validity/AS1/100.64.0.0/10", nil, 0},
		{"validity IPv6 not found", "/api/v1/validity/AS1/2a00:ffff:ffff:ffff:ffff:ffff:ffff:0/112", nil, 0},
		{"validity query not found", "/validity?asn=AS1&prefix=100.64.0.0/10", nil, 0},
		{"validity covered", "/api/v1/validity/AS64496/192.0.2.0/24", nil, 0},
		{"validity query covered", "/validity?asn=AS64496&prefix=192.0.2.0/24", nil, 0},
		{"cached csv", "/csv", nil, 0},
		{"cached csv gzip", "/csv", [][2]string{{"Accept-Encoding", "gzip, deflate"}}, 0},
		{"cached json not modified", "/json", [][2]string{{"If-None-Match", `"1234-7"`}}, 0},
		{"version", "/version", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			req := func() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.SetRequestURI(tc.uri)
				for _, h := range tc.headers {
					ctx.Request.Header.Set(h[0], h[1])
				}
				s.Handle(&ctx)
			}
			req() // renders the cached answers, grows the buffers
			if code := ctx.Response.StatusCode(); code != 200 && code != 304 {
				t.Fatalf("status %d: %s", code, ctx.Response.Body())
			}
			if got := testing.AllocsPerRun(200, req); got != tc.want {
				t.Errorf("%v allocations per request, want %v", got, tc.want)
			}
		})
	}
}
