package rtrfast

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"
)

// batchChunks is how many response chunks go into one writev: 256 KiB
// per system call, each write with a fresh deadline.
const batchChunks = 4

// maxVersionTries is how many queries of unsupported versions a router
// may send before the server gives up on it: draft-8210bis §7 has the
// router retry once at the version the Error Report names.
const maxVersionTries = 3

// readBufSize holds the longest PDU a session reads whole: a Serial
// Query (12 octets), and a few more pipelined behind it.
const readBufSize = 64

// errClose ends a session after its last word was written.
var errClose = errors.New("session closed")

// aLongTimeAgo is a read deadline in the past: setting it wakes a
// session blocked reading.
var aLongTimeAgo = time.Unix(1, 0)

// session is one router connection. One goroutine runs it: it reads the
// router's queries and writes the answers and the Serial Notifies, so
// nothing else ever writes to the connection.
type session struct {
	srv      *Server
	conn     net.Conn
	listener net.Listener
	peer     netip.Addr
	client   *clientStats // nil without client metrics

	version     int8 // -1 until negotiated (draft-8210bis §7)
	established bool // our session ID was sent in a Cache Response
	served      bool // an End of Data went out, with serial lastSerial
	lastSerial  Serial
	tries       int // queries of unsupported versions so far

	notify     atomic.Bool // a Serial Notify is due
	closing    atomic.Bool
	negotiated atomic.Bool // version is set; read by notifyAll

	rbuf [readBufSize]byte
	rlen int
	skip int // octets still to drop of a PDU of unknown version

	iovArr [batchChunks + 2][]byte
	iov    net.Buffers
}

func newSession(s *Server, c net.Conn, l net.Listener) *session {
	ss := &session{srv: s, conn: c, listener: l, version: -1}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ss.peer = ap.Addr().Unmap()
	}
	ss.client = s.clients.open(ss.peer)
	return ss
}

// wake interrupts a blocked Read so that the session looks at its flags.
func (ss *session) wake() {
	_ = ss.conn.SetReadDeadline(aLongTimeAgo) // fails only on a closed connection, which wakes it anyway
}

// shutdown asks the session to say goodbye and close.
func (ss *session) shutdown() {
	ss.closing.Store(true)
	ss.wake()
}

func (ss *session) run() {
	defer ss.finish()
	for {
		if ss.closing.Load() {
			ss.goodbye()
			return
		}
		if ss.notify.Swap(false) {
			if err := ss.sendNotify(); err != nil {
				return
			}
		}
		for {
			progress, err := ss.step()
			if err != nil {
				return
			}
			if !progress {
				break
			}
		}
		n, err := ss.conn.Read(ss.rbuf[ss.rlen:])
		if n > 0 {
			ss.rlen += n
			ss.srv.stats.bytesRead.Add(uint64(n))
			if ss.client != nil {
				ss.client.bytesRead.Add(uint64(n))
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Woken up by notifyAll or shutdown: clear the deadline
				// first, then look at the flags at the top of the loop, so
				// that a wake-up in between is not lost.
				if ss.conn.SetReadDeadline(time.Time{}) != nil {
					return
				}
				continue
			}
			return
		}
	}
}

func (ss *session) finish() {
	_ = ss.conn.Close() // the session is over either way
	ss.srv.stats.open.Add(-1)
	if ss.version >= 0 {
		ss.srv.stats.byVersion[ss.version].Add(-1)
	}
	if ss.client != nil {
		ss.client.open.Add(-1)
	}
}

