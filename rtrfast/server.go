package rtrfast

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// Config sets up a Server.
type Config struct {
	// Refresh, Retry and Expire are the timers sent in End of Data to
	// routers of version 1 and up (RFC 8210 §6), in whole seconds. Zero
	// takes the RFC's recommended default (3600, 600, 7200 s).
	Refresh, Retry, Expire time.Duration
	// HistorySize is how many earlier serials a router can catch up from
	// with a delta; a router at an older serial gets a Cache Reset. Zero
	// keeps none: every Serial Query not at the current serial resets.
	HistorySize int
	// EnableASPA sends ASPA PDUs to routers of version 2.
	EnableASPA bool
	// EnableBGPsec sends Router Key PDUs to routers of version 1 and up.
	EnableBGPsec bool
	// WriteTimeout bounds each write to a router; a router that takes no
	// data for that long is dropped, so that it never holds anything up.
	// Zero means one minute.
	WriteTimeout time.Duration
	// NotifyInterval is the least time between two rounds of Serial
	// Notify; draft-8210bis-27 §8.2 asks for one minute, which zero
	// means. A Publish within the interval is announced at its end.
	NotifyInterval time.Duration
	// ClientMetrics keeps statistics per client address
	// (rtr-client-metrics); off, Stats has only the totals.
	ClientMetrics bool
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// Defaults of the timers: RFC 8210 §6's recommended values.
const (
	defaultRefresh        = 3600 * time.Second
	defaultRetry          = 600 * time.Second
	defaultExpire         = 7200 * time.Second
	defaultWriteTimeout   = time.Minute
	defaultNotifyInterval = time.Minute
)

// Server serves RTR from the payload sets handed to Publish. Every
// published serial is encoded once per protocol version, and each delta
// once, into byte slices that all sessions share; see the package
// documentation. A Server is safe for concurrent use.
type Server struct {
	cfg           Config
	log           *slog.Logger
	filter        filter
	sessionIDs    [versions]uint16
	timers        [3]uint32 // refresh, retry, expire in seconds
	writeTimeout  time.Duration
	cacheResponse [versions][]byte
	cacheReset    [versions][]byte

	cur atomic.Pointer[snapshot]
	// used has bit v set once a session negotiated version v; Publish
	// builds those versions' responses before it swaps.
	used atomic.Uint32

	pubMu         sync.Mutex // serializes Publish
	lastSet       *payload.Set
	initialSerial Serial

	mu        sync.Mutex
	sessions  map[*session]struct{}
	listeners map[net.Listener]struct{}
	closed    bool
	wg        sync.WaitGroup // session goroutines

	notifyMu    sync.Mutex
	lastNotify  time.Time
	notifyTimer *time.Timer

	stats   counters
	clients clientTable
}

// snapshot is one published serial: everything a session needs to answer
// a query, immutable once stored in Server.cur except for the lazily
// built responses.
type snapshot struct {
	serial Serial
	full   *changes
	counts [3]int // VRPs, router keys, ASPAs as served to version 2
	fullR  [versions]lazyResponse
	deltas []*deltaEntry // from the kept older serials, oldest first
	eod    [versions][]byte
	notify [versions][]byte
}

// deltaEntry is the delta from an older serial to its snapshot's.
type deltaEntry struct {
	from Serial
	ch   *changes
	resp [versions]lazyResponse
}

func (s *snapshot) delta(from Serial) *deltaEntry {
	for _, e := range s.deltas {
		if e.from == from {
			return e
		}
	}
	return nil
}

var (
	lastSessionMu  sync.Mutex
	lastSessionSet bool
	lastSession    uint16
)

// newSessionBase picks the session ID of version 0; versions 1 and 2 use
// the next two, so that no ID is shared between versions (RFC 8210 §5.1
// says a cache should not). The three never overlap those of the
// previous Server of this process, so a router cannot mistake a new
// server's serials for the old one's.
func newSessionBase() uint16 {
	lastSessionMu.Lock()
	defer lastSessionMu.Unlock()
	for {
		b := uint16(rand.Uint32())
		if lastSessionSet && uint16(b-lastSession+versions-1) <= 2*(versions-1) {
			continue
		}
		lastSession, lastSessionSet = b, true
		return b
	}
}

// NewServer returns a Server without data: until the first Publish,
// every query gets a No Data Available error (RFC 8210 §8.4).
func NewServer(cfg Config) *Server {
	s := &Server{
		cfg:          cfg,
		log:          cfg.Logger,
		filter:       filter{aspa: cfg.EnableASPA, bgpsec: cfg.EnableBGPsec},
		writeTimeout: cfg.WriteTimeout,
		sessions:     make(map[*session]struct{}),
		listeners:    make(map[net.Listener]struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.writeTimeout <= 0 {
		s.writeTimeout = defaultWriteTimeout
	}
	if s.cfg.NotifyInterval <= 0 {
		s.cfg.NotifyInterval = defaultNotifyInterval
	}
	s.timers = [3]uint32{seconds(cfg.Refresh, defaultRefresh), seconds(cfg.Retry, defaultRetry), seconds(cfg.Expire, defaultExpire)}
	if least := max(s.timers[0], s.timers[1]) + 1; s.timers[2] < least {
		// RFC 8210 §6: the expire interval must exceed both others.
		s.log.Warn("rtr expire interval raised above the refresh and retry intervals", "expire", s.timers[2], "now", least)
		s.timers[2] = least
	}
	base := newSessionBase()
	for v := range uint8(versions) {
		s.sessionIDs[v] = base + uint16(v)
		s.cacheResponse[v] = appendHeader(nil, v, TypeCacheResponse, s.sessionIDs[v], 8)
		s.cacheReset[v] = appendHeader(nil, v, TypeCacheReset, 0, 8)
	}
	s.clients.enabled = cfg.ClientMetrics
	return s
}

func seconds(d, def time.Duration) uint32 {
	if d <= 0 {
		d = def
	}
	return uint32(min(d/time.Second, 1<<32-1))
}

// SessionID returns the session ID the server uses with routers of the
// given version.
func (s *Server) SessionID(version uint8) uint16 { return s.sessionIDs[version] }

// Publish makes set the served data. It encodes the new serial's
// responses for the versions routers use, and the deltas from the kept
// serials, then swaps them in with one atomic store, so a session answers
// from either the old serial or the new one, never from a mix, and never
// waits for a lock. Then every session gets a Serial Notify (at most one
// round per NotifyInterval). A set that changes nothing a router would
// see makes no new serial. A nil set counts as empty. The set must not
// be modified afterwards.
func (s *Server) Publish(set *payload.Set) {
	start := time.Now()
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.isClosed() {
		return
	}
	old := s.cur.Load()
	snap := &snapshot{serial: s.initialSerial, full: s.filter.fullChanges(set)}
	if old != nil {
		ch := s.filter.changesFrom(payload.Compute(s.lastSet, set), s.lastSet)
		s.lastSet = set
		if ch.empty() {
			s.log.Debug("rtr data unchanged", "serial", uint32(old.serial))
			return
		}
		snap.serial = old.serial.Add(1)
		if h := s.cfg.HistorySize; h > 0 {
			kept := old.deltas[max(0, len(old.deltas)+1-h):]
			snap.deltas = make([]*deltaEntry, 0, len(kept)+1)
			for _, e := range kept {
				snap.deltas = append(snap.deltas, &deltaEntry{from: e.from, ch: compose(e.ch, ch)})
			}
			snap.deltas = append(snap.deltas, &deltaEntry{from: old.serial, ch: ch})
		}
	}
	s.lastSet = set
	snap.counts = [3]int{len(snap.full.annV), len(snap.full.annK), len(snap.full.aspas)}
	for v := range uint8(versions) {
		snap.eod[v] = appendEndOfData(nil, v, s.sessionIDs[v], snap.serial, s.timers[0], s.timers[1], s.timers[2])
		snap.notify[v] = appendHeader(nil, v, TypeSerialNotify, s.sessionIDs[v], 12)
		snap.notify[v] = append(snap.notify[v], byte(snap.serial>>24), byte(snap.serial>>16), byte(snap.serial>>8), byte(snap.serial))
	}
	// Build now what the versions in use will ask for, so that no router
	// waits for it after the swap.
	used := s.used.Load()
	for v := range uint8(versions) {
		if used&(1<<v) == 0 {
			continue
		}
		snap.fullR[v].get(snap.full, v)
		for _, e := range snap.deltas {
			e.resp[v].get(e.ch, v)
		}
	}
	s.cur.Store(snap)
	s.log.Debug("rtr data published", "serial", uint32(snap.serial), "vrps", snap.counts[0],
		"router-keys", snap.counts[1], "aspas", snap.counts[2], "elapsed", time.Since(start))
	s.scheduleNotify()
}

// scheduleNotify sends a round of Serial Notify now, or at the end of the
// interval since the last round (draft-8210bis-27 §8.2 rate-limits them
// to one a minute). A delayed round announces whatever is current then.
func (s *Server) scheduleNotify() {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if s.notifyTimer != nil {
		return // a round is already due
	}
	wait := time.Until(s.lastNotify.Add(s.cfg.NotifyInterval))
	if wait <= 0 {
		// A round that reaches no router (none connected yet, as after
		// the first Publish) does not count against the limit.
		if s.notifyAll() > 0 {
			s.lastNotify = time.Now()
		}
		return
	}
	s.notifyTimer = time.AfterFunc(wait, func() {
		s.notifyMu.Lock()
		defer s.notifyMu.Unlock()
		s.notifyTimer = nil
		if s.notifyAll() > 0 {
			s.lastNotify = time.Now()
		}
	})
}

// notifyAll flags every session for a Serial Notify, wakes it and
// returns how many it flagged; each session writes its notify itself,
// between its responses. Sessions without a version get none
// (draft-8210bis §7) and are not woken: a read deadline in the middle of
// a TLS handshake would fail it.
func (s *Server) notifyAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ss := range s.sessions {
		if ss.negotiated.Load() {
			ss.notify.Store(true)
			ss.wake()
			n++
		}
	}
	return n
}

// Serve accepts connections on l and serves RTR on each until ctx ends
// or l is closed (by the caller or by Close). Failed accepts (too many
// open files, connections reset before they were accepted) are logged
// and retried after a pause; they never end Serve. When ctx ends, the
// sessions accepted here are closed too and Serve waits for them. It
// returns nil then, and when l was closed.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = l.Close() }) // the error of a second Close does not matter
	defer func() {
		stop()
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		if ctx.Err() != nil {
			s.stopSessions(l, &wg)
		}
	}()
	var pause time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) || s.isClosed() {
				return nil
			}
			s.stats.acceptErrors.Add(1)
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.log.Warn("rtr accept failed", "error", err, "retry-in", pause)
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		pause = 0
		s.start(c, l, &wg)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// start registers a session for c and runs it.
func (s *Server) start(c net.Conn, l net.Listener, wg *sync.WaitGroup) {
	ss := newSession(s, c, l)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if ss.client != nil {
			ss.client.open.Add(-1)
		}
		_ = c.Close() // closing a connection we never used: nothing to report
		return
	}
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	wg.Add(1)
	s.mu.Unlock()
	s.stats.open.Add(1)
	s.stats.accepted.Add(1)
	go func() {
		defer wg.Done()
		defer s.wg.Done()
		ss.run()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
}

// closeGrace is how long Close lets sessions finish the response they
// are writing and say goodbye before it cuts their connections.
const closeGrace = 2 * time.Second

// Close closes the listeners of every Serve and all sessions: a session
// of version 2 first gets a Cache Restart error report (draft-8210bis
// §8.5: a restarted server is back within the routers' expire time;
// routers keep their data). A session in the middle of a response may
// finish it for a short while. Publish and Serve do nothing after Close.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		_ = l.Close() // Serve sees it and returns; its error says nothing new
	}
	s.mu.Unlock()
	s.notifyMu.Lock()
	if s.notifyTimer != nil {
		s.notifyTimer.Stop()
		s.notifyTimer = nil
	}
	s.notifyMu.Unlock()
	s.stopSessions(nil, &s.wg)
	return nil
}

// stopSessions asks the sessions accepted from l (all of them if l is
// nil) to say goodbye and close, and waits for wg. Sessions still
// writing after closeGrace have their connections cut.
func (s *Server) stopSessions(l net.Listener, wg *sync.WaitGroup) {
	each := func(f func(*session)) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for ss := range s.sessions {
			if l == nil || ss.listener == l {
				f(ss)
			}
		}
	}
	each((*session).shutdown)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	each(func(ss *session) { _ = ss.conn.Close() }) // cut a session stuck writing; it ends on the error
	<-done
}
