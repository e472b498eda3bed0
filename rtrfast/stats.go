package rtrfast

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the server's state and counters, for metrics
// and status pages.
type Stats struct {
	// HasData is false until the first Publish.
	HasData bool
	// Serial is the current serial; SessionIDs the session ID per
	// protocol version.
	Serial     Serial
	SessionIDs [versions]uint16
	// VRPs, RouterKeys and ASPAs count what a router of version 2
	// receives in a full table (router keys and ASPAs only if enabled).
	VRPs, RouterKeys, ASPAs int
	// Sessions is the number of open connections; SessionsByVersion
	// counts those that negotiated each version.
	Sessions          int
	SessionsByVersion [versions]int
	// Accepted counts connections ever accepted, AcceptErrors failed
	// accepts.
	Accepted, AcceptErrors uint64
	// ResetQueries and SerialQueries count queries, CacheResets the
	// Cache Reset answers, ErrorReports the Error Reports sent, Notifies
	// the Serial Notify PDUs sent.
	ResetQueries, SerialQueries, CacheResets, ErrorReports, Notifies uint64
	// BytesRead and BytesWritten count the traffic, PDUsWritten the PDUs
	// of complete answers.
	BytesRead, BytesWritten, PDUsWritten uint64
	// SlowClosed counts sessions dropped because the router took no data
	// for WriteTimeout.
	SlowClosed uint64
	// Clients has one entry per client address, sorted, when
	// ClientMetrics is on.
	Clients []ClientStats
}

// ClientStats is what the server knows of one client address, over all
// its connections (rtr-client-metrics; Routinator's rtr_client_*
// metrics).
type ClientStats struct {
	Addr netip.Addr
	// Open is the number of open connections from Addr.
	Open int
	// Serial is the last serial sent to Addr in an End of Data, if
	// HasSerial.
	Serial    Serial
	HasSerial bool
	// LastUpdate is when Addr last got an End of Data, LastReset when it
	// last sent a Reset Query; zero if never.
	LastUpdate, LastReset time.Time
	ResetQueries          uint64
	SerialQueries         uint64
	BytesRead             uint64
	BytesWritten          uint64
}

// counters are the server-wide totals, updated atomically by sessions.
type counters struct {
	open                                                           atomic.Int64
	byVersion                                                      [versions]atomic.Int64
	accepted, acceptErrors                                         atomic.Uint64
	resetQueries, serialQueries, cacheResets, errorsSent, notifies atomic.Uint64
	bytesRead, bytesWritten, pdusWritten, slowClosed               atomic.Uint64
}

// hasSerial marks clientStats.serial as set.
const hasSerial = 1 << 32

// clientStats are the counters of one client address, shared by its
// sessions.
type clientStats struct {
	open                        atomic.Int64
	serial                      atomic.Uint64 // Serial | hasSerial
	lastUpdate, lastReset       atomic.Int64  // Unix nanoseconds, 0 if never
	resetQueries, serialQueries atomic.Uint64
	bytesRead, bytesWritten     atomic.Uint64
}

// maxClients bounds the client table: entries of addresses without an
// open connection are kept (as Routinator keeps them) until it is full,
// then the table makes room by dropping them.
const maxClients = 10000

type clientTable struct {
	enabled bool
	mu      sync.Mutex
	m       map[netip.Addr]*clientStats
}

// open returns the entry of addr with one more open connection, or nil
// when client metrics are off or the table is full of open clients.
func (t *clientTable) open(addr netip.Addr) *clientStats {
	if !t.enabled {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[netip.Addr]*clientStats)
	}
	c := t.m[addr]
	if c == nil {
		if len(t.m) >= maxClients {
			for a, o := range t.m {
				if o.open.Load() == 0 {
					delete(t.m, a)
				}
			}
			if len(t.m) >= maxClients {
				return nil
			}
		}
		c = &clientStats{}
		t.m[addr] = c
	}
	c.open.Add(1)
	return c
}

func (t *clientTable) list() []ClientStats {
	if !t.enabled {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ClientStats, 0, len(t.m))
	for a, c := range t.m {
		serial := c.serial.Load()
		out = append(out, ClientStats{
			Addr:          a,
			Open:          int(c.open.Load()),
			Serial:        Serial(serial),
			HasSerial:     serial&hasSerial != 0,
			LastUpdate:    unixTime(c.lastUpdate.Load()),
			LastReset:     unixTime(c.lastReset.Load()),
			ResetQueries:  c.resetQueries.Load(),
			SerialQueries: c.serialQueries.Load(),
			BytesRead:     c.bytesRead.Load(),
			BytesWritten:  c.bytesWritten.Load(),
		})
	}
	slices.SortFunc(out, func(a, b ClientStats) int { return a.Addr.Compare(b.Addr) })
	return out
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Conns appends the connections of the open sessions to dst and returns
// it, for figures of the sockets themselves (round-trip time,
// retransmissions) that the caller reads from the kernel. It takes the
// server's lock for a moment and touches no session: call it when
// metrics are scraped, not per PDU. A returned connection may close at
// any time; the caller must not read from, write to or close it.
func (s *Server) Conns(dst []net.Conn) []net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.sessions {
		dst = append(dst, ss.conn)
	}
	return dst
}

// Stats returns the current state and counters.
func (s *Server) Stats() Stats {
	st := Stats{
		SessionIDs:    s.sessionIDs,
		Sessions:      int(s.stats.open.Load()),
		Accepted:      s.stats.accepted.Load(),
		AcceptErrors:  s.stats.acceptErrors.Load(),
		ResetQueries:  s.stats.resetQueries.Load(),
		SerialQueries: s.stats.serialQueries.Load(),
		CacheResets:   s.stats.cacheResets.Load(),
		ErrorReports:  s.stats.errorsSent.Load(),
		Notifies:      s.stats.notifies.Load(),
		BytesRead:     s.stats.bytesRead.Load(),
		BytesWritten:  s.stats.bytesWritten.Load(),
		PDUsWritten:   s.stats.pdusWritten.Load(),
		SlowClosed:    s.stats.slowClosed.Load(),
		Clients:       s.clients.list(),
	}
	for v := range st.SessionsByVersion {
		st.SessionsByVersion[v] = int(s.stats.byVersion[v].Load())
	}
	if snap := s.cur.Load(); snap != nil {
		st.HasData = true
		st.Serial = snap.serial
		st.VRPs, st.RouterKeys, st.ASPAs = snap.counts[0], snap.counts[1], snap.counts[2]
	}
	return st
}
