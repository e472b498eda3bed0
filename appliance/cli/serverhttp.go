package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/server"
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

func newHTTPService(cfg *config.Config, log *slog.Logger, runLog *runLog, pub server.Publisher) *httpService {
	hc := httpapi.FromConfig(cfg, Version())
	hc.Logger = log
	h := &httpService{api: httpapi.New(hc), log: runLog}
	if rs, ok := pub.(*rtrfast.Server); ok {
		h.rtr = rs
		h.api.SetRTRStats(func() httpapi.RTRStats { return rtrStats(rs.Stats()) })
	}
	return h
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
