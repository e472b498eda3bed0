package httpapi_test

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is when the fixture's validation run started.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// fixtureElapsed is how long the fixture's run took; the set counts as
// made at t0 + fixtureElapsed.
const fixtureElapsed = 2500 * time.Millisecond

func src(ta, uri string) *payload.Source {
	v := payload.Validity{NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0)}
	return &payload.Source{TA: ta, URI: uri, Validity: v, Chain: v}
}

var (
	srcRIPE  = src("ripe", "rsync://rpki.example.net/repo/ca1/a.roa")
	srcRIPE2 = src("ripe", "rsync://rpki.example.net/repo/ca1/b.asa")
	srcAPNIC = src("apnic", "rsync://rpki.example.org/repo/ca2/c.roa")
	srcKey   = src("apnic", "rsync://rpki.example.org/repo/ca2/router.cer")
	// A local exception: no trust anchor, the file as URI.
	srcLocal = &payload.Source{URI: "/etc/rovd/exceptions.json"}
)

func vrp(asn uint32, prefix string, maxLen uint8) payload.VRP {
	return payload.VRP{ASN: asn, Prefix: netip.MustParsePrefix(prefix), MaxLength: maxLen}
}

// fixtureSet is a small set with every kind of item: VRPs of two trust
// anchors and IP versions, an AS0 VRP, a VRP from local exceptions, one
// ASPA and one router key.
func fixtureSet() *payload.Set {
	var b payload.Builder
	b.AddVRP(vrp(64496, "192.0.2.0/24", 24), srcRIPE)
	b.AddVRP(vrp(64496, "198.51.100.0/22", 24), srcRIPE)
	b.AddVRP(vrp(64497, "198.51.100.0/24", 24), srcAPNIC)
	b.AddVRP(vrp(64497, "2001:db8::/32", 48), srcAPNIC)
	b.AddVRP(vrp(0, "203.0.113.0/24", 24), srcAPNIC)
	b.AddVRP(vrp(64498, "10.0.0.0/8", 8), srcLocal)
	b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64497, 64498}}, srcRIPE2)
	k := payload.RouterKey{ASN: 64497, SPKI: []byte{0x30, 0x13, 0x30, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}}
	for i := range k.SKI {
		k.SKI[i] = byte(0xa0 + i)
	}
	b.AddRouterKey(k, srcKey)
	return b.Build()
}

const (
	rrdpURI   = "https://rrdp.example.net/notification.xml"
	brokenURI = "https://rrdp.broken.example/notification.xml"
	rsyncURI  = "rsync://rpki.example.org/repo/"
)

func fixtureReport() *engine.Report {
	return &engine.Report{
		Counts: engine.Counts{
			TAs: 2, CAs: 5, PointsValid: 4, PointsRejected: 1, PointsLastGood: 1,
			ObjectsValid:   map[string]int{"roa": 3, "manifest": 4, "crl": 4, "ca": 3, "aspa": 1, "router": 1},
			ObjectsInvalid: map[string]int{"roa": 1},
			ValidByTA: map[string]map[string]int{
				"ripe":  {"roa": 1, "aspa": 1, "manifest": 2, "crl": 2, "ca": 1},
				"apnic": {"roa": 2, "router": 1, "manifest": 2, "crl": 2, "ca": 2},
			},
			ReposFailed: 1, StaleObjectsAdded: 1, CacheHits: 2,
			ByRepo: map[string]*engine.RepoCounts{
				rrdpURI:  {PointsValid: 2, VRPs: 2},
				rsyncURI: {PointsValid: 1, PointsRejected: 1, PointsLastGood: 1, VRPs: 3},
			},
		},
		Findings: []engine.Finding{
			{Level: slog.LevelWarn, Point: "rsync://rpki.example.org/repo/ca3/ca3.mft", URI: "rsync://rpki.example.org/repo/ca3/bad.roa", Msg: "roa: signature does not verify"},
			{Level: slog.LevelWarn, Point: "rsync://rpki.example.org/repo/ca3/ca3.mft", Msg: "publication point rejected, last good copy used"},
		},
	}
}

func fixtureRepos() []netio.Status {
	return []netio.Status{
		{URI: rrdpURI, Protocol: "rrdp", Method: netio.MethodDeltas, SessionID: "9df4b597-af9e-4dca-bdda-719cce2c4e28", Serial: 42, Deltas: 2, Started: t0, Duration: 1234 * time.Millisecond},
		{URI: brokenURI, Protocol: "rrdp", Started: t0, Duration: 50 * time.Millisecond, Err: errors.New("connection refused")},
		{URI: rsyncURI, Protocol: "rsync", Started: t0, Duration: 2 * time.Second},
	}
}

// fixture is the Snapshot the golden files show.
func fixture() *httpapi.Snapshot {
	return &httpapi.Snapshot{
		Set:        fixtureSet(),
		Session:    0x1234,
		Serial:     7,
		Started:    t0,
		Elapsed:    fixtureElapsed,
		Report:     fixtureReport(),
		Unsafe:     1,
		Exceptions: payload.ExceptionCounts{FilteredVRPs: 2, AddedVRPs: 1},
		Repos:      fixtureRepos(),
		Log:        []byte("WARN roa: signature does not verify point=rsync://rpki.example.org/repo/ca3/ca3.mft\n"),
	}
}

// fixedNow is the clock of the golden files: a minute after the run.
func fixedNow() time.Time { return t0.Add(time.Minute) }

// fixtureConfig is the configuration of the golden files.
func fixtureConfig() httpapi.Config {
	return httpapi.Config{
		Version: "0.1.0-test", EnableASPA: true, EnableBGPsec: true,
		UnsafeVRPs: "warn", RTRClientMetrics: true, Now: fixedNow,
	}
}

func fixtureRTR() httpapi.RTRStats {
	return httpapi.RTRStats{
		Connections: 2, BytesRead: 240, BytesWritten: 8192,
		Clients: []httpapi.RTRClient{
			{Addr: "192.0.2.10", Connections: 1, Serial: 7, HasSerial: true, Updated: t0.Add(30 * time.Second), LastReset: t0.Add(-time.Hour), ResetQueries: 1, SerialQueries: 12, BytesRead: 120, BytesWritten: 8000},
			{Addr: "2001:db8::10", Connections: 1, ResetQueries: 0, BytesRead: 120, BytesWritten: 192},
		},
		Sockets: []httpapi.RTRSocket{
			{Addr: "192.0.2.10", Port: 50123, RTT: 12500 * time.Microsecond, Retransmits: 3, BytesInFlight: 1448},
			{Addr: "2001:db8::10", Port: 40000, RTT: 250 * time.Microsecond},
		},
		SocketSource: "tcp_info",
	}
}

func fixtureGuard() httpapi.GuardState {
	return httpapi.GuardState{Holding: true, Since: t0.Add(-10 * time.Minute), HeldVRPs: 3, Reason: "VRP count fell by 50%", Trips: 1}
}

// serve runs s on a loopback port until the test ends and returns its
// base URL.
func serve(t testing.TB, s *httpapi.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return 30 s after its context ended")
		}
	})
	return "http://" + ln.Addr().String()
}

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
