package cli_test

import (
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/rtrfast"
	"github.com/rovd/rovd/rtrfast/rtrtest"
)

// truthVRPSet is the world's truth as a client holds it: a set of VRPs,
// trust anchors left out.
func truthVRPSet(t *testing.T, dir string) rtrtest.VRPs {
	t.Helper()
	return rtrtest.SetVRPs(truthSet(t, dir))
}

// TestServerRealClients runs rovd server, with the RTR server it builds
// itself, on the small world, and connects real routers' RTR clients:
// rtrlib's rtrclient (Debian rtr-tools) fetches the complete table, which
// must be the world's VRPs; a long-running rtrclient -p and BIRD 2
// (bird2) sync the same table, and after a change in the world and
// SIGUSR1 both follow to the new VRPs with Serial Queries, not a reset.
// SIGTERM then stops the server with status 0.
func TestServerRealClients(t *testing.T) {
	rtrtest.NeedBinary(t, "rtrclient", "rtr-tools")
	rtrtest.NeedBinary(t, "stdbuf", "coreutils")
	rtrtest.NeedBinary(t, "bird", "bird2")
	rtrtest.NeedBinary(t, "birdc", "bird2")
	// A change comes seconds after the first set; the draft's minute
	// between Serial Notify rounds would only make the test slow.
	defer cli.SetNotifyInterval(100 * time.Millisecond)()

	srv := serve.SmallWorld(t, serve.Options{})
	args := []string{"-r", t.TempDir(), "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(), "-q",
		"server", "--rtr", "127.0.0.1:0", "--refresh", "86400"}
	rec := newRecorder()
	rec.wrap = cli.DefaultPublisher
	done, stderr := startServer(t, rec, args...)
	stopped := false
	defer func() {
		if stopped {
			return
		}
		// The test failed early: stop the server all the same, so that
		// it takes no signal meant for a later test. The test holds
		// SIGTERM too, lest it end the process if the server has gone.
		held := make(chan os.Signal, 1)
		signal.Notify(held, syscall.SIGTERM)
		defer signal.Stop(held)
		select {
		case <-done:
			return
		default:
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Error(err)
			return
		}
		select {
		case <-done:
		case <-time.After(patience):
			t.Error("server did not stop")
		}
	}()

	want := truthVRPSet(t, srv.Dir())
	if got := rtrtest.SetVRPs(rec.Next(t, patience)); !got.Equal(want) {
		t.Fatalf("published: %s", got.Diff(want))
	}
	stats, hasStats := rec.Inner.(interface{ Stats() rtrfast.Stats })
	if !hasStats {
		t.Logf("the RTR server (%T) has no Stats: not checking how the clients followed", rec.Inner)
	}
	var host, port string
	select {
	case addr := <-rec.Serving:
		host, port, _ = net.SplitHostPort(addr.String())
	case <-time.After(patience):
		t.Fatal("not listening after the first run")
	}

	if got := rtrtest.RTRClientTable(t, host, port); !got.Equal(want) {
		t.Fatalf("rtrclient's full table: %s", got.Diff(want))
	}
	client := rtrtest.StartRTRClient(t, host, port)
	bird := rtrtest.StartBIRD(t, host, port)
	client.WaitFor(want)
	bird.WaitFor(want)

	var before rtrfast.Stats
	if hasStats {
		before = stats.Stats()
	}
	if _, err := srv.Mutate(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	second := truthVRPSet(t, srv.Dir())
	if second.Equal(want) {
		t.Fatal("the change in the world changed no VRP")
	}
	kill(t, syscall.SIGUSR1)
	if got := rtrtest.SetVRPs(rec.Next(t, patience)); !got.Equal(second) {
		t.Fatalf("published after the change: %s", got.Diff(second))
	}
	client.WaitFor(second)
	bird.WaitFor(second)
	if hasStats {
		after := stats.Stats()
		if after.SerialQueries == before.SerialQueries || after.ResetQueries != before.ResetQueries || after.CacheResets != before.CacheResets {
			t.Errorf("the clients did not follow with deltas: %d serial, %d reset queries, %d cache resets after the change; %d, %d, %d before",
				after.SerialQueries, after.ResetQueries, after.CacheResets, before.SerialQueries, before.ResetQueries, before.CacheResets)
		}
		if after.Serial == before.Serial {
			t.Errorf("serial %d after the change, as before", after.Serial)
		}
		t.Logf("serial %d to %d: %d Serial Queries; sessions by protocol version %v",
			before.Serial, after.Serial, after.SerialQueries-before.SerialQueries, after.SessionsByVersion)
	}

	kill(t, syscall.SIGTERM)
	stopped = true
	exited(t, done, stderr)
}
