//go:build linux

package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket listens on a datagram socket in dir for sd_notify
// messages, as the service manager does, and returns its path and the
// messages as they come.
func notifySocket(t *testing.T, dir string) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan string, 16)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			select {
			case msgs <- string(buf[:n]):
			default: // more than the test reads; none is expected
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return path, msgs
}

// expectNotify waits (bounded) for the next sd_notify message and
// checks it is want; logs gives rovd's output for a failure.
func expectNotify(t *testing.T, msgs <-chan string, want string, logs func() string) {
	t.Helper()
	select {
	case got := <-msgs:
		if got != want {
			t.Errorf("sd_notify %q, want %q", got, want)
		}
	case <-time.After(patience):
		t.Fatalf("no %s on NOTIFY_SOCKET after %v; stderr:\n%s", want, patience, logs())
	}
}

// httpGet fetches path from the HTTP service at addr.
func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: patience}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// TestServerSocketActivation runs the built rovd with --listen-systemd
// under systemd's systemd-socket-activate, which binds real sockets and
// passes them as a socket unit does: one named rtr and one named http.
// The world's VRPs come over RTR on the first and as /csv on the second,
// READY=1 reaches the NOTIFY_SOCKET once rovd serves, and SIGTERM ends
// it with STOPPING=1 and exit status 0.
func TestServerSocketActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and serves a world")
	}
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate is not installed (Debian package systemd; .ci/run installs it)")
	}
	srv := tinyWorld(t)
	bin := buildRovd(t)
	dir := t.TempDir()
	notify, msgs := notifySocket(t, dir)
	rtrAddr, httpAddr := freeAddr(t), freeAddr(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*patience)
	defer cancel()
	// systemd-socket-activate hands on only the variables named with -E,
	// so the machine's HOME (and a .rovd.conf in it) plays no part.
	cmd := exec.CommandContext(ctx, activate,
		"-l", rtrAddr, "-l", httpAddr, "--fdname=rtr:http", "-E", "NOTIFY_SOCKET="+notify,
		bin, "-r", filepath.Join(dir, "repo"), "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(),
		"server", "--listen-systemd")
	logFile := filepath.Join(dir, "stderr")
	stderr, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	logs := func() string {
		data, _ := os.ReadFile(logFile)
		return string(data)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // gone already unless the test failed
		_ = cmd.Wait()
	})
	// systemd-socket-activate binds both addresses before it starts rovd,
	// which it does on the first connection (systemd 252; later versions
	// may start it at once). The Reset Query waits in the RTR socket until
	// rovd's first run has ended.
	waitFor(t, "systemd-socket-activate listening", func() bool {
		c, err := net.Dial("tcp", httpAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if got, want := rtrReset(t, rtrAddr), truthVRPs(t, srv.Dir()); !slices.Equal(got, want) {
		t.Errorf("RTR serves %d VRPs, the world has %d", len(got), len(want))
	}
	expectNotify(t, msgs, "READY=1", logs)

	code, body := httpGet(t, httpAddr, "/csv")
	var got []string
	for i, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if i > 0 { // the header
			got = append(got, line[:strings.LastIndexByte(line, ',')])
		}
	}
	slices.Sort(got)
	if want := truthVRPs(t, srv.Dir()); code != http.StatusOK || !slices.Equal(got, want) {
		t.Errorf("/csv on the http socket: status %d, %d VRPs; want 200, the world's %d", code, len(got), len(want))
	}
	if code, body := httpGet(t, httpAddr, "/status"); code != http.StatusOK || !strings.Contains(body, "vrps") {
		t.Errorf("/status on the http socket: %d %.200s", code, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectNotify(t, msgs, "STOPPING=1", logs)
	if err := cmd.Wait(); err != nil {
		t.Errorf("rovd after SIGTERM: %v; stderr:\n%s", err, logs())
	}
	if strings.Contains(logs(), "level=WARN") || strings.Contains(logs(), "level=ERROR") {
		t.Errorf("stderr:\n%s", logs())
	}
}
