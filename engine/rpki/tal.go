package rpki

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/rovd/rovd/engine/der"
)

// maxTALSize bounds a TAL file; real ones are about 500 bytes.
const maxTALSize = 64 << 10

// TAL is a trust anchor locator (RFC 8630): where to fetch a trust anchor
// certificate and the key it must have.
type TAL struct {
	// Comments are the leading '#' lines, without the '#'.
	Comments []string
	// URIs are the rsync and https locations of the TA certificate, in the
	// order given.
	URIs []string
	// SPKI is the DER SubjectPublicKeyInfo the certificate must carry.
	SPKI []byte
	Key  *rsa.PublicKey

	findings
}

// Type returns TypeTAL.
func (t *TAL) Type() Type { return TypeTAL }

// ParseTAL reads a TAL: optional comment lines, one URI per line, a blank
// line, then the base64 public key, possibly over several lines (RFC 8630
// §2.2). Lines may end in CRLF. Every URI must be rsync or https and name
// a .cer file. The result owns its data.
func ParseTAL(data []byte) (*TAL, error) {
	const ref = "RFC 8630 §2.2"
	bad := func(format string, args ...any) error {
		return &Problem{Stage: Decode, Field: "tal", Ref: ref, Err: fmt.Errorf(format, args...)}
	}
	if len(data) > maxTALSize {
		return nil, bad("TAL larger than %d bytes", maxTALSize)
	}
	t := new(TAL)
	rest := data
	nextLine := func() (string, bool) {
		if len(rest) == 0 {
			return "", false
		}
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		rest = after
		return string(bytes.TrimSuffix(line, []byte("\r"))), true
	}
	line, ok := nextLine()
	for ok && strings.HasPrefix(line, "#") {
		t.Comments = append(t.Comments, strings.TrimSpace(line[1:]))
		line, ok = nextLine()
	}
	for ok && line != "" {
		uri, err := checkURI([]byte(line))
		switch {
		case err != nil:
			return nil, bad("invalid URI: %v", err)
		case !hasScheme(uri, "rsync://") && !hasScheme(uri, "https://"):
			return nil, bad("unsupported URI scheme: %s", uri)
		case !strings.HasSuffix(strings.ToLower(uri), ".cer"):
			return nil, bad("not a certificate URI: %s", uri)
		}
		t.URIs = append(t.URIs, uri)
		line, ok = nextLine()
	}
	if len(t.URIs) == 0 {
		return nil, bad("no URIs")
	}
	// The key may be wrapped over several lines.
	var b64 []byte
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b64 = append(b64, c)
		}
	}
	spki := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(spki, b64)
	if err != nil || n == 0 {
		return nil, &Problem{Stage: Decode, Field: "subjectPublicKeyInfo", Ref: "RFC 8630 §2.1", Err: errors.New("public key is not valid base64")}
	}
	t.SPKI = spki[:n]
	var r report
	p := der.Parse(t.SPKI, der.Strict)
	info, err := parsePublicKeyInfo(&p, "subjectPublicKeyInfo")
	if err == nil {
		err = p.Done()
	}
	if err != nil {
		return nil, decodeErr("subjectPublicKeyInfo", "RFC 8630 §2.1", err)
	}
	if !info.Algorithm.OID.Equal(oidRSAEncryption) {
		return nil, &Problem{Stage: Decode, Field: "subjectPublicKeyInfo", Ref: "RFC 7935 §3.1", Err: fmt.Errorf("key algorithm %s, want rsaEncryption", oidName(info.Algorithm.OID))}
	}
	t.Key = new(rsa.PublicKey)
	if err := parseRSAKey(t.Key, info, der.Strict, "subjectPublicKeyInfo", &r); err != nil {
		return nil, err
	}
	t.problems = r.problems
	return t, nil
}
