package validity

import (
	"io"
	"strconv"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// The state and reason names of the JSON output and the descriptions
// that go with them, as the RIPE NCC RPKI Validator's API defined them
// and Routinator kept them: clients match on these strings.
const (
	descValid    = "At least one VRP Matches the Route Prefix"
	descNotFound = "No VRP Covers the Route Prefix"
	descBadASN   = "At least one VRP Covers the Route Prefix, but no VRP ASN matches the route origin ASN"
	descBadLen   = "At least one VRP Covers the Route Prefix, but the Route Prefix length is greater than the maximum length allowed by VRP(s) matching this route origin ASN"
)

// StateName returns the name of a validity state in rovd's output:
// "valid", "invalid" or "not-found".
func StateName(s payload.State) string {
	switch s {
	case payload.Valid:
		return "valid"
	case payload.Invalid:
		return "invalid"
	default:
		return "not-found"
	}
}

// reasonName is the "reason" member of an invalid route: "as" or
// "length".
func reasonName(r payload.Reason) string {
	switch r {
	case payload.InvalidASN:
		return "as"
	case payload.InvalidLength:
		return "length"
	default:
		return ""
	}
}

func description(r *payload.Result) string {
	switch {
	case r.State == payload.Valid:
		return descValid
	case r.Reason == payload.InvalidASN:
		return descBadASN
	case r.Reason == payload.InvalidLength:
		return descBadLen
	default:
		return descNotFound
	}
}

// flushSize is how much output is gathered before a write.
const flushSize = 64 << 10

// WriteText writes one line per route, "PREFIX => ASN: STATE", looking
// each route up in set. It allocates nothing per route.
func WriteText(w io.Writer, set *payload.Set, routes []Route) error {
	buf := make([]byte, 0, flushSize+256)
	for _, r := range routes {
		buf = AppendText(buf, r, set.State(r.Prefix, r.ASN))
		if len(buf) >= flushSize {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// AppendText appends the text line of a route in state s.
func AppendText(dst []byte, r Route, s payload.State) []byte {
	dst = r.Prefix.AppendTo(dst)
	dst = append(dst, " => AS"...)
	dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	dst = append(dst, ": "...)
	dst = append(dst, StateName(s)...)
	return append(dst, '\n')
}

// WriteJSON writes the detailed verdicts of routes as the object
// {"validated_routes": [...], "generatedTime": ...}, each route with
// the VRPs that matched it, cover it for another AS, or cover it with a
// shorter maximum length. generated is the time the payload set was
// made.
func WriteJSON(w io.Writer, set *payload.Set, routes []Route, generated time.Time) error {
	buf := make([]byte, 0, flushSize+4096)
	buf = append(buf, "{\n  \"validated_routes\": [\n"...)
	for i, r := range routes {
		if i > 0 {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, "    "...)
		res := set.Validity(r.Prefix, r.ASN)
		buf = appendRouteJSON(buf, "    ", r, &res)
		if len(buf) >= flushSize {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "\n  ],\n"...)
	buf = appendGenerated(buf, generated)
	_, err := w.Write(buf)
	return err
}

// AppendSingleJSON appends the detailed verdict of one route as the
// object {"validated_route": {...}, "generatedTime": ...}: the answer of
// the HTTP validity API.
func AppendSingleJSON(dst []byte, set *payload.Set, r Route, generated time.Time) []byte {
	res := set.Validity(r.Prefix, r.ASN)
	return AppendResultJSON(dst, r, &res, generated)
}

// AppendResultJSON is AppendSingleJSON for a route already looked up:
// res is the set's verdict on r, from payload.Set.Validity or, for a
// caller that keeps the VRP lists in a buffer of its own,
// payload.Set.AppendValidity.
func AppendResultJSON(dst []byte, r Route, res *payload.Result, generated time.Time) []byte {
	dst = append(dst, "{\n  \"validated_route\": "...)
	dst = appendRouteJSON(dst, "  ", r, res)
	dst = append(dst, ",\n"...)
	return appendGenerated(dst, generated)
}

func appendGenerated(dst []byte, t time.Time) []byte {
	dst = append(dst, "  \"generatedTime\": \""...)
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05Z")
	return append(dst, "\"\n}\n"...)
}

// appendRouteJSON appends one route's object. The layout, down to the
// line breaks inside empty lists, is Routinator's, so that output can be
// compared byte for byte.
func appendRouteJSON(dst []byte, indent string, r Route, res *payload.Result) []byte {
	line := func(s string) {
		dst = append(dst, indent...)
		dst = append(dst, s...)
	}
	dst = append(dst, "{\n"...)
	line("  \"route\": {\n")
	line("    \"origin_asn\": \"AS")
	dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	dst = append(dst, "\",\n"...)
	line("    \"prefix\": \"")
	dst = r.Prefix.AppendTo(dst)
	dst = append(dst, "\"\n"...)
	line("  },\n")
	line("  \"validity\": {\n")
	line("    \"state\": \"")
	dst = append(dst, StateName(res.State)...)
	dst = append(dst, "\",\n"...)
	if reason := reasonName(res.Reason); reason != "" {
		line("    \"reason\": \"")
		dst = append(dst, reason...)
		dst = append(dst, "\",\n"...)
	}
	line("    \"description\": \"")
	dst = append(dst, description(res)...)
	dst = append(dst, "\",\n"...)
	line("    \"VRPs\": {\n")
	dst = appendVRPs(dst, indent, "matched", res.Matched)
	dst = append(dst, ",\n"...)
	dst = appendVRPs(dst, indent, "unmatched_as", res.UnmatchedAS)
	dst = append(dst, ",\n"...)
	dst = appendVRPs(dst, indent, "unmatched_length", res.UnmatchedLength)
	dst = append(dst, '\n')
	line("    }\n")
	line("  }\n")
	line("}")
	return dst
}

func appendVRPs(dst []byte, indent, name string, vrps []payload.VRP) []byte {
	dst = append(dst, indent...)
	dst = append(dst, "      \""...)
	dst = append(dst, name...)
	dst = append(dst, "\": ["...)
	for i, v := range vrps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\n')
		dst = append(dst, indent...)
		dst = append(dst, "        {\n"...)
		dst = append(dst, indent...)
		dst = append(dst, "          \"asn\": \"AS"...)
		dst = strconv.AppendUint(dst, uint64(v.ASN), 10)
		dst = append(dst, "\",\n"...)
		dst = append(dst, indent...)
		dst = append(dst, "          \"prefix\": \""...)
		dst = v.Prefix.AppendTo(dst)
		dst = append(dst, "\",\n"...)
		dst = append(dst, indent...)
		dst = append(dst, "          \"max_length\": \""...)
		dst = strconv.AppendUint(dst, uint64(v.MaxLength), 10)
		dst = append(dst, "\"\n"...)
		dst = append(dst, indent...)
		dst = append(dst, "        }"...)
	}
	dst = append(dst, '\n')
	dst = append(dst, indent...)
	return append(dst, "      ]"...)
}
