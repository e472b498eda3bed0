package httpapi

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/appliance/validity"
	"github.com/rovd/rovd/engine/payload"
)

// Media types, Routinator's.
const (
	typeCSV  = "text/csv;charset=utf-8;header=present"
	typeJSON = "application/json"
	typeText = "text/plain;charset=utf-8"
)

// initialValidation is the body of the 503 answered until the first
// data set is published, Routinator's words.
const initialValidation = "Initial validation ongoing. Please wait."

// Header names and values set on the hot paths, as bytes so that
// setting them copies without converting.
var (
	hdrACAO            = []byte("Access-Control-Allow-Origin")
	hdrAllow           = []byte("Allow")
	hdrETag            = []byte("ETag")
	hdrLastModified    = []byte("Last-Modified")
	hdrVary            = []byte("Vary")
	hdrContentEncoding = []byte("Content-Encoding")
	valStar            = []byte("*")
	valGetHead         = []byte("GET, HEAD")
	valAcceptEncoding  = []byte("Accept-Encoding")
	valGzip            = []byte("gzip")
)

// formats are the output format paths, in output.Formats order.
var formats = [...]struct{ name, ctype string }{
	{"csv", typeCSV}, {"csvcompat", typeCSV}, {"csvext", typeCSV},
	{"json", typeJSON}, {"jsonext", typeJSON}, {"slurm", typeJSON},
	{"openbgpd", typeText}, {"bird1", typeText}, {"bird2", typeText},
	{"rpsl", typeText}, {"summary", typeText}, {"none", typeText},
}

const jsonFormat = 3 // index of json in formats

// formatOf returns the index in formats of the output path p.
func formatOf(p []byte) (int, bool) {
	if len(p) < 2 || p[0] != '/' {
		return 0, false
	}
	if string(p) == "/api/v1/origins/" {
		return jsonFormat, true // Routinator's older path of the json output
	}
	for i := range formats {
		if string(p[1:]) == formats[i].name {
			return i, true
		}
	}
	return 0, false
}

