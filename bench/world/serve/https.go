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
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

const (
	// maxRequests bounds the request log; beyond it the older half goes.
	maxRequests = 1 << 16
	// gzipLevel trades ratio for speed: the servers compress on the fly,
	// and a relying party's run must not wait for its loopback server.
	gzipLevel = gzip.BestSpeed
)

// httpsServer is one in-process HTTPS server.
type httpsServer struct {
	addr, host string
	srv        *http.Server
	ln         net.Listener
	done       chan struct{}
}

func (s *Server) listenHTTPS(p *planned) (*httpsServer, error) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return nil, &AddrError{Proto: "https", Addr: p.addr, Users: p.users, Err: err}
	}
	var h http.Handler = &fileHandler{s: s}
	if s.opt.Wrap != nil {
		h = s.opt.Wrap(h)
	}
	srv := &http.Server{
		Handler: &logHandler{s: s, addr: p.addr, next: h},
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{s.ca.server},
			MinVersion:   tls.VersionTLS12,
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.opt.HTTP1Only {
		// A non-nil, empty map keeps net/http from offering h2.
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	hs := &httpsServer{addr: p.addr, host: p.host, srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(hs.done)
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("https server stopped", "addr", p.addr, "err", err)
		}
	}()
	return hs, nil
}

// probe completes one TLS handshake, checking the certificate against the
// test CA as a client would.
func (h *httpsServer) probe(ctx context.Context, pool *x509.CertPool) error {
	d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: h.host}}
	c, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return fmt.Errorf("https server %s: %w", h.addr, err)
	}
	return c.Close()
}

// close stops the server at once, dropping open connections (a test's
// middleware may be dripping bytes into one), and waits for it.
func (h *httpsServer) close() error {
	err := h.srv.Close()
	<-h.done
	return err
}

// fileHandler serves DIR/rrdp and DIR/ta.
type fileHandler struct {
	s *Server
}

