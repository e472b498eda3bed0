package cli

import (
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
	wg  sync.WaitGroup
}

func newHTTPService(cfg *config.Config, log *slog.Logger, pub server.Publisher) *httpService {
	hc := httpapi.FromConfig(cfg, Version())
	hc.Logger = log
	h := &httpService{api: httpapi.New(hc)}
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
	h.api.Publish(snap)
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
