package netio_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/netio/rrdp"
	"github.com/rovd/rovd/store"
)

// hostileServer is a served small world whose HTTPS answers a test can
// replace, path by path.
type hostileServer struct {
	*serve.Server
	override atomic.Pointer[map[string]http.HandlerFunc]
}

func newHostileServer(t *testing.T) *hostileServer {
	h := &hostileServer{}
	h.Server = serve.SmallWorld(t, serve.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m := h.override.Load(); m != nil {
				if f, ok := (*m)[r.URL.Path]; ok {
					f(w, r)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	return h
}

func (h *hostileServer) set(m map[string]http.HandlerFunc) { h.override.Store(&m) }

// base returns https://HOST:PORT of the repository's RRDP server.
func base(repo world.Repository) string { return "https://" + repo.HTTPS }

// pub is one object of a hand-made snapshot or delta.
type pub struct {
	uri     string
	data    []byte
	raw     string // content as written, instead of base64 of data
	oldHash *[32]byte
	remove  bool
}

func rrdpXML(kind, session string, serial uint64, pubs []pub) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%s xmlns=\"%s\" version=\"1\" session_id=\"%s\" serial=\"%d\">\n", kind, rrdp.Namespace, session, serial)
	for _, p := range pubs {
		hash := ""
		if p.oldHash != nil {
			hash = fmt.Sprintf(" hash=\"%x\"", p.oldHash[:])
		}
		if p.remove {
			fmt.Fprintf(&b, "  <withdraw uri=\"%s\"%s/>\n", p.uri, hash)
			continue
		}
		content := p.raw
		if content == "" {
			content = base64.StdEncoding.EncodeToString(p.data)
		}
		fmt.Fprintf(&b, "  <publish uri=\"%s\"%s>%s</publish>\n", p.uri, hash, content)
	}
	fmt.Fprintf(&b, "</%s>\n", kind)
	return b.Bytes()
}

type deltaRef struct {
	serial uint64
	uri    string
	hash   [32]byte
}

func notificationXML(session string, serial uint64, snapURI string, snapHash [32]byte, deltas []deltaRef) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<notification xmlns=\"%s\" version=\"1\" session_id=\"%s\" serial=\"%d\">\n", rrdp.Namespace, session, serial)
	fmt.Fprintf(&b, "  <snapshot uri=\"%s\" hash=\"%x\"/>\n", snapURI, snapHash[:])
	for _, d := range deltas {
		fmt.Fprintf(&b, "  <delta serial=\"%d\" uri=\"%s\" hash=\"%x\"/>\n", d.serial, d.uri, d.hash[:])
	}
	b.WriteString("</notification>\n")
	return b.Bytes()
}

func bytesHandler(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }
}

// logBuffer collects log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const hostileSession = "7b1e9a2c-3f4d-4e5f-8a6b-1c2d3e4f5a6b"

