package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/appliance/sockstat"
	"github.com/rovd/rovd/rtrfast"
)

// httpService is the server command's HTTP service: it follows what the
// refresh loop publishes and reads the RTR server's and the collapse
// guard's figures when asked.
type httpService struct {
	api *httpapi.Service
	rtr *rtrfast.Server // nil when the RTR server is another kind (tests)
	log *runLog
	wg  sync.WaitGroup
}

// newHTTPService sets up the HTTP service; sock, if not nil, reads the
// socket figures of the RTR sessions for rtr-client-metrics.
func newHTTPService(cfg *config.Config, log *slog.Logger, runLog *runLog, pub server.Publisher, sock *sockstat.Collector) *httpService {
	hc := httpapi.FromConfig(cfg, Version())
	hc.Logger = log
	h := &httpService{api: httpapi.New(hc), log: runLog}
	if rs, ok := pub.(*rtrfast.Server); ok {
		h.rtr = rs
		h.api.SetRTRStats(func() httpapi.RTRStats {
			st := rtrStats(rs.Stats())
			if sock != nil {
				st.Sockets, st.SocketSource = socketStats(rs, sock), string(sock.Method())
			}
			return st
		})
	}
	return h
}

// sockStatOptions set up the socket figures of rtr-client-metrics;
// tests choose TCP_INFO with them.
var sockStatOptions sockstat.Options

// openSockStats returns what reads the RTR sessions' socket figures for
// /metrics, or nil when no HTTP service shows them. The server command
// calls it before a daemon gives up its privileges: loading the eBPF
// program needs them.
func openSockStats(cfg *config.Config, http bool, log *slog.Logger) *sockstat.Collector {
	if !http || !cfg.RTRClientMetrics {
		return nil
	}
	opt := sockStatOptions
	opt.Logger = log
	return sockstat.Open(opt)
}

// watchRTR wraps the opening of the RTR listeners so that sock records
// the connections accepted on them.
func watchRTR(sock *sockstat.Collector, open func() ([]net.Listener, error), log *slog.Logger) func() ([]net.Listener, error) {
	return func() ([]net.Listener, error) {
		ls, err := open()
		for _, l := range ls {
			if err := sock.Watch(l); err != nil {
				log.Info("rtr socket metrics: listener not watched", "addr", l.Addr().String(), "err", err)
			}
		}
		return ls, err
	}
}

// socketStats reads the kernel's figures of each open RTR session, when
// /metrics is scraped. A session that closes meanwhile is left out.
func socketStats(rs *rtrfast.Server, sock *sockstat.Collector) []httpapi.RTRSocket {
	conns := rs.Conns(nil)
	out := make([]httpapi.RTRSocket, 0, len(conns))
	for _, c := range conns {
		info, err := sock.Stat(c)
		if err != nil {
			continue
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			continue
		}
		out = append(out, httpapi.RTRSocket{
			Addr: ap.Addr().Unmap().String(), Port: ap.Port(),
			RTT: info.RTT, Retransmits: info.Retransmits, BytesInFlight: info.BytesInFlight,
		})
	}
	return out
}

// watchGuard shows the collapse guard of srv on /status and /metrics.
func (h *httpService) watchGuard(srv *server.Server) {
	var mu sync.Mutex
	var trips uint64
	var holding bool
	h.api.SetGuard(func() httpapi.GuardState {
		g := srv.Guard()
		mu.Lock()
		defer mu.Unlock()
		if g.Holding && !holding {
			trips++
		}
		holding = g.Holding
		st := httpapi.GuardState{Holding: g.Holding, Since: g.Since, Trips: trips}
		if g.Holding {
			st.HeldVRPs = g.Candidate
			st.Reason = "VRP count dropped beyond max-vrp-drop"
		}
		return st
	})
}

// published hands a set the loop published to the HTTP service, with the
// RTR server's session and serial.
func (h *httpService) published(upd *server.Update, _ bool) {
	var snap *httpapi.Snapshot
	if upd.Run != nil {
		snap = httpapi.SnapshotOf(upd.Run)
	} else {
		snap = &httpapi.Snapshot{Set: upd.Set, Started: upd.Time}
	}
	if h.rtr != nil {
		st := h.rtr.Stats()
		snap.Session, snap.Serial = st.SessionIDs[1], uint32(st.Serial)
	}
	snap.Log = h.log.take()
	h.api.Publish(snap)
}

// runLog keeps what is logged between two publications, at the
// configured level and in the text format, for /log: the last run's log,
// as the manual has it. It passes every record on to the configured
// handler.
type runLog struct {
	slog.Handler
	text slog.Handler
	mu   *sync.Mutex
	buf  *bytes.Buffer
}

// runLogLimit bounds the log kept for /log; beyond it, lines are only
// passed on.
const runLogLimit = 4 << 20

func newRunLog(next slog.Handler) *runLog {
	buf := &bytes.Buffer{}
	return &runLog{Handler: next, text: slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}), mu: &sync.Mutex{}, buf: buf}
}

func (h *runLog) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	if h.buf.Len() < runLogLimit {
		_ = h.text.Handle(ctx, r) // a buffer write does not fail
	}
	h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

func (h *runLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &runLog{Handler: h.Handler.WithAttrs(attrs), text: h.text.WithAttrs(attrs), mu: h.mu, buf: h.buf}
}

func (h *runLog) WithGroup(name string) slog.Handler {
	return &runLog{Handler: h.Handler.WithGroup(name), text: h.text.WithGroup(name), mu: h.mu, buf: h.buf}
}

// take returns what was logged since the last take.
func (h *runLog) take() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := bytes.Clone(h.buf.Bytes())
	h.buf.Reset()
	return out
}

// serve answers HTTP on each listener until ctx ends.
func (h *httpService) serve(ctx context.Context, log *slog.Logger, ls []net.Listener) {
	for _, l := range ls {
		log.Info("serving HTTP", "addr", l.Addr().String())
		h.wg.Go(func() {
			if err := h.api.Serve(ctx, l); err != nil {
				log.Error("HTTP service stopped", "err", err)
			}
		})
	}
}

// rtrStats turns the RTR server's figures into the HTTP service's.
func rtrStats(s rtrfast.Stats) httpapi.RTRStats {
	out := httpapi.RTRStats{Connections: s.Sessions, BytesRead: s.BytesRead, BytesWritten: s.BytesWritten}
	for _, c := range s.Clients {
		out.Clients = append(out.Clients, httpapi.RTRClient{
			Addr: c.Addr.String(), Connections: c.Open, Serial: uint32(c.Serial), HasSerial: c.HasSerial,
			Updated: c.LastUpdate, LastReset: c.LastReset, ResetQueries: c.ResetQueries, SerialQueries: c.SerialQueries,
			BytesRead: c.BytesRead, BytesWritten: c.BytesWritten,
		})
	}
	return out
}