// step handles the PDU at the start of the read buffer, if there is
// enough of it. It reports whether it consumed anything; errClose or a
// write error ends the session.
func (ss *session) step() (bool, error) {
	if ss.skip > 0 {
		n := min(ss.skip, ss.rlen)
		ss.consume(n)
		ss.skip -= n
		return n > 0, nil
	}
	if ss.rlen < headerLen {
		return false, nil
	}
	b := ss.rbuf[:ss.rlen]
	h := parseHeader(b)
	head := b[:headerLen]
	if h.typ == TypeErrorReport {
		// Never answer an Error Report (draft-8210bis §5.8). A fatal code
		// ends the session (§12); so does a report we cannot frame.
		code := ErrorCode(h.field)
		ss.srv.log.Info("rtr router sent an error report", "peer", ss.peer, "code", code.String())
		if code.fatal() || h.length < 16 || h.length > MaxPDUSize {
			return false, errClose
		}
		ss.skip = int(h.length)
		return true, nil
	}
	if ss.version < 0 && h.version > MaxVersion {
		// draft-8210bis §7: answer with our highest version; the router
		// should retry with it on this connection.
		ss.tries++
		if err := ss.sendError(MaxVersion, UnsupportedVersion, head, fmt.Sprintf("protocol version %d not supported, use %d or lower", h.version, MaxVersion)); err != nil {
			return false, err
		}
		if ss.tries >= maxVersionTries || h.length < headerLen {
			return false, errClose
		}
		ss.skip = int(h.length)
		return true, nil
	}
	if ss.version >= 0 && int8(h.version) != ss.version {
		// draft-8210bis §7: a negotiated version is fixed. Version 0 has
		// no Unexpected Protocol Version code.
		code := UnexpectedVersion
		if ss.version == 0 {
			code = UnsupportedVersion
		}
		return false, ss.fatal(uint8(ss.version), code, head, fmt.Sprintf("PDU of version %d in a version %d session", h.version, ss.version))
	}
	v := h.version
	if h.length < headerLen || h.length > MaxPDUSize {
		return false, ss.fatal(v, CorruptData, head, fmt.Sprintf("PDU length %d out of range", h.length))
	}
	switch h.typ {
	case TypeResetQuery, TypeSerialQuery:
		if want := fixedLength(v, h.typ); h.length != want {
			return false, ss.fatal(v, CorruptData, head, fmt.Sprintf("%s of length %d, want %d", h.typ, h.length, want))
		}
		if ss.rlen < int(h.length) {
			return false, nil
		}
		ss.negotiate(v)
		if h.typ == TypeResetQuery {
			ss.consume(8)
			return true, ss.answerReset()
		}
		serial := Serial(binary.BigEndian.Uint32(b[8:]))
		ss.consume(12)
		return true, ss.answerSerial(h.field, serial)
	}
	if knownType(v, h.typ) {
		return false, ss.fatal(v, InvalidRequest, head, fmt.Sprintf("%s is not a query", h.typ))
	}
	return false, ss.fatal(v, UnsupportedPDUType, head, fmt.Sprintf("PDU type %d unknown in version %d", uint8(h.typ), v))
}

func (ss *session) consume(n int) {
	copy(ss.rbuf[:], ss.rbuf[n:ss.rlen])
	ss.rlen -= n
}

// negotiate fixes the session's version at its first query.
func (ss *session) negotiate(v uint8) {
	if ss.version >= 0 {
		return
	}
	ss.version = int8(v)
	ss.negotiated.Store(true)
	ss.srv.stats.byVersion[v].Add(1)
	if bit := uint32(1) << v; ss.srv.used.Load()&bit == 0 {
		ss.srv.used.Or(bit)
	}
}

func (ss *session) answerReset() error {
	v := uint8(ss.version)
	ss.srv.stats.resetQueries.Add(1)
	now := time.Now()
	if ss.client != nil {
		ss.client.resetQueries.Add(1)
		ss.client.lastReset.Store(now.UnixNano())
	}
	snap := ss.srv.cur.Load()
	if snap == nil {
		return ss.sendError(v, NoDataAvailable, nil, "no data yet: the first validation run is under way")
	}
	r := snap.fullR[v].get(snap.full, v)
	if err := ss.writeResponse(ss.srv.cacheResponse[v], r, snap.eod[v]); err != nil {
		return err
	}
	ss.updated(snap.serial, now)
	return nil
}

