package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/appliance/server/servertest"
	"github.com/rovd/rovd/engine/payload"
)

// patience bounds every wait of these tests for the server to act.
const patience = time.Minute

type result struct {
	upd *server.Update
	err error
}

// fakeSource hands out the results a test sends, one per run; started
// tells the test that a run began.
type fakeSource struct {
	started   chan struct{}
	results   chan result
	reloadErr error
}

func newSource() *fakeSource {
	return &fakeSource{started: make(chan struct{}), results: make(chan result)}
}

func (f *fakeSource) Next(ctx context.Context) (*server.Update, error) {
	select {
	case f.started <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-f.results:
		return r.upd, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeSource) Reload() error { return f.reloadErr }

// run waits for a run to start and makes it return upd.
func (f *fakeSource) run(t *testing.T, upd *server.Update, err error) {
	t.Helper()
	select {
	case <-f.started:
	case <-time.After(patience):
		t.Fatal("no run started")
	}
	f.results <- result{upd, err}
}

// waitStart waits for a run to start and leaves it running.
func (f *fakeSource) waitStart(t *testing.T) {
	t.Helper()
	select {
	case <-f.started:
	case <-time.After(patience):
		t.Fatal("no run started")
	}
}

// set makes a set of n VRPs from AS first on, with one source of the
// given trust anchor, valid until notAfter (zero: no expiry).
func set(n int, first uint32, notAfter time.Time) *payload.Set {
	var b payload.Builder
	src := &payload.Source{TA: "ta", URI: "rsync://example.net/x.roa", Validity: payload.Validity{NotAfter: notAfter}}
	for i := range n {
		pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
		b.AddVRP(payload.VRP{ASN: first + uint32(i), Prefix: pfx, MaxLength: 24}, src)
	}
	return b.Build()
}

func update(s *payload.Set) *server.Update {
	return &server.Update{Set: s, Time: time.Now()}
}

// harness runs a Server in the background.
type harness struct {
	srv  *server.Server
	pub  *servertest.Publisher
	src  *fakeSource
	sigs chan os.Signal
	done chan error
	log  *bytes.Buffer
	mu   *sync.Mutex // guards log
}

// syncWriter serializes writes to a buffer shared with the test.
type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (h *harness) logText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.log.String()
}

// start runs a server with opt (Refresh an hour unless set, so that only
// signals start runs) over a fake source and publisher, listening on a
// loopback port.
func start(t *testing.T, opt server.Options) *harness {
	t.Helper()
	src := newSource()
	h := startWith(t, src, opt)
	h.src = src
	return h
}

// startWith is start with another source.
func startWith(t *testing.T, src server.Source, opt server.Options) *harness {
	t.Helper()
	h := &harness{pub: servertest.New(), sigs: make(chan os.Signal), done: make(chan error, 1), log: &bytes.Buffer{}, mu: &sync.Mutex{}}
	if opt.Refresh == 0 {
		opt.Refresh = time.Hour
	}
	if opt.Retry == 0 {
		opt.Retry = time.Hour
	}
	if opt.Expire == 0 {
		opt.Expire = 2 * time.Hour
	}
	if opt.Listen == nil {
		opt.Listen = func() ([]net.Listener, error) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			return []net.Listener{l}, err
		}
	}
	opt.Signals = h.sigs
	opt.Logger = slog.New(slog.NewTextHandler(syncWriter{h.mu, h.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.srv = server.New(src, h.pub, opt)
	go func() { h.done <- h.srv.Run(context.Background()) }()
	t.Cleanup(func() {
		select {
		case h.sigs <- syscall.SIGTERM:
			<-h.done
		case <-h.done:
		}
	})
	return h
}

func (h *harness) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	select {
	case h.sigs <- sig:
	case <-time.After(patience):
		t.Fatalf("%v not taken", sig)
	}
}

// stop sends SIGTERM and returns what Run returned.
func (h *harness) stop(t *testing.T) error {
	t.Helper()
	h.signal(t, syscall.SIGTERM)
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(patience):
		t.Fatal("Run did not return")
		return nil
	}
}

