package httpapi

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/rovd/rovd/netio"
)

// /status has Routinator's keys in Routinator's order, one "key: value"
// a line, then rovd's own (session, collapse guard). Where Routinator
// counts VRPs before removing duplicates per trust anchor, rovd counts
// the distinct VRPs of each (an item under two trust anchors counts for
// both); "vrps" is the total before duplicates were removed.

// maxIssuesPerPoint bounds the findings listed for one publication
// point, so that one broken repository cannot make the page huge.
const maxIssuesPerPoint = 5

// appendStatus appends the status page of st.
func (s *Service) appendStatus(b []byte, st *state) []byte {
	snap := st.snap
	now := s.cfg.Now()
	line := func(format string, a ...any) { b = fmt.Appendf(b, format+"\n", a...) }
	perTA := func(key string, value func(t *taPayload) int) {
		b = append(b, key...)
		b = append(b, ": "...)
		for i := range st.taCounts() {
			t := &st.taCounts()[i]
			b = fmt.Appendf(b, "%s=%d ", t.name, value(t))
		}
		b = append(b, '\n')
	}
	line("version: rovd/%s", s.cfg.Version)
	line("serial: %d", snap.Serial)
	line("last-update-start-at:  %s", statusTime(snap.Started))
	line("last-update-start-ago: %s", isoDuration(now.Sub(snap.Started)))
	line("last-update-done-at:   %s", statusTime(st.created))
	line("last-update-done-ago:  %s", isoDuration(now.Sub(st.created)))
	line("last-update-duration:  %s", isoDuration(snap.Elapsed))

	var roas, vrpsSeen, stale int
	if r := snap.Report; r != nil {
		roas = r.Counts.ObjectsValid["roa"]
		stale = r.Counts.StaleObjectsAdded
		for _, rc := range r.Counts.ByRepo {
			vrpsSeen += rc.VRPs
		}
	}
	final := len(snap.Set.VRPs())
	if vrpsSeen == 0 {
		vrpsSeen = final // a run without a per-repository count
	}
	line("valid-roas: %d", roas)
	perTA("valid-roas-per-tal", func(t *taPayload) int { return t.roas })
	line("vrps: %d", vrpsSeen)
	perTA("vrps-per-tal", func(t *taPayload) int { return t.v4 + t.v6 })
	if s.cfg.UnsafeVRPs != "accept" {
		line("unsafe-vrps: %d", snap.Unsafe)
	}
	line("locally-filtered-vrps: %d", snap.Exceptions.FilteredVRPs)
	line("locally-added-vrps: %d", snap.Exceptions.AddedVRPs)
	line("final-vrps: %d", final)
	perTA("final-vrps-per-tal", func(t *taPayload) int { return t.v4 + t.v6 })
	line("stale-count: %d", stale)

	line("rsync-durations:")
	for i := range snap.Repos {
		if r := &snap.Repos[i]; r.Protocol == "rsync" {
			line("   %s: status=%d, duration=%.3fs", r.URI, rsyncExit(r), r.Duration.Seconds())
		}
	}
	line("rrdp-durations:")
	for i := range snap.Repos {
		r := &snap.Repos[i]
		if r.Protocol == "rsync" {
			continue
		}
		status, payloadStatus := rrdpCodes(r)
		b = fmt.Appendf(b, "   %s: status=%d, notification-status=%d, payload-status=%d, duration=%.3fs", r.URI, status, status, payloadStatus, r.Duration.Seconds())
		if r.Err == nil {
			b = fmt.Appendf(b, ", serial=%d", r.Serial)
		}
		b = append(b, '\n')
	}
	if failed := slices.IndexFunc(snap.Repos, func(r netio.Status) bool { return r.Err != nil }); failed >= 0 {
		line("repository-errors:")
		for i := range snap.Repos {
			if r := &snap.Repos[i]; r.Err != nil {
				line("    %s: %v", r.URI, r.Err)
			}
		}
	}
	b = s.appendIssues(b, st)

	rtr := s.rtr()
	line("rtr-connections: %d current", rtr.Connections)
	line("rtr-data: %d bytes sent, %d bytes received", rtr.BytesWritten, rtr.BytesRead)
	if s.cfg.RTRClientMetrics {
		line("rtr-clients:")
		for i := range rtr.Clients {
			c := &rtr.Clients[i]
			b = fmt.Appendf(b, "    %s: connections=%d, ", c.Addr, c.Connections)
			if c.HasSerial {
				b = fmt.Appendf(b, "serial=%d, ", c.Serial)
			} else {
				b = append(b, "serial=N/A, "...)
			}
			if c.Updated.IsZero() {
				b = append(b, "updated=N/A, "...)
			} else {
				b = fmt.Appendf(b, "updated-ago=%.3fs, ", now.Sub(c.Updated).Seconds())
			}
			if c.LastReset.IsZero() {
				b = append(b, "last-reset=N/A, "...)
			} else {
				b = fmt.Appendf(b, "last-reset-ago=%.3fs, ", now.Sub(c.LastReset).Seconds())
			}
			line("reset-queries=%d, serial-queries=%d, read=%d, written=%d", c.ResetQueries, c.SerialQueries, c.BytesRead, c.BytesWritten)
		}
	}
	opened, closed := s.connsOpened.Load(), s.connsClosed.Load()
	line("http-connections: %d current, %d total", opened-closed, opened)
	line("http-data: %d bytes sent, %d bytes received", s.bytesWritten.Load(), s.bytesRead.Load())
	line("http-requests: %d ", s.requests.Load())

	line("session: %d", snap.Session)
	line("json-delta-history: %d", len(st.history))
	if g, ok := s.guardState(); ok {
		if g.Holding {
			line("collapse-guard: holding since %s, %d VRPs held back (%s), %d trips", statusTime(g.Since), g.HeldVRPs, g.Reason, g.Trips)
		} else {
			line("collapse-guard: ok, %d trips", g.Trips)
		}
	}
	return b
}

