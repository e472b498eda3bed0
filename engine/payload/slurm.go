package payload

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// Local exceptions (SLURM, RFC 8416), as Routinator applies the files
// given with -x/--exceptions: filters drop VRPs and router keys found in
// the RPKI, then assertions add VRPs and router keys of their own.
//
// Only slurmVersion 1 is read. Routinator's rpki-rs also reads version 2
// (draft-ietf-sidrops-aspa-slurm: aspaFilters, aspaAssertions) but
// Routinator ignores the ASPA members, so nothing of ASPA is kept here and
// a version 2 file is rejected.

// MaxSLURMSize is the largest exceptions file ParseSLURM reads. The
// manual suggests building exceptions from `vrps --format slurm`; the
// whole global VRP set in that format is about 100 MB, so the limit leaves
// room for that and stops a runaway file before the JSON decoder
// allocates for it.
const MaxSLURMSize = 256 << 20

// skiLen is the length of a subject key identifier: a SHA-1 hash
// (RFC 6487 §4.8.2).
const skiLen = 20

// SLURM is the content of one exceptions file, or of several merged by
// MergeSLURM. It is not modified by ApplySLURM, so one value may be
// applied to the builders of many runs.
type SLURM struct {
	// Path names the file the exceptions came from. ParseSLURM leaves it
	// empty; the caller sets it. It is the URI of the Source of every
	// assertion whose own Path is empty.
	Path string

	PrefixFilters    []PrefixFilter
	BGPsecFilters    []BGPsecFilter
	PrefixAssertions []PrefixAssertion
	BGPsecAssertions []BGPsecAssertion
}

// PrefixFilter drops VRPs (RFC 8416 §3.3.1). It has a prefix, an ASN or
// both, and matches a VRP when every one it has matches: the VRP's prefix
// equals or is more specific than Prefix, and its ASN equals ASN.
type PrefixFilter struct {
	Prefix  netip.Prefix // not valid (the zero Prefix) when absent
	ASN     uint32
	HasASN  bool
	Comment string
}

// Matches reports whether f drops v.
func (f PrefixFilter) Matches(v VRP) bool {
	if f.HasASN && f.ASN != v.ASN {
		return false
	}
	if f.Prefix.IsValid() && !covers(f.Prefix, v.Prefix) {
		return false
	}
	return f.HasASN || f.Prefix.IsValid()
}

// BGPsecFilter drops router keys (RFC 8416 §3.3.2). It has an ASN, an SKI
// or both, and matches a key when every one it has is equal.
type BGPsecFilter struct {
	ASN     uint32
	HasASN  bool
	SKI     [skiLen]byte
	HasSKI  bool
	Comment string
}

// Matches reports whether f drops k.
func (f BGPsecFilter) Matches(k RouterKey) bool {
	if f.HasASN && f.ASN != k.ASN {
		return false
	}
	if f.HasSKI && f.SKI != k.SKI {
		return false
	}
	return f.HasASN || f.HasSKI
}

// PrefixAssertion adds a VRP (RFC 8416 §3.4.1). When the file gives no
// maxPrefixLength, VRP.MaxLength is the prefix length.
type PrefixAssertion struct {
	VRP     VRP
	Comment string
	// Path is the file the assertion came from; set by MergeSLURM.
	Path string
}

// BGPsecAssertion adds a router key (RFC 8416 §3.4.2). Key.SPKI is the
// DER SubjectPublicKeyInfo and owned by the assertion.
type BGPsecAssertion struct {
	Key     RouterKey
	Comment string
	// Path is the file the assertion came from; set by MergeSLURM.
	Path string
}

// Member names of RFC 8416 §3. They are matched exactly: encoding/json
// alone matches struct fields without regard to case, and would take
// "ski" or "ASN", which Routinator (serde) rejects.
const (
	memVersion          = "slurmVersion"
	memFilters          = "validationOutputFilters"
	memAssertions       = "locallyAddedAssertions"
	memPrefixFilters    = "prefixFilters"
	memBGPsecFilters    = "bgpsecFilters"
	memPrefixAssertions = "prefixAssertions"
	memBGPsecAssertions = "bgpsecAssertions"
	memPrefix           = "prefix"
	memASN              = "asn"
	memMaxLength        = "maxPrefixLength"
	memSKI              = "SKI"
	memKey              = "routerPublicKey"
	memComment          = "comment"
)

