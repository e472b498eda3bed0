package httpapi

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/engine/payload"
)

// version is a data set version named in a /json-delta query.
type version struct {
	session uint64
	serial  uint32
}

// parseVersion reads the query of /json-delta: both session and serial
// or neither. The error texts are Routinator's.
func parseVersion(args *fasthttp.Args) (v version, given bool, errMsg string) {
	var hasSession, hasSerial bool
	for k, val := range args.All() {
		switch string(k) {
		case "session":
			if hasSession {
				return v, false, "duplicate 'session' argument in query"
			}
			n, err := strconv.ParseUint(string(val), 10, 64)
			if err != nil {
				return v, false, "invalid 'session' argument in query"
			}
			v.session, hasSession = n, true
		case "serial":
			if hasSerial {
				return v, false, "duplicate 'serial' argument in query"
			}
			n, err := strconv.ParseUint(string(val), 10, 32)
			if err != nil {
				return v, false, "invalid 'serial' argument in query"
			}
			v.serial, hasSerial = uint32(n), true
		default:
			return v, false, "unexpected argument '" + string(k) + "' in query"
		}
	}
	switch {
	case hasSession && !hasSerial:
		return v, false, "missing 'serial' argument in query"
	case hasSerial && !hasSession:
		return v, false, "missing 'session' argument in query"
	}
	return v, hasSession, ""
}

// serveDelta answers /json-delta: the changes since the version the
// client names if the history reaches back to it, else the whole set
// with "reset": true.
func (s *Service) serveDelta(ctx *fasthttp.RequestCtx, st *state) {
	v, given, errMsg := parseVersion(ctx.QueryArgs())
	if errMsg != "" {
		fail(ctx, true, fasthttp.StatusBadRequest, errMsg)
		return
	}
	ctx.SetContentType(typeJSON)
	if given && v.session == uint64(st.snap.Session) {
		if steps, ok := st.stepsSince(v.serial); ok {
			ctx.Response.SetBodyRaw(st.deltaAnswer(v.serial, steps, s.cfg.EnableBGPsec, s.cfg.EnableASPA))
			return
		}
	}
	body, _ := st.reset.get(func() ([]byte, error) { return st.appendReset(nil, s.cfg.EnableBGPsec, s.cfg.EnableASPA), nil })
	if acceptsGzip(ctx.Request.Header.Peek("Accept-Encoding")) {
		body = st.reset.gzipped(body)
		ctx.Response.Header.SetCanonical(hdrContentEncoding, valGzip)
	}
	ctx.Response.Header.SetCanonical(hdrVary, valAcceptEncoding)
	ctx.Response.SetBodyRaw(body)
}

// stepsSince returns the steps from serial from to the current one, none
// if from is current, and false if the history does not reach back to
// from or from lies ahead.
func (st *state) stepsSince(from uint32) ([]*step, bool) {
	n := st.snap.Serial - from // RFC 1982 distance, modulo 2^32
	if uint64(n) > uint64(len(st.history)) {
		return nil, false
	}
	return st.history[len(st.history)-int(n):], true
}

// deltaAnswer returns the /json-delta answer from serial from, rendered
// once per data set and client serial.
func (st *state) deltaAnswer(from uint32, steps []*step, keys, aspas bool) []byte {
	st.deltaMu.Lock()
	r := st.deltas[from]
	if r == nil {
		r = &rendered{}
		st.deltas[from] = r
	}
	st.deltaMu.Unlock()
	body, _ := r.get(func() ([]byte, error) {
		return st.appendDelta(nil, from, compose(steps), keys, aspas), nil
	})
	return body
}

// netDelta is the change over several steps. VRPs and router keys are
// sets, so their changes combine exactly. An ASPA is keyed by customer;
// announced holds the customers with an ASPA now whose providers may
// have changed, withdrawn those that had one before and have none now.
type netDelta struct {
	annVRPs, wdrVRPs []payload.VRP
	annKeys, wdrKeys []payload.RouterKey
	annASPAs         []payload.ASPA
	wdrASPAs         []uint32
}

