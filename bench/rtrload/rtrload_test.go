package rtrload_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/rtrload"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
)

// vrpSet builds n IPv4 VRPs, the first shift of them left out.
func vrpSet(n, shift int) *payload.Set {
	var b payload.Builder
	src := &payload.Source{TA: "test"}
	for i := shift; i < n+shift; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		b.AddVRP(payload.VRP{ASN: uint32(64500 + i%100), Prefix: p, MaxLength: 32}, src)
	}
	return b.Build()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAgainstRTRFast(t *testing.T) {
	const vrps, sessions = 5000, 40
	srv := rtrfast.NewServer(rtrfast.Config{HistorySize: 10, NotifyInterval: time.Millisecond})
	defer srv.Close()
	srv.Publish(vrpSet(vrps, 0))
	l := listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go srv.Serve(ctx, l)

	s, err := rtrload.Connect(ctx, l.Addr().String(), sessions, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := s.Reset(20 * time.Second)
	if res.Done != sessions || res.Failed != 0 {
		t.Fatalf("reset: %d done, %d failed: %v", res.Done, res.Failed, res.Err)
	}
	// Cache Response, the prefixes and End of Data, per session.
	if want := int64(sessions * (vrps + 2)); res.PDUs != want {
		t.Errorf("reset: %d PDUs, want %d", res.PDUs, want)
	}
	if res.Quantile(0.5) > res.Elapsed || res.Elapsed <= 0 || res.PDUsPerSecond() <= 0 {
		t.Errorf("reset: p50 %v, elapsed %v", res.Quantile(0.5), res.Elapsed)
	}

	// 10 VRPs replaced: 10 withdrawn, 10 announced, to every session.
	srv.Publish(vrpSet(vrps, 10))
	d := s.Delta(20 * time.Second)
	if d.Done != sessions || d.Failed != 0 {
		t.Fatalf("delta: %d done, %d failed: %v", d.Done, d.Failed, d.Err)
	}
	if want := int64(sessions * (20 + 2)); d.PDUs != want {
		t.Errorf("delta: %d PDUs, want %d", d.PDUs, want)
	}

	// The bare server writes the captured response, byte for byte.
	resp, err := rtrload.Capture(ctx, l.Addr().String(), 1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	bare := listen(t)
	go rtrload.ServeBare(bare, resp)
	b, err := rtrload.Connect(ctx, bare.Addr().String(), sessions, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	br := b.Reset(20 * time.Second)
	if br.Done != sessions || br.Bytes != int64(sessions*len(resp)) || br.PDUs != res.PDUs {
		t.Errorf("bare: %d done, %d bytes (want %d), %d PDUs (want %d): %v", br.Done, br.Bytes, sessions*len(resp), br.PDUs, res.PDUs, br.Err)
	}

	rate, err := rtrload.LoopbackCopy(resp, 3)
	if err != nil || rate <= 0 {
		t.Errorf("loopback copy: %v, %v", rate, err)
	}
}

// TestServerErrors: a server that answers with an Error Report or goes
// away fails the sessions with a clear error, never a hang.
func TestServerErrors(t *testing.T) {
	srv := rtrfast.NewServer(rtrfast.Config{})
	defer srv.Close()
	l := listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go srv.Serve(ctx, l)
	s, err := rtrload.Connect(ctx, l.Addr().String(), 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// No data published yet: No Data Available.
	res := s.Reset(10 * time.Second)
	if res.Failed != 3 || res.Err == nil {
		t.Fatalf("%d failed, err %v; want all failed with an Error Report", res.Failed, res.Err)
	}
	t.Log(res.Err)

	gone := listen(t)
	go func() {
		c, err := gone.Accept()
		if err == nil {
			c.Write([]byte{1, 3, 0, 0, 0, 0, 0, 8}) // Cache Response, then nothing
			c.Close()
		}
	}()
	s2, err := rtrload.Connect(ctx, gone.Addr().String(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r := s2.Reset(5 * time.Second); r.Failed != 1 {
		t.Errorf("a server that closed early: %+v", r)
	}
}

func BenchmarkReset(b *testing.B) {
	for _, sessions := range []int{1, 100} {
		b.Run(fmt.Sprint(sessions), func(b *testing.B) {
			srv := rtrfast.NewServer(rtrfast.Config{})
			defer srv.Close()
			srv.Publish(vrpSet(100000, 0))
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			defer l.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go srv.Serve(ctx, l)
			s, err := rtrload.Connect(ctx, l.Addr().String(), sessions, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				if r := s.Reset(time.Minute); r.Failed > 0 {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
