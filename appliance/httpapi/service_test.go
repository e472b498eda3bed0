package httpapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/internal/selfsigned"
	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
)

// TestServeStops checks that Serve returns once its context ends, even
// with a client stalled in the middle of a request, and closes that
// client's connection after the shutdown timeout.
func TestServeStops(t *testing.T) {
	s := httpapi.New(httpapi.Config{ReadTimeout: time.Minute, ShutdownTimeout: 100 * time.Millisecond})
	s.Publish(fixture())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	stalled, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := io.WriteString(stalled, "GET /csv HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.OpenConns() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running 30 s after its context ended")
	}
	_ = stalled.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, stalled); err != nil {
		t.Errorf("stalled connection: %v, want it closed", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Errorf("listener still accepts after Serve returned")
	}
}

// TestServeTwoListeners serves on IPv4 and IPv6 loopback with separate
// contexts: ending one leaves the other serving.
func TestServeTwoListeners(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	base4 := serve(t, s)
	ln6, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln6) }()
	base6 := "http://" + ln6.Addr().String()
	for _, base := range []string{base4, base6} {
		if a := do(t, "GET", base+"/version", nil); a.code != 200 {
			t.Errorf("%s: %d", base, a.code)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve on IPv6: %v", err)
	}
	if a := do(t, "GET", base4+"/version", nil); a.code != 200 {
		t.Errorf("IPv4 after the IPv6 listener stopped: %d", a.code)
	}
}

// TestServeTLS serves HTTPS through a TLS listener, as the server does
// for http-tls-listen.
func TestServeTLS(t *testing.T) {
	tlsCert, cert, _ := selfsigned.Loopback(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{tlsCert}})
	s := httpapi.New(fixtureConfig())
	s.Publish(fixture())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, tlsLn) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := hc.Get("https://" + ln.Addr().String() + "/api/v1/validity/AS64496/192.0.2.0/24")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(body) != string(validityJSON(64496, "192.0.2.0/24")) {
		t.Errorf("HTTPS: %d %v\n%s", resp.StatusCode, err, body)
	}
}

func TestFromConfig(t *testing.T) {
	c := config.Defaults()
	c.EnableASPA, c.RTRClientMetrics, c.HistorySize, c.UnsafeVRPs = true, true, 4, "reject"
	got := httpapi.FromConfig(&c, "1.2.3")
	want := httpapi.Config{Version: "1.2.3", EnableASPA: true, HistorySize: 4, UnsafeVRPs: "reject", RTRClientMetrics: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSnapshotOf(t *testing.T) {
	set := fixtureSet()
	run := &runner.Run{
		Result: &engine.Result{
			Set: set, Unsafe: []payload.VRP{vrp(1, "10.0.0.0/8", 8)}, Report: fixtureReport(),
			Exceptions: payload.ExceptionCounts{AddedVRPs: 1},
			Started:    t0, Elapsed: fixtureElapsed,
		},
		Statuses: fixtureRepos(),
	}
	snap := httpapi.SnapshotOf(run)
	if snap.Set != set || snap.Unsafe != 1 || snap.Report != run.Report || snap.Exceptions.AddedVRPs != 1 ||
		!snap.Started.Equal(t0) || snap.Elapsed != fixtureElapsed || len(snap.Repos) != 3 {
		t.Errorf("SnapshotOf: %+v", snap)
	}
}

// TestMinimalSnapshot serves a Snapshot with nothing but a serial: no
// set, report, repositories or log.
func TestMinimalSnapshot(t *testing.T) {
	s := httpapi.New(httpapi.Config{})
	s.Publish(&httpapi.Snapshot{Serial: 1, Started: t0})
	for _, uri := range []string{"/csv", "/json", "/summary", "/status", "/metrics", "/log", "/json-delta", "/api/v1/validity/AS1/10.0.0.0/8"} {
		if code, body := get(t, s, uri); code != 200 {
			t.Errorf("%s: %d %s", uri, code, body)
		}
	}
	if _, body := get(t, s, "/csv"); string(body) != "ASN,IP Prefix,Max Length,Trust Anchor\n" {
		t.Errorf("empty csv: %q", body)
	}
}
