package httpapi

import (
	"bytes"
	"errors"
	"os/exec"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/netio"
)

// The metrics of /metrics. Those named routinator_... have the meaning,
// labels and help text of Routinator's metrics of the same name; rovd
// keeps them for the dashboards and alerts written for Routinator,
// including the few whose names break Prometheus's naming advice
// (counters without _total, gauges with it). The rovd_... metrics are
// rovd's own.
//
//	routinator_last_update_start            seconds since the last run started
//	routinator_last_update_duration         duration of the last run
//	routinator_last_update_done             seconds since the last run ended
//	routinator_serial                       current RTR serial
//	routinator_ta_objects_total             valid objects {name, type, state}
//	routinator_ta_valid_vrps_total          VRPs per trust anchor {name}
//	routinator_ta_valid_payload_total       payload per trust anchor {name, type}
//	routinator_repository_publication_points_total  {uri, state}
//	routinator_repository_valid_vrps_total  VRPs per repository {uri}
//	routinator_vrps_added_locally           VRPs added by local exceptions
//	routinator_rrdp_status, _notification_status, _payload_status,
//	routinator_rrdp_duration, routinator_rrdp_serial_info  {uri}
//	routinator_rsync_status, routinator_rsync_duration     {uri}
//	routinator_rtr_current_connections, routinator_rtr_bytes_read,
//	routinator_rtr_bytes_written
//	routinator_rtr_client_connections, _serial, _last_update_seconds,
//	_last_reset_seconds, _reset_queries, _serial_queries, _read_bytes,
//	_written_bytes  {addr}, with rtr-client-metrics only
//	routinator_http_connections, _current_connections, _bytes_read,
//	_bytes_written, _requests
//	routinator_valid_roas, routinator_total_vrps  {tal}
//	routinator_vrps_final, routinator_stale_objects
//
//	rovd_session                            current RTR session ID
//	rovd_rtr_client_rtt_seconds, _retransmits_total, _in_flight_bytes
//	                                        {addr, port}: the kernel's figures of
//	                                        each open RTR connection, and
//	rovd_rtr_client_socket_stats_info       {source}: ebpf or tcp_info, where they
//	                                        come from (rtr-client-metrics only)
//	rovd_objects                            objects of the run {type, state}
//	rovd_publication_points                 {state}: valid, rejected, last_good
//	                                        (the valid ones served from their last good copy)
//	rovd_repositories_failed                repositories whose update failed
//	rovd_unsafe_vrps                        (unless unsafe-vrps is accept)
//	rovd_vrps_filtered_locally              VRPs removed by local exceptions
//	rovd_validation_cache_hits              points taken from the cache
//	rovd_json_delta_history                 serials /json-delta has deltas from
//	rovd_collapse_guard_holding, _held_vrps, _holding_seconds, _trips_total
//	                                        (once the server sets the guard)

// serveMetrics answers /metrics in the Prometheus text format.
func (s *Service) serveMetrics(ctx *fasthttp.RequestCtx, st *state) {
	reg := prometheus.NewPedanticRegistry()
	// The collector describes nothing up front (an "unchecked" collector):
	// the label values come from the data set of the moment.
	if err := reg.Register(collectorFunc(func(ch chan<- prometheus.Metric) { s.collect(ch, st) })); err != nil {
		s.log.Error("http metrics", "err", err)
		fail(ctx, false, fasthttp.StatusInternalServerError, "internal server error")
		return
	}
	fams, err := reg.Gather()
	if err != nil {
		// Gather checks names, labels and duplicates: a failure is a
		// bug here, not a client's problem.
		s.log.Error("http metrics", "err", err)
		fail(ctx, false, fasthttp.StatusInternalServerError, "internal server error")
		return
	}
	var b bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			s.log.Error("http metrics", "err", err)
			fail(ctx, false, fasthttp.StatusInternalServerError, "internal server error")
			return
		}
	}
	ctx.SetContentType(string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	ctx.Response.SetBodyRaw(b.Bytes())
}

type collectorFunc func(chan<- prometheus.Metric)

