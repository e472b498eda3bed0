package httpapi_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/httpapi"
)

// get runs one GET through the handler, without a connection, so that
// the HTTP byte counts in the answer stay fixed.
func get(t testing.TB, s *httpapi.Service, uri string) (int, []byte) {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(uri)
	s.Handle(&ctx)
	return ctx.Response.StatusCode(), append([]byte(nil), ctx.Response.Body()...)
}

// fixtureService is the service of the golden files: the fixture, the
// RTR figures with two clients and a collapse guard that is holding.
func fixtureService() *httpapi.Service {
	s := httpapi.New(fixtureConfig())
	s.SetRTRStats(fixtureRTR)
	s.SetGuard(fixtureGuard)
	s.Publish(fixture())
	return s
}

func TestStatusGolden(t *testing.T) {
	code, body := get(t, fixtureService(), "/status")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	golden(t, "status.golden", body)
}

func TestMetricsGolden(t *testing.T) {
	code, body := get(t, fixtureService(), "/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	golden(t, "metrics.golden", body)
}

// TestMetricsWithoutOptions checks what is left out: the per-client RTR
// figures without rtr-client-metrics, the guard until the server sets
// it, the unsafe count under unsafe-vrps = accept.
func TestMetricsWithoutOptions(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RTRClientMetrics = false
	cfg.UnsafeVRPs = "accept"
	s := httpapi.New(cfg)
	s.SetRTRStats(fixtureRTR)
	s.Publish(fixture())
	_, metrics := get(t, s, "/metrics")
	_, status := get(t, s, "/status")
	for _, absent := range []string{"routinator_rtr_client_", "rovd_rtr_client_", "rovd_collapse_guard", "rovd_unsafe_vrps"} {
		if bytes.Contains(metrics, []byte(absent)) {
			t.Errorf("/metrics has %s", absent)
		}
	}
	for _, absent := range []string{"rtr-clients:", "collapse-guard:", "unsafe-vrps:"} {
		if bytes.Contains(status, []byte(absent)) {
			t.Errorf("/status has %s", absent)
		}
	}
	if !bytes.Contains(metrics, []byte("routinator_rtr_current_connections 2\n")) {
		t.Errorf("/metrics lacks the RTR connection count")
	}
}

// compatLint lists the names Routinator gives metrics that promtool's
// naming advice objects to; rovd keeps them so that dashboards written
// for Routinator work unchanged. Any other complaint fails the test.
var compatLint = map[string]bool{
	"routinator_rtr_bytes_read":                      true,
	"routinator_rtr_bytes_written":                   true,
	"routinator_rtr_client_reset_queries":            true,
	"routinator_rtr_client_serial_queries":           true,
	"routinator_rtr_client_read_bytes":               true,
	"routinator_rtr_client_written_bytes":            true,
	"routinator_http_connections":                    true,
	"routinator_http_bytes_read":                     true,
	"routinator_http_bytes_written":                  true,
	"routinator_http_requests":                       true,
	"routinator_ta_objects_total":                    true,
	"routinator_ta_valid_vrps_total":                 true,
	"routinator_ta_valid_payload_total":              true,
	"routinator_repository_publication_points_total": true,
	"routinator_repository_valid_vrps_total":         true,
}

// TestPromtool checks /metrics with promtool (Debian's prometheus
// package): it must parse, and its only lint complaints must be about
// the names kept for Routinator.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus); CI installs it")
	}
	_, body := get(t, fixtureService(), "/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// promtool exits 3 for lint problems only, 1 for a parse error.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		if !compatLint[name] {
			t.Errorf("promtool: %s", line)
		}
		seen[name] = true
	}
	for name := range compatLint {
		if !seen[name] {
			t.Errorf("%s is no longer reported by promtool: drop it from compatLint", name)
		}
	}
}
