package rtrfast_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
)

var testSet = set(
	vrp(64496, "192.0.2.0/24", 24),
	vrp(64496, "192.0.2.0/24", 26),
	vrp(64497, "198.51.100.0/22", 24),
	vrp(0, "203.0.113.0/24", 32),
	vrp(64498, "2001:db8::/32", 48),
	vrp(64499, "2001:db8:1::/48", 48),
	routerKey(64496, 1),
	routerKey(64497, 2),
	payload.ASPA{Customer: 64496, Providers: []uint32{64497, 64498}},
	payload.ASPA{Customer: 64499, Providers: []uint32{0}},
	payload.ASPA{Customer: 64500, Providers: []uint32{0, 64501}}, // AS 0 goes on the wire
)

func TestNoDataBeforePublish(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	for v := range uint8(rtrfast.MaxVersion + 1) {
		c := dial(t, addr)
		c.resetQuery(v)
		c.expectError(v, rtrfast.NoDataAvailable)
		c.serialQuery(v, srv.SessionID(v), 0)
		c.expectError(v, rtrfast.NoDataAvailable)
	}
	// No Data Available is not fatal: the session waits for data.
	c := dial(t, addr)
	c.resetQuery(1)
	c.expectError(1, rtrfast.NoDataAvailable)
	srv.Publish(testSet)
	c.expect(1, rtrfast.TypeSerialNotify)
	tab, _ := c.sync(1)
	checkTable(t, "after the first publication", tab, rtrfast.TableOf(testSet, 1, false, false))
}

// TestResetQuery checks the full table of every version, with router keys
// and ASPA on and off: version 0 has neither and no timers, version 1
// adds router keys, version 2 ASPAs.
func TestResetQuery(t *testing.T) {
	for _, cfg := range []struct {
		name         string
		aspa, bgpsec bool
	}{{"defaults", false, false}, {"bgpsec", false, true}, {"aspa", true, false}, {"both", true, true}} {
		t.Run(cfg.name, func(t *testing.T) {
			srv, addr := startServer(t, rtrfast.Config{
				Refresh: 1000 * time.Second, Retry: 100 * time.Second, Expire: 5000 * time.Second,
				EnableASPA: cfg.aspa, EnableBGPsec: cfg.bgpsec,
			})
			srv.Publish(testSet)
			for v := range uint8(rtrfast.MaxVersion + 1) {
				c := dial(t, addr)
				c.resetQuery(v)
				cr, pdus, eod := c.response(v)
				if cr.SessionID != srv.SessionID(v) {
					t.Errorf("version %d: session %d, server says %d", v, cr.SessionID, srv.SessionID(v))
				}
				tab := rtrfast.NewTable()
				if err := tab.Apply(pdus); err != nil {
					t.Fatalf("version %d: %v", v, err)
				}
				for _, p := range pdus {
					if !p.Announce() {
						t.Errorf("version %d: a withdrawal in a reset response", v)
					}
				}
				checkTable(t, "reset response", tab, rtrfast.TableOf(testSet, v, cfg.aspa, cfg.bgpsec))
				if len(tab.Keys) != map[bool]int{true: 2}[cfg.bgpsec && v >= 1] {
					t.Errorf("version %d: %d router keys", v, len(tab.Keys))
				}
				if len(tab.ASPAs) != map[bool]int{true: 3}[cfg.aspa && v >= 2] {
					t.Errorf("version %d: %d ASPAs", v, len(tab.ASPAs))
				}
				if got := tab.ASPAs[64500]; len(tab.ASPAs) > 0 && (len(got) != 1 || got[0] != 64501) {
					t.Errorf("ASPA 64500 providers %v, want AS 0 dropped", got)
				}
				wantTimers := [3]uint32{1000, 100, 5000}
				if v == 0 {
					wantTimers = [3]uint32{}
				}
				if got := [3]uint32{eod.Refresh, eod.Retry, eod.Expire}; got != wantTimers {
					t.Errorf("version %d End of Data timers %v, want %v", v, got, wantTimers)
				}
				if eod.Serial != srv.Stats().Serial {
					t.Errorf("End of Data serial %d, server at %d", eod.Serial, srv.Stats().Serial)
				}
			}
			ids := map[uint16]bool{}
			for v := range uint8(rtrfast.MaxVersion + 1) {
				ids[srv.SessionID(v)] = true
			}
			if len(ids) != rtrfast.MaxVersion+1 {
				t.Errorf("session IDs %v shared between versions", srv.Stats().SessionIDs)
			}
		})
	}
}