// TestHostileRepositories serves a good world, fetches it, and then
// replaces the first repository's answers with hostile ones. Every case
// must end in bounded time with the repository failed (or, where the
// RFC wants it, the snapshot used), a log line naming it, and the stored
// data intact.
func TestHostileRepositories(t *testing.T) {
	h := newHostileServer(t)
	repo := h.Repositories()[0]
	notifyPath := "/rrdp/" + repo.Name + "/notification.xml"
	snapPath := "/rrdp/" + repo.Name + "/hostile/snapshot.xml"
	snapURI := base(repo) + snapPath
	good := served(t, h.Dir(), repo, false)
	var someURI string
	for uri := range good {
		someURI = uri
		break
	}
	goodPubs := make([]pub, 0, len(good))
	for uri, data := range good {
		goodPubs = append(goodPubs, pub{uri: uri, data: data})
	}
	state, err := h.State()
	if err != nil {
		t.Fatal(err)
	}
	session, serial := state.Repositories[0].SessionID, state.Repositories[0].Serial

	// snapshotCase serves a new-session notification whose snapshot is
	// body (hash taken from body unless hash is given).
	snapshotCase := func(body []byte, hash *[32]byte) map[string]http.HandlerFunc {
		sum := sha256.Sum256(body)
		if hash != nil {
			sum = *hash
		}
		return map[string]http.HandlerFunc{
			notifyPath: bytesHandler(notificationXML(hostileSession, 1, snapURI, sum, nil)),
			snapPath:   bytesHandler(body),
		}
	}
	withBad := func(bad pub) []byte {
		return rrdpXML("snapshot", hostileSession, 1, append(append([]pub{}, goodPubs[:3]...), bad))
	}
	validSnapshot := func(sess string, ser uint64) []byte { return rrdpXML("snapshot", sess, ser, goodPubs) }

	wrong := sha256.Sum256([]byte("wrong"))
	tests := []struct {
		name   string
		serve  func() map[string]http.HandlerFunc
		config func(*netio.Config)
		// wantMethod: "" means the fetch must fail; otherwise the RRDP
		// update must succeed this way (the RFC's fallback to the
		// snapshot).
		wantMethod string
		wantLog    string
	}{
		{name: "drip-feeding server", serve: func() map[string]http.HandlerFunc {
			return map[string]http.HandlerFunc{notifyPath: func(w http.ResponseWriter, r *http.Request) {
				fl := w.(http.Flusher)
				for i := 0; ; i++ {
					if _, err := w.Write([]byte(" ")); err != nil {
						return
					}
					fl.Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(200 * time.Millisecond):
					}
				}
			}}
		}, config: func(c *netio.Config) { c.RRDPTotalTimeout = 2 * time.Second }, wantLog: "rrdp-total-timeout"},
		{name: "gzip bomb", serve: func() map[string]http.HandlerFunc {
			return map[string]http.HandlerFunc{notifyPath: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
				// Whitespace may precede the root element, so the parser
				// keeps reading: only the inflate bound stops it.
				zeros := bytes.Repeat([]byte(" "), 1<<20)
				for range 2048 { // 2 GB inflated, a few MB on the wire
					if _, err := zw.Write(zeros); err != nil {
						return
					}
				}
				_ = zw.Close()
			}}
		}, wantLog: "gzip"},
		{name: "DOCTYPE with entity expansion", serve: func() map[string]http.HandlerFunc {
			return snapshotCase([]byte(`<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="`+hostileSession+`" serial="1">&lol2;</snapshot>`), nil)
		}, wantLog: "DOCTYPE"},
		{name: "undeclared entity", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: someURI + "x", raw: "&lol;"}), nil)
		}, wantLog: "snapshot"},
		{name: "snapshot hash mismatch", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(validSnapshot(hostileSession, 1), &wrong)
		}, wantLog: "does not match"},
		{name: "snapshot on another origin", serve: func() map[string]http.HandlerFunc {
			body := validSnapshot(hostileSession, 1)
			return map[string]http.HandlerFunc{notifyPath: bytesHandler(notificationXML(hostileSession, 1,
				"https://localhost:1"+snapPath, sha256.Sum256(body), nil))}
		}, wantLog: "another origin"},
		{name: "delta on another origin", serve: func() map[string]http.HandlerFunc {
			body := validSnapshot(hostileSession, 2)
			return map[string]http.HandlerFunc{
				notifyPath: bytesHandler(notificationXML(hostileSession, 2, snapURI, sha256.Sum256(body),
					[]deltaRef{{2, "https://rrdp.example.net/d2.xml", wrong}})),
				snapPath: bytesHandler(body),
			}
		}, wantLog: "another origin"},
		{name: "endless redirects", serve: func() map[string]http.HandlerFunc {
			return map[string]http.HandlerFunc{notifyPath: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, notifyPath+"?again", http.StatusFound)
			}}
		}, wantLog: "redirects"},
		{name: "HTTP 404", serve: func() map[string]http.HandlerFunc {
			return map[string]http.HandlerFunc{notifyPath: http.NotFound}
		}, wantLog: "404"},
		{name: "HTTP 503", serve: func() map[string]http.HandlerFunc {
			return map[string]http.HandlerFunc{notifyPath: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}}
		}, wantLog: "503"},
		{name: "invalid base64", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: someURI + "x", raw: "!!!not base64!!!"}), nil)
		}, wantLog: "base64"},
		{name: "dot-dot segment", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: repo.RsyncBase() + "ca/../../etc/passwd", data: []byte("x")}), nil)
		}, wantLog: "dot segment"},
		{name: "four dots and a double slash", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: repo.RsyncBase() + "....//x.roa", data: []byte("x")}), nil)
		}, wantLog: "empty path segment"},
		{name: "percent-encoded dots", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: repo.RsyncBase() + "%2e%2e/x.roa", data: []byte("x")}), nil)
		}, wantLog: "not allowed"},
		{name: "NUL in URI", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: repo.RsyncBase() + "a&#0;b.roa", data: []byte("x")}), nil)
		}, wantLog: "snapshot"},
		{name: "object outside the repository", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: "rsync://other.example.net/repo/x.roa", data: []byte("x")}), nil)
		}, wantLog: "outside the repository"},
		{name: "object over max-object-size", serve: func() map[string]http.HandlerFunc {
			return snapshotCase(withBad(pub{uri: someURI + "big", data: make([]byte, 5000)}), nil)
		}, config: func(c *netio.Config) { c.MaxObjectSize = 4096 }, wantLog: "max-object-size"},
		{name: "thousands of deltas", serve: func() map[string]http.HandlerFunc {
			body := validSnapshot(session, serial+5000)
			ds := make([]deltaRef, 5000)
			for i := range ds {
				s := serial + uint64(i) + 1
				ds[i] = deltaRef{s, fmt.Sprintf("%s/rrdp/%s/d/%d.xml", base(repo), repo.Name, s), wrong}
			}
			return map[string]http.HandlerFunc{
				notifyPath: bytesHandler(notificationXML(session, serial+5000, snapURI, sha256.Sum256(body), ds)),
				snapPath:   bytesHandler(body),
			}
		}, wantMethod: netio.MethodSnapshot, wantLog: "rrdp-max-delta-count"},
		{name: "serial gap", serve: func() map[string]http.HandlerFunc {
			body := validSnapshot(session, serial+3)
			return map[string]http.HandlerFunc{
				notifyPath: bytesHandler(notificationXML(session, serial+3, snapURI, sha256.Sum256(body), []deltaRef{
					{serial + 1, base(repo) + "/rrdp/d1.xml", wrong}, {serial + 3, base(repo) + "/rrdp/d3.xml", wrong}})),
				snapPath: bytesHandler(body),
			}
		}, wantMethod: netio.MethodSnapshot, wantLog: "do not reach"},
		{name: "serial going backwards", serve: func() map[string]http.HandlerFunc {
			// The first fetch stored serial 1; this session claims
			// serial 1 too but after a rewind the store is ahead.
			body := validSnapshot(session, 1)
			return map[string]http.HandlerFunc{
				notifyPath: bytesHandler(notificationXML(session, 1, snapURI, sha256.Sum256(body), nil)),
				snapPath:   bytesHandler(body),
			}
		}, wantMethod: netio.MethodSnapshot, wantLog: "backwards"},
		{name: "delta hash changed for a known serial", serve: func() map[string]http.HandlerFunc {
			body := validSnapshot(session, serial)
			return map[string]http.HandlerFunc{
				notifyPath: bytesHandler(notificationXML(session, serial, snapURI, sha256.Sum256(body),
					[]deltaRef{{serial, base(repo) + "/rrdp/d.xml", wrong}})),
				snapPath: bytesHandler(body),
			}
		}, wantMethod: netio.MethodSnapshot, wantLog: "delta hash changed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.set(nil)
			var logs logBuffer
			f := newFixture(t, h.Server, func(c *netio.Config) {
				c.DisableRsync = true
				c.HTTP.Timeout = 5 * time.Second
				c.RRDPTotalTimeout = 20 * time.Second
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			run := f.c.StartRun()
			if res := resultOf(run.Fetch(ctx, repo.NotifyURI(), repo.RsyncBase())); res.Err != nil {
				t.Fatalf("good fetch: %v", res.Err)
			}
			before := stored(t, f.store, repo.NotifyURI())
			var info store.Repo
			_ = f.store.View(func(v *store.View) error { info, _, _ = v.Repo(repo.NotifyURI()); return nil })
			switch tc.name {
			case "serial going backwards":
				// Pretend the store is ahead of the server.
				info.Serial = serial + 10
			case "delta hash changed for a known serial":
				// Pretend an earlier notification listed this serial's
				// delta with another hash.
				info.Deltas = []store.DeltaHash{{Serial: serial, Hash: sha256.Sum256([]byte("original"))}}
			}
			if err := f.store.SetRepo(repo.NotifyURI(), info); err != nil {
				t.Fatal(err)
			}

			h.set(tc.serve())
			defer h.set(nil)
			f.c = f.collector(t, func(c *netio.Config) {
				c.DisableRsync = true
				c.HTTP.Timeout = 5 * time.Second
				c.RRDPTotalTimeout = 20 * time.Second
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				if tc.config != nil {
					tc.config(c)
				}
			})
			start := time.Now()
			run = f.c.StartRun()
			res := resultOf(run.Fetch(ctx, repo.NotifyURI(), repo.RsyncBase()))
			sts := run.Statuses()
			t.Logf("ended after %v: %v", time.Since(start).Round(time.Millisecond), res.Err)
			if len(sts) != 1 {
				t.Fatalf("statuses: %+v", sts)
			}
			if !strings.Contains(logs.String(), tc.wantLog) || !strings.Contains(logs.String(), repo.NotifyURI()) {
				t.Errorf("log does not name the repository and %q:\n%s", tc.wantLog, logs.String())
			}
			if tc.wantMethod != "" {
				if res.Err != nil || sts[0].Method != tc.wantMethod {
					t.Errorf("fetch: %v, method %s: want success by %s", res.Err, sts[0].Method, tc.wantMethod)
				}
				return
			}
			if res.Err == nil || sts[0].Err == nil {
				t.Fatalf("hostile repository fetched without error: %+v", sts[0])
			}
			if res.Repo != repo.NotifyURI() || res.Fresh {
				t.Errorf("result %+v: want the stored RRDP data, not fresh", res)
			}
			compareRepo(t, before, stored(t, f.store, repo.NotifyURI()))
		})
	}
}

