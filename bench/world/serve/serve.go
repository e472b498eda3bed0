package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// DirName is the directory under the world's directory that holds the
// test CA and the rsync daemons' configuration and logs.
const DirName = "serve"

// defaultStartTimeout bounds how long Start waits for its servers to
// answer: an rsync daemon is ready in milliseconds; seconds mean a loaded
// machine, minutes a hang.
const defaultStartTimeout = 15 * time.Second

// Default ports when a world names a host without one (RFC 5781 for rsync,
// RFC 9110 for https).
const (
	defaultRsyncPort = "873"
	defaultHTTPSPort = "443"
)

// Options control Start.
type Options struct {
	// NoGzip turns off gzip content coding: responses are sent as they
	// are whatever the client's Accept-Encoding.
	NoGzip bool
	// HTTP1Only turns off HTTP/2, for tests that need http.Hijacker or
	// want to look at HTTP/1.1 framing.
	HTTP1Only bool
	// Wrap, if set, wraps the file handler of every HTTPS server, so a
	// test can change what the servers answer; r.Host, or the request
	// context's http.LocalAddrContextKey, tells the servers apart. The
	// request log sits outside it and records what the client got.
	Wrap func(http.Handler) http.Handler
	// NoRsync serves RRDP only: no rsync daemon is started (and rsync
	// need not be installed).
	NoRsync bool
	// Rsync is the rsync binary; empty looks "rsync" up in $PATH.
	Rsync string
	// KeyCache is the key cache the world was built with, for Mutate.
	// Empty is right for worlds that need only the committed keys (the
	// small preset).
	KeyCache string
	// Now is the clock for Mutate; nil means time.Now.
	Now func() time.Time
	// StartTimeout bounds how long Start waits for the servers to
	// answer; zero means 15 s.
	StartTimeout time.Duration
	// Logger reports server events (an rsync daemon that died, TLS
	// handshake failures at debug level); nil discards.
	Logger *slog.Logger
}

// AddrError reports an address a server could not listen on, and what in
// the world needs it. errors.Is(err, syscall.EADDRINUSE) tells a busy
// port.
type AddrError struct {
	// Proto is "https" or "rsync".
	Proto string
	// Addr is host:port as the world names it.
	Addr string
	// Users are the repositories and trust anchors that need Addr,
	// "repository NAME" and "trust anchor NAME".
	Users []string
	Err   error
}

func (e *AddrError) Error() string {
	return fmt.Sprintf("%s server %s (for %s): %v", e.Proto, e.Addr, strings.Join(e.Users, ", "), e.Err)
}

func (e *AddrError) Unwrap() error { return e.Err }

// ErrClosed is returned by Mutate after Close.
var ErrClosed = errors.New("serve: server closed")

// Server serves one world directory. Its methods are safe for concurrent
// use.
type Server struct {
	dir   string
	opt   Options
	log   *slog.Logger
	state *world.State
	ca    *testCA

	https  []*httpsServer
	rsyncs []*rsyncDaemon

	mutateMu sync.Mutex
	closed   bool // under mutateMu

	reqMu    sync.Mutex
	requests []Request

	closeOnce sync.Once
	closeErr  error
}

// Start serves the world written in dir: DIR/world.json says which HTTPS
// and rsync servers it needs and where. It returns once every server
// answers, or an error after stopping what it had started; an address that
// cannot be bound gives an *AddrError. ctx bounds the start only; the
// servers run until Close.
func Start(ctx context.Context, dir string, opt Options) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := world.ReadState(dir)
	if err != nil {
		return nil, err
	}
	if len(st.Repositories) == 0 {
		return nil, fmt.Errorf("%s: no repositories", filepath.Join(dir, world.StateFile))
	}
	s := &Server{dir: dir, opt: opt, state: st, log: opt.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	timeout := opt.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	rsyncBin := ""
	if !opt.NoRsync {
		if rsyncBin, err = findRsync(opt.Rsync); err != nil {
			return nil, err
		}
	}
	httpsAddrs, rsyncAddrs, err := s.plan()
	if err != nil {
		return nil, err
	}
	addrs := make([]string, len(httpsAddrs))
	for i, a := range httpsAddrs {
		addrs[i] = a.addr
	}
	if s.ca, err = loadCA(filepath.Join(dir, DirName), certHosts(addrs), time.Now()); err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	for _, a := range httpsAddrs {
		h, err := s.listenHTTPS(a)
		if err != nil {
			return fail(err)
		}
		s.https = append(s.https, h)
	}
	for _, a := range rsyncAddrs {
		d := &rsyncDaemon{planned: a, bin: rsyncBin, serveDir: filepath.Join(dir, DirName), log: s.log}
		if err := d.start(); err != nil {
			return fail(err)
		}
		s.rsyncs = append(s.rsyncs, d)
	}
	for _, h := range s.https {
		if err := h.probe(ctx, s.ca.pool); err != nil {
			return fail(err)
		}
	}
	for _, d := range s.rsyncs {
		if err := d.probe(ctx); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// planned is one server the world needs.
type planned struct {
	addr, host, port string
	// users name what needs the address, for errors.
	users []string
	// modules of an rsync daemon, in the world's order.
	modules []module
}

// module is one rsync module.
type module struct {
	name, path string
}

// plan lists the servers the world needs, in the order the world names
// them.
func (s *Server) plan() (httpsAddrs, rsyncAddrs []*planned, err error) {
	byAddr := map[string]*planned{}
	add := func(list *[]*planned, proto, hostport, defPort, user string) (*planned, error) {
		host, port, err := splitHostPort(hostport, defPort)
		if err != nil {
			return nil, fmt.Errorf("%s: %s address %q: %w", user, proto, hostport, err)
		}
		addr := net.JoinHostPort(host, port)
		p := byAddr[proto+" "+addr]
		if p == nil {
			p = &planned{addr: addr, host: host, port: port}
			byAddr[proto+" "+addr] = p
			*list = append(*list, p)
		}
		if !slices.Contains(p.users, user) {
			p.users = append(p.users, user)
		}
		return p, nil
	}
	for _, r := range s.state.Repositories {
		user := "repository " + r.Name
		if _, err := add(&httpsAddrs, "https", r.HTTPS, defaultHTTPSPort, user); err != nil {
			return nil, nil, err
		}
		if s.opt.NoRsync {
			continue
		}
		p, err := add(&rsyncAddrs, "rsync", r.Rsync, defaultRsyncPort, user)
		if err != nil {
			return nil, nil, err
		}
		if err := checkModuleName(r.Module); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", user, err)
		}
		m := module{name: r.Module, path: filepath.Join(s.dir, "rsync", filepath.FromSlash(r.Rsync), r.Module)}
		if strings.ContainsAny(m.path, "\n\r") {
			return nil, nil, fmt.Errorf("%s: rsync module path %q has a line break", user, m.path)
		}
		if fi, err := os.Stat(m.path); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("%s: rsync module %s: no directory %s", user, r.Module, m.path)
		}
		if i := slices.IndexFunc(p.modules, func(o module) bool { return o.name == m.name }); i < 0 {
			p.modules = append(p.modules, m)
		} else if p.modules[i].path != m.path {
			return nil, nil, fmt.Errorf("%s: rsync module %s on %s serves two trees", user, m.name, p.addr)
		}
	}
	for _, ta := range s.state.TAs {
		u, err := url.Parse(ta.HTTPSURI)
		if err != nil || u.Scheme != "https" {
			return nil, nil, fmt.Errorf("trust anchor %s: bad https URI %q", ta.Name, ta.HTTPSURI)
		}
		if _, err := add(&httpsAddrs, "https", u.Host, defaultHTTPSPort, "trust anchor "+ta.Name); err != nil {
			return nil, nil, err
		}
	}
	return httpsAddrs, rsyncAddrs, nil
}

// splitHostPort splits host[:port] or [v6]:port, supplying defPort.
func splitHostPort(s, defPort string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		if h == "" || p == "" {
			return "", "", errors.New("empty host or port")
		}
		return h, p, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if h == "" || strings.ContainsAny(h, "[]/") || (strings.Contains(h, ":") && !strings.HasPrefix(s, "[") && net.ParseIP(h) == nil) {
		return "", "", errors.New("want host[:port]")
	}
	return h, defPort, nil
}

// checkModuleName refuses names that would break rsyncd.conf.
func checkModuleName(name string) error {
	if name == "" || strings.ContainsAny(name, "[]/\n\r") || strings.TrimSpace(name) != name {
		return fmt.Errorf("rsync module name %q cannot be served", name)
	}
	return nil
}

