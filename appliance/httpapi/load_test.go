package httpapi_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/engine/payload"
)

// markedSnapshot is serial k of the mixed-set test: 40+k%7 VRPs, all of
// AS 64500+k, made k seconds after t0. Any answer mixing two serials
// shows in its metadata, its entity tag or its VRPs.
func markedSnapshot(k uint32) *httpapi.Snapshot {
	var b payload.Builder
	n := 40 + int(k%7)
	for i := range n {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		b.AddVRP(payload.VRP{ASN: 64500 + k, Prefix: p, MaxLength: 16}, srcRIPE)
	}
	return &httpapi.Snapshot{Set: b.Build(), Session: 1, Serial: k, Started: t0.Add(time.Duration(k) * time.Second)}
}

// checkMarked checks that a /json answer is serial k's, k read from
// its entity tag.
func checkMarked(etag string, body []byte) error {
	var k uint32
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.Trim(etag, `"`), "-gzip"), "1-%d", &k); err != nil {
		return fmt.Errorf("ETag %q: %v", etag, err)
	}
	var doc struct {
		Metadata struct {
			Generated int64 `json:"generated"`
		} `json:"metadata"`
		ROAs []struct {
			ASN string `json:"asn"`
		} `json:"roas"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("serial %d: %v", k, err)
	}
	if want := t0.Unix() + int64(k); doc.Metadata.Generated != want {
		return fmt.Errorf("serial %d: generated %d, want %d", k, doc.Metadata.Generated, want)
	}
	if want := 40 + int(k%7); len(doc.ROAs) != want {
		return fmt.Errorf("serial %d: %d VRPs, want %d", k, len(doc.ROAs), want)
	}
	for _, r := range doc.ROAs {
		if want := fmt.Sprintf("AS%d", 64500+k); r.ASN != want {
			return fmt.Errorf("serial %d: VRP of %s, want %s", k, r.ASN, want)
		}
	}
	return nil
}

// TestConcurrentClientsSeeOneSet has 1,000 clients fetch /json, plain
// and gzipped, while new serials are published: every answer must be
// one serial's whole set.
func TestConcurrentClientsSeeOneSet(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const clients, requests, maxSerials = 1000, 3, 500
	s := httpapi.New(httpapi.Config{})
	s.Publish(markedSnapshot(1))
	base := serve(t, s)
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var published atomic.Uint32
	published.Store(1)
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for k := uint32(2); k <= maxSerials; k++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			s.Publish(markedSnapshot(k))
			published.Store(k)
		}
	}()

	var wg sync.WaitGroup
	var seen sync.Map
	errs := make(chan error, clients)
	start := make(chan struct{})
	for c := range clients {
		wg.Go(func() {
			<-start
			for r := range requests {
				req, err := http.NewRequestWithContext(ctx, "GET", base+"/json", nil)
				if err != nil {
					errs <- err
					return
				}
				gz := (c+r)%2 == 0
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				var body io.Reader = resp.Body
				if resp.Header.Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(resp.Body)
					if err != nil {
						resp.Body.Close()
						errs <- err
						return
					}
					body = zr
				} else if gz {
					errs <- errors.New("gzip asked for, identity sent")
				}
				data, err := io.ReadAll(body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				if err == nil {
					err = checkMarked(resp.Header.Get("ETag"), data)
				}
				if err != nil {
					errs <- err
					return
				}
				seen.Store(resp.Header.Get("ETag"), true)
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-pubDone
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	serials := 0
	seen.Range(func(any, any) bool { serials++; return true })
	t.Logf("%d requests saw %d serials; %d published", clients*requests, serials, published.Load())
}

// TestSlowlorisDoesNotBlock opens 500 connections that send half a
// request and stall: a normal request must still be answered, and the
// read timeout must close the stalled ones.
func TestSlowlorisDoesNotBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const stalled = 500
	s := httpapi.New(httpapi.Config{ReadTimeout: 2 * time.Second})
	s.Publish(fixture())
	base := serve(t, s)
	addr := strings.TrimPrefix(base, "http://")

	conns := make([]net.Conn, 0, stalled)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range stalled {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /csv HTTP/1.1\r\nHost: rovd\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
	}
	// Every stalled connection is open at the server before the normal
	// request goes out.
	deadline := time.Now().Add(30 * time.Second)
	for s.OpenConns() < stalled && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.OpenConns(); got < stalled {
		t.Fatalf("%d connections open at the server, want %d", got, stalled)
	}
	a := do(t, "GET", base+"/version", nil)
	if a.code != 200 {
		t.Fatalf("normal request among stalled ones: %d", a.code)
	}

	// The read timeout closes the stalled connections: each read ends
	// (with the server's 408 or EOF) instead of waiting for ever.
	var wg sync.WaitGroup
	var open atomic.Int32
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				open.Add(1)
			}
		})
	}
	wg.Wait()
	if n := open.Load(); n > 0 {
		t.Errorf("%d stalled connections still open 30 s after the read timeout", n)
	}
}

// TestAbortedClientLeaksNothing has clients hang up in the middle of a
// large answer: the server's connections and goroutines must return to
// what they were.
func TestAbortedClientLeaksNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s := httpapi.New(httpapi.Config{})
	// Idle fasthttp workers stop after this, rather than after 10 s.
	s.SetTweak(func(srv *fasthttp.Server) { srv.MaxIdleWorkerDuration = 50 * time.Millisecond })
	snap := fixture()
	snap.Set = bigSet(50_000) // some 10 MB of jsonext: more than socket buffers hold
	s.Publish(snap)
	base := serve(t, s)
	addr := strings.TrimPrefix(base, "http://")

	// Warm up: render the answer once, then let the server settle.
	if a := do(t, "GET", base+"/jsonext", nil); a.code != 200 || len(a.body) < 4<<20 {
		t.Fatalf("warm-up: %d, %d bytes", a.code, len(a.body))
	}
	client.CloseIdleConnections()
	settle := func(want uint64) int {
		deadline := time.Now().Add(20 * time.Second)
		for s.OpenConns() > want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // idle workers leave
		return runtime.NumGoroutine()
	}
	baseline := settle(0)

	for range 20 {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET /jsonext HTTP/1.1\r\nHost: rovd\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(c)
		if _, err := io.ReadFull(br, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		// RST rather than FIN: the client is gone, not just done.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}

	deadline := time.Now().Add(30 * time.Second)
	var n int
	for {
		n = settle(0)
		if (n <= baseline && s.OpenConns() == 0) || time.Now().After(deadline) {
			break
		}
	}
	if open := s.OpenConns(); open != 0 {
		t.Errorf("%d connections still open after the clients hung up", open)
	}
	if n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines, %d before the aborted requests:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
	if a := do(t, "GET", base+"/version", nil); a.code != 200 {
		t.Errorf("after the aborted requests: %d", a.code)
	}
}

// bigSet returns a set of n VRPs under two trust anchors, IPv4 and IPv6.
func bigSet(n int) *payload.Set {
	var b payload.Builder
	b.Grow(n)
	for i := range n {
		v := payload.VRP{ASN: 64496 + uint32(i%5000)}
		if i%4 == 3 {
			v.Prefix, v.MaxLength = bigV6(i), 48
		} else {
			v.Prefix, v.MaxLength = bigV4(i), 24
		}
		s := srcRIPE
		if i%3 == 0 {
			s = srcAPNIC
		}
		b.AddVRP(v, s)
	}
	return b.Build()
}

// bigV4 and bigV6 are the prefixes of VRP i of bigSet: distinct /24s
// from 1.0.0.0 and distinct /48s under 2a00::/8.
func bigV4(i int) netip.Prefix {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 0x01000000+uint32(i)<<8)
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}

func bigV6(i int) netip.Prefix {
	a := [16]byte{0x2a}
	binary.BigEndian.PutUint32(a[1:], uint32(i))
	return netip.PrefixFrom(netip.AddrFrom16(a), 48)
}
