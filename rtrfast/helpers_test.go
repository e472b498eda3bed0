package rtrfast_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
)

// ioTimeout bounds every wait of a test on the network.
const ioTimeout = 10 * time.Second

// startServer runs a Server on a loopback listener until the test ends.
func startServer(t testing.TB, cfg rtrfast.Config) (*rtrfast.Server, string) {
	t.Helper()
	if cfg.NotifyInterval == 0 {
		cfg.NotifyInterval = time.Millisecond
	}
	srv := rtrfast.NewServer(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(ioTimeout):
			t.Errorf("Serve did not return after its context ended")
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, l.Addr().String()
}

// client is a scripted router.
type client struct {
	t    testing.TB
	conn net.Conn
	buf  []byte
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c}
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) send(p rtrfast.PDU) { c.t.Helper(); c.sendRaw(rtrfast.AppendPDU(nil, &p)) }

func (c *client) resetQuery(v uint8) {
	c.t.Helper()
	c.send(rtrfast.PDU{Version: v, Type: rtrfast.TypeResetQuery})
}

func (c *client) serialQuery(v uint8, session uint16, serial rtrfast.Serial) {
	c.t.Helper()
	c.send(rtrfast.PDU{Version: v, Type: rtrfast.TypeSerialQuery, SessionID: session, Serial: serial})
}

// next reads one PDU, or returns the read error (io.EOF when the server
// closed the connection).
func (c *client) next() (rtrfast.PDU, error) {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	for {
		p, n, err := rtrfast.ParsePDU(c.buf)
		if err == nil {
			p = clonePDU(p)
			c.buf = c.buf[n:]
			return p, nil
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			return p, fmt.Errorf("server sent a bad PDU: %w", err)
		}
		var chunk [64 << 10]byte
		m, err := c.conn.Read(chunk[:])
		c.buf = append(c.buf, chunk[:m]...)
		if err != nil && m == 0 {
			return rtrfast.PDU{}, err
		}
	}
}

func clonePDU(p rtrfast.PDU) rtrfast.PDU {
	p.SPKI = append([]byte(nil), p.SPKI...)
	p.ErrorPDU = append([]byte(nil), p.ErrorPDU...)
	return p
}

func (c *client) read() rtrfast.PDU {
	c.t.Helper()
	p, err := c.next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

// expect reads one PDU and checks its version and type.
func (c *client) expect(v uint8, typ rtrfast.PDUType) rtrfast.PDU {
	c.t.Helper()
	p := c.read()
	if p.Version != v || p.Type != typ {
		c.t.Fatalf("got %s (version %d, code %s %q), want %s of version %d", p.Type, p.Version, p.ErrorCode, p.ErrorText, typ, v)
	}
	return p
}

func (c *client) expectError(v uint8, code rtrfast.ErrorCode) rtrfast.PDU {
	c.t.Helper()
	p := c.expect(v, rtrfast.TypeErrorReport)
	if p.ErrorCode != code {
		c.t.Fatalf("error report %s (%q), want %s", p.ErrorCode, p.ErrorText, code)
	}
	return p
}

// expectClosed checks that the server closes the connection without
// sending anything more.
func (c *client) expectClosed() {
	c.t.Helper()
	p, err := c.next()
	if err == nil {
		c.t.Fatalf("got %s (%s %q), want the connection closed", p.Type, p.ErrorCode, p.ErrorText)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		c.t.Fatalf("read: %v, want the connection closed", err)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// response reads a Cache Response, payload PDUs and End of Data. A Serial
// Notify before the Cache Response is skipped, as a router does: the
// server may send one at any time once the version is known.
func (c *client) response(v uint8) (rtrfast.PDU, []rtrfast.PDU, rtrfast.PDU) {
	c.t.Helper()
	cr := c.read()
	for cr.Type == rtrfast.TypeSerialNotify && cr.Version == v {
		cr = c.read()
	}
	if cr.Version != v || cr.Type != rtrfast.TypeCacheResponse {
		c.t.Fatalf("got %s (version %d, code %s %q), want Cache Response of version %d", cr.Type, cr.Version, cr.ErrorCode, cr.ErrorText, v)
	}
	var pdus []rtrfast.PDU
	for {
		p := c.read()
		if p.Version != v {
			c.t.Fatalf("%s of version %d in a version %d session", p.Type, p.Version, v)
		}
		if p.Type == rtrfast.TypeEndOfData {
			if p.SessionID != cr.SessionID {
				c.t.Fatalf("End of Data session %d, Cache Response %d", p.SessionID, cr.SessionID)
			}
			return cr, pdus, p
		}
		pdus = append(pdus, p)
	}
}

// sync does a Reset Query and returns the table and the End of Data.
func (c *client) sync(v uint8) (*rtrfast.Table, rtrfast.PDU) {
	c.t.Helper()
	c.resetQuery(v)
	_, pdus, eod := c.response(v)
	tab := rtrfast.NewTable()
	if err := tab.Apply(pdus); err != nil {
		c.t.Fatalf("reset response: %v", err)
	}
	return tab, eod
}

func checkTable(t testing.TB, what string, got, want *rtrfast.Table) {
	t.Helper()
	if ok, diff := got.Equal(want); !ok {
		t.Fatalf("%s: %s", what, diff)
	}
}

func vrp(asn uint32, prefix string, maxLen uint8) payload.VRP {
	return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
}

func routerKey(asn uint32, id byte) payload.RouterKey {
	k := payload.RouterKey{ASN: asn, SPKI: []byte{0x30, 0x59, id}}
	k.SKI[19] = id
	return k
}

// set builds a payload set of VRPs, router keys and ASPAs.
func set(items ...any) *payload.Set {
	var b payload.Builder
	for _, it := range items {
		switch it := it.(type) {
		case payload.VRP:
			b.AddVRP(it, nil)
		case payload.RouterKey:
			b.AddRouterKey(it, nil)
		case payload.ASPA:
			b.AddASPA(it, nil)
		default:
			panic(fmt.Sprintf("set: %T", it))
		}
	}
	return b.Build()
}

// bigSet has n VRPs, two thirds IPv4 and a third IPv6, with AS numbers
// from base.
func bigSet(n int, base uint32) *payload.Set {
	var b payload.Builder
	b.Grow(n)
	for i := range n {
		asn := base + uint32(i%1000)
		if i%3 == 2 {
			a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 16), byte(i >> 8), byte(i), 0})
			b.AddVRP(payload.VRP{ASN: asn, Prefix: netip.PrefixFrom(a, 48), MaxLength: 48 + uint8(i%2)*16}, nil)
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(10 + i>>16), byte(i >> 8), byte(i), 0})
		b.AddVRP(payload.VRP{ASN: asn, Prefix: netip.PrefixFrom(a, 24), MaxLength: 24 + uint8(i%4)}, nil)
	}
	return b.Build()
}