func (f *fileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := servedName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	content, size, mtime, err := f.open(name)
	if err != nil {
		var nf *notFoundError
		if errors.As(err, &nf) {
			// Missing, a directory, or a link out of the tree (os.Root
			// has no exported error for that): all the same to a client.
			f.s.log.Debug("https not found", "uri", r.URL.Path, "err", nf.err)
			http.NotFound(w, r)
			return
		}
		f.s.log.Error("https read", "uri", r.URL.Path, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	defer content.Close()

	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	etag := strconv.FormatInt(mtime.UnixNano(), 16) + "-" + strconv.FormatInt(size, 16)
	gz := false
	if !f.s.opt.NoGzip {
		hdr.Add("Vary", "Accept-Encoding")
		gz = acceptsGzip(r.Header.Values("Accept-Encoding"))
	}
	if gz {
		// The compressed variant is another representation: its own
		// ETag (RFC 9110 §8.8.3), and no byte ranges of it.
		etag += "-gzip"
		r = r.WithContext(r.Context())
		r.Header = r.Header.Clone()
		r.Header.Del("Range")
		r.Header.Del("If-Range")
		gw := &gzipWriter{ResponseWriter: w, head: r.Method == http.MethodHead}
		defer gw.finish()
		w = gw
	}
	hdr.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", lastModified(mtime, time.Now()), content)
}

// notFoundError is a file that cannot be opened, or is no regular file.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string { return e.err.Error() }

// open opens DIR/name. bench/world renames every RRDP file into place,
// so an open file never changes under the reader.
func (f *fileHandler) open(name string) (*os.File, int64, time.Time, error) {
	// A root per tree: not even a symlink leads out of DIR/rrdp or
	// DIR/ta.
	top, rest, _ := strings.Cut(name, "/")
	file, err := os.OpenInRoot(filepath.Join(f.s.dir, top), filepath.FromSlash(rest))
	if err != nil {
		return nil, 0, time.Time{}, &notFoundError{err}
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		file.Close()
		return nil, 0, time.Time{}, &notFoundError{fmt.Errorf("%s: not a regular file", name)}
	}
	return file, fi.Size(), fi.ModTime(), nil
}

// servedName maps a request path onto a file name under DIR, or reports
// false for anything outside DIR/rrdp and DIR/ta. Only canonical paths are
// served: no "..", ".", empty segments or trailing slash, so that one file
// has one URI.
func servedName(p string) (string, bool) {
	if p == "" || p[0] != '/' || path.Clean(p) != p || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	name := p[1:]
	top, rest, ok := strings.Cut(name, "/")
	if !ok || rest == "" || (top != "rrdp" && top != "ta") || strings.HasSuffix(name, ".tmp") {
		return "", false
	}
	return name, true
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".xml":
		return "application/xml"
	case ".cer":
		return "application/pkix-cert" // RFC 2585 §4.1
	}
	return "application/octet-stream"
}

// lastModified returns the Last-Modified time to send for a file changed
// at mtime, or the zero time (none) while mtime is in the current second:
// HTTP dates have whole seconds, so a second change within the same
// second would look unmodified to If-Modified-Since. Apache makes its
// ETags weak under the same rule.
func lastModified(mtime, now time.Time) time.Time {
	if now.Before(mtime.Truncate(time.Second).Add(time.Second)) {
		return time.Time{}
	}
	return mtime
}

// acceptsGzip reports whether Accept-Encoding values allow gzip (RFC 9110
// §12.5.3): named with a non-zero weight, or covered by "*".
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(val, 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	return gzipQ > 0 || (gzipQ < 0 && starQ > 0)
}

// gzipWriter compresses a 200 response's body; other statuses (304, 412,
// errors) pass through as they are.
type gzipWriter struct {
	http.ResponseWriter
	gz          *gzip.Writer
	wroteHeader bool
	on, head    bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		g.ResponseWriter.WriteHeader(code)
		return
	}
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	if code == http.StatusOK {
		h := g.Header()
		h.Del("Content-Length")
		h.Del("Accept-Ranges")
		h.Set("Content-Encoding", "gzip")
		g.on = true
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	if !g.on {
		return g.ResponseWriter.Write(p)
	}
	if g.gz == nil {
		g.gz, _ = gzip.NewWriterLevel(g.ResponseWriter, gzipLevel) // the level is valid
	}
	return g.gz.Write(p)
}

func (g *gzipWriter) Flush() {
	if g.gz != nil {
		_ = g.gz.Flush() // a failed write shows in the next Write
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush() // ErrNotSupported: nothing to flush
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// finish ends the gzip stream; an empty body still gets one.
func (g *gzipWriter) finish() {
	if !g.on || g.head {
		return
	}
	if g.gz == nil {
		g.gz, _ = gzip.NewWriterLevel(g.ResponseWriter, gzipLevel)
	}
	_ = g.gz.Close() // the client is gone; nothing to tell it
}

// Request is one answered HTTPS request.
type Request struct {
	Time time.Time
	// Server is the address (host:port) of the server that answered.
	Server string
	// Host is the request's Host header.
	Host   string
	Method string
	Path   string
	// Status is the status code sent, 0 if the handler sent none (it
	// hijacked the connection or panicked).
	Status int
	// Bytes counts the body bytes written (compressed, when Gzip).
	Bytes int64
	// Conditional is true when the request had If-None-Match or
	// If-Modified-Since.
	Conditional bool
	// Gzip is true when the response had Content-Encoding: gzip.
	Gzip    bool
	Elapsed time.Duration
}

// Requests returns a copy of the request log of all HTTPS servers, oldest
// first. The log keeps the latest 65,536 requests at most.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	s.requests = nil
	s.reqMu.Unlock()
}

func (s *Server) record(r Request) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if len(s.requests) >= maxRequests {
		n := copy(s.requests, s.requests[len(s.requests)/2:])
		clear(s.requests[n:])
		s.requests = s.requests[:n]
	}
	s.requests = append(s.requests, r)
}

// logHandler records every request after the handler (and the test's
// middleware) answered it.
type logHandler struct {
	s    *Server
	addr string
	next http.Handler
}

func (l *logHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lw := &logWriter{ResponseWriter: w}
	start := time.Now()
	defer func() {
		l.s.record(Request{
			Time:        start,
			Server:      l.addr,
			Host:        r.Host,
			Method:      r.Method,
			Path:        r.URL.Path,
			Status:      lw.status,
			Bytes:       lw.bytes,
			Conditional: r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "",
			Gzip:        lw.status != 0 && lw.Header().Get("Content-Encoding") == "gzip",
			Elapsed:     time.Since(start),
		})
	}()
	l.next.ServeHTTP(lw, r)
}

// logWriter counts what goes to the client.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (l *logWriter) WriteHeader(code int) {
	if l.status == 0 && code >= 200 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(p)
	l.bytes += int64(n)
	return n, err
}

func (l *logWriter) Flush() {
	_ = http.NewResponseController(l.ResponseWriter).Flush() // ErrNotSupported: nothing to flush
}

func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }
