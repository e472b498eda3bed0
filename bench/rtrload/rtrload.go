// Package rtrload measures RTR servers the way routers load them: many
// sessions asking for the full table at the same instant (all routers
// reconnecting after a restart), then a change delivered to all of them
// as deltas. It also holds the two references a result is judged
// against on the same machine: a bare server that only writes one
// prebuilt full-table response per session, and a raw loopback TCP copy
// of the same bytes.
//
// The client side must not be the bottleneck: one goroutine per session
// reads into a buffer of its own, reused for the whole run, and steps
// over PDUs by their length fields without decoding or allocating.
package rtrload

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// PDU types the client needs (RFC 8210 §5).
const (
	typeSerialNotify = 0
	typeSerialQuery  = 1
	typeResetQuery   = 2
	typeEndOfData    = 7
	typeCacheReset   = 8
	typeErrorReport  = 10
)

// readBuffer is each session's read buffer.
const readBuffer = 64 << 10

// Result is one round of responses, one per session.
type Result struct {
	Sessions int
	// Done counts the sessions that reached End of Data, Failed the
	// others (with the first error in Err).
	Done, Failed int
	Err          error
	// Times are each finished session's time from the round's start to
	// its End of Data, sorted.
	Times []time.Duration
	// Elapsed is the time from the start to the last End of Data.
	Elapsed time.Duration
	// Bytes and PDUs received, End of Data included.
	Bytes, PDUs int64
}

// Quantile returns the time below which a share q of the sessions
// finished.
func (r *Result) Quantile(q float64) time.Duration {
	if len(r.Times) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Times)-1))
	return r.Times[i]
}

// PDUsPerSecond is the PDUs received over the round's elapsed time.
func (r *Result) PDUsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.PDUs) / r.Elapsed.Seconds()
}

// BytesPerSecond is the bytes received over the round's elapsed time.
func (r *Result) BytesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Elapsed.Seconds()
}

// Sessions are connected RTR sessions to one server.
type Sessions struct {
	version uint8
	conns   []*session
}

type session struct {
	conn    net.Conn
	buf     []byte
	session uint16
	serial  uint32
	// After a round: when End of Data came, and what was read.
	done        time.Time
	bytes, pdus int64
	err         error
}

// Connect opens n sessions to addr, speaking RTR version version,
// dialing at most 64 at a time so that the server's accept backlog
// keeps up.
func Connect(ctx context.Context, addr string, n int, version uint8) (*Sessions, error) {
	s := &Sessions{version: version, conns: make([]*session, n)}
	var d net.Dialer
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				errs[i] = err
				return
			}
			s.conns[i] = &session{conn: c, buf: make([]byte, readBuffer)}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, fmt.Errorf("rtrload: connect to %s: %w", addr, err)
	}
	return s, nil
}

// Close closes every session.
func (s *Sessions) Close() {
	for _, c := range s.conns {
		if c != nil {
			c.conn.Close()
		}
	}
}

// Reset sends a Reset Query on every session at once and reads each
// full response up to its End of Data, with timeout for the whole
// round.
func (s *Sessions) Reset(timeout time.Duration) *Result {
	query := resetQuery(s.version)
	return s.round(timeout, func(c *session) error {
		_, err := c.conn.Write(query)
		return err
	}, false)
}

// Delta waits, up to timeout, for a Serial Notify on every session,
// answers each with a Serial Query for the serial its last End of Data
// named, and reads the delta up to End of Data. Times count from the
// first Serial Notify any session got: the moment of publication as the
// routers see it.
func (s *Sessions) Delta(timeout time.Duration) *Result {
	return s.round(timeout, func(c *session) error {
		_, err := c.conn.Write(serialQuery(s.version, c.session, c.serial))
		return err
	}, true)
}

// round runs start on every session at one instant (or, with notify,
// once the session has seen a Serial Notify) and reads until End of
// Data.
func (s *Sessions) round(timeout time.Duration, start func(*session) error, notify bool) *Result {
	res := &Result{Sessions: len(s.conns)}
	deadline := time.Now().Add(timeout)
	var first atomic.Int64 // Unix nanoseconds of the first notify
	var gate sync.WaitGroup
	gate.Add(1)
	var wg sync.WaitGroup
	for _, c := range s.conns {
		c.done, c.bytes, c.pdus, c.err = time.Time{}, 0, 0, nil
		wg.Go(func() {
			c.conn.SetDeadline(deadline)
			if notify {
				if err := c.awaitNotify(); err != nil {
					c.err = err
					return
				}
				now := time.Now().UnixNano()
				first.CompareAndSwap(0, now)
			} else {
				gate.Wait()
			}
			if err := start(c); err != nil {
				c.err = err
				return
			}
			c.err = c.readToEndOfData()
		})
	}
	begin := time.Now()
	gate.Done()
	wg.Wait()
	if notify {
		if f := first.Load(); f != 0 {
			begin = time.Unix(0, f)
		}
	}
	for _, c := range s.conns {
		res.Bytes += c.bytes
		res.PDUs += c.pdus
		if c.err != nil {
			res.Failed++
			if res.Err == nil {
				res.Err = c.err
			}
			continue
		}
		res.Done++
		res.Times = append(res.Times, c.done.Sub(begin))
	}
	slices.Sort(res.Times)
	if len(res.Times) > 0 {
		res.Elapsed = res.Times[len(res.Times)-1]
	}
	return res
}

