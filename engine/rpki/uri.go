package rpki

import (
	"bytes"
	"fmt"
	"strings"
)

// maxURILength bounds every URI taken from an object. rpki-client uses
// the same limit (MAX_URI_LENGTH); real URIs are far shorter.
const maxURILength = 2048

// uriChars marks the octets a URI may contain: printable ASCII without
// the space. A NUL or control character could cut a path short in
// another program.
var uriChars = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	return t
}()

// checkURI validates a URI from an object and returns it as a string:
// only uriChars, within maxURILength, a scheme and a host, no "." or ".."
// path segments, and for rsync a module (RFC 5781 §2). Every EE
// certificate carries three URIs, so the common case is kept to a table
// scan and two index searches.
func checkURI(b []byte) (string, error) {
	if len(b) > maxURILength {
		return "", fmt.Errorf("URI longer than %d octets", maxURILength)
	}
	for _, c := range b {
		if !uriChars[c] {
			return "", fmt.Errorf("URI %q contains a space, control or non-ASCII character", b)
		}
	}
	i := bytes.Index(b, schemeSep)
	if i <= 0 {
		return "", fmt.Errorf("%q is not an absolute URI", b)
	}
	rest := b[i+3:]
	host, path := rest, []byte(nil)
	if slash := bytes.IndexByte(rest, '/'); slash >= 0 {
		host, path = rest[:slash], rest[slash+1:]
	}
	if len(host) == 0 {
		return "", fmt.Errorf("URI %q has no host", b)
	}
	if bytes.Contains(path, dotSegment) || bytes.HasPrefix(path, dotSegment[1:]) {
		for _, seg := range bytes.Split(path, []byte("/")) {
			if string(seg) == "." || string(seg) == ".." {
				return "", fmt.Errorf("URI %q contains a relative path segment", b)
			}
		}
	}
	s := string(b)
	if hasScheme(s, "rsync://") {
		if module, _, _ := bytes.Cut(path, []byte("/")); len(module) == 0 {
			return "", fmt.Errorf("rsync URI %q has no module", b)
		}
	}
	return s, nil
}

var (
	schemeSep  = []byte("://")
	dotSegment = []byte("/.")
)

// hasScheme compares the scheme case-insensitively (RFC 3986 §3.1).
func hasScheme(uri, scheme string) bool {
	return len(uri) >= len(scheme) && strings.EqualFold(uri[:len(scheme)], scheme)
}