func TestDefaultTimers(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)
	_, eod := dial(t, addr).sync(2)
	if eod.Refresh != 3600 || eod.Retry != 600 || eod.Expire != 7200 {
		t.Errorf("timers %d/%d/%d, want RFC 8210's 3600/600/7200", eod.Refresh, eod.Retry, eod.Expire)
	}
}

func TestSerialQuery(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 10, EnableASPA: true, EnableBGPsec: true})
	sets := []*payload.Set{
		testSet,
		set(vrp(64496, "192.0.2.0/24", 24), vrp(64500, "10.0.0.0/8", 8), routerKey(64496, 1),
			payload.ASPA{Customer: 64496, Providers: []uint32{64497}}),
		set(vrp(64496, "192.0.2.0/24", 24), vrp(64501, "2001:db8::/32", 32), routerKey(64496, 3),
			payload.ASPA{Customer: 64496, Providers: []uint32{64497}}, payload.ASPA{Customer: 1, Providers: []uint32{2}}),
	}
	for v := range uint8(rtrfast.MaxVersion + 1) {
		t.Run("version "+string('0'+v), func(t *testing.T) {
			srv.Publish(sets[0])
			c := dial(t, addr)
			tab, eod := c.sync(v)
			for _, s := range sets[1:] {
				srv.Publish(s)
				n := c.expect(v, rtrfast.TypeSerialNotify)
				if n.SessionID != srv.SessionID(v) || n.Serial != eod.Serial.Add(1) {
					t.Fatalf("Serial Notify session %d serial %d, want %d %d", n.SessionID, n.Serial, srv.SessionID(v), eod.Serial.Add(1))
				}
				c.serialQuery(v, eod.SessionID, eod.Serial)
				var pdus []rtrfast.PDU
				_, pdus, eod = c.response(v)
				if err := tab.Apply(pdus); err != nil {
					t.Fatal(err)
				}
				checkTable(t, "after the delta", tab, rtrfast.TableOf(s, v, true, true))
			}
			// Up to date: an empty answer.
			c.serialQuery(v, eod.SessionID, eod.Serial)
			if _, pdus, _ := c.response(v); len(pdus) != 0 {
				t.Errorf("%d PDUs for a router that is up to date", len(pdus))
			}
			// A second router still at the first serial gets both steps
			// merged into one minimal delta.
			c2 := dial(t, addr)
			c2.serialQuery(v, eod.SessionID, eod.Serial-2)
			_, pdus, _ := c2.response(v)
			old := rtrfast.TableOf(sets[0], v, true, true)
			if err := old.Apply(pdus); err != nil {
				t.Fatal(err)
			}
			checkTable(t, "delta over two serials", old, rtrfast.TableOf(sets[2], v, true, true))
		})
	}
}

func TestUnchangedSetMakesNoSerial(t *testing.T) {
	srv, _ := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)
	before := srv.Stats().Serial
	// Same VRPs; the ASPAs and keys differ but are not sent.
	srv.Publish(set(
		vrp(64496, "192.0.2.0/24", 24), vrp(64496, "192.0.2.0/24", 26), vrp(64497, "198.51.100.0/22", 24),
		vrp(0, "203.0.113.0/24", 32), vrp(64498, "2001:db8::/32", 48), vrp(64499, "2001:db8:1::/48", 48),
	))
	if got := srv.Stats().Serial; got != before {
		t.Errorf("serial %d after publishing what the routers already have, want %d", got, before)
	}
}

func TestCacheReset(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 2})
	for i := range 4 {
		srv.Publish(bigSet(10+i, 1))
	}
	cur := srv.Stats().Serial
	for _, tc := range []struct {
		name    string
		session uint16
		serial  rtrfast.Serial
	}{
		{"serial beyond the history", srv.SessionID(1), cur - 3},
		{"serial from the future", srv.SessionID(1), cur + 1},
		{"session of another version", srv.SessionID(2), cur},
		{"session of a server before a restart", srv.SessionID(1) + 100, cur},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.serialQuery(1, tc.session, tc.serial)
			c.expect(1, rtrfast.TypeCacheReset)
			// The router starts over on the same connection.
			tab, _ := c.sync(1)
			checkTable(t, "after the reset", tab, rtrfast.TableOf(bigSet(13, 1), 1, false, false))
		})
	}
	// Within the history a delta comes back.
	c := dial(t, addr)
	c.serialQuery(1, srv.SessionID(1), cur-2)
	c.response(1)
}