// awaitNotify reads until a Serial Notify arrives.
func (c *session) awaitNotify() error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
			return fmt.Errorf("waiting for Serial Notify: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 || n > 1<<16 {
			return fmt.Errorf("PDU of length %d", n)
		}
		if _, err := io.ReadFull(c.conn, c.buf[:n-8]); err != nil {
			return err
		}
		if hdr[1] == typeSerialNotify {
			return nil
		}
	}
}

// readToEndOfData reads PDUs until End of Data, stepping over each by
// its length. A PDU may straddle two reads: want counts the bytes of the
// current one still to come.
func (c *session) readToEndOfData() error {
	var hdr [12]byte // header plus End of Data's serial
	have := 0        // bytes of hdr filled for the current PDU
	var want int64   // bytes of the current PDU after hdr still to skip
	var typ byte
	for {
		n, err := c.conn.Read(c.buf)
		c.bytes += int64(n)
		b := c.buf[:n]
		for len(b) > 0 {
			if want > 0 {
				k := min(int64(len(b)), want)
				b, want = b[k:], want-k
				if want == 0 && typ == typeEndOfData {
					c.done = time.Now()
					return nil
				}
				continue
			}
			k := copy(hdr[have:], b)
			// Take only as much as the header (and End of Data's
			// fields) need: the rest is the next PDU's.
			need := 8
			if have+k >= 8 {
				typ = hdr[1]
				if typ == typeEndOfData {
					need = 12
				}
			}
			k = min(k, need-have)
			b, have = b[k:], have+k
			if have < need {
				continue
			}
			length := int64(binary.BigEndian.Uint32(hdr[4:8]))
			if length < int64(need) || length > 1<<16 {
				return fmt.Errorf("PDU of type %d and length %d", typ, length)
			}
			c.pdus++
			switch typ {
			case typeErrorReport:
				return fmt.Errorf("server sent an Error Report (code %d)", binary.BigEndian.Uint16(hdr[2:4]))
			case typeCacheReset:
				return errors.New("server sent Cache Reset")
			case typeEndOfData:
				c.session = binary.BigEndian.Uint16(hdr[2:4])
				c.serial = binary.BigEndian.Uint32(hdr[8:12])
			}
			have, want = 0, length-int64(need)
			if want == 0 && typ == typeEndOfData {
				c.done = time.Now()
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("before End of Data: %w", err)
		}
	}
}

func resetQuery(version uint8) []byte {
	return []byte{version, typeResetQuery, 0, 0, 0, 0, 0, 8}
}

func serialQuery(version uint8, session uint16, serial uint32) []byte {
	b := []byte{version, typeSerialQuery, 0, 0, 0, 0, 0, 12}
	binary.BigEndian.PutUint16(b[2:], session)
	return binary.BigEndian.AppendUint32(b, serial)
}

// Capture reads one whole full-table response from the server at addr:
// the bytes the bare server then writes to each session.
func Capture(ctx context.Context, addr string, version uint8, timeout time.Duration) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(resetQuery(version)); err != nil {
		return nil, err
	}
	var out []byte
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return nil, fmt.Errorf("rtrload: capture: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 || n > 1<<16 {
			return nil, fmt.Errorf("rtrload: capture: PDU of length %d", n)
		}
		out = append(out, hdr[:]...)
		start := len(out)
		out = append(out, make([]byte, n-8)...)
		if _, err := io.ReadFull(c, out[start:]); err != nil {
			return nil, err
		}
		switch hdr[1] {
		case typeEndOfData:
			return out, nil
		case typeErrorReport, typeCacheReset:
			return nil, fmt.Errorf("rtrload: capture: the server answered with PDU type %d", hdr[1])
		}
	}
}

// ServeBare answers every connection on l with response after its first
// 8-byte query, then waits for the client to close: the least work an
// RTR server can do per session. It returns when l is closed.
func ServeBare(l net.Listener, response []byte) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Go(func() {
			defer c.Close()
			var q [8]byte
			if _, err := io.ReadFull(c, q[:]); err != nil {
				return
			}
			if _, err := c.Write(response); err != nil {
				return
			}
			io.Copy(io.Discard, c)
		})
	}
}

// LoopbackCopy measures how fast data goes through one loopback TCP
// connection, sent repeat times, in bytes per second.
func LoopbackCopy(data []byte, repeat int) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		for range repeat {
			if _, err := c.Write(data); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, readBuffer)
	total := int64(len(data)) * int64(repeat)
	start := time.Now()
	var got int64
	for got < total {
		n, err := c.Read(buf)
		got += int64(n)
		if err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(start)
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(total) / elapsed.Seconds(), nil
}
