package cli_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/sockstat"
	"github.com/rovd/rovd/bench/world/serve"
)

// TestServerSocketMetrics runs rovd server with rtr-client-metrics and a
// live RTR session on loopback: /metrics shows the session's socket
// figures, read with TCP_INFO (always) and with eBPF (where it can be
// loaded), and promtool accepts the result.
func TestServerSocketMetrics(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	for _, tc := range []struct {
		name string
		opt  sockstat.Options
	}{
		{"tcp_info", sockstat.Options{TCPInfoOnly: true}},
		{"ebpf", sockstat.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ebpf" {
				c := sockstat.Open(sockstat.Options{})
				m := c.Method()
				c.Close()
				if m != sockstat.MethodEBPF {
					t.Skip("eBPF socket stats unavailable here (needs CAP_BPF and CAP_NET_ADMIN, cgroup v2 and a kernel from 5.10)")
				}
			}
			defer cli.SetSockStatOptions(tc.opt)()
			httpAddr, rtrAddr := freeAddr(t), freeAddr(t)
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- cli.Main([]string{"rovd", "-r", t.TempDir(), "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(),
					"server", "--rtr", rtrAddr, "--http", httpAddr, "--rtr-client-metrics", "--refresh", "86400"}, &bytes.Buffer{}, &stderr)
			}()
			// RTR listens once the first run is done.
			var conn net.Conn
			deadline := time.Now().Add(patience)
			for conn == nil && time.Now().Before(deadline) {
				var err error
				if conn, err = net.DialTimeout("tcp", rtrAddr, time.Second); err != nil {
					select {
					case status := <-done:
						t.Fatalf("server ended with %d: %s", status, stderr.String())
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			if conn == nil {
				t.Fatal("RTR never listened")
			}
			defer conn.Close()
			if vrps := rtrResetOn(t, conn); len(vrps) == 0 {
				t.Fatal("no VRPs over RTR")
			}

			port := strconv.Itoa(conn.LocalAddr().(*net.TCPAddr).Port)
			rtt := regexp.MustCompile(`(?m)^rovd_rtr_client_rtt_seconds\{addr="127\.0\.0\.1",port="` + port + `"\} (\S+)$`)
			var body []byte
			for range 100 {
				body = getMetrics(t, httpAddr)
				if rtt.Match(body) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			m := rtt.FindSubmatch(body)
			if m == nil {
				t.Fatalf("no RTT of the session in /metrics:\n%s", grepLines(body, "rtr_client"))
			}
			if v, err := strconv.ParseFloat(string(m[1]), 64); err != nil || v <= 0 || v > 1 {
				t.Errorf("RTT %s s on loopback", m[1])
			}
			for _, want := range []string{
				`rovd_rtr_client_socket_stats_info{source="` + tc.name + `"} 1`,
				`rovd_rtr_client_retransmits_total{addr="127.0.0.1",port="` + port + `"} `,
				`rovd_rtr_client_in_flight_bytes{addr="127.0.0.1",port="` + port + `"} `,
				`routinator_rtr_client_connections{addr="127.0.0.1"} 1`,
			} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "rtr_client"))
				}
			}
			promtool(t, body)

			kill(t, syscall.SIGTERM)
			exited(t, done, &stderr)
			if tc.name == "tcp_info" && strings.Contains(stderr.String(), "eBPF unavailable") {
				t.Errorf("TCP_INFO was chosen, yet the log says eBPF was tried: %s", stderr.String())
			}
		})
	}
}

func getMetrics(t *testing.T, addr string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return b
}

func grepLines(b []byte, sub string) string {
	var out []string
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// promtool has promtool (Debian's prometheus package) check the metrics:
// they must parse, and its naming advice must not object to rovd's own
// names (those kept from Routinator are checked in appliance/httpapi).
func promtool(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (Debian package prometheus): not checked; CI installs it")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// promtool exits 3 for lint problems only, 1 for a parse error.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "rovd_") {
			t.Errorf("promtool: %s", line)
		}
	}
}
