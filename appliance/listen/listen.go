package listen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/netio"
)

// HTTPName is the FileDescriptorName= of a systemd socket meant for the
// HTTP service rather than RTR.
const HTTPName = "http"

// Options says what to listen on.
type Options struct {
	// RTR and RTRTLS are addr:port pairs, IPv6 addresses in brackets.
	RTR, RTRTLS []string
	// TLSKey and TLSCert are the PEM files of the RTR TLS listeners.
	TLSKey, TLSCert string
	// HTTP and HTTPTLS are the HTTP service's addr:port pairs, and
	// HTTPTLSKey and HTTPTLSCert the PEM files of its TLS listeners.
	HTTP, HTTPTLS           []string
	HTTPTLSKey, HTTPTLSCert string
	// Systemd takes sockets from systemd socket activation as well.
	Systemd bool
	// KeepAlive is the idle time before TCP keepalives on RTR
	// connections; zero turns them off.
	KeepAlive time.Duration
	// Logger reports connections whose keepalive could not be set; nil
	// discards.
	Logger *slog.Logger
}

// FromConfig returns the listening options of c.
func FromConfig(c *config.Config, log *slog.Logger) Options {
	return Options{
		RTR:         c.RTRListen,
		RTRTLS:      c.RTRTLSListen,
		TLSKey:      c.RTRTLSKey,
		TLSCert:     c.RTRTLSCert,
		HTTP:        c.HTTPListen,
		HTTPTLS:     c.HTTPTLSListen,
		HTTPTLSKey:  c.HTTPTLSKey,
		HTTPTLSCert: c.HTTPTLSCert,
		Systemd:     c.ListenSystemd,
		KeepAlive:   c.RTRTCPKeepalive.Duration(),
		Logger:      log,
	}
}

// Listeners are the server's listening sockets. Prepare does at start
// what must not wait: it takes systemd's sockets (before any child
// process could inherit them) and reads the TLS key and certificate (so
// that a mistake shows before a validation run). Open binds the
// addresses once the server is ready to serve.
type Listeners struct {
	opt     Options
	tls     *tls.Config
	httpTLS *tls.Config
	// systemdRTR are systemd's RTR sockets, not yet handed out by Open.
	systemdRTR []net.Listener
	http       []net.Listener
	// bound are the RTR listeners Bind bound, for Open to hand out.
	bound []net.Listener
	// opened are all listeners handed out, for Close.
	opened []net.Listener
}

// Prepare takes the systemd sockets, if asked to, and loads the TLS
// certificate of the RTR TLS listeners. A systemd socket must be TCP
// unless it is named http.
func Prepare(opt Options) (*Listeners, error) {
	ls := &Listeners{opt: opt}
	var err error
	if len(opt.RTRTLS) > 0 {
		if ls.tls, err = serverTLS("rtr", opt.TLSCert, opt.TLSKey); err != nil {
			return nil, err
		}
	}
	if len(opt.HTTPTLS) > 0 {
		if ls.httpTLS, err = serverTLS("http", opt.HTTPTLSCert, opt.HTTPTLSKey); err != nil {
			return nil, err
		}
	}
	if opt.Systemd {
		activated, err := netio.SystemdListeners()
		if err != nil {
			return nil, fmt.Errorf("listen-systemd: %w", err)
		}
		if len(activated) == 0 {
			return nil, errors.New("listen-systemd: systemd passed no sockets")
		}
		for i, a := range activated {
			if a.Name == HTTPName {
				ls.http = append(ls.http, a.Listener)
				continue
			}
			if _, ok := a.Listener.(*net.TCPListener); !ok {
				for _, rest := range activated[i:] {
					_ = rest.Close() // the error below is what matters
				}
				ls.Close()
				return nil, fmt.Errorf("listen-systemd: descriptor %d (%q) is a %s socket; RTR needs TCP", a.FD, a.Name, a.Addr().Network())
			}
			ls.systemdRTR = append(ls.systemdRTR, a.Listener)
		}
	}
	return ls, nil
}