func TestSerialQueryAfterRestart(t *testing.T) {
	old, oldAddr := startServer(t, rtrfast.Config{})
	old.Publish(testSet)
	_, eod := dial(t, oldAddr).sync(2)
	old.Close()

	srv, addr := startServer(t, rtrfast.Config{})
	for v := range uint8(rtrfast.MaxVersion + 1) {
		if srv.SessionID(v) == eod.SessionID {
			t.Fatalf("the new server reuses session ID %d", eod.SessionID)
		}
	}
	srv.Publish(testSet)
	c := dial(t, addr)
	c.serialQuery(2, eod.SessionID, eod.Serial)
	c.expect(2, rtrfast.TypeCacheReset)
}

func TestWrongSessionInEstablishedSession(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)
	c := dial(t, addr)
	_, eod := c.sync(1)
	c.serialQuery(1, eod.SessionID+7, eod.Serial)
	e := c.expectError(1, rtrfast.CorruptData)
	if len(e.ErrorPDU) != 12 {
		t.Errorf("encapsulated PDU of %d octets, want the Serial Query", len(e.ErrorPDU))
	}
	c.expectClosed()
}

func TestSerialWrapAround(t *testing.T) {
	srv := rtrfast.NewServer(rtrfast.Config{HistorySize: 3, NotifyInterval: time.Millisecond})
	rtrfast.SetInitialSerial(srv, 0xfffffffe)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), l)
	defer srv.Close()
	srv.Publish(bigSet(5, 1))
	c := dial(t, l.Addr().String())
	tab, eod := c.sync(1)
	if eod.Serial != 0xfffffffe {
		t.Fatalf("first serial %d", eod.Serial)
	}
	start := eod
	for i := range 3 {
		s := bigSet(6+i, 1)
		srv.Publish(s)
		c.expect(1, rtrfast.TypeSerialNotify)
		c.serialQuery(1, eod.SessionID, eod.Serial)
		var pdus []rtrfast.PDU
		_, pdus, eod = c.response(1)
		if err := tab.Apply(pdus); err != nil {
			t.Fatal(err)
		}
		checkTable(t, "after the wrap", tab, rtrfast.TableOf(s, 1, false, false))
	}
	if eod.Serial != 1 {
		t.Errorf("serial %d after three steps from 0xfffffffe, want 1", eod.Serial)
	}
	if !start.Serial.Less(eod.Serial) {
		t.Errorf("serial %d is not after %d", eod.Serial, start.Serial)
	}
	// A delta across the wrap from the first serial.
	c.serialQuery(1, start.SessionID, start.Serial)
	_, pdus, _ := c.response(1)
	old := rtrfast.TableOf(bigSet(5, 1), 1, false, false)
	if err := old.Apply(pdus); err != nil {
		t.Fatal(err)
	}
	checkTable(t, "delta across the wrap", old, rtrfast.TableOf(bigSet(8, 1), 1, false, false))
}

