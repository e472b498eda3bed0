package rpki

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rovd/rovd/engine/der"
)

// maxURILength bounds every URI taken from an object. rpki-client uses
// the same limit (MAX_URI_LENGTH); real URIs are far shorter.
const maxURILength = 2048

// checkURI validates a URI from an object: IA5 text without spaces or
// control characters (a NUL could cut a path short in another program),
// within maxURILength, with a scheme and a host; an rsync URI also needs a
// module (RFC 5781 §2). It returns a copy as a string.
func checkURI(b []byte, mode der.Mode) (string, error) {
	if len(b) > maxURILength {
		return "", fmt.Errorf("URI longer than %d octets", maxURILength)
	}
	if err := der.CheckString(der.TagIA5String, b, mode); err != nil {
		return "", errors.New("URI is not IA5 text")
	}
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return "", fmt.Errorf("URI %q contains a space or control character", b)
		}
	}
	s := string(b)
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", fmt.Errorf("%q is not an absolute URI", s)
	}
	rest := s[i+3:]
	host, path, _ := strings.Cut(rest, "/")
	if host == "" {
		return "", fmt.Errorf("URI %q has no host", s)
	}
	if hasScheme(s, "rsync://") {
		if module, _, _ := strings.Cut(path, "/"); module == "" {
			return "", fmt.Errorf("rsync URI %q has no module", s)
		}
	}
	if strings.Contains(s, "/../") || strings.HasSuffix(s, "/..") || strings.Contains(s, "/./") {
		return "", fmt.Errorf("URI %q contains a relative path segment", s)
	}
	return s, nil
}

// hasScheme compares the scheme case-insensitively (RFC 3986 §3.1).
func hasScheme(uri, scheme string) bool {
	return len(uri) >= len(scheme) && strings.EqualFold(uri[:len(scheme)], scheme)
}