// ParseSLURM reads an exceptions file: strict JSON as RFC 8416 §3
// describes it. Unknown members, a member given twice, a missing required
// member and values out of range are errors that name the member and the
// entry's index, e.g. "prefixFilters[2]: prefix 10.0.0.1/8 has host bits
// set". A member whose value is null counts as absent, as in Routinator.
// Nothing in the result aliases data.
func ParseSLURM(data []byte) (*SLURM, error) {
	if len(data) > MaxSLURMSize {
		return nil, fmt.Errorf("slurm: file larger than %d bytes", MaxSLURMSize)
	}
	if !utf8.Valid(data) {
		// RFC 8259 §8.1; encoding/json would quietly replace the bad
		// bytes, serde_json (Routinator) refuses them.
		return nil, errors.New("slurm: not UTF-8")
	}
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("slurm: %w", err)
	}
	top, err := members(bytes.TrimSpace(data), "slurm", []string{memVersion, memFilters, memAssertions}, nil)
	if err != nil {
		return nil, err
	}
	var version uint32
	if err := json.Unmarshal(top[memVersion], &version); err != nil || version != 1 {
		// RFC 8416 §3.2: "slurmVersion" ... MUST be 1.
		return nil, fmt.Errorf("%s: %s is not 1", memVersion, short(top[memVersion]))
	}
	filters, err := members(top[memFilters], memFilters, []string{memPrefixFilters, memBGPsecFilters}, nil)
	if err != nil {
		return nil, err
	}
	assertions, err := members(top[memAssertions], memAssertions, []string{memPrefixAssertions, memBGPsecAssertions}, nil)
	if err != nil {
		return nil, err
	}

	s := &SLURM{}
	if s.PrefixFilters, err = parseList(filters[memPrefixFilters], memPrefixFilters, parsePrefixFilter); err != nil {
		return nil, err
	}
	if s.BGPsecFilters, err = parseList(filters[memBGPsecFilters], memBGPsecFilters, parseBGPsecFilter); err != nil {
		return nil, err
	}
	if s.PrefixAssertions, err = parseList(assertions[memPrefixAssertions], memPrefixAssertions, parsePrefixAssertion); err != nil {
		return nil, err
	}
	if s.BGPsecAssertions, err = parseList(assertions[memBGPsecAssertions], memBGPsecAssertions, parseBGPsecAssertion); err != nil {
		return nil, err
	}
	return s, nil
}