// handle is the request handler: it dispatches on the path.
func (s *Service) handle(ctx *fasthttp.RequestCtx) {
	s.requests.Add(1)
	path := ctx.Path()
	api := bytes.HasPrefix(path, []byte("/api/"))
	ctx.Response.Header.SetCanonical(hdrACAO, valStar)
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.SetCanonical(hdrAllow, valGetHead)
		fail(ctx, api, fasthttp.StatusMethodNotAllowed, "method not allowed")
		return
	}
	st := s.cur.Load()
	switch string(path) {
	case "/version":
		ctx.SetContentType(typeText)
		ctx.SetBodyString(s.cfg.Version)
		return
	case "/metrics":
		if st == nil {
			fail(ctx, false, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		s.serveMetrics(ctx, st)
		return
	case "/status":
		if st == nil {
			fail(ctx, false, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		ctx.SetContentType(typeText)
		ctx.SetBody(s.appendStatus(nil, st))
		return
	case "/log":
		if st == nil {
			fail(ctx, false, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		ctx.SetContentType(typeText)
		ctx.Response.SetBodyRaw(st.snap.Log)
		return
	case "/json-delta":
		if st == nil {
			fail(ctx, true, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		s.serveDelta(ctx, st)
		return
	case "/ui", "/ui/":
		serveUI(ctx)
		return
	case "/ui/data.json":
		if st == nil {
			fail(ctx, true, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		s.serveUIData(ctx, st)
		return
	case "/validity":
		if st == nil {
			fail(ctx, true, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		serveValidityQuery(ctx, st)
		return
	}
	if rest, ok := bytes.CutPrefix(path, []byte("/api/v1/validity/")); ok {
		if st == nil {
			fail(ctx, true, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		asn, prefix, ok := bytes.Cut(rest, []byte("/"))
		if !ok {
			fail(ctx, true, fasthttp.StatusBadRequest, "missing prefix in path")
			return
		}
		serveValidity(ctx, st, asn, prefix)
		return
	}
	if f, ok := formatOf(path); ok {
		if st == nil {
			fail(ctx, api, fasthttp.StatusServiceUnavailable, initialValidation)
			return
		}
		s.serveOutput(ctx, st, f, api)
		return
	}
	fail(ctx, api, fasthttp.StatusNotFound, "resource not found")
}

// fail answers an error: in JSON {"error": msg} on the API paths, else
// as plain text, as Routinator does.
func fail(ctx *fasthttp.RequestCtx, api bool, code int, msg string) {
	ctx.SetStatusCode(code)
	if !api {
		ctx.SetContentType(typeText)
		ctx.SetBodyString(msg)
		return
	}
	ctx.SetContentType(typeJSON)
	quoted, _ := json.Marshal(msg) // a string always marshals
	b := append([]byte("{\n   \"error\": "), quoted...)
	ctx.SetBody(append(b, "\n}"...))
}

// notModified sets the validators of st's data set on the answer, etag
// being the entity tag of the representation about to be sent, and
// answers 304 if the request's conditions say the client has it. As RFC
// 9110 §13.1.3 says, If-Modified-Since counts only without If-None-Match.
func notModified(ctx *fasthttp.RequestCtx, st *state, etag []byte) bool {
	h := &ctx.Response.Header
	h.SetCanonical(hdrETag, etag)
	h.SetCanonical(hdrLastModified, st.lastModified)
	match := false
	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 {
		match = etagMatches(inm, st.tag)
	} else if ims := ctx.Request.Header.Peek("If-Modified-Since"); len(ims) > 0 {
		// HTTP dates have whole seconds.
		t, err := fasthttp.ParseHTTPDate(ims)
		match = err == nil && !st.created.Truncate(time.Second).After(t)
	}
	if match {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		ctx.Response.SkipBody = true
	}
	return match
}

// etagMatches reports whether the If-None-Match value list names the
// data set whose tag is tag, in either encoding. Comparison is weak (RFC
// 9110 §13.1.2): a W/ prefix is ignored. A malformed rest of the list is
// ignored too; at worst the client gets the full answer.
func etagMatches(list, tag []byte) bool {
	for len(list) > 0 {
		list = bytes.TrimLeft(list, " \t,")
		if len(list) > 0 && list[0] == '*' {
			return true
		}
		list = bytes.TrimPrefix(list, []byte("W/"))
		if len(list) == 0 || list[0] != '"' {
			return false
		}
		end := bytes.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		opaque := list[1 : 1+end]
		list = list[2+end:]
		if rest, ok := bytes.CutPrefix(opaque, tag); ok && (len(rest) == 0 || string(rest) == "-gzip") {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip: it
// names gzip, x-gzip or * without q=0 (RFC 9110 §12.5.3).
func acceptsGzip(v []byte) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte(","))
		coding, params, _ := bytes.Cut(item, []byte(";"))
		coding = bytes.TrimSpace(coding)
		if !bytes.EqualFold(coding, []byte("gzip")) && !bytes.EqualFold(coding, []byte("x-gzip")) && string(coding) != "*" {
			continue
		}
		return !zeroQ(params)
	}
	return false
}

// zeroQ reports whether the parameters of an Accept-Encoding item say
// q=0 (or 0.0, 0.00, 0.000).
func zeroQ(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, val, ok := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			continue
		}
		val = bytes.TrimSpace(val)
		if len(val) == 0 || val[0] != '0' {
			return false
		}
		return len(bytes.Trim(val[1:], ".0")) == 0
	}
	return false
}

// maxSelectors bounds the select-asn and select-prefix fields of one
// request: each costs a comparison per VRP, and 256 of them over the
// global set take about a fifth of a second.
const maxSelectors = 256

// errInvalidQuery is Routinator's answer to any query it cannot use.
const errInvalidQuery = "invalid query"

// parseSelection reads the selectors of an output path's query.
func parseSelection(args *fasthttp.Args) (output.Selection, bool) {
	var sel output.Selection
	n := 0
	for k, v := range args.All() {
		if n++; n > maxSelectors {
			return sel, false
		}
		switch string(k) {
		case "select-asn", "filter-asn":
			asn, err := validity.ParseASN(string(v))
			if err != nil {
				return sel, false
			}
			sel.ASNs = append(sel.ASNs, asn)
		case "select-prefix", "filter-prefix":
			p, err := netip.ParsePrefix(string(v))
			if err != nil {
				return sel, false
			}
			sel.Prefixes = append(sel.Prefixes, p.Masked())
		default:
			return sel, false
		}
	}
	return sel, true
}

// serveOutput answers an output format path. The unfiltered answer is
// rendered once per data set and served from memory, in gzip if the
// client takes it; a filtered one is rendered for the request.
func (s *Service) serveOutput(ctx *fasthttp.RequestCtx, st *state, f int, api bool) {
	name := formats[f].name
	if args := ctx.QueryArgs(); args.Len() > 0 {
		sel, ok := parseSelection(args)
		if !ok {
			fail(ctx, api, fasthttp.StatusBadRequest, errInvalidQuery)
			return
		}
		if notModified(ctx, st, st.etag) {
			return
		}
		body, err := st.render(name, sel)
		if err != nil {
			s.log.Error("http output", "format", name, "err", err)
			fail(ctx, api, fasthttp.StatusInternalServerError, "internal server error")
			return
		}
		ctx.SetContentType(formats[f].ctype)
		ctx.Response.SetBodyRaw(body)
		return
	}
	ctx.Response.Header.SetCanonical(hdrVary, valAcceptEncoding)
	gz := name != "none" && acceptsGzip(ctx.Request.Header.Peek("Accept-Encoding"))
	etag := st.etag
	if gz {
		etag = st.etagGzip
	}
	if notModified(ctx, st, etag) {
		return
	}
	r := &st.outputs[f]
	body, err := r.get(func() ([]byte, error) { return st.render(name, output.Selection{}) })
	if err != nil {
		s.log.Error("http output", "format", name, "err", err)
		fail(ctx, api, fasthttp.StatusInternalServerError, "internal server error")
		return
	}
	ctx.SetContentType(formats[f].ctype)
	if gz {
		body = r.gzipped(body)
		ctx.Response.Header.SetCanonical(hdrContentEncoding, valGzip)
	}
	ctx.Response.SetBodyRaw(body)
}

// render writes the data set in format, as far as sel selects.
func (st *state) render(format string, sel output.Selection) ([]byte, error) {
	opt := st.opt
	opt.Format = format
	opt.Selection = sel
	var b bytes.Buffer
	if sel.Empty() {
		// A large answer is written twice, first only to count its
		// bytes: growing a buffer by doubling touches two to three times
		// the answer's size in fresh memory, which costs more than
		// formatting it again (hundreds of megabytes for jsonext of the
		// global set).
		var n countingWriter
		if err := output.Write(&n, st.snap.Set, opt); err != nil {
			return nil, err
		}
		b.Grow(int(n))
	}
	if err := output.Write(&b, st.snap.Set, opt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// countingWriter counts what is written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// validityScratch is one validity answer's working space: the VRPs
// covering the route (payload.Set.AppendValidity) and the JSON built
// from them before it is copied into the response.
type validityScratch struct {
	vrps []payload.VRP
	json []byte
}

// scratch pools validityScratch, as fasthttp pools the responses: the
// hot path allocates nothing once both pools are warm.
var scratch = sync.Pool{New: func() any { return &validityScratch{json: make([]byte, 0, 2048)} }}

// serveValidityQuery answers /validity?asn=ASN&prefix=PREFIX.
func serveValidityQuery(ctx *fasthttp.RequestCtx, st *state) {
	args := ctx.QueryArgs()
	if args.Len() == 0 {
		fail(ctx, true, fasthttp.StatusBadRequest, "missing query arguments")
		return
	}
	var asn, prefix []byte
	var hasASN, hasPrefix bool
	for k, v := range args.All() {
		switch string(k) {
		case "asn":
			asn, hasASN = v, true
		case "prefix":
			prefix, hasPrefix = v, true
		default:
			fail(ctx, true, fasthttp.StatusBadRequest, "unexpected argument '"+string(k)+"' in query")
			return
		}
	}
	switch {
	case !hasASN:
		fail(ctx, true, fasthttp.StatusBadRequest, "missing 'asn' argument in query")
	case !hasPrefix:
		fail(ctx, true, fasthttp.StatusBadRequest, "missing 'prefix' argument in query")
	default:
		serveValidity(ctx, st, asn, prefix)
	}
}

// serveValidity answers the validity of the route for prefix originated
// by asn in the RIPE NCC RPKI Validator's JSON. Host bits of the prefix
// are cleared, as Routinator does.
func serveValidity(ctx *fasthttp.RequestCtx, st *state, asnText, prefixText []byte) {
	asn, err := validity.ParseASN(bytesString(asnText))
	if err != nil {
		fail(ctx, true, fasthttp.StatusBadRequest, "invalid ASN")
		return
	}
	p, err := netip.ParsePrefix(bytesString(prefixText))
	if err != nil {
		fail(ctx, true, fasthttp.StatusBadRequest, "invalid prefix")
		return
	}
	sc := scratch.Get().(*validityScratch)
	r := validity.Route{Prefix: p.Masked(), ASN: asn}
	var res payload.Result
	res, sc.vrps = st.snap.Set.AppendValidity(sc.vrps[:0], r.Prefix, r.ASN)
	sc.json = validity.AppendResultJSON(sc.json[:0], r, &res, st.created)
	ctx.SetContentType(typeJSON)
	ctx.SetBody(sc.json)
	scratch.Put(sc)
}

// bytesString returns b as a string without copying. The string must
// not outlive the call it is passed to, nor b change meanwhile: it is
// for parsers that keep nothing of their input on success (ParseASN,
// netip.ParsePrefix), and b is request memory that lives until the
// handler returns.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
