package netio

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/rovd/rovd/store"
)

// CheckObjectURI checks an rsync URI that names an object (RFC 5781, as
// RFC 6487 §4.8.8 and RFC 8182 §3.5.2.3 use them): rsync://HOST/MODULE/
// PATH with PATH a plain relative path. It rejects what could lead a
// file name out of its repository or hide one object under two names:
// dot segments, empty segments, percent-encoding, backslashes, query or
// fragment characters, and control or non-ASCII bytes.
func CheckObjectURI(uri string) error {
	rest, ok := strings.CutPrefix(uri, "rsync://")
	if !ok {
		return fmt.Errorf("%q: not an rsync URI", uri)
	}
	for i := range len(rest) {
		switch c := rest[i]; {
		case c <= ' ' || c >= 0x7f:
			return fmt.Errorf("%q: control, space or non-ASCII byte in URI", uri)
		case c == '%' || c == '\\' || c == '?' || c == '#':
			return fmt.Errorf("%q: %q not allowed in an object URI", uri, c)
		}
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok || host == "" {
		return fmt.Errorf("%q: no host and module", uri)
	}
	if !strings.Contains(path, "/") {
		return fmt.Errorf("%q: no file below the module", uri)
	}
	// Segment by segment without splitting: this runs for every object
	// of every snapshot.
	for rest, more := path, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		switch seg {
		case "":
			return fmt.Errorf("%q: empty path segment", uri)
		case ".", "..":
			return fmt.Errorf("%q: dot segment", uri)
		}
	}
	return nil
}

// RsyncModule splits an rsync URI into its host (with port, if any) and
// module, and returns the module's URI rsync://HOST/MODULE/.
func RsyncModule(uri string) (host, module, base string, err error) {
	if !strings.HasPrefix(uri, "rsync://") {
		return "", "", "", fmt.Errorf("%q: not an rsync URI", uri)
	}
	host, module, ok := store.SplitModule(uri)
	if !ok {
		return "", "", "", fmt.Errorf("%q: no host and module", uri)
	}
	return host, module, store.RsyncRepoKey(host, module), nil
}

// ErrDubiousHost is returned for a URI whose host is one the manual calls
// dubious: localhost, an IP address, or a name with an explicit port.
// allow-dubious-hosts turns the check off.
var ErrDubiousHost = errors.New("dubious host name (localhost, IP address or explicit port)")

// CheckHost checks the host part of an rsync or HTTPS URI from RPKI data
// against the manual's rule for dubious host names.
func CheckHost(uri string, allowDubious bool) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("%q: %w", uri, err)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", uri)
	}
	if allowDubious {
		return nil
	}
	host := u.Hostname()
	switch {
	case u.Port() != "",
		strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost"),
		net.ParseIP(host) != nil:
		return fmt.Errorf("%q: %w", uri, ErrDubiousHost)
	}
	return nil
}

// sameOrigin reports whether two HTTPS URIs have the same origin
// (scheme, host and port; RFC 6454), as RFC 9674 requires of a
// notification and the snapshot and deltas it lists.
func sameOrigin(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Hostname(), ub.Hostname()) && effectivePort(ua) == effectivePort(ub)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}