// serverTLS loads the key pair of the TLS listeners of service (rtr,
// http).
func serverTLS(service, certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s-tls-cert %s, %s-tls-key %s: %w", service, certFile, service, keyFile, err)
	}
	// TLS 1.2 is the oldest version without known breaks (RFC 8996
	// retires 1.0 and 1.1).
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// HTTP returns the systemd sockets named http, for the HTTP service;
// the caller closes them.
func (ls *Listeners) HTTP() []net.Listener {
	h := ls.http
	ls.http = nil
	return h
}

// OpenHTTP binds the HTTP service's addresses (http-listen, and
// http-tls-listen over TLS) and returns them after systemd's sockets
// named http. Unlike RTR, the HTTP service listens from the start: its
// data paths answer 503 until the first set exists. Close closes them.
func (ls *Listeners) OpenHTTP() ([]net.Listener, error) {
	out := ls.HTTP()
	ls.opened = append(ls.opened, out...)
	bind := func(addr string, tlsConfig *tls.Config) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		if tlsConfig != nil {
			l = tls.NewListener(l, tlsConfig)
		}
		out = append(out, l)
		ls.opened = append(ls.opened, l)
		return nil
	}
	for _, addr := range ls.opt.HTTP {
		if err := bind(addr, nil); err != nil {
			return nil, fmt.Errorf("http-listen %s: %w", addr, err)
		}
	}
	for _, addr := range ls.opt.HTTPTLS {
		if err := bind(addr, ls.httpTLS); err != nil {
			return nil, fmt.Errorf("http-tls-listen %s: %w", addr, err)
		}
	}
	return out, nil
}

// Bind binds the RTR addresses now instead of in Open, which then hands
// out these listeners: a daemon binds before it gives up its privileges
// (a port below 1024 needs them). Until Open's caller serves them,
// connections wait in the backlog. On error nothing stays bound.
func (ls *Listeners) Bind() error {
	if ls.bound != nil {
		return nil
	}
	out, err := ls.Open()
	if err != nil {
		return err
	}
	ls.bound = out
	return nil
}

// Open binds the RTR addresses and returns every RTR listener:
// systemd's, then rtr-listen's, then rtr-tls-listen's, each accepting
// connections with the keepalive setting and the TLS ones over TLS. On
// error it closes what it bound. Close closes the listeners returned.
func (ls *Listeners) Open() ([]net.Listener, error) {
	if ls.bound != nil {
		out := ls.bound
		ls.bound = nil
		return out, nil
	}
	out := make([]net.Listener, 0, len(ls.systemdRTR)+len(ls.opt.RTR)+len(ls.opt.RTRTLS))
	for _, l := range ls.systemdRTR {
		out = append(out, netio.KeepAlive(l, ls.opt.KeepAlive, ls.opt.Logger))
	}
	ls.systemdRTR = nil
	ls.opened = append(ls.opened, out...)
	// Keepalives are set per connection by netio.KeepAlive; the
	// listener's own default (15 s) is turned off.
	lc := net.ListenConfig{KeepAlive: -1}
	bind := func(addr string, tlsConfig *tls.Config) error {
		raw, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			return err
		}
		l := netio.KeepAlive(raw, ls.opt.KeepAlive, ls.opt.Logger)
		if tlsConfig != nil {
			l = tls.NewListener(l, tlsConfig)
		}
		out = append(out, l)
		ls.opened = append(ls.opened, l)
		return nil
	}
	for _, addr := range ls.opt.RTR {
		if err := bind(addr, nil); err != nil {
			ls.Close()
			return nil, fmt.Errorf("rtr-listen %s: %w", addr, err)
		}
	}
	for _, addr := range ls.opt.RTRTLS {
		if err := bind(addr, ls.tls); err != nil {
			ls.Close()
			return nil, fmt.Errorf("rtr-tls-listen %s: %w", addr, err)
		}
	}
	return out, nil
}

// Close closes every listener Open returned and the systemd sockets
// not handed out. Closing one already closed is no error.
func (ls *Listeners) Close() error {
	var errs []error
	for _, group := range [][]net.Listener{ls.opened, ls.systemdRTR, ls.http} {
		for _, l := range group {
			if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	ls.opened, ls.systemdRTR, ls.http = nil, nil, nil
	return errors.Join(errs...)
}