// Close stops every HTTPS server and kills each rsync daemon with its
// whole process group, waiting until they are gone. It is safe to call
// more than once; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mutateMu.Lock()
		s.closed = true
		s.mutateMu.Unlock()
		var errs []error
		for _, h := range s.https {
			errs = append(errs, h.close())
		}
		for _, d := range s.rsyncs {
			errs = append(errs, d.stop())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Mutate applies one world.Mutate to the served world: percent of its
// publication points get a new manifest, CRL and ROA, and each touched
// repository a new RRDP serial. Both kinds of server read from disk, so
// they serve the new state as soon as Mutate returns (bench/world renames
// each RRDP file into place, the notification last). Options.KeyCache,
// Now and Logger apply.
func (s *Server) Mutate(ctx context.Context, percent float64) (*world.MutateResult, error) {
	s.mutateMu.Lock()
	defer s.mutateMu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	now := time.Now()
	if s.opt.Now != nil {
		now = s.opt.Now()
	}
	return world.Mutate(ctx, s.dir, world.MutateOptions{Percent: percent, Now: now, KeyCache: s.opt.KeyCache, Logger: s.opt.Logger})
}

// Dir returns the absolute path of the world directory.
func (s *Server) Dir() string { return s.dir }

// CAFile returns the path of the test CA's certificate (PEM), what a
// relying party needs as --rrdp-root-cert.
func (s *Server) CAFile() string { return s.ca.certFile }

// CertPool returns a pool holding only the test CA.
func (s *Server) CertPool() *x509.CertPool { return s.ca.pool.Clone() }

// Client returns a new HTTP client that trusts the test CA and nothing
// else, with gzip handled by net/http.
func (s *Server) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool()}
	tr.Proxy = nil
	return &http.Client{Transport: tr}
}

// Repositories returns the world's repositories in its order.
func (s *Server) Repositories() []world.Repository {
	out := make([]world.Repository, len(s.state.Repositories))
	for i, r := range s.state.Repositories {
		out[i] = r.Repository
	}
	return out
}

// State reads the world's current state (serials and deltas change with
// every Mutate).
func (s *Server) State() (*world.State, error) { return world.ReadState(s.dir) }

// NotifyURIs returns each repository's RRDP notification URI, in the
// world's order.
func (s *Server) NotifyURIs() []string {
	out := make([]string, len(s.state.Repositories))
	for i, r := range s.state.Repositories {
		out[i] = r.NotifyURI()
	}
	return out
}

// RsyncModules returns each repository's rsync module URI,
// rsync://HOST[:PORT]/MODULE/, in the world's order. They are served
// unless Options.NoRsync is set.
func (s *Server) RsyncModules() []string {
	out := make([]string, len(s.state.Repositories))
	for i, r := range s.state.Repositories {
		out[i] = r.RsyncBase()
	}
	return out
}

// TALDir returns the directory of the world's TALs, what a relying party
// needs as --tal-dir.
func (s *Server) TALDir() string { return filepath.Join(s.dir, "tals") }

// TALs returns the paths of the world's TAL files.
func (s *Server) TALs() []string {
	out := make([]string, len(s.state.TAs))
	for i, ta := range s.state.TAs {
		out[i] = filepath.Join(s.dir, ta.TAL)
	}
	return out
}

// TAURIs returns the HTTPS URIs of the trust anchor certificates.
func (s *Server) TAURIs() []string {
	out := make([]string, len(s.state.TAs))
	for i, ta := range s.state.TAs {
		out[i] = ta.HTTPSURI
	}
	return out
}

// HTTPSAddrs returns the addresses (host:port) of the HTTPS servers.
func (s *Server) HTTPSAddrs() []string {
	out := make([]string, len(s.https))
	for i, h := range s.https {
		out[i] = h.addr
	}
	return out
}

// RsyncAddrs returns the addresses (host:port) of the rsync daemons.
func (s *Server) RsyncAddrs() []string {
	out := make([]string, len(s.rsyncs))
	for i, d := range s.rsyncs {
		out[i] = d.addr
	}
	return out
}

// RsyncPIDs returns the process IDs of the rsync daemons, each also its
// process group's ID.
func (s *Server) RsyncPIDs() []int {
	out := make([]int, len(s.rsyncs))
	for i, d := range s.rsyncs {
		out[i] = d.pid
	}
	return out
}

// RsyncLogs returns the paths of the rsync daemons' log files.
func (s *Server) RsyncLogs() []string {
	out := make([]string, len(s.rsyncs))
	for i, d := range s.rsyncs {
		out[i] = d.logFile
	}
	return out
}
