package rtrfast

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// globalVRPs is the size of today's global VRP set.
const globalVRPs = 800000

// benchSet has n VRPs, two thirds IPv4 and a third IPv6; shift moves a
// thousand of them to other ASes, for a realistic delta.
func benchSet(n int, shift bool) *payload.Set {
	var b payload.Builder
	b.Grow(n)
	for i := range n {
		asn := uint32(64496 + i%5000)
		if shift && i%(n/1000) == 0 {
			asn += 100000
		}
		if i%3 == 2 {
			a := netip.AddrFrom16([16]byte{0x20, 0x01, byte(i >> 16), byte(i >> 8), byte(i), 0})
			b.AddVRP(payload.VRP{ASN: asn, Prefix: netip.PrefixFrom(a, 40), MaxLength: 48}, nil)
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(1 + i>>16), byte(i >> 8), byte(i), 0})
		b.AddVRP(payload.VRP{ASN: asn, Prefix: netip.PrefixFrom(a, 24), MaxLength: 24}, nil)
	}
	return b.Build()
}

// BenchmarkPublish builds a new serial of a global-size set: the full
// table for all three versions and the delta from the previous serial.
func BenchmarkPublish(b *testing.B) {
	sets := [2]*payload.Set{benchSet(globalVRPs, false), benchSet(globalVRPs, true)}
	srv := NewServer(Config{HistorySize: 10})
	UseAllVersions(srv)
	srv.Publish(sets[1])
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		srv.Publish(sets[i%2])
		i++
	}
}

// discardConn is a connection that takes every write at once: it times
// the server's side of a response alone.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (discardConn) SetDeadline(t time.Time) error    { return nil }

// BenchmarkResetResponse writes one session's full global table.
func BenchmarkResetResponse(b *testing.B) {
	srv := NewServer(Config{})
	srv.Publish(benchSet(globalVRPs, false))
	ss := newSession(srv, discardConn{}, nil)
	ss.negotiate(1)
	snap := srv.cur.Load()
	b.SetBytes(int64(snap.fullR[1].get(snap.full, 1).size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := ss.answerReset(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelta builds the delta of a thousand changed VRPs between two
// global sets (build), and writes it to one session (write).
func BenchmarkDelta(b *testing.B) {
	from, to := benchSet(globalVRPs, false), benchSet(globalVRPs, true)
	f := filter{}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ch := f.changesFrom(payload.Compute(from, to), from)
			for v := range uint8(versions) {
				encode(ch, v)
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		srv := NewServer(Config{HistorySize: 1})
		srv.Publish(from)
		srv.Publish(to)
		ss := newSession(srv, discardConn{}, nil)
		ss.negotiate(1)
		snap := srv.cur.Load()
		snap.delta(snap.serial - 1).resp[1].get(snap.delta(snap.serial-1).ch, 1) // built by Publish once version 1 is in use
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := ss.answerSerial(srv.sessionIDs[1], snap.serial-1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