func (h *harness) serving(t *testing.T) net.Addr {
	t.Helper()
	select {
	case a := <-h.pub.Serving:
		return a
	case <-time.After(patience):
		t.Fatal("not serving")
		return nil
	}
}

// TestRefreshLoop: the first run publishes and opens the listeners, a
// changed set is published, an unchanged one is not, SIGTERM stops.
func TestRefreshLoop(t *testing.T) {
	notes := make(chan string, 4)
	h := start(t, server.Options{Notify: func(s string) error { notes <- s; return nil }})
	note := func(want string) {
		t.Helper()
		select {
		case got := <-notes:
			if got != want {
				t.Errorf("service manager told %q, want %q", got, want)
			}
		case <-time.After(patience):
			t.Errorf("service manager not told %q", want)
		}
	}
	h.src.waitStart(t)
	select {
	case <-h.pub.Serving:
		t.Fatal("listening before the first run ended")
	default:
	}
	a := set(10, 64500, time.Time{})
	h.src.results <- result{update(a), nil}
	if got := h.pub.Next(t, patience); got != a {
		t.Fatal("first run not published")
	}
	addr := h.serving(t)
	c, err := net.DialTimeout("tcp", addr.String(), patience)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.Close()
	note("READY=1")

	b := set(11, 64500, time.Time{})
	h.signal(t, syscall.SIGUSR1)
	h.src.run(t, update(b), nil)
	if got := h.pub.Next(t, patience); got != b {
		t.Fatal("changed set not published")
	}
	// The same VRPs again: nothing to publish. The next change is the
	// next thing published.
	h.signal(t, syscall.SIGUSR1)
	h.src.run(t, update(set(11, 64500, time.Time{})), nil)
	c3 := set(12, 64500, time.Time{})
	h.signal(t, syscall.SIGUSR1)
	h.src.run(t, update(c3), nil)
	if got := h.pub.Next(t, patience); got != c3 {
		t.Fatalf("published %d VRPs, want the 12 of the next change", len(got.VRPs()))
	}
	if cur := h.srv.Current(); cur.Set != c3 || cur.Restored {
		t.Errorf("current %+v", cur)
	}
	if err := h.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
	note("STOPPING=1")
	if !h.pub.Closed() {
		t.Error("publisher not closed")
	}
	if _, err := net.DialTimeout("tcp", addr.String(), patience); err == nil {
		t.Error("still listening after stop")
	}
}

// TestStopDuringRun: SIGTERM during a run cancels it and stops.
func TestStopDuringRun(t *testing.T) {
	h := start(t, server.Options{})
	h.src.waitStart(t)
	if err := h.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
	h.pub.None(t)
}

// TestFailedRuns: a failed run is retried after retry, keeping the set;
// with FirstRunFatal a failing first run ends the server.
func TestFailedRuns(t *testing.T) {
	h := start(t, server.Options{Retry: time.Millisecond, RunName: "validation run"})
	h.src.run(t, nil, errors.New("disk on fire"))
	// The retry comes by itself, not by a signal.
	a := set(3, 1, time.Time{})
	h.src.run(t, update(a), nil)
	if h.pub.Next(t, patience) != a {
		t.Fatal("not published after the retry")
	}
	if !strings.Contains(h.logText(), `msg="validation run failed" err="disk on fire"`) {
		t.Errorf("log:\n%s", h.logText())
	}

	h = start(t, server.Options{FirstRunFatal: true})
	h.src.run(t, nil, errors.New("no TALs"))
	select {
	case err := <-h.done:
		h.done <- err
		if err == nil || err.Error() != "no TALs" {
			t.Errorf("first run failed: Run returned %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Run did not return")
	}
}

// TestReloadFails: SIGUSR1 with TALs that cannot be read stops the
// server with an error, as the manual says.
func TestReloadFails(t *testing.T) {
	h := start(t, server.Options{})
	h.src.run(t, update(set(1, 1, time.Time{})), nil)
	h.pub.Next(t, patience)
	h.src.reloadErr = errors.New("no TALs (*.tal) in /nowhere")
	h.signal(t, syscall.SIGUSR1)
	h.returned(t, "reload: no TALs")

	// SIGUSR1 during a run.
	h = start(t, server.Options{})
	h.src.reloadErr = errors.New("no TALs (*.tal) in /nowhere")
	h.src.waitStart(t)
	h.signal(t, syscall.SIGUSR1)
	h.returned(t, "reload: no TALs")
}

// returned waits for Run to return and checks its error.
func (h *harness) returned(t *testing.T, want string) {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run returned %v, want %q", err, want)
		}
	case <-time.After(patience):
		t.Fatal("Run did not return")
	}
}