func parseList[T any](raw json.RawMessage, name string, parse func(json.RawMessage, string) (T, error)) ([]T, error) {
	if raw[0] != '[' {
		return nil, fmt.Errorf("%s: not an array", name)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]T, 0, len(items))
	for i, item := range items {
		v, err := parse(item, fmt.Sprintf("%s[%d]", name, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parsePrefixFilter(raw json.RawMessage, where string) (PrefixFilter, error) {
	var f PrefixFilter
	m, err := members(raw, where, nil, []string{memPrefix, memASN, memComment})
	if err != nil {
		return f, err
	}
	if m[memPrefix] == nil && m[memASN] == nil {
		// RFC 8416 §3.3.1: at least one of "prefix" and "asn".
		return f, fmt.Errorf("%s: needs %s or %s", where, memPrefix, memASN)
	}
	if m[memPrefix] != nil {
		if f.Prefix, err = parsePrefix(m[memPrefix], where); err != nil {
			return f, err
		}
	}
	if m[memASN] != nil {
		if f.ASN, err = parseASN(m[memASN], where); err != nil {
			return f, err
		}
		f.HasASN = true
	}
	f.Comment, err = parseComment(m[memComment], where)
	return f, err
}

func parseBGPsecFilter(raw json.RawMessage, where string) (BGPsecFilter, error) {
	var f BGPsecFilter
	m, err := members(raw, where, nil, []string{memASN, memSKI, memComment})
	if err != nil {
		return f, err
	}
	if m[memASN] == nil && m[memSKI] == nil {
		// RFC 8416 §3.3.2: at least one of "asn" and "SKI".
		return f, fmt.Errorf("%s: needs %s or %s", where, memASN, memSKI)
	}
	if m[memASN] != nil {
		if f.ASN, err = parseASN(m[memASN], where); err != nil {
			return f, err
		}
		f.HasASN = true
	}
	if m[memSKI] != nil {
		if f.SKI, err = parseSKI(m[memSKI], where); err != nil {
			return f, err
		}
		f.HasSKI = true
	}
	f.Comment, err = parseComment(m[memComment], where)
	return f, err
}

func parsePrefixAssertion(raw json.RawMessage, where string) (PrefixAssertion, error) {
	var a PrefixAssertion
	m, err := members(raw, where, []string{memPrefix, memASN}, []string{memMaxLength, memComment})
	if err != nil {
		return a, err
	}
	if a.VRP.Prefix, err = parsePrefix(m[memPrefix], where); err != nil {
		return a, err
	}
	if a.VRP.ASN, err = parseASN(m[memASN], where); err != nil {
		return a, err
	}
	a.VRP.MaxLength = uint8(a.VRP.Prefix.Bits())
	if raw := m[memMaxLength]; raw != nil {
		// RFC 8416 §3.4.1: maxPrefixLength at least the prefix length
		// and at most the address length.
		var n uint8
		err := json.Unmarshal(raw, &n)
		if err != nil || int(n) < a.VRP.Prefix.Bits() || int(n) > a.VRP.Prefix.Addr().BitLen() {
			return a, fmt.Errorf("%s: %s %s not between %d and %d", where, memMaxLength, short(raw), a.VRP.Prefix.Bits(), a.VRP.Prefix.Addr().BitLen())
		}
		a.VRP.MaxLength = n
	}
	a.Comment, err = parseComment(m[memComment], where)
	return a, err
}

func parseBGPsecAssertion(raw json.RawMessage, where string) (BGPsecAssertion, error) {
	var a BGPsecAssertion
	m, err := members(raw, where, []string{memASN, memSKI, memKey}, []string{memComment})
	if err != nil {
		return a, err
	}
	if a.Key.ASN, err = parseASN(m[memASN], where); err != nil {
		return a, err
	}
	if a.Key.SKI, err = parseSKI(m[memSKI], where); err != nil {
		return a, err
	}
	s, err := parseString(m[memKey], where, memKey)
	if err != nil {
		return a, err
	}
	if a.Key.SPKI, err = decodeBase64URL(s); err != nil {
		return a, fmt.Errorf("%s: %s: %w", where, memKey, err)
	}
	if !isSPKI(a.Key.SPKI) {
		return a, fmt.Errorf("%s: %s is not a DER SubjectPublicKeyInfo", where, memKey)
	}
	a.Comment, err = parseComment(m[memComment], where)
	return a, err
}

// members decodes the JSON object raw into its members. Every name in
// required must be present, and no name outside required and optional
// may be; members whose value is null are left out, so they count as
// absent. raw must be valid JSON without duplicate names (checkJSON).
func members(raw json.RawMessage, where string, required, optional []string) (map[string]json.RawMessage, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf("%s: not an object", where)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for name, v := range m {
		if !slices.Contains(required, name) && !slices.Contains(optional, name) {
			return nil, fmt.Errorf("%s: unknown member %q", where, name)
		}
		if string(v) == "null" {
			delete(m, name)
		}
	}
	for _, name := range required {
		if m[name] == nil {
			return nil, fmt.Errorf("%s: missing member %q", where, name)
		}
	}
	return m, nil
}

func parseString(raw json.RawMessage, where, name string) (string, error) {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: %s %s is not a string", where, name, short(raw))
	}
	return s, nil
}

func parseComment(raw json.RawMessage, where string) (string, error) {
	if raw == nil {
		return "", nil
	}
	return parseString(raw, where, memComment)
}

// parseASN reads a JSON number that is a 32-bit AS number. Unmarshal
// into uint32 takes only integer literals: "1.0", "1e3", "-1" and
// 4294967296 are errors, as they are for serde's u32.
func parseASN(raw json.RawMessage, where string) (uint32, error) {
	var asn uint32
	if raw[0] == '"' || json.Unmarshal(raw, &asn) != nil {
		return 0, fmt.Errorf("%s: %s %s is not an AS number", where, memASN, short(raw))
	}
	return asn, nil
}

func parsePrefix(raw json.RawMessage, where string) (netip.Prefix, error) {
	s, err := parseString(raw, where, memPrefix)
	if err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s: %s %s is not a prefix", where, memPrefix, short(raw))
	}
	if p != p.Masked() {
		// RFC 8416 §3.3.1 and §3.4.1 refer to RFC 4632 prefixes;
		// 10.0.0.1/8 is a typing error, not 10.0.0.0/8.
		return netip.Prefix{}, fmt.Errorf("%s: %s %s has host bits set", where, memPrefix, s)
	}
	return p, nil
}

func parseSKI(raw json.RawMessage, where string) ([skiLen]byte, error) {
	var ski [skiLen]byte
	s, err := parseString(raw, where, memSKI)
	if err != nil {
		return ski, err
	}
	b, err := decodeBase64URL(s)
	if err != nil {
		return ski, fmt.Errorf("%s: %s: %w", where, memSKI, err)
	}
	if len(b) != skiLen {
		return ski, fmt.Errorf("%s: %s is %d bytes, not %d", where, memSKI, len(b), skiLen)
	}
	copy(ski[:], b)
	return ski, nil
}

// decodeBase64URL decodes the URL-safe alphabet of RFC 4648 §5. RFC 8416
// leaves out the trailing '='; Routinator also takes it when present, and
// so do we, but only as correct padding.
func decodeBase64URL(s string) ([]byte, error) {
	enc := base64.RawURLEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.URLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return b, nil
}

// isSPKI reports whether b is, in shape, a DER SubjectPublicKeyInfo
// (RFC 5280 §4.1): a SEQUENCE of a SEQUENCE (the algorithm) and a BIT
// STRING (the key), with nothing after. The algorithm is not checked:
// Routinator takes any key bytes, and RTR carries them unread.
func isSPKI(b []byte) bool {
	tag, spki, rest, ok := readTLV(b)
	if !ok || tag != 0x30 || len(rest) != 0 {
		return false
	}
	tag, _, spki, ok = readTLV(spki)
	if !ok || tag != 0x30 {
		return false
	}
	tag, key, spki, ok := readTLV(spki)
	// The first octet of a BIT STRING counts unused bits; a key has none.
	return ok && tag == 0x03 && len(spki) == 0 && len(key) > 0 && key[0] == 0
}

// readTLV splits off one DER element with a one-octet tag. Lengths must
// be definite and minimally encoded.
func readTLV(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, l := b[0], int(b[1])
	b = b[2:]
	if l >= 0x80 {
		n := l & 0x7f
		// 0x80 is the indefinite length, which DER forbids; four length
		// octets are more than any file under MaxSLURMSize needs.
		if n == 0 || n > 4 || len(b) < n || b[0] == 0 {
			return 0, nil, nil, false
		}
		l = 0
		for _, c := range b[:n] {
			l = l<<8 | int(c)
		}
		if l < 0x80 {
			return 0, nil, nil, false
		}
		b = b[n:]
	}
	if l > len(b) {
		return 0, nil, nil, false
	}
	return tag, b[:l], b[l:], true
}

// checkJSON reports whether data is one JSON value with nothing but white
// space after it, in which no object names a member twice. RFC 8259 §4
// leaves duplicate names to the reader; encoding/json keeps the last one
// silently, but Routinator rejects the file, and an exception that
// half-applies is worse than one refused.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		names   map[string]struct{}
		wantKey bool // in an object, before a member name
	}
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return errors.New("unexpected end of JSON input")
			}
			return errors.New("empty file")
		}
		if err != nil {
			return err
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].wantKey {
			if name, ok := tok.(string); ok {
				if _, dup := stack[top].names[name]; dup {
					return fmt.Errorf("member %q given twice", name)
				}
				stack[top].names[name] = struct{}{}
				stack[top].wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{names: map[string]struct{}{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
		valueDone()
		if len(stack) == 0 {
			break
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// short returns raw for an error message, cut to a readable length.
func short(raw json.RawMessage) string {
	const maxLen = 40
	if len(raw) > maxLen {
		return string(raw[:maxLen]) + "..."
	}
	return string(raw)
}