// TestFailureWithoutStoredData: a repository that fails on its first
// fetch leaves the CA without data when rsync is off.
func TestFailureWithoutStoredData(t *testing.T) {
	h := newHostileServer(t)
	repo := h.Repositories()[0]
	h.set(map[string]http.HandlerFunc{"/rrdp/" + repo.Name + "/notification.xml": http.NotFound})
	f := newFixture(t, h.Server, func(c *netio.Config) { c.DisableRsync = true })
	run := f.c.StartRun()
	res := resultOf(run.Fetch(context.Background(), repo.NotifyURI(), repo.RsyncBase()))
	var se *netio.StatusError
	if res.Repo != "" || !errors.As(res.Err, &se) || se.Code != http.StatusNotFound {
		t.Fatalf("result %+v, want no repository and a 404", res)
	}
}

// TestRsyncHanging runs an "rsync" that hangs with a child of its own:
// rsync-timeout must kill both, and the run goes on.
func TestRsyncHanging(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	c, _ := fakeRsync(t, "case \"$1\" in --help) echo usage; exit 0;; esac\nsleep 300 &\necho $! >> "+pids+"\necho $$ >> "+pids+"\nwait\n",
		func(cfg *netio.Config) { cfg.RsyncTimeout = time.Second })
	start := time.Now()
	res := resultOf(c.StartRun().Fetch(context.Background(), "", "rsync://rpki.example.net/repo/ca/"))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "rsync-timeout") {
		t.Fatalf("hanging rsync: %+v, want a timeout", res)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(data)) {
		var pid int
		fmt.Sscan(f, &pid)
		// Reaped or a zombie about to be: it must not be running.
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(pid, 0) == nil && !zombie(pid) {
			if time.Now().After(deadline) {
				t.Errorf("process %d of the hanging rsync still runs", pid)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

// TestFallbackTime: while RRDP last worked within rrdp-fallback-time, a
// failing RRDP repository's stored data is used; after that, rsync.
func TestFallbackTime(t *testing.T) {
	h := newHostileServer(t)
	repo := h.Repositories()[0]
	f := newFixture(t, h.Server, func(c *netio.Config) {
		c.Refresh, c.RRDPFallbackTime = time.Minute, 10*time.Minute
	})
	ctx := context.Background()
	if res := resultOf(f.c.StartRun().Fetch(ctx, repo.NotifyURI(), repo.RsyncBase())); res.Err != nil || res.Repo != repo.NotifyURI() {
		t.Fatalf("good fetch: %+v", res)
	}
	h.set(map[string]http.HandlerFunc{"/rrdp/" + repo.Name + "/notification.xml": http.NotFound})

	res := resultOf(f.c.StartRun().Fetch(ctx, repo.NotifyURI(), repo.RsyncBase()))
	if res.Repo != repo.NotifyURI() || res.Fresh || res.Err == nil {
		t.Fatalf("RRDP failing right after it worked: %+v, want the stored RRDP data", res)
	}

	// RRDP last worked beyond the fallback time (at most 10 minutes).
	var info store.Repo
	_ = f.store.View(func(v *store.View) error { info, _, _ = v.Repo(repo.NotifyURI()); return nil })
	info.LastRRDP = time.Now().Add(-11 * time.Minute)
	if err := f.store.SetRepo(repo.NotifyURI(), info); err != nil {
		t.Fatal(err)
	}
	res = resultOf(f.c.StartRun().Fetch(ctx, repo.NotifyURI(), repo.RsyncBase()))
	if res.Repo != repo.RsyncBase() || !res.Fresh {
		t.Fatalf("RRDP failing for longer than the fallback time: %+v, want fresh rsync data", res)
	}
}

// TestRsyncArgs checks the command line rsync gets: the base options,
// max-object-size, and either --contimeout=10 (when rsync --help lists
// it) or rsync-args.
func TestRsyncArgs(t *testing.T) {
	tests := []struct {
		name      string
		help      string
		rsyncArgs []string
		want      []string
		notWant   []string
	}{
		{"new rsync gets --contimeout", "  --contimeout=SECONDS  set daemon connection timeout", nil,
			[]string{"-rtz", "--delete", "--max-size=20000000", "--contimeout=10"}, nil},
		{"old rsync gets no extra arguments", "  --timeout=SECONDS", nil,
			[]string{"-rtz", "--delete"}, []string{"--contimeout=10"}},
		{"rsync-args replace the probe", "  --contimeout=SECONDS", []string{"--bwlimit=100", "-4"},
			[]string{"-rtz", "--bwlimit=100", "-4"}, []string{"--contimeout=10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argsFile := filepath.Join(t.TempDir(), "args")
			c, st := fakeRsync(t, "if [ \"$1\" = --help ]; then echo '"+tc.help+"'; exit 0; fi\n"+
				"printf '%s\\n' \"$@\" > "+argsFile+"\n"+
				"for last; do :; done\nmkdir -p \"$last/ca\" && echo data > \"$last/ca/a.roa\"\n",
				func(cfg *netio.Config) { cfg.RsyncArgs = tc.rsyncArgs })
			res := resultOf(c.StartRun().Fetch(context.Background(), "", "rsync://rpki.example.net/repo/ca/"))
			if res.Err != nil || res.Repo != "rsync://rpki.example.net/repo/" {
				t.Fatalf("fetch: %+v", res)
			}
			data, err := os.ReadFile(argsFile)
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Split(strings.TrimSpace(string(data)), "\n")
			for _, w := range tc.want {
				if !slices.Contains(args, w) {
					t.Errorf("args %q lack %q", args, w)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(args, w) {
					t.Errorf("args %q have %q", args, w)
				}
			}
			if src := args[len(args)-2]; src != "rsync://rpki.example.net/repo/" {
				t.Errorf("source %q, want the module", src)
			}
			if got := stored(t, st, "rsync://rpki.example.net/repo/"); string(got["rsync://rpki.example.net/repo/ca/a.roa"]) != "data\n" {
				t.Errorf("stored %v", got)
			}
		})
	}
}

// fakeRsync returns a collector whose rsync command is a shell script
// with the given body, and its store.
func fakeRsync(t *testing.T, body string, edit func(*netio.Config)) (*netio.Collector, *store.Store) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "fake-rsync")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := netio.DefaultConfig()
	cfg.Store, cfg.CacheDir = st, t.TempDir()
	cfg.AllowDubiousHosts = true
	cfg.RsyncCommand = script
	edit(&cfg)
	c, err := netio.NewCollector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}