func TestVersionNegotiation(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)

	t.Run("newer version, then a retry at ours", func(t *testing.T) {
		c := dial(t, addr)
		c.sendRaw(unhex(t, "03 02 0000 00000008"))
		e := c.expectError(rtrfast.MaxVersion, rtrfast.UnsupportedVersion)
		if string(e.ErrorPDU) != string(unhex(t, "03 02 0000 00000008")) {
			t.Errorf("encapsulated %x", e.ErrorPDU)
		}
		c.sync(2)
	})
	t.Run("newer version with a body, then a retry at version 1", func(t *testing.T) {
		c := dial(t, addr)
		c.sendRaw(unhex(t, "07 01 0000 00000010 00000000 00000000"))
		c.expectError(rtrfast.MaxVersion, rtrfast.UnsupportedVersion)
		c.sync(1)
	})
	t.Run("a router that keeps trying newer versions is dropped", func(t *testing.T) {
		c := dial(t, addr)
		for range 3 {
			c.sendRaw(unhex(t, "03 02 0000 00000008"))
			c.expectError(rtrfast.MaxVersion, rtrfast.UnsupportedVersion)
		}
		c.expectClosed()
	})
	for _, tc := range []struct {
		name      string
		first     uint8
		then      string
		errVer    uint8
		code      rtrfast.ErrorCode
		encapsLen int
	}{
		{"version 1 then 2", 1, "02 02 0000 00000008", 1, rtrfast.UnexpectedVersion, 8},
		{"version 2 then 1", 2, "01 01 0000 0000000c 00000000", 2, rtrfast.UnexpectedVersion, 8},
		{"version 2 then 0", 2, "00 02 0000 00000008", 2, rtrfast.UnexpectedVersion, 8},
		{"version 0 then 1: version 0 has no code 8", 0, "01 02 0000 00000008", 0, rtrfast.UnsupportedVersion, 8},
		{"version 1 then 3", 1, "03 02 0000 00000008", 1, rtrfast.UnexpectedVersion, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.sync(tc.first)
			c.sendRaw(unhex(t, tc.then))
			e := c.expectError(tc.errVer, tc.code)
			if len(e.ErrorPDU) != tc.encapsLen {
				t.Errorf("encapsulated PDU of %d octets", len(e.ErrorPDU))
			}
			c.expectClosed()
		})
	}
	t.Run("version fixed by a query answered No Data Available", func(t *testing.T) {
		_, addr := startServer(t, rtrfast.Config{})
		c := dial(t, addr)
		c.resetQuery(0)
		c.expectError(0, rtrfast.NoDataAvailable)
		c.resetQuery(2)
		c.expectError(0, rtrfast.UnsupportedVersion)
		c.expectClosed()
	})
}

// TestMalformedPDU sends each kind of broken PDU; each earns an Error
// Report with the right code, encapsulating the PDU, and the session
// ends.
func TestMalformedPDU(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)
	tests := []struct {
		name    string
		wire    string
		version uint8
		code    rtrfast.ErrorCode
	}{
		{"length below the header", "02 02 0000 00000004", 2, rtrfast.CorruptData},
		{"length beyond 65535", "01 02 0000 00010000", 1, rtrfast.CorruptData},
		{"length 4 GiB", "01 01 0000 ffffffff", 1, rtrfast.CorruptData},
		{"reset query of length 12", "02 02 0000 0000000c 00000000", 2, rtrfast.CorruptData},
		{"serial query of length 8", "01 01 0000 00000008", 1, rtrfast.CorruptData},
		{"serial query of length 16", "00 01 0000 00000010 00000000 00000000", 0, rtrfast.CorruptData},
		{"unknown type 5", "01 05 0000 00000008", 1, rtrfast.UnsupportedPDUType},
		{"unknown type 255", "02 ff 0000 00000008", 2, rtrfast.UnsupportedPDUType},
		{"ASPA type in version 1", "01 0b 0100 0000000c 00000001", 1, rtrfast.UnsupportedPDUType},
		{"router key type in version 0", "00 09 0000 00000008", 0, rtrfast.UnsupportedPDUType},
		{"cache response from a router", "02 03 0000 00000008", 2, rtrfast.InvalidRequest},
		{"serial notify from a router", "01 00 0000 0000000c 00000000", 1, rtrfast.InvalidRequest},
		{"prefix from a router", "00 04 0000 00000014 01 18 18 00 c0000200 0000fbf0", 0, rtrfast.InvalidRequest},
		{"end of data from a router", "02 07 0000 00000018 00000000 00000000 00000000 00000000", 2, rtrfast.InvalidRequest},
		{"cache reset from a router", "01 08 0000 00000008", 1, rtrfast.InvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			wire := unhex(t, tc.wire)
			c.sendRaw(wire)
			e := c.expectError(tc.version, tc.code)
			if len(e.ErrorPDU) < 4 || string(e.ErrorPDU) != string(wire[:len(e.ErrorPDU)]) {
				t.Errorf("encapsulated %x, sent %x", e.ErrorPDU, wire)
			}
			if e.ErrorText == "" {
				t.Error("error report without text")
			}
			c.expectClosed()
		})
	}
	t.Run("in a running session", func(t *testing.T) {
		c := dial(t, addr)
		c.sync(1)
		c.sendRaw(unhex(t, "01 02 0000 00000009 00"))
		c.expectError(1, rtrfast.CorruptData)
		c.expectClosed()
	})
	t.Run("fatal error report from the router: closed without an answer", func(t *testing.T) {
		c := dial(t, addr)
		c.sync(2)
		c.send(rtrfast.PDU{Version: 2, Type: rtrfast.TypeErrorReport, ErrorCode: rtrfast.DuplicateAnnouncement, ErrorText: "dup"})
		c.expectClosed()
	})
	t.Run("malformed error report: closed without an answer", func(t *testing.T) {
		c := dial(t, addr)
		c.sendRaw(unhex(t, "02 0a 0000 0000000a 0000"))
		c.expectClosed()
	})
	t.Run("non-fatal error report from the router is ignored", func(t *testing.T) {
		c := dial(t, addr)
		c.send(rtrfast.PDU{Version: 2, Type: rtrfast.TypeErrorReport, ErrorCode: rtrfast.NoDataAvailable})
		c.sync(2)
	})
	t.Run("queries split across segments and pipelined", func(t *testing.T) {
		c := dial(t, addr)
		q := append(unhex(t, "01 02 0000 00000008"), rtrfast.AppendPDU(nil, &rtrfast.PDU{Version: 1, Type: rtrfast.TypeSerialQuery, SessionID: srv.SessionID(1), Serial: srv.Stats().Serial})...)
		for i := range q {
			c.sendRaw(q[i : i+1])
		}
		c.response(1)
		if _, pdus, _ := c.response(1); len(pdus) != 0 {
			t.Errorf("up-to-date serial query answered with %d PDUs", len(pdus))
		}
	})
}