// compose joins consecutive steps into one change.
func compose(steps []*step) *netDelta {
	nd := &netDelta{}
	type aspaFate struct {
		existed bool // the customer had an ASPA before the first step
		now     *payload.ASPA
	}
	fates := map[uint32]*aspaFate{}
	for _, s := range steps {
		d := s.d
		nd.annVRPs, nd.wdrVRPs = combine(nd.annVRPs, nd.wdrVRPs, d.AnnouncedVRPs, d.WithdrawnVRPs, payload.VRP.Compare)
		nd.annKeys, nd.wdrKeys = combine(nd.annKeys, nd.wdrKeys, d.AnnouncedKeys, d.WithdrawnKeys, payload.RouterKey.Compare)
		for i := range d.AnnouncedASPAs {
			a := &d.AnnouncedASPAs[i]
			f := fates[a.Customer]
			if f == nil {
				f = &aspaFate{existed: !s.aspaNew[i]}
				fates[a.Customer] = f
			}
			f.now = a
		}
		for _, c := range d.WithdrawnASPAs {
			f := fates[c]
			if f == nil {
				f = &aspaFate{existed: true}
				fates[c] = f
			}
			f.now = nil
		}
	}
	for c, f := range fates {
		switch {
		case f.now != nil:
			// A list changed back to what it was is announced again:
			// announcing a customer's list replaces it, so that is
			// harmless, and telling the case apart needs the old set.
			nd.annASPAs = append(nd.annASPAs, *f.now)
		case f.existed:
			nd.wdrASPAs = append(nd.wdrASPAs, c)
		}
	}
	slices.SortFunc(nd.annASPAs, func(a, b payload.ASPA) int { return cmp.Compare(a.Customer, b.Customer) })
	slices.Sort(nd.wdrASPAs)
	return nd
}

// combine adds a step (ann2, wdr2) to the change (ann1, wdr1) that
// leads to it. All four lists are sorted and duplicate-free; announced
// items were absent before their step and withdrawn ones present. An
// item announced and then withdrawn, or withdrawn and then announced
// again, has not changed overall.
func combine[T any](ann1, wdr1, ann2, wdr2 []T, compare func(T, T) int) (ann, wdr []T) {
	ann = union(minus(ann1, wdr2, compare), minus(ann2, wdr1, compare), compare)
	wdr = union(minus(wdr1, ann2, compare), minus(wdr2, ann1, compare), compare)
	return ann, wdr
}

// minus returns the items of sorted a that are not in sorted b.
func minus[T any](a, b []T, compare func(T, T) int) []T {
	if len(b) == 0 {
		return a
	}
	var out []T
	j := 0
	for _, x := range a {
		for j < len(b) && compare(b[j], x) < 0 {
			j++
		}
		if j < len(b) && compare(b[j], x) == 0 {
			continue
		}
		out = append(out, x)
	}
	return out
}