func (ss *session) answerSerial(session uint16, serial Serial) error {
	v := uint8(ss.version)
	ss.srv.stats.serialQueries.Add(1)
	now := time.Now()
	if ss.client != nil {
		ss.client.serialQueries.Add(1)
	}
	snap := ss.srv.cur.Load()
	if snap == nil {
		return ss.sendError(v, NoDataAvailable, nil, "no data yet: the first validation run is under way")
	}
	if session != ss.srv.sessionIDs[v] {
		if ss.established {
			// draft-8210bis §5.1, §5.3: a session ID other than the one
			// this connection was told is corrupt data.
			var q [12]byte
			appendHeader(q[:0], v, TypeSerialQuery, session, 12)
			binary.BigEndian.PutUint32(q[8:], uint32(serial))
			return ss.fatal(v, CorruptData, q[:], fmt.Sprintf("session ID %d, this session is %d", session, ss.srv.sessionIDs[v]))
		}
		// A router back from an earlier server (ours restarted): it has
		// to start over (draft-8210bis §5.3).
		return ss.cacheReset(v)
	}
	if serial == snap.serial {
		if err := ss.writeResponse(ss.srv.cacheResponse[v], &emptyResponse, snap.eod[v]); err != nil {
			return err
		}
		ss.updated(snap.serial, now)
		return nil
	}
	e := snap.delta(serial)
	if e == nil {
		// Older than the history, or a serial this server never had.
		return ss.cacheReset(v)
	}
	if err := ss.writeResponse(ss.srv.cacheResponse[v], e.resp[v].get(e.ch, v), snap.eod[v]); err != nil {
		return err
	}
	ss.updated(snap.serial, now)
	return nil
}

var emptyResponse response

func (ss *session) cacheReset(v uint8) error {
	ss.srv.stats.cacheResets.Add(1)
	return ss.write(ss.srv.cacheReset[v])
}

func (ss *session) updated(serial Serial, now time.Time) {
	ss.established = true
	ss.served = true
	ss.lastSerial = serial
	if ss.client != nil {
		ss.client.serial.Store(uint64(serial) | hasSerial)
		ss.client.lastUpdate.Store(now.UnixNano())
	}
}

// sendNotify writes a Serial Notify for the current serial, unless the
// session has no version yet (draft-8210bis §7: not before negotiation)
// or the router already has that serial.
func (ss *session) sendNotify() error {
	snap := ss.srv.cur.Load()
	if snap == nil || ss.version < 0 || (ss.served && ss.lastSerial == snap.serial) {
		return nil
	}
	ss.srv.stats.notifies.Add(1)
	return ss.write(snap.notify[ss.version])
}

// goodbye tells a version 2 router that the server is going away but
// coming back (Cache Restart, draft-8210bis §8.5); the older versions
// have no such code and just see the connection close.
func (ss *session) goodbye() {
	if ss.version == 2 {
		_ = ss.sendError(2, CacheRestart, nil, "server restarting") // best effort: the connection closes anyway
	}
}

// fatal sends an Error Report and ends the session.
func (ss *session) fatal(v uint8, code ErrorCode, pdu []byte, text string) error {
	ss.srv.log.Info("rtr protocol error", "peer", ss.peer, "code", code.String(), "error", text)
	if err := ss.sendError(v, code, pdu, text); err != nil {
		return err
	}
	return errClose
}

func (ss *session) sendError(v uint8, code ErrorCode, pdu []byte, text string) error {
	ss.srv.stats.errorsSent.Add(1)
	return ss.write(appendErrorReport(nil, v, code, pdu, text))
}

// write writes one small PDU.
func (ss *session) write(b []byte) error {
	ss.iov = append(ss.iovArr[:0], b)
	return ss.flush(1)
}

// writeResponse writes head, the body of r and tail, a few chunks per
// writev, each with its own deadline. It allocates nothing: the slices
// are the snapshot's, the iovec array is the session's.
func (ss *session) writeResponse(head []byte, r *response, tail []byte) error {
	ss.iov = append(ss.iovArr[:0], head)
	chunks := r.chunks
	for {
		n := min(len(chunks), batchChunks)
		ss.iov = append(ss.iov, chunks[:n]...)
		chunks = chunks[n:]
		if len(chunks) == 0 {
			ss.iov = append(ss.iov, tail)
			return ss.flush(r.pdus + 2)
		}
		if err := ss.flush(0); err != nil {
			return err
		}
		ss.iov = ss.iovArr[:0]
	}
}

// flush writes ss.iov under a fresh deadline and counts it.
func (ss *session) flush(pdus int) error {
	if err := ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeTimeout)); err != nil {
		return err
	}
	n, err := ss.iov.WriteTo(ss.conn)
	ss.srv.stats.bytesWritten.Add(uint64(n))
	if ss.client != nil {
		ss.client.bytesWritten.Add(uint64(n))
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			ss.srv.stats.slowClosed.Add(1)
			ss.srv.log.Info("rtr router too slow, session closed", "peer", ss.peer, "stalled-for", ss.srv.writeTimeout)
		}
		return err
	}
	ss.srv.stats.pdusWritten.Add(uint64(pdus))
	return nil
}