func (collectorFunc) Describe(chan<- *prometheus.Desc)      {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// emitter sends the metrics of one scrape.
type emitter struct{ ch chan<- prometheus.Metric }

type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func gaugeFamily(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func counterFamily(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

func (e emitter) add(f family, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
}

// routinatorType maps rovd's object kinds (the run report's) to the
// type label values of Routinator's object metrics.
func routinatorType(kind string) string {
	switch kind {
	case "manifest", "crl", "roa", "aspa", "gbr":
		return kind
	case "ca":
		return "ca_cert"
	case "router":
		return "router_cert"
	case "certificate", "cer":
		return "cert"
	}
	return "other"
}

func (s *Service) collect(ch chan<- prometheus.Metric, st *state) {
	e := emitter{ch}
	snap := st.snap
	now := s.cfg.Now()

	e.add(gaugeFamily("routinator_last_update_start", "seconds since the start of the last update"), now.Sub(snap.Started).Seconds())
	e.add(gaugeFamily("routinator_last_update_duration", "duration of the last update in seconds"), snap.Elapsed.Seconds())
	e.add(gaugeFamily("routinator_last_update_done", "seconds since the end of the last update"), now.Sub(st.created).Seconds())
	e.add(gaugeFamily("routinator_serial", "current RTR serial number"), float64(snap.Serial))
	e.add(gaugeFamily("rovd_session", "current RTR session ID"), float64(snap.Session))

	// Per trust anchor.
	tas := st.taCounts()
	objs := gaugeFamily("routinator_ta_objects_total", "objects per trust anchor", "name", "type", "state")
	if r := snap.Report; r != nil {
		for ta, kinds := range r.Counts.ValidByTA {
			byType := map[string]int{}
			for k, n := range kinds {
				byType[routinatorType(k)] += n
			}
			for typ, n := range byType {
				e.add(objs, float64(n), ta, typ, "valid")
			}
		}
	}
	vrps := gaugeFamily("routinator_ta_valid_vrps_total", "overall number of VRPs per trust anchor", "name")
	pl := gaugeFamily("routinator_ta_valid_payload_total", "overall number of payload elements per trust anchor", "name", "type")
	roas := gaugeFamily("routinator_valid_roas", "number of valid ROAs seen", "tal")
	total := gaugeFamily("routinator_total_vrps", "number of valid VRPs per TAL", "tal")
	for _, t := range tas {
		e.add(vrps, float64(t.v4+t.v6), t.name)
		e.add(pl, float64(t.v4), t.name, "route_origins_ipv4")
		e.add(pl, float64(t.v6), t.name, "route_origins_ipv6")
		e.add(pl, float64(t.keys), t.name, "router_keys")
		e.add(pl, float64(t.aspas), t.name, "aspas")
		e.add(roas, float64(t.roas), t.name)
		e.add(total, float64(t.v4+t.v6), t.name)
	}
	e.add(gaugeFamily("routinator_vrps_final", "final number of VRPs"), float64(len(snap.Set.VRPs())))
	e.add(gaugeFamily("routinator_vrps_added_locally", "VRPs added from local exceptions"), float64(snap.Exceptions.AddedVRPs))
	e.add(gaugeFamily("rovd_vrps_filtered_locally", "VRPs removed by local exceptions"), float64(snap.Exceptions.FilteredVRPs))
	if s.cfg.UnsafeVRPs != "accept" {
		e.add(gaugeFamily("rovd_unsafe_vrps", "VRPs overlapping with resources of rejected CAs"), float64(snap.Unsafe))
	}

	// The run as a whole.
	if r := snap.Report; r != nil {
		c := &r.Counts
		e.add(gaugeFamily("routinator_stale_objects", "total number of stale manifests and CRLs"), float64(c.StaleObjectsAdded))
		objects := gaugeFamily("rovd_objects", "objects of the last run by type and state", "type", "state")
		for state, m := range map[string]map[string]int{"valid": c.ObjectsValid, "invalid": c.ObjectsInvalid} {
			byType := map[string]int{}
			for k, n := range m {
				byType[routinatorType(k)] += n
			}
			for typ, n := range byType {
				e.add(objects, float64(n), typ, state)
			}
		}
		points := gaugeFamily("rovd_publication_points", "publication points of the last run: valid, rejected, and last_good (valid ones served from their kept copy)", "state")
		e.add(points, float64(c.PointsValid), "valid")
		e.add(points, float64(c.PointsRejected), "rejected")
		e.add(points, float64(c.PointsLastGood), "last_good")
		e.add(gaugeFamily("rovd_repositories_failed", "repositories whose update failed in the last run"), float64(c.ReposFailed))
		e.add(gaugeFamily("rovd_validation_cache_hits", "publication points whose result came from the validation cache"), float64(c.CacheHits))

		rp := gaugeFamily("routinator_repository_publication_points_total", "publication points per repository", "uri", "state")
		rv := gaugeFamily("routinator_repository_valid_vrps_total", "overall number of VRPs per repository", "uri")
		for uri, rc := range c.ByRepo {
			e.add(rp, float64(rc.PointsValid), uri, "valid")
			e.add(rp, float64(rc.PointsRejected), uri, "rejected")
			e.add(rv, float64(rc.VRPs), uri)
		}
	}
	e.add(gaugeFamily("rovd_json_delta_history", "serials /json-delta answers with a delta from"), float64(len(st.history)))

	// Repository fetches.
	rrdpStatus := gaugeFamily("routinator_rrdp_status", "combined status code for RRDP update requests", "uri")
	rrdpNotify := gaugeFamily("routinator_rrdp_notification_status", "status code for getting the RRDP notification file", "uri")
	rrdpPayload := gaugeFamily("routinator_rrdp_payload_status", "status code for getting RRDP payload files", "uri")
	rrdpDuration := gaugeFamily("routinator_rrdp_duration", "duration of RRDP update in seconds", "uri")
	rrdpSerial := gaugeFamily("routinator_rrdp_serial_info", "serial number of the last RRDP update", "uri")
	rsyncStatus := gaugeFamily("routinator_rsync_status", "exit status of the rsync command", "uri")
	rsyncDuration := gaugeFamily("routinator_rsync_duration", "duration of the rsync command in seconds", "uri")
	for i := range snap.Repos {
		r := &snap.Repos[i]
		if r.Protocol == "rsync" {
			e.add(rsyncStatus, float64(rsyncExit(r)), r.URI)
			e.add(rsyncDuration, r.Duration.Seconds(), r.URI)
			continue
		}
		status, payloadStatus := rrdpCodes(r)
		e.add(rrdpStatus, float64(status), r.URI)
		e.add(rrdpNotify, float64(status), r.URI)
		e.add(rrdpPayload, float64(payloadStatus), r.URI)
		e.add(rrdpDuration, r.Duration.Seconds(), r.URI)
		if r.Err == nil {
			e.add(rrdpSerial, float64(r.Serial), r.URI)
		}
	}

	// RTR.
	rtr := s.rtr()
	e.add(gaugeFamily("routinator_rtr_current_connections", "number of currently open RTR connections"), float64(rtr.Connections))
	e.add(counterFamily("routinator_rtr_bytes_read", "total number of bytes read from RTR connections"), float64(rtr.BytesRead))
	e.add(counterFamily("routinator_rtr_bytes_written", "total number of bytes written to RTR connections"), float64(rtr.BytesWritten))
	if s.cfg.RTRClientMetrics {
		conns := gaugeFamily("routinator_rtr_client_connections", "number of currently open connections per client address", "addr")
		serial := gaugeFamily("routinator_rtr_client_serial", "last serial seen by a client address", "addr")
		updated := gaugeFamily("routinator_rtr_client_last_update_seconds", "seconds since last update by a client address", "addr")
		reset := gaugeFamily("routinator_rtr_client_last_reset_seconds", "seconds since last cache reset by a client address", "addr")
		resets := counterFamily("routinator_rtr_client_reset_queries", "number of of reset queries by a client address", "addr")
		serials := counterFamily("routinator_rtr_client_serial_queries", "number of of serial queries by a client address", "addr")
		read := counterFamily("routinator_rtr_client_read_bytes", "number of bytes read from a client address", "addr")
		written := counterFamily("routinator_rtr_client_written_bytes", "number of bytes written to a client address", "addr")
		// -1 stands for "never", as in Routinator.
		ago := func(t time.Time) float64 {
			if t.IsZero() {
				return -1
			}
			return now.Sub(t).Seconds()
		}
		for i := range rtr.Clients {
			c := &rtr.Clients[i]
			e.add(conns, float64(c.Connections), c.Addr)
			sv := -1.0
			if c.HasSerial {
				sv = float64(c.Serial)
			}
			e.add(serial, sv, c.Addr)
			e.add(updated, ago(c.Updated), c.Addr)
			e.add(reset, ago(c.LastReset), c.Addr)
			e.add(resets, float64(c.ResetQueries), c.Addr)
			e.add(serials, float64(c.SerialQueries), c.Addr)
			e.add(read, float64(c.BytesRead), c.Addr)
			e.add(written, float64(c.BytesWritten), c.Addr)
		}
		if rtr.SocketSource != "" {
			e.add(gaugeFamily("rovd_rtr_client_socket_stats_info", "where the socket figures of RTR connections come from: ebpf or tcp_info", "source"), 1, rtr.SocketSource)
			rtt := gaugeFamily("rovd_rtr_client_rtt_seconds", "smoothed round-trip time of an RTR connection", "addr", "port")
			retrans := counterFamily("rovd_rtr_client_retransmits_total", "TCP segments retransmitted on an RTR connection", "addr", "port")
			inFlight := gaugeFamily("rovd_rtr_client_in_flight_bytes", "bytes sent on an RTR connection and not yet acknowledged", "addr", "port")
			for i := range rtr.Sockets {
				c := &rtr.Sockets[i]
				port := strconv.Itoa(int(c.Port))
				e.add(rtt, c.RTT.Seconds(), c.Addr, port)
				e.add(retrans, float64(c.Retransmits), c.Addr, port)
				e.add(inFlight, float64(c.BytesInFlight), c.Addr, port)
			}
		}
	}

	// HTTP.
	opened, closed := s.connsOpened.Load(), s.connsClosed.Load()
	e.add(counterFamily("routinator_http_connections", "total number of HTTP connections opened"), float64(opened))
	e.add(gaugeFamily("routinator_http_current_connections", "number of currently open HTTP connections"), float64(opened-closed))
	e.add(counterFamily("routinator_http_bytes_read", "number of bytes read from HTTP connections"), float64(s.bytesRead.Load()))
	e.add(counterFamily("routinator_http_bytes_written", "number of bytes written to HTTP connections"), float64(s.bytesWritten.Load()))
	e.add(counterFamily("routinator_http_requests", "number of HTTP requests received"), float64(s.requests.Load()))

	// The collapse guard.
	if g, ok := s.guardState(); ok {
		holding := 0.0
		if g.Holding {
			holding = 1
		}
		e.add(gaugeFamily("rovd_collapse_guard_holding", "1 while the collapse guard holds a data set back"), holding)
		e.add(gaugeFamily("rovd_collapse_guard_held_vrps", "VRPs of the data set held back, 0 if none"), float64(g.HeldVRPs))
		since := 0.0
		if g.Holding && !g.Since.IsZero() {
			since = now.Sub(g.Since).Seconds()
		}
		e.add(gaugeFamily("rovd_collapse_guard_holding_seconds", "seconds the collapse guard has been holding, 0 if not"), since)
		e.add(counterFamily("rovd_collapse_guard_trips_total", "times the collapse guard held a data set back"), float64(g.Trips))
	}
}

// rtr returns the RTR figures, zero until SetRTRStats.
func (s *Service) rtr() RTRStats {
	if f := s.rtrStats.Load(); f != nil {
		return (*f)()
	}
	return RTRStats{}
}

// guardState returns the collapse guard's state, if SetGuard was called.
func (s *Service) guardState() (GuardState, bool) {
	if f := s.guard.Load(); f != nil {
		return (*f)(), true
	}
	return GuardState{}, false
}

// rrdpCodes returns an RRDP fetch's status codes in Routinator's terms:
// the HTTP status of the notification file (304 if unchanged, -1 if the
// update failed) and that of the snapshot or deltas (200 if fetched, 0
// if none were needed, -1 on failure).
func rrdpCodes(r *netio.Status) (status, payloadStatus int) {
	switch {
	case r.Err != nil:
		return -1, -1
	case r.Method == netio.MethodNotModified:
		return 304, 0
	case r.Method == netio.MethodDeltas || r.Method == netio.MethodSnapshot:
		return 200, 200
	}
	return 200, 0
}

// rsyncExit returns the exit status of an rsync fetch: 0, rsync's own
// status, or -1 if it failed without one.
func rsyncExit(r *netio.Status) int {
	if r.Err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(r.Err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode()
	}
	return -1
}
