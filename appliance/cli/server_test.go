package cli_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/appliance/server/servertest"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/engine/payload"
)

// patience bounds each wait for the server to act.
const patience = 5 * time.Minute

// recorder is the server's Publisher in these tests. With wrap set, it
// also forwards everything to the Publisher that wrap builds from the
// server's configuration, which becomes its Inner.
type recorder struct {
	*servertest.Publisher
	wrap func(*config.Config, *slog.Logger) server.Publisher
}

func newRecorder() *recorder { return &recorder{Publisher: servertest.New()} }

// vrpLines turns a set's VRPs into csv lines without the trust anchor.
func vrpLines(s *payload.Set) []string {
	var out []string
	for _, v := range s.VRPs() {
		out = append(out, fmt.Sprintf("AS%d,%s,%d", v.ASN, v.Prefix, v.MaxLength))
	}
	slices.Sort(out)
	return out
}

// truthVRPs reads the world's truth without the trust anchor column.
func truthVRPs(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, l := range truthLines(t, dir) {
		out = append(out, l[:strings.LastIndexByte(l, ',')])
	}
	slices.Sort(out)
	return out
}

// startServer runs rovd server in the background with rec as the RTR
// server (forwarding to the one rec.wrap builds, if set) and returns a
// channel with its exit status.
func startServer(t *testing.T, rec *recorder, args ...string) (<-chan int, *bytes.Buffer) {
	t.Helper()
	restore := cli.SetPublisher(func(cfg *config.Config, log *slog.Logger) server.Publisher {
		if rec.wrap != nil {
			rec.Inner = rec.wrap(cfg, log)
		}
		return rec
	})
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		status := cli.Main(append([]string{"rovd"}, args...), &bytes.Buffer{}, &stderr)
		restore()
		done <- status
	}()
	return done, &stderr
}

func kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

func exited(t *testing.T, done <-chan int, stderr *bytes.Buffer) {
	t.Helper()
	select {
	case status := <-done:
		if status != cli.ExitOK {
			t.Errorf("status %d: %s", status, stderr.String())
		}
	case <-time.After(patience):
		t.Fatal("server did not stop")
	}
}

// TestServerServedWorld runs rovd server against the small world with
// real signals: the first run publishes the world's VRPs and opens the
// RTR listener, SIGUSR1 after a change in the world publishes the new
// VRPs, SIGTERM stops it. Restarted, it publishes the kept set and
// listens while its first run is held.
func TestServerServedWorld(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	repo := t.TempDir()
	args := []string{"-r", repo, "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(), "-q",
		"server", "--rtr", "127.0.0.1:0", "--refresh", "86400"}

	rec := newRecorder()
	done, stderr := startServer(t, rec, args...)
	first := rec.Next(t, patience)
	if got, want := vrpLines(first), truthVRPs(t, srv.Dir()); !slices.Equal(got, want) {
		t.Fatalf("published %d VRPs, the world has %d", len(got), len(want))
	}
	select {
	case addr := <-rec.Serving:
		c, err := net.DialTimeout("tcp", addr.String(), patience)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		c.Close()
	case <-time.After(patience):
		t.Fatal("not listening after the first run")
	}
	if _, err := os.Stat(filepath.Join(repo, cli.StateFile)); err != nil {
		t.Errorf("state file: %v", err)
	}

	if _, err := srv.Mutate(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	want := truthVRPs(t, srv.Dir())
	kill(t, syscall.SIGUSR1)
	second := rec.Next(t, patience)
	if got := vrpLines(second); !slices.Equal(got, want) {
		t.Errorf("after the change: published %d VRPs, the world has %d", len(got), len(want))
	}
	kill(t, syscall.SIGTERM)
	exited(t, done, stderr)

	// Restart with the first run held: the kept set comes first, and the
	// listener opens.
	release := make(chan struct{})
	restore := cli.SetBeforeValidation(func() { <-release })
	defer restore()
	rec = newRecorder()
	done, stderr = startServer(t, rec, args...)
	if got := vrpLines(rec.Next(t, patience)); !slices.Equal(got, want) {
		t.Errorf("restart: published %d VRPs, want the %d kept", len(got), len(want))
	}
	select {
	case <-rec.Serving:
	case <-time.After(patience):
		t.Fatal("not listening before the first run after a restart")
	}
	close(release)
	kill(t, syscall.SIGTERM)
	exited(t, done, stderr)
}

// TestServerErrors checks the errors that stop the server at start.
func TestServerErrors(t *testing.T) {
	rec := newRecorder()
	restore := cli.SetPublisher(func(*config.Config, *slog.Logger) server.Publisher { return rec })
	defer restore()
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"server", "--rtr", "localhost:323"}, `rovd server: --rtr: "localhost:323" is not an addr:port`},
		{[]string{"server", "--source", "ftp://x"}, "--source"},
		{[]string{"server", "extra"}, "unexpected argument"},
		{[]string{"-t", empty, "-r", t.TempDir(), "server"}, "rovd server: no TALs (*.tal) in " + empty},
		{[]string{"-t", empty, "-r", t.TempDir(), "server", "--rtr-tls", "127.0.0.1:0", "--rtr-tls-key", "/nonexistent/k", "--rtr-tls-cert", "/nonexistent/c"}, "rovd server: rtr-tls-cert /nonexistent/c"},
		{[]string{"-t", empty, "-r", t.TempDir(), "server", "--listen-systemd"}, "rovd server: listen-systemd: no sockets passed by systemd"},
	} {
		status, _, errs := rovd(t, tc.args...)
		if status != cli.ExitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: status %d, %q; want 1 and %q", tc.args, status, errs, tc.want)
		}
	}
	restore()
}