func TestSerialNotifyToEverySession(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{})
	srv.Publish(testSet)
	var clients []*client
	for i := range 6 {
		c := dial(t, addr)
		c.sync(uint8(i % 3))
		clients = append(clients, c)
	}
	idle := dial(t, addr) // never negotiated: gets no notify
	srv.Publish(bigSet(3, 7))
	for i, c := range clients {
		v := uint8(i % 3)
		n := c.expect(v, rtrfast.TypeSerialNotify)
		if n.Serial != srv.Stats().Serial || n.SessionID != srv.SessionID(v) {
			t.Errorf("client %d: notify %d/%d", i, n.SessionID, n.Serial)
		}
	}
	idle.resetQuery(2)
	if p := idle.read(); p.Type != rtrfast.TypeCacheResponse {
		t.Errorf("a session without a version got %s first", p.Type)
	}
}

func TestSerialNotifyRateLimited(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{NotifyInterval: 300 * time.Millisecond})
	srv.Publish(testSet)
	c := dial(t, addr)
	c.sync(1)
	srv.Publish(bigSet(3, 1)) // within the interval of the first round
	srv.Publish(bigSet(4, 1))
	n := c.expect(1, rtrfast.TypeSerialNotify)
	if n.Serial != srv.Stats().Serial {
		// The first publication notified at once only if no round was
		// sent in the interval; either way the last notify names the
		// current serial.
		n = c.expect(1, rtrfast.TypeSerialNotify)
	}
	if n.Serial != srv.Stats().Serial {
		t.Errorf("notify for serial %d, current is %d", n.Serial, srv.Stats().Serial)
	}
}

// TestStalledRouter has one router that asks for a large table and never
// reads. Publish, other routers' full tables and their notifies go on;
// the stalled router is dropped after the write timeout.
func TestStalledRouter(t *testing.T) {
	// The write timeout must leave the reading router, slow under the
	// race detector on a busy machine, time for each 256 KiB write.
	srv, addr := startServer(t, rtrfast.Config{WriteTimeout: 6 * time.Second})
	big := bigSet(300000, 1) // about 7 MB per full table: more than the socket buffers hold
	srv.Publish(big)

	stalled, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	stalled.Write(unhex(t, "01 02 0000 00000008"))

	c := dial(t, addr)
	tab, _ := c.sync(1)
	if len(tab.VRPs) != 300000 {
		t.Fatalf("%d VRPs", len(tab.VRPs))
	}
	srv.Publish(bigSet(300001, 1))
	c.expect(1, rtrfast.TypeSerialNotify)
	deadline := time.Now().Add(2 * ioTimeout)
	for srv.Stats().SlowClosed == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled router was not dropped: %+v", srv.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAcceptErrorsSurvived(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: l, failures: 3}
	srv := rtrfast.NewServer(rtrfast.Config{})
	srv.Publish(testSet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, fl) }()
	c := dial(t, l.Addr().String())
	c.sync(1)
	if got := srv.Stats().AcceptErrors; got != 3 {
		t.Errorf("%d accept errors counted, want 3", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	c.expectClosed() // the session of a cancelled Serve ends with it
	srv.Close()
}

// flakyListener fails its first Accepts the way a process out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	mu       sync.Mutex
	failures int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	fail := l.failures > 0
	l.failures--
	l.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: errors.New("too many open files")}
	}
	return l.Listener.Accept()
}

