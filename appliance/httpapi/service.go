package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/config"
)

// Limits of the service. Each bounds what one client can hold of the
// server, so that a slow or hostile client never stalls the others.
const (
	// DefaultReadTimeout bounds reading one request, headers included:
	// a request of this service is one line and a few headers, so a
	// client that takes longer is stalling (slowloris).
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing one response. The largest
	// answer, jsonext of the global set, is some 300 MB: five minutes
	// allow a 1 MB/s client to fetch it.
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultIdleTimeout bounds how long a kept-alive connection may wait
	// for its next request.
	DefaultIdleTimeout = time.Minute
	// DefaultMaxHeaderSize bounds the request line and headers together
	// (fasthttp's read buffer): a longer request gets 431. Browsers send
	// a few hundred bytes; 8 KiB leaves room for long filter queries.
	DefaultMaxHeaderSize = 8 << 10
	// DefaultMaxConnections bounds the connections served at once (each
	// costs a goroutine and its buffers); more are answered 503 and
	// closed.
	DefaultMaxConnections = 10_000
	// DefaultShutdownTimeout bounds how long Serve waits for responses
	// under way when its context ends before it closes their connections.
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultHistorySize is the manual's default history-size.
	DefaultHistorySize = 10
	// maxRequestBodySize bounds a request body: the service answers GET
	// and HEAD only, whose requests have none.
	maxRequestBodySize = 4 << 10
)

// Config sets up a Service. The zero value works: every zero field takes
// its default.
type Config struct {
	// Version is rovd's version, for /version and /status.
	Version string
	// EnableASPA and EnableBGPsec put ASPAs and router keys into the
	// formats and deltas that have a place for them (enable-aspa,
	// enable-bgpsec).
	EnableASPA, EnableBGPsec bool
	// HistorySize is how many serials back /json-delta answers with a
	// delta (history-size); DefaultHistorySize if zero.
	HistorySize int
	// UnsafeVRPs is the unsafe-vrps policy. Under "accept" the unsafe
	// VRP counts are left out of /status and /metrics, as in Routinator.
	UnsafeVRPs string
	// RTRClientMetrics adds the per-client RTR figures to /status and
	// /metrics (rtr-client-metrics).
	RTRClientMetrics bool

	// ReadTimeout, WriteTimeout and IdleTimeout bound reading a request,
	// writing a response and waiting on a kept-alive connection.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderSize bounds a request's line and headers, in bytes.
	MaxHeaderSize int
	// MaxConnections bounds the connections served at once per Serve.
	MaxConnections int
	// ShutdownTimeout bounds the wait for responses under way once
	// Serve's context ends.
	ShutdownTimeout time.Duration

	// Logger receives the service's few log lines; nil discards them.
	Logger *slog.Logger
	// Now is the clock for the "ago" figures of /status and /metrics;
	// time.Now if nil.
	Now func() time.Time
}

// FromConfig returns the Service configuration that the server options
// in c ask for, with the default limits.
func FromConfig(c *config.Config, version string) Config {
	return Config{
		Version:          version,
		EnableASPA:       c.EnableASPA,
		EnableBGPsec:     c.EnableBGPsec,
		HistorySize:      c.HistorySize,
		UnsafeVRPs:       c.UnsafeVRPs,
		RTRClientMetrics: c.RTRClientMetrics,
	}
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	if c.MaxHeaderSize <= 0 {
		c.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.HistorySize <= 0 {
		c.HistorySize = DefaultHistorySize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the HTTP service. Publish hands it data sets; Serve serves
// them on a listener. All methods are safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger

	// cur is the published state; nil until the first Publish. Readers
	// load it once per request and never lock.
	cur   atomic.Pointer[state]
	pubMu sync.Mutex // serialises Publish

	rtrStats atomic.Pointer[func() RTRStats]
	guard    atomic.Pointer[func() GuardState]

	// The HTTP figures of /metrics and /status, over all listeners.
	requests     atomic.Uint64
	connsOpened  atomic.Uint64
	connsClosed  atomic.Uint64
	bytesRead    atomic.Uint64
	bytesWritten atomic.Uint64

	// tweak, set by tests before Serve, adjusts each fasthttp server.
	tweak func(*fasthttp.Server)
}

// New returns a Service that answers 503 on its data paths until the
// first Publish.
func New(cfg Config) *Service {
	cfg.fill()
	return &Service{cfg: cfg, log: cfg.Logger}
}

// SetRTRStats sets the function that /metrics and /status call for the
// RTR server's figures; until it is set they show zeros.
func (s *Service) SetRTRStats(f func() RTRStats) { s.rtrStats.Store(&f) }

// SetGuard sets the function that /metrics and /status call for the
// state of the collapse guard; until it is set they leave it out.
func (s *Service) SetGuard(f func() GuardState) { s.guard.Store(&f) }

// Serve answers HTTP requests on ln until ctx ends or ln fails. Then it
// closes ln, lets responses under way finish for at most the shutdown
// timeout, closes the connections still open and returns; nil if it
// was stopped by ctx. Serve may run for several listeners at once (plain
// and TLS: wrap ln with tls.NewListener for HTTPS), each with its own
// context. Serve closes ln in every case.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	cl := &countingListener{Listener: ln, s: s, conns: map[*countingConn]struct{}{}}
	srv := s.newServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(cl) }()
	select {
	case err := <-errc:
		cl.closeAll()
		_ = ln.Close() // fasthttp leaves a failed listener open
		if err != nil {
			return fmt.Errorf("http %s: %w", ln.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.ShutdownWithContext(sctx); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("http shutdown: closing connections still busy", "listen", ln.Addr().String(), "err", err)
	}
	// A response stuck on a client that does not read ends here: its
	// write fails and its worker returns.
	cl.closeAll()
	<-errc
	return nil
}

// newServer returns a fasthttp server with the service's handler and
// limits.
func (s *Service) newServer() *fasthttp.Server {
	srv := &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "rovd",
		NoDefaultServerHeader: true,
		ReadTimeout:           s.cfg.ReadTimeout,
		WriteTimeout:          s.cfg.WriteTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		ReadBufferSize:        s.cfg.MaxHeaderSize,
		Concurrency:           s.cfg.MaxConnections,
		MaxRequestBodySize:    maxRequestBodySize,
		// Requests are parsed only as far as the handler asks: no
		// multipart parsing of bodies the service refuses anyway.
		DisablePreParseMultipartForm: true,
		// Client faults (resets, timeouts, oversized headers) are
		// routine on a public port: debug level only.
		Logger: fasthttpLogger{s.log},
	}
	if s.tweak != nil {
		s.tweak(srv)
	}
	return srv
}

// fasthttpLogger sends fasthttp's messages to slog at debug level.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

// countingListener counts the connections and bytes of the HTTP figures
// and keeps the open connections, so that Serve can close them when a
// shutdown runs out of time.
type countingListener struct {
	net.Listener
	s     *Service
	mu    sync.Mutex
	conns map[*countingConn]struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[cc] = struct{}{}
	l.mu.Unlock()
	l.s.connsOpened.Add(1)
	return cc, nil
}

// closeAll closes every connection still open.
func (l *countingListener) closeAll() {
	l.mu.Lock()
	conns := make([]*countingConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close() // the connection is being dropped; its error says nothing
	}
}

type countingConn struct {
	net.Conn
	l      *countingListener
	closed atomic.Bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.s.bytesRead.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.s.bytesWritten.Add(uint64(n))
	return n, err
}

func (c *countingConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	c.l.s.connsClosed.Add(1)
	return c.Conn.Close()
}