// appendIssues lists the run's findings by publication point, at most
// maxIssuesPerPoint of each (the report sorts them by point).
func (s *Service) appendIssues(b []byte, st *state) []byte {
	r := st.snap.Report
	if r == nil || len(r.Findings) == 0 {
		return b
	}
	b = append(b, "pub-point-issues:\n"...)
	for i := 0; i < len(r.Findings); {
		point := r.Findings[i].Point
		j := i
		for j < len(r.Findings) && r.Findings[j].Point == point {
			j++
		}
		b = fmt.Appendf(b, "    %s:\n", point)
		for k, f := range r.Findings[i:j] {
			if k == maxIssuesPerPoint {
				b = fmt.Appendf(b, "        ... and %d more\n", j-i-k)
				break
			}
			b = fmt.Appendf(b, "        [%s] ", levelName(f.Level))
			if f.URI != "" && f.URI != f.Point {
				b = append(b, f.URI...)
				b = append(b, ": "...)
			}
			b = append(b, f.Msg...)
			b = append(b, '\n')
		}
		i = j
	}
	return b
}

// levelName writes a level as Routinator's log books do.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// statusTime writes an instant as Routinator's status page does, in UTC
// with the fraction of a second only where there is one.
func statusTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999999") + " UTC"
}

// isoDuration writes a duration in ISO 8601 notation, as Routinator's
// status page does: PT12.5S, P1DT3600S.
func isoDuration(d time.Duration) string {
	var b []byte
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	b = append(b, 'P')
	if days := d / (24 * time.Hour); days > 0 {
		b = strconv.AppendInt(b, int64(days), 10)
		b = append(b, 'D')
		d -= days * 24 * time.Hour
	}
	b = append(b, 'T')
	b = strconv.AppendInt(b, int64(d/time.Second), 10)
	if frac := d % time.Second; frac > 0 {
		f := strconv.AppendInt(nil, int64(frac)+int64(time.Second), 10)[1:] // nine digits
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(b, '.')
		b = append(b, f...)
	}
	return string(append(b, 'S'))
}
