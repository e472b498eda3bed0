package netio

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/net/proxy"
)

// HTTPConfig configures the RRDP client's HTTP side: the manual's rrdp-*
// options. The zero value uses no timeouts; DefaultHTTPConfig has the
// manual's defaults.
type HTTPConfig struct {
	// Timeout bounds every network operation: a connect, each read, each
	// write (rrdp-timeout). Zero disables it.
	Timeout time.Duration
	// ConnectTimeout bounds connects (rrdp-connect-timeout); zero means
	// Timeout.
	ConnectTimeout time.Duration
	// LocalAddr is the address to bind outgoing connections to
	// (rrdp-local-addr).
	LocalAddr string
	// RootCerts are PEM files of extra trusted certificates, in addition
	// to the system's (rrdp-root-cert).
	RootCerts []string
	// Proxies are HTTP or SOCKS5 proxy URIs, tried in order for each
	// request (rrdp-proxy).
	Proxies []string
	// DisableGzip turns off the gzip content coding (rrdp-disable-gzip).
	DisableGzip bool
	// KeepResponses, if set, is a directory the bodies of all responses
	// are stored under (rrdp-keep-responses).
	KeepResponses string
	// UserAgent is sent with every request.
	UserAgent string
}

// DefaultHTTPConfig returns the manual's defaults: rrdp-timeout 300 s.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Timeout: 300 * time.Second, UserAgent: "rovd"}
}

// maxRedirects bounds the redirects followed for one request: HTTP
// clients commonly stop at 10 (RFC 9110 §15.4 leaves it to them).
const maxRedirects = 10

// maxInflateRatio and minInflateBound bound what a gzip-coded body may
// inflate to: RRDP XML (mostly base64) compresses about 1.3:1, so a body
// that inflates a hundredfold beyond its first 16 MB is a gzip bomb.
const (
	maxInflateRatio = 100
	minInflateBound = 16 << 20
)

// ErrGzipBomb is returned when a gzip-coded body inflates beyond
// maxInflateRatio times its compressed size.
var ErrGzipBomb = errors.New("gzip body inflates beyond 100 times its size")

// ErrNotModified is returned by a conditional request the server answers
// with 304 Not Modified.
var ErrNotModified = errors.New("not modified")

// StatusError is an HTTP response status other than 200 (and 304). The
// caller's error names the URI.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP status %d %s", e.Code, http.StatusText(e.Code))
}

// HTTPClient fetches RRDP files.
type HTTPClient struct {
	cfg        HTTPConfig
	transports []http.RoundTripper // one per proxy, or one direct
	client     *http.Client
}

// NewHTTPClient builds a client from cfg: it reads the extra root
// certificates and parses the proxies, and fails naming the one that is
// wrong.
func NewHTTPClient(cfg HTTPConfig) (*HTTPClient, error) {
	var extra [][]byte // PEM
	for _, f := range cfg.RootCerts {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rrdp-root-cert %s: %w", f, err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rrdp-root-cert %s: no PEM certificate in it", f)
		}
		extra = append(extra, pem)
	}
	pool := func(system bool) *x509.CertPool {
		roots := x509.NewCertPool()
		if system {
			if sys, err := systemRoots(); err == nil {
				roots = sys
			}
		}
		for _, pem := range extra {
			roots.AppendCertsFromPEM(pem)
		}
		return roots
	}
	connect := cfg.ConnectTimeout
	if connect == 0 {
		connect = cfg.Timeout
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	if cfg.LocalAddr != "" {
		ip := net.ParseIP(cfg.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("rrdp-local-addr %q: not an IP address", cfg.LocalAddr)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
	base := func(roots *x509.CertPool) *http.Transport {
		return &http.Transport{
			TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableCompression:    true, // gzip is ours: bounded and optional
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   connect,
			ResponseHeaderTimeout: cfg.Timeout,
			ForceAttemptHTTP2:     true,
		}
	}
	c := &HTTPClient{cfg: cfg}
	deadlined := func(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil || cfg.Timeout == 0 {
				return conn, err
			}
			return &deadlineConn{Conn: conn, timeout: cfg.Timeout}, nil
		}
	}
	// Each route (direct, or a proxy) gets a transport per set of
	// roots; configure sets the route up on one.
	route := func(configure func(t *http.Transport)) http.RoundTripper {
		rt := &rootedTransport{build: func() *http.Transport {
			t := base(pool(true))
			configure(t)
			return t
		}}
		if len(extra) > 0 {
			rt.extra = base(pool(false))
			configure(rt.extra)
		}
		return rt
	}
	if len(cfg.Proxies) == 0 {
		c.transports = append(c.transports, route(func(t *http.Transport) { t.DialContext = deadlined(dialer.DialContext) }))
	}
	for _, p := range cfg.Proxies {
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("rrdp-proxy %q: not a proxy URI", p)
		}
		var configure func(t *http.Transport)
		switch u.Scheme {
		case "http", "https":
			configure = func(t *http.Transport) {
				t.Proxy = http.ProxyURL(u)
				t.DialContext = deadlined(dialer.DialContext)
			}
		case "socks5", "socks5h", "socks":
			if u.Scheme == "socks" {
				u.Scheme = "socks5"
			}
			d, err := proxy.FromURL(u, dialer)
			if err != nil {
				return nil, fmt.Errorf("rrdp-proxy %q: %w", p, err)
			}
			cd, ok := d.(proxy.ContextDialer)
			if !ok {
				return nil, fmt.Errorf("rrdp-proxy %q: proxy cannot be cancelled", p)
			}
			configure = func(t *http.Transport) { t.DialContext = deadlined(cd.DialContext) }
		default:
			return nil, fmt.Errorf("rrdp-proxy %q: scheme must be http, https or socks5", p)
		}
		c.transports = append(c.transports, route(configure))
	}
	c.client = &http.Client{
		Transport: c,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s: not https", req.URL.Redacted())
			}
			return nil
		},
	}
	return c, nil
}