func TestClose(t *testing.T) {
	srv := rtrfast.NewServer(rtrfast.Config{})
	srv.Publish(testSet)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	v2, v1, idle := dial(t, l.Addr().String()), dial(t, l.Addr().String()), dial(t, l.Addr().String())
	v2.sync(2)
	v1.sync(1)
	idle.conn.Write(nil)
	srv.Close()
	v2.expectError(2, rtrfast.CacheRestart)
	v2.expectClosed()
	v1.expectClosed()
	idle.expectClosed()
	if err := <-done; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	if n := srv.Stats().Sessions; n != 0 {
		t.Errorf("%d sessions open after Close", n)
	}
	if err := srv.Serve(context.Background(), l); err == nil {
		t.Error("Serve after Close succeeded")
	}
}

func TestStats(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{ClientMetrics: true, EnableASPA: true, EnableBGPsec: true})
	if st := srv.Stats(); st.HasData {
		t.Error("data before the first Publish")
	}
	srv.Publish(testSet)
	c1, c2 := dial(t, addr), dial(t, addr)
	_, eod := c1.sync(2)
	c2.sync(1)
	c1.serialQuery(2, eod.SessionID, eod.Serial)
	c1.response(2)
	st := srv.Stats()
	if !st.HasData || st.VRPs != 6 || st.RouterKeys != 2 || st.ASPAs != 3 {
		t.Errorf("counts %d/%d/%d", st.VRPs, st.RouterKeys, st.ASPAs)
	}
	if st.Sessions != 2 || st.SessionsByVersion != [3]int{0, 1, 1} {
		t.Errorf("sessions %d by version %v", st.Sessions, st.SessionsByVersion)
	}
	if st.ResetQueries != 2 || st.SerialQueries != 1 {
		t.Errorf("queries %d reset, %d serial", st.ResetQueries, st.SerialQueries)
	}
	if st.BytesRead != 8+8+12 || st.BytesWritten == 0 || st.PDUsWritten == 0 {
		t.Errorf("traffic: read %d, written %d octets, %d PDUs", st.BytesRead, st.BytesWritten, st.PDUsWritten)
	}
	if len(st.Clients) != 1 || st.Clients[0].Addr.String() != "127.0.0.1" {
		t.Fatalf("clients %+v", st.Clients)
	}
	cl := st.Clients[0]
	if cl.Open != 2 || !cl.HasSerial || cl.Serial != st.Serial || cl.ResetQueries != 2 || cl.SerialQueries != 1 ||
		cl.LastReset.IsZero() || cl.LastUpdate.IsZero() || cl.BytesWritten != st.BytesWritten || cl.BytesRead != st.BytesRead {
		t.Errorf("client %+v", cl)
	}
	if !strings.Contains(st.Clients[0].Addr.String(), ".") {
		t.Errorf("client address %v not an IPv4 address", cl.Addr)
	}
	// Conns gives the server's end of each session.
	conns := srv.Conns(nil)
	var peers []string
	for _, c := range conns {
		peers = append(peers, c.RemoteAddr().String())
	}
	slices.Sort(peers)
	want := []string{c1.conn.LocalAddr().String(), c2.conn.LocalAddr().String()}
	slices.Sort(want)
	if !slices.Equal(peers, want) {
		t.Errorf("Conns: peers %v, want %v", peers, want)
	}
}

func TestExpireAboveRefreshAndRetry(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{Refresh: 3600 * time.Second, Retry: 60 * time.Second, Expire: 600 * time.Second})
	srv.Publish(testSet)
	_, eod := dial(t, addr).sync(1)
	if eod.Expire <= eod.Refresh || eod.Expire <= eod.Retry {
		t.Errorf("expire %d not above refresh %d and retry %d (RFC 8210 §6)", eod.Expire, eod.Refresh, eod.Retry)
	}
}
