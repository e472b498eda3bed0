package httpapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/output"
)

// benchVRPs is the set size of the request benchmarks: a sixth of the
// global set, enough that lookups walk a real index.
const benchVRPs = 100_000

// globalVRPs is the size RenderAll renders: the global set of the
// coming years.
const globalVRPs = 800_000

func benchService(b *testing.B, n int) *httpapi.Service {
	s := httpapi.New(httpapi.Config{Version: "bench", EnableASPA: true, EnableBGPsec: true})
	snap := fixture()
	snap.Set = bigSet(n)
	s.Publish(snap)
	return s
}

// handlerLoop runs the handler on one reused request context, as a
// fasthttp worker does, for the URIs in turn.
func handlerLoop(b *testing.B, s *httpapi.Service, uris []string, headers ...string) {
	var ctx fasthttp.RequestCtx
	do := func(uri string) {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.SetRequestURI(uri)
		for j := 0; j+1 < len(headers); j += 2 {
			ctx.Request.Header.Set(headers[j], headers[j+1])
		}
		s.Handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("%s: %d", uri, ctx.Response.StatusCode())
		}
	}
	// The first requests build the lookup index, render the cached
	// answers and grow the buffers: once per serial, not per request.
	for _, u := range uris {
		do(u)
	}
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do(uris[i%len(uris)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// loopbackLoop has parallel clients send the URIs over loopback
// connections; the allocations counted are the client's and the
// server's together.
func loopbackLoop(b *testing.B, s *httpapi.Service, uris []string, headers ...string) {
	base := serve(b, s)
	hc := &fasthttp.HostClient{Addr: strings.TrimPrefix(base, "http://"), MaxConns: 64}
	for _, u := range uris {
		if code, _, err := hc.Get(nil, base+u); err != nil || code != 200 {
			b.Fatalf("%s: %d %v", u, code, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for j := 0; j+1 < len(headers); j += 2 {
			req.Header.Set(headers[j], headers[j+1])
		}
		i := 0
		for pb.Next() {
			req.SetRequestURI(base + uris[i%len(uris)])
			if err := hc.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 200 {
				b.Errorf("%s: %d", uris[i%len(uris)], resp.StatusCode())
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// validityURIs are lookups in bigSet: half of them covered (valid or
// invalid), half not found, a quarter IPv6.
func validityURIs() []string {
	var uris []string
	for i := range 64 {
		var p string
		switch i % 4 {
		case 0:
			p = bigV4(i * 400).String() // covered
		case 1:
			p = "100.64." + strconv.Itoa(i) + ".0/24" // not found
		case 2:
			p = bigV6(i*400 + 3).String() // covered
		default:
			p = "2001:db8:" + strconv.Itoa(i) + "::/48" // not found
		}
		uris = append(uris, "/api/v1/validity/AS"+strconv.Itoa(64496+i)+"/"+p)
	}
	return uris
}

// BenchmarkValidity measures the validity API: the handler alone on a
// reused request, as fasthttp runs it, and whole requests over loopback.
// No lookup allocates: the VRP lists of a covered route are kept in
// pooled scratch space.
func BenchmarkValidity(b *testing.B) {
	s := benchService(b, benchVRPs)
	uris := validityURIs()
	var notFound, covered []string
	for i, u := range uris {
		if i%2 == 1 {
			notFound = append(notFound, u)
		} else {
			covered = append(covered, u)
		}
	}
	b.Run("handler/not-found", func(b *testing.B) { handlerLoop(b, s, notFound) })
	b.Run("handler/covered", func(b *testing.B) { handlerLoop(b, s, covered) })
	b.Run("handler/query", func(b *testing.B) {
		handlerLoop(b, s, []string{"/validity?asn=AS64496&prefix=100.64.0.0/10"})
	})
	b.Run("loopback", func(b *testing.B) { loopbackLoop(b, s, uris) })
}

// BenchmarkCachedCSV measures serving /csv from memory once rendered.
func BenchmarkCachedCSV(b *testing.B) {
	s := benchService(b, benchVRPs)
	b.Run("handler", func(b *testing.B) { handlerLoop(b, s, []string{"/csv"}) })
	b.Run("handler/gzip", func(b *testing.B) { handlerLoop(b, s, []string{"/csv"}, "Accept-Encoding", "gzip") })
	b.Run("loopback/gzip", func(b *testing.B) { loopbackLoop(b, s, []string{"/csv"}, "Accept-Encoding", "gzip") })
}

// BenchmarkRenderAll measures the first request of every output format
// and of a /json-delta reset after a new serial of 800,000 VRPs: what a
// new data set costs when every format is asked for. Each operation is
// one serial; bytes are the answers' total size.
func BenchmarkRenderAll(b *testing.B) {
	s := httpapi.New(httpapi.Config{Version: "bench", EnableASPA: true, EnableBGPsec: true})
	snap := fixture()
	snap.Set = bigSet(globalVRPs)
	paths := []string{"/json-delta"}
	for _, f := range output.Formats {
		paths = append(paths, "/"+f)
	}
	var ctx fasthttp.RequestCtx
	var size int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap.Serial++
		s.Publish(snap)
		size = 0
		for _, p := range paths {
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.SetRequestURI(p)
			s.Handle(&ctx)
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("%s: %d", p, ctx.Response.StatusCode())
			}
			size += int64(len(ctx.Response.Body()))
		}
	}
	b.SetBytes(size)
	b.ReportMetric(float64(size)/1e6, "MB/serial")
}