// RoundTrip tries the proxies in order: a request that fails before any
// response goes to the next one (rrdp-proxy).
func (c *HTTPClient) RoundTrip(req *http.Request) (*http.Response, error) {
	var errs []error
	for _, t := range c.transports {
		resp, err := t.RoundTrip(req)
		if err == nil {
			return resp, nil
		}
		if req.Context().Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// CloseIdle closes idle connections.
func (c *HTTPClient) CloseIdle() {
	for _, t := range c.transports {
		t.(*rootedTransport).closeIdle()
	}
}

// rootedTransport trusts the system's root certificates and the extra
// ones of rrdp-root-cert. Reading the system's costs some 25 ms of CPU,
// much of a quick run, and servers that chain to an extra root (a lab,
// a private repository, the tests) never need them. So with extra roots
// a server is tried with those alone first; one whose chain ends
// elsewhere is tried again, and from then on, with all of them, which
// are read only then. Both ways the standard TLS verification decides.
type rootedTransport struct {
	extra *http.Transport // extra roots only; nil without extra roots
	// build makes the transport with all roots, all, on first use.
	build func() *http.Transport
	once  sync.Once
	all   atomic.Pointer[http.Transport]
	// public holds the hosts that needed the system's roots.
	public sync.Map
}

// systemRoots reads the system's root certificates; tests replace it.
var systemRoots = x509.SystemCertPool

func (t *rootedTransport) full() *http.Transport {
	t.once.Do(func() { t.all.Store(t.build()) })
	return t.all.Load()
}

func (t *rootedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.extra == nil {
		return t.full().RoundTrip(req)
	}
	if _, ok := t.public.Load(req.URL.Host); ok {
		return t.full().RoundTrip(req)
	}
	resp, err := t.extra.RoundTrip(req)
	var unknown x509.UnknownAuthorityError
	// Only requests without a body are sent again: RRDP only gets.
	if err != nil && errors.As(err, &unknown) && req.Body == nil && req.Context().Err() == nil {
		t.public.Store(req.URL.Host, true)
		return t.full().RoundTrip(req)
	}
	return resp, err
}

func (t *rootedTransport) closeIdle() {
	if t.extra != nil {
		t.extra.CloseIdleConnections()
	}
	if all := t.all.Load(); all != nil {
		all.CloseIdleConnections()
	}
}

// Conditional carries the validators of a conditional request.
type Conditional struct {
	ETag         string
	LastModified string
}

// Response is an RRDP file being read.
type Response struct {
	// Body is the decoded body; it returns ErrGzipBomb if a gzip-coded
	// body inflates too far. Close it.
	Body io.ReadCloser
	// Validators for the next conditional request.
	Validators Conditional
	// Wire counts the bytes received (compressed, if gzip).
	Wire *Counter
}

// Counter counts bytes read through it.
type Counter struct {
	r io.Reader
	N int64
}

func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.N += int64(n)
	return n, err
}

// Get fetches uri. With cond it asks conditionally, and returns
// ErrNotModified if the server says so. keepSuffix is appended to the
// file name under KeepResponses (the manual timestamps notifications).
func (c *HTTPClient) Get(ctx context.Context, uri string, cond *Conditional, keepSuffix string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if !c.cfg.DisableGzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if cond != nil {
		if cond.ETag != "" {
			req.Header.Set("If-None-Match", cond.ETag)
		}
		if cond.LastModified != "" {
			req.Header.Set("If-Modified-Since", cond.LastModified)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cond != nil:
		resp.Body.Close()
		return nil, ErrNotModified
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, &StatusError{Code: resp.StatusCode}
	}
	wire := &Counter{r: resp.Body}
	out := &Response{
		Wire:       wire,
		Validators: Conditional{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
	}
	var body io.Reader = wire
	closers := []io.Closer{resp.Body}
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		if c.cfg.DisableGzip {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: gzip-coded response though gzip was not asked for", uri)
		}
		zr, err := gzip.NewReader(wire)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: gzip: %w", uri, err)
		}
		body = &inflateBound{r: zr, wire: wire}
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: unsupported content coding %q", uri, enc)
	}
	if c.cfg.KeepResponses != "" {
		f, err := keepFile(c.cfg.KeepResponses, resp.Request.URL, keepSuffix)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("rrdp-keep-responses: %w", err)
		}
		body = io.TeeReader(body, f)
		closers = append(closers, f)
	}
	out.Body = readCloser{Reader: body, closers: closers}
	return out, nil
}

type readCloser struct {
	io.Reader
	closers []io.Closer
}

func (r readCloser) Close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// inflateBound stops a gzip body that inflates beyond maxInflateRatio
// times the compressed bytes read so far (after the first
// minInflateBound bytes).
type inflateBound struct {
	r    io.Reader
	wire *Counter
	n    int64
}

func (b *inflateBound) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > minInflateBound && b.n > maxInflateRatio*b.wire.N {
		return n, ErrGzipBomb
	}
	return n, err
}

// keepFile creates the file a response body is kept in: DIR/HOST/PATH,
// with suffix appended (RRDP URIs' paths have no dot segments: the
// notification's and the same-origin check see to that, and Clean
// makes sure).
func keepFile(dir string, u *url.URL, suffix string) (*os.File, error) {
	rel := filepath.Clean("/" + u.Path)
	path := filepath.Join(dir, u.Scheme, filepath.FromSlash(u.Host), rel) + suffix
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

// deadlineConn sets a fresh deadline before every read and write, so
// that rrdp-timeout bounds each network operation rather than the whole
// transfer.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