// TestServeFails: a listener the publisher cannot serve ends the server,
// between runs or during one.
func TestServeFails(t *testing.T) {
	h := start(t, server.Options{})
	h.pub.ServeErr = errors.New("broken")
	h.src.run(t, update(set(1, 1, time.Time{})), nil)
	h.returned(t, "broken")

	// With a kept set the listeners open before the first run, which is
	// under way (or starting) when serving fails.
	state := filepath.Join(t.TempDir(), "served-set")
	if err := server.WriteState(state, set(1, 1, time.Time{}), time.Now()); err != nil {
		t.Fatal(err)
	}
	pub := servertest.New()
	pub.ServeErr = errors.New("broken too")
	src := newSource()
	sigs := make(chan os.Signal)
	srv := server.New(src, pub, server.Options{Refresh: time.Hour, Retry: time.Hour, Expire: time.Hour, StateFile: state, Signals: sigs,
		Listen: func() ([]net.Listener, error) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			return []net.Listener{l}, err
		}})
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "broken too") {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Run did not return")
	}
}

// TestRestart: the state file's set is published, and the listeners
// open, before the first run ends; the run's set follows. A state file
// older than expire is not used.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "served-set")
	h := start(t, server.Options{StateFile: state})
	a := set(20, 64500, time.Now().Add(24*time.Hour))
	h.src.run(t, &server.Update{Set: a, Time: time.Now().Add(-time.Hour)}, nil)
	h.pub.Next(t, patience)
	h.serving(t)
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}

	h = start(t, server.Options{StateFile: state})
	// The first run is under way and stays so: the kept set is served.
	h.src.waitStart(t)
	got := h.pub.Next(t, patience)
	if !sameVRPs(got, a) {
		t.Fatalf("restored %d VRPs, want %d", len(got.VRPs()), len(a.VRPs()))
	}
	h.serving(t)
	if cur := h.srv.Current(); !cur.Restored {
		t.Error("not marked restored")
	}
	b := set(21, 64500, time.Time{})
	h.src.results <- result{update(b), nil}
	if h.pub.Next(t, patience) != b {
		t.Fatal("first run after the restart not published")
	}
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}

	// Kept longer than expire: the first run decides.
	h = start(t, server.Options{StateFile: state, Expire: time.Second, Now: func() time.Time { return time.Now().Add(time.Hour) }})
	h.src.waitStart(t)
	h.pub.None(t)
	c := set(5, 1, time.Time{})
	h.src.results <- result{update(c), nil}
	if h.pub.Next(t, patience) != c {
		t.Fatal("first run not published")
	}
	if !strings.Contains(h.logText(), "state file not used: its set is older than expire") {
		t.Errorf("log:\n%s", h.logText())
	}
}

func sameVRPs(a, b *payload.Set) bool {
	return fmt.Sprint(a.VRPs()) == fmt.Sprint(b.VRPs())
}

