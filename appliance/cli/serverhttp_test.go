package cli_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world/serve"
)

// TestServerHTTP runs rovd server with --http on the small world: the
// HTTP service answers before the first set, then serves the set the
// loop published.
func TestServerHTTP(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := l.Addr().String()
	l.Close()
	args := []string{"-r", t.TempDir(), "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(),
		"server", "--rtr", "127.0.0.1:0", "--http", httpAddr, "--refresh", "86400"}
	rec := newRecorder()
	done, stderr := startServer(t, rec, args...)
	published := rec.Next(t, patience)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The set reaches the HTTP service right after the RTR server.
	var body string
	for range 100 {
		var code int
		if code, body = get("/csv"); code == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, want := strings.Count(body, "\n")-1, len(published.VRPs()); got != want {
		t.Errorf("/csv has %d VRPs, the published set %d", got, want)
	}
	v := published.VRPs()[0]
	if code, b := get("/api/v1/validity/AS" + strconv.FormatUint(uint64(v.ASN), 10) + "/" + v.Prefix.String()); code != http.StatusOK || !strings.Contains(b, `"state": "valid"`) {
		t.Errorf("validity of a VRP's own route: %d %s", code, b)
	}
	if code, b := get("/status"); code != http.StatusOK || !strings.Contains(b, "vrps") {
		t.Errorf("/status: %d %.200s", code, b)
	}
	if code, b := get("/metrics"); code != http.StatusOK || !strings.Contains(b, "routinator_") {
		t.Errorf("/metrics: %d %.200s", code, b)
	}
	// The run's log at the configured level: the small world's faults
	// give warnings.
	if code, b := get("/log"); code != http.StatusOK || !strings.Contains(b, "level=WARN") {
		t.Errorf("/log: %d %.200s", code, b)
	}
	if code, b := get("/ui"); code != http.StatusOK || !strings.Contains(b, "<html") {
		t.Errorf("/ui: %d %.100s", code, b)
	}
	kill(t, syscall.SIGTERM)
	exited(t, done, stderr)
	if _, err := http.Get("http://" + httpAddr + "/version"); err == nil {
		t.Error("HTTP still served after the server stopped")
	}
}