// union merges two sorted, disjoint lists.
func union[T any](a, b []T, compare func(T, T) int) []T {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if compare(a[i], b[j]) <= 0 {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// The /json-delta layout is Routinator's: a header of members, then
// "announced" (and for a delta "withdrawn") with one object per item
// whose "type" says what it is. Route origins match Routinator byte for
// byte; router keys and ASPAs have its members, without the stray white
// space its output has there.

func (st *state) appendHeader(b []byte, reset bool, from uint32) []byte {
	b = append(b, "{\n  \"reset\": "...)
	b = strconv.AppendBool(b, reset)
	b = append(b, ",\n  \"session\": \""...)
	b = strconv.AppendUint(b, uint64(st.snap.Session), 10)
	b = append(b, "\",\n  \"serial\": "...)
	b = strconv.AppendUint(b, uint64(st.snap.Serial), 10)
	if !reset {
		b = append(b, ",\n  \"fromSerial\": "...)
		b = strconv.AppendUint(b, uint64(from), 10)
	}
	b = append(b, ",\n  \"generated\": "...)
	b = strconv.AppendInt(b, st.created.Unix(), 10)
	b = append(b, ",\n  \"generatedTime\": \""...)
	b = st.created.AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, "\",\n  \"announced\": ["...)
}

// items appends payload items to a list, each after a comma but the
// first of the list.
type items struct {
	b     []byte
	first bool
}

func (it *items) next() {
	if !it.first {
		it.b = append(it.b, ',')
	}
	it.first = false
}

func (it *items) vrp(v payload.VRP) {
	it.next()
	b := append(it.b, "\n    {\n        \"type\": \"routeOrigin\",\n        \"asn\": \"AS"...)
	b = strconv.AppendUint(b, uint64(v.ASN), 10)
	b = append(b, "\",\n        \"prefix\": \""...)
	b = v.Prefix.AppendTo(b)
	b = append(b, "\",\n        \"maxLength\": "...)
	b = strconv.AppendUint(b, uint64(v.MaxLength), 10)
	it.b = append(b, "\n    }"...)
}

func (it *items) key(k payload.RouterKey) {
	it.next()
	b := append(it.b, "\n    {\n        \"type\": \"routerKey\",\n        \"keyIdentifier\": \""...)
	for _, c := range k.SKI {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	b = append(b, "\",\n        \"asn\": \"AS"...)
	b = strconv.AppendUint(b, uint64(k.ASN), 10)
	b = append(b, "\",\n        \"keyInfo\": \""...)
	b = base64.RawURLEncoding.AppendEncode(b, k.SPKI)
	it.b = append(b, "\"\n    }"...)
}

func (it *items) aspa(customer uint32, providers []uint32) {
	it.next()
	b := append(it.b, "\n    {\n        \"type\": \"aspa\",\n        \"customerAsn\": \"AS"...)
	b = strconv.AppendUint(b, uint64(customer), 10)
	b = append(b, "\",\n        \"providerAsns\": ["...)
	for i, p := range providers {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "\"AS"...)
		b = strconv.AppendUint(b, uint64(p), 10)
		b = append(b, '"')
	}
	it.b = append(b, "]\n    }"...)
}

// hexDigits are the upper case digits Routinator writes key identifiers
// with.
const hexDigits = "0123456789ABCDEF"

// appendReset appends the whole data set as a /json-delta reset.
func (st *state) appendReset(b []byte, keys, aspas bool) []byte {
	set := st.snap.Set
	if b == nil {
		// An item takes about 110 bytes.
		b = make([]byte, 0, 256+110*len(set.VRPs()))
	}
	it := items{b: st.appendHeader(b, true, 0), first: true}
	for _, v := range set.VRPs() {
		it.vrp(v)
	}
	if keys {
		for _, k := range set.RouterKeys() {
			it.key(k)
		}
	}
	if aspas {
		for _, a := range set.ASPAs() {
			it.aspa(a.Customer, a.Providers)
		}
	}
	return append(it.b, "\n  ]\n}\n"...)
}

// appendDelta appends the change nd from serial from as a /json-delta
// answer. A withdrawn ASPA has an empty provider list: the withdrawal
// names the customer only, as RTR's does.
func (st *state) appendDelta(b []byte, from uint32, nd *netDelta, keys, aspas bool) []byte {
	it := items{b: st.appendHeader(b, false, from), first: true}
	for _, v := range nd.annVRPs {
		it.vrp(v)
	}
	if keys {
		for _, k := range nd.annKeys {
			it.key(k)
		}
	}
	if aspas {
		for _, a := range nd.annASPAs {
			it.aspa(a.Customer, a.Providers)
		}
	}
	it.b = append(it.b, "\n  ],\n  \"withdrawn\": ["...)
	it.first = true
	for _, v := range nd.wdrVRPs {
		it.vrp(v)
	}
	if keys {
		for _, k := range nd.wdrKeys {
			it.key(k)
		}
	}
	if aspas {
		for _, c := range nd.wdrASPAs {
			it.aspa(c, nil)
		}
	}
	return append(it.b, "\n  ]\n}\n"...)
}