// TestGuard: a drop beyond max-vrp-drop is held back until it persists
// for max-vrp-drop-runs runs; a run without the drop ends the hold;
// SIGUSR2 publishes a held set at once.
func TestGuard(t *testing.T) {
	h := start(t, server.Options{MaxVRPDrop: 10, MaxVRPDropRuns: 3})
	h.src.waitStart(t)
	// advance ends the run under way with s and starts the next, so
	// that s has been applied when it returns.
	advance := func(s *payload.Set) {
		t.Helper()
		h.src.results <- result{update(s), nil}
		h.signal(t, syscall.SIGUSR1)
		h.src.waitStart(t)
	}
	guard := func(holding bool, runs, published, candidate int) {
		t.Helper()
		g := h.srv.Guard()
		if g.Holding != holding || g.Runs != runs || holding && (g.Published != published || g.Candidate != candidate || g.Since.IsZero()) {
			t.Errorf("guard %+v, want holding %v, %d runs, %d published, candidate %d", g, holding, runs, published, candidate)
		}
	}

	full := set(100, 1, time.Time{})
	advance(full)
	if h.pub.Next(t, patience) != full {
		t.Fatal("first set not published")
	}
	// A drop of exactly max-vrp-drop is within the limit.
	ninety := set(90, 1, time.Time{})
	advance(ninety)
	if h.pub.Next(t, patience) != ninety {
		t.Fatal("drop of exactly max-vrp-drop not published")
	}
	guard(false, 0, 0, 0)
	advance(full)
	h.pub.Next(t, patience)

	advance(set(50, 1, time.Time{}))
	guard(true, 1, 100, 50)
	advance(set(50, 1, time.Time{}))
	guard(true, 2, 100, 50)
	h.pub.None(t)
	if cur := h.srv.Current(); cur.Set != full {
		t.Error("the published set changed during the hold")
	}
	third := set(49, 1, time.Time{})
	advance(third)
	if h.pub.Next(t, patience) != third {
		t.Fatal("drop not published after max-vrp-drop-runs runs")
	}
	guard(false, 0, 0, 0)
	if !strings.Contains(h.logText(), `level=ERROR msg="VRPs would drop beyond max-vrp-drop`) {
		t.Errorf("no error logged:\n%s", h.logText())
	}

	// Held, then a run without the drop: published, hold over.
	advance(set(20, 1, time.Time{}))
	guard(true, 1, 49, 20)
	recovered := set(48, 1, time.Time{})
	advance(recovered)
	if h.pub.Next(t, patience) != recovered {
		t.Fatal("set without a big drop not published during a hold")
	}
	guard(false, 0, 0, 0)

	// Held, then SIGUSR2 (during the next run): published at once.
	small := set(10, 1, time.Time{})
	advance(small)
	h.pub.None(t)
	h.signal(t, syscall.SIGUSR2)
	if h.pub.Next(t, patience) != small {
		t.Fatal("SIGUSR2 did not publish the held set")
	}
	guard(false, 0, 0, 0)
	// SIGUSR2 with nothing held does nothing.
	h.signal(t, syscall.SIGUSR2)
	h.pub.None(t)
}

// TestGuardOff: without max-vrp-drop every drop is published.
func TestGuardOff(t *testing.T) {
	h := start(t, server.Options{})
	h.src.run(t, update(set(100, 1, time.Time{})), nil)
	h.pub.Next(t, patience)
	h.signal(t, syscall.SIGUSR1)
	empty := set(0, 1, time.Time{})
	h.src.run(t, update(empty), nil)
	if h.pub.Next(t, patience) != empty {
		t.Fatal("drop not published")
	}
}

// TestNextWait: refresh, or earlier when an object expires, but not
// sooner than a minute.
func TestNextWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := server.New(newSource(), servertest.New(), server.Options{Refresh: 10 * time.Minute, Now: func() time.Time { return now }})
	for _, tc := range []struct {
		expires time.Time
		want    time.Duration
	}{
		{time.Time{}, 10 * time.Minute},
		{now.Add(time.Hour), 10 * time.Minute},
		{now.Add(5 * time.Minute), 5 * time.Minute},
		{now.Add(time.Second), time.Minute},
		{now.Add(-time.Hour), 10 * time.Minute},
	} {
		if got := srv.NextWait(&server.Update{Expires: tc.expires}); got != tc.want {
			t.Errorf("expires %v: wait %v, want %v", tc.expires, got, tc.want)
		}
	}
	short := server.New(newSource(), servertest.New(), server.Options{Refresh: 30 * time.Second, Now: func() time.Time { return now }})
	if got := short.NextWait(&server.Update{Expires: now.Add(10 * time.Second)}); got != 30*time.Second {
		t.Errorf("refresh below a minute: wait %v", got)
	}
}
