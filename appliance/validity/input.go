package validity

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Route is a route announcement: an address prefix and its origin AS.
type Route struct {
	Prefix netip.Prefix
	ASN    uint32
}

// Limits on input, which may come from anyone's file or pipe.
const (
	// MaxInputSize bounds a route list. A full IPv4 and IPv6 table of
	// about 1.2 million routes takes some 40 MB as plain text and 90 MB
	// as JSON; four times the JSON size leaves room for growth and
	// generous formatting.
	MaxInputSize = 384 << 20
	// maxLineLength bounds one plain text line: a route is at most 43
	// characters of prefix, the arrow and 12 of ASN, so 4 KiB leaves
	// room for a long comment.
	maxLineLength = 4 << 10
)

var errTooLarge = fmt.Errorf("input larger than %d bytes", MaxInputSize)

// ParseASN reads an AS number given as digits with or without a leading
// "AS" (in any case), as Routinator accepts them.
func ParseASN(s string) (uint32, error) {
	t := s
	if len(t) > 2 && strings.EqualFold(t[:2], "as") {
		t = t[2:]
	}
	if t == "" || t[0] < '0' || t[0] > '9' {
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	return uint32(n), nil
}

// ParsePrefix reads an address prefix in slash notation. Bits set beyond
// the prefix length are an error: the input does not say which prefix
// was meant.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid prefix %q", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("invalid prefix %q: host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

// ParsePlain reads one route per line: a prefix, the arrow "=>" and the
// origin AS, separated by white space, optionally followed by a comment
// that starts with '#'. Blank lines and lines starting with '#' are
// skipped. Errors name the line. A nil error comes with a non-nil list.
func ParsePlain(r io.Reader) ([]Route, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxLineLength)
	routes := []Route{}
	total := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if total += len(line) + 1; total > MaxInputSize {
			return nil, errTooLarge
		}
		route, ok, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			routes = append(routes, route)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d bytes", maxLineLength)
		}
		return nil, err
	}
	return routes, nil
}

func parseLine(line string) (Route, bool, error) {
	f := strings.Fields(line)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return Route{}, false, nil
	}
	p, err := ParsePrefix(f[0])
	if err != nil {
		return Route{}, false, err
	}
	switch {
	case len(f) < 2:
		return Route{}, false, errors.New("expected '=>' after the prefix, got the end of the line")
	case f[1] != "=>":
		return Route{}, false, fmt.Errorf("expected '=>' after the prefix, got %q", f[1])
	case len(f) < 3:
		return Route{}, false, errors.New("expected an AS number after '=>', got the end of the line")
	}
	asn, err := ParseASN(f[2])
	if err != nil {
		return Route{}, false, err
	}
	if len(f) > 3 && !strings.HasPrefix(f[3], "#") {
		return Route{}, false, fmt.Errorf("expected a '#' comment or the end of the line, got %q", f[3])
	}
	return Route{Prefix: p, ASN: asn}, true, nil
}

// ParseJSON reads Routinator's JSON input: an object whose member
// "routes" is an array of objects, each with the members "prefix" (a
// string) and "asn" (a string with or without "AS", or a number). Other
// members are ignored. A nil error comes with a non-nil list.
func ParseJSON(r io.Reader) ([]Route, error) {
	lr := &io.LimitedReader{R: r, N: MaxInputSize + 1}
	dec := json.NewDecoder(lr)
	var doc struct {
		Routes *[]struct {
			Prefix *string          `json:"prefix"`
			ASN    *json.RawMessage `json:"asn"`
		} `json:"routes"`
	}
	err := dec.Decode(&doc)
	if lr.N == 0 {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("JSON input: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if lr.N == 0 {
			return nil, errTooLarge
		}
		return nil, errors.New("JSON input: data after the object")
	}
	if doc.Routes == nil {
		return nil, errors.New(`JSON input: no "routes" member`)
	}
	routes := make([]Route, 0, len(*doc.Routes))
	for i, rt := range *doc.Routes {
		if rt.Prefix == nil || rt.ASN == nil {
			return nil, fmt.Errorf(`JSON input: route %d: needs "prefix" and "asn"`, i+1)
		}
		p, err := ParsePrefix(*rt.Prefix)
		if err != nil {
			return nil, fmt.Errorf("JSON input: route %d: %w", i+1, err)
		}
		asn, err := jsonASN(*rt.ASN)
		if err != nil {
			return nil, fmt.Errorf("JSON input: route %d: %w", i+1, err)
		}
		routes = append(routes, Route{Prefix: p, ASN: asn})
	}
	return routes, nil
}

// jsonASN reads an AS number given as a JSON string or number.
func jsonASN(raw json.RawMessage) (uint32, error) {
	if bytes.HasPrefix(raw, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		return ParseASN(s)
	}
	n, err := strconv.ParseUint(string(raw), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid AS number %s", raw)
	}
	return uint32(n), nil
}
