package serve_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/netio/rrdp"
)

// caClient returns a client that trusts the certificates in caFile and
// nothing else, and leaves content coding to the caller.
func caClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s: no certificate", caFile)
	}
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
}

// get fetches uri with the given request headers and returns the response
// with its body read.
func get(t *testing.T, c *http.Client, method, uri string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	return resp, body
}

// fetchOK fetches uri and checks its SHA-256 when hash is given.
func fetchOK(t *testing.T, c *http.Client, uri string, hash *[32]byte) []byte {
	t.Helper()
	resp, body := get(t, c, http.MethodGet, uri, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", uri, resp.Status)
	}
	if hash != nil {
		if h := sha256.Sum256(body); h != *hash {
			t.Errorf("%s: SHA-256 %x, the notification says %x", uri, h, *hash)
		}
	}
	return body
}

func parseNotification(t *testing.T, b []byte) *rrdp.Notification {
	t.Helper()
	n, err := rrdp.ParseNotification(bytes.NewReader(b), rrdp.Limits{})
	if err != nil {
		t.Fatalf("notification: %v", err)
	}
	return n
}

// rsyncTree copies an rsync module with the real rsync client.
func rsyncTree(t *testing.T, uri string) string {
	t.Helper()
	dest := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rsync", "-r", uri, dest+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("rsync -r %s: %v\n%s", uri, err, out)
	}
	return dest
}

// readTree returns every regular file under dir by its slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// moduleDir returns the rsync tree of repository r under dir.
func moduleDir(dir string, r world.Repository) string {
	return filepath.Join(dir, "rsync", r.Rsync, r.Module)
}

func checkModules(t *testing.T, srv *serve.Server) {
	t.Helper()
	for i, r := range srv.Repositories() {
		got := readTree(t, rsyncTree(t, srv.RsyncModules()[i]))
		want := readTree(t, moduleDir(srv.Dir(), r))
		if len(want) == 0 {
			t.Fatalf("%s: empty module", r.Module)
		}
		// Names first, then bytes: cmp.Diff of a thousand byte slices
		// takes seconds.
		if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))); diff != "" {
			t.Errorf("rsync %s: files differ from %s (-want +got):\n%s", srv.RsyncModules()[i], moduleDir(srv.Dir(), r), diff)
		}
		for name, b := range want {
			if g, ok := got[name]; ok && !bytes.Equal(g, b) {
				t.Errorf("rsync %s: %s differs from the file", srv.RsyncModules()[i], name)
			}
		}
	}
}

// cloneWorld writes into a new directory a copy of the served world's
// state with the repositories moved as move says, the RRDP and TA trees,
// and empty rsync modules: enough for Start.
func cloneWorld(t *testing.T, srv *serve.Server, move func(i int, r *world.Repository)) string {
	t.Helper()
	st, err := srv.State()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range st.Repositories {
		r := &st.Repositories[i].Repository
		move(i, r)
		if err := os.MkdirAll(moduleDir(dir, *r), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range st.TAs {
		ta := &st.TAs[i]
		for _, r := range st.Repositories {
			if r.Name == ta.Repo {
				ta.HTTPSURI = "https://" + r.HTTPS + "/ta/" + ta.Name + ".cer"
			}
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, world.StateFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "rrdp"), os.DirFS(filepath.Join(srv.Dir(), "rrdp"))); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "ta"), os.DirFS(filepath.Join(srv.Dir(), "ta"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ports, err := serve.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(ports[0])
}

// checkFree fails unless addr can be bound, that is nothing listens there.
func checkFree(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("%s still taken: %v", addr, err)
		return
	}
	ln.Close()
}

// TestServe serves the small world once and checks it from the outside,
// ending with a mutation and Close.
func TestServe(t *testing.T) {
	// The middleware lets a subtest take over the servers' answers.
	var override atomic.Pointer[http.Handler]
	srv := serve.SmallWorld(t, serve.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := override.Load(); h != nil {
				(*h).ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	client := caClient(t, srv.CAFile())
	st, err := srv.State()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("notifications and snapshots", func(t *testing.T) {
		uris := srv.NotifyURIs()
		if len(uris) != len(st.Repositories) || len(uris) == 0 {
			t.Fatalf("notification URIs %v", uris)
		}
		for i, uri := range uris {
			n := parseNotification(t, fetchOK(t, client, uri, nil))
			rs := st.Repositories[i]
			if n.SessionID != rs.SessionID || n.Serial != rs.Serial || n.Snapshot.URI != rs.Snapshot.URI {
				t.Errorf("%s: session %s serial %d snapshot %s; world.json says %s %d %s", uri,
					n.SessionID, n.Serial, n.Snapshot.URI, rs.SessionID, rs.Serial, rs.Snapshot.URI)
			}
			snap := fetchOK(t, client, n.Snapshot.URI, &n.Snapshot.Hash)
			if !bytes.HasPrefix(snap, []byte("<snapshot ")) || !bytes.Contains(snap, []byte("<publish ")) {
				t.Errorf("%s: not a snapshot with objects: %.100q", n.Snapshot.URI, snap)
			}
		}
	})

	t.Run("trust anchor certificates", func(t *testing.T) {
		if len(srv.TAURIs()) != len(st.TAs) || len(st.TAs) == 0 {
			t.Fatalf("TA URIs %v", srv.TAURIs())
		}
		for i, uri := range srv.TAURIs() {
			got := fetchOK(t, client, uri, nil)
			want, err := os.ReadFile(filepath.Join(srv.Dir(), st.TAs[i].File))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, file has %d", uri, len(got), len(want))
			}
			tal, err := os.ReadFile(srv.TALs()[i])
			if err != nil || !bytes.Contains(tal, []byte(uri)) {
				t.Errorf("TAL %s does not name %s (%v)", srv.TALs()[i], uri, err)
			}
		}
	})

	t.Run("only the test CA is trusted", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.NotifyURIs()[0], nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("a client without ca.pem accepted the server")
		}
		if ua := (x509.UnknownAuthorityError{}); !errors.As(err, &ua) {
			t.Errorf("got %v, want an unknown authority", err)
		}
		if resp, _ := get(t, srv.Client(), http.MethodGet, srv.NotifyURIs()[0], nil); resp.StatusCode != http.StatusOK {
			t.Errorf("Server.Client: %s", resp.Status)
		}
	})

	t.Run("rsync", func(t *testing.T) {
		checkModules(t, srv)
	})

	t.Run("conditional requests", func(t *testing.T) {
		uri := srv.NotifyURIs()[0]
		identity := map[string]string{"Accept-Encoding": "identity"}
		// Last-Modified is left out while the file is in its first
		// second; the world was just written.
		var first *http.Response
		for deadline := time.Now().Add(3 * time.Second); ; {
			first, _ = get(t, client, http.MethodGet, uri, identity)
			if first.Header.Get("Last-Modified") != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		etag, lastMod := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
		if etag == "" || lastMod == "" {
			t.Fatalf("ETag %q, Last-Modified %q", etag, lastMod)
		}
		lm, err := http.ParseTime(lastMod)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			header map[string]string
			want   int
		}{
			{"matching etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
			{"etag in a list", map[string]string{"If-None-Match": `"x", ` + etag}, http.StatusNotModified},
			{"other etag", map[string]string{"If-None-Match": `"x"`}, http.StatusOK},
			{"not modified since", map[string]string{"If-Modified-Since": lastMod}, http.StatusNotModified},
			{"modified since", map[string]string{"If-Modified-Since": lm.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
			{"etag wins over date", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": lastMod}, http.StatusOK},
		}
		srv.ResetRequests()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				hdr := map[string]string{"Accept-Encoding": "identity"}
				for k, v := range tc.header {
					hdr[k] = v
				}
				resp, body := get(t, client, http.MethodGet, uri, hdr)
				if resp.StatusCode != tc.want {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
				}
				if tc.want == http.StatusNotModified && len(body) != 0 {
					t.Errorf("304 with %d body bytes", len(body))
				}
			})
		}
		log := srv.Requests()
		if len(log) != len(tests) {
			t.Fatalf("%d requests logged, want %d", len(log), len(tests))
		}
		for i, r := range log {
			u, _ := url.Parse(uri)
			if r.Path != u.Path || r.Method != http.MethodGet || !r.Conditional || r.Status != tests[i].want ||
				(r.Status == http.StatusNotModified) != (r.Bytes == 0) || r.Server != u.Host {
				t.Errorf("request %d logged as %+v", i, r)
			}
		}
	})

	t.Run("gzip", func(t *testing.T) {
		uri := srv.NotifyURIs()[0]
		u, _ := url.Parse(uri)
		want, err := os.ReadFile(filepath.Join(srv.Dir(), filepath.FromSlash(u.Path)))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name      string
			method    string
			header    map[string]string
			status    int
			gzip      bool
			bodyBytes int // -1: the whole file
		}{
			{"gzip", http.MethodGet, map[string]string{"Accept-Encoding": "gzip"}, 200, true, -1},
			{"gzip among others", http.MethodGet, map[string]string{"Accept-Encoding": "br;q=1, gzip;q=0.5"}, 200, true, -1},
			{"gzip refused", http.MethodGet, map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, 200, false, -1},
			{"identity", http.MethodGet, map[string]string{"Accept-Encoding": "identity"}, 200, false, -1},
			{"no header", http.MethodGet, nil, 200, false, -1},
			{"head gzip", http.MethodHead, map[string]string{"Accept-Encoding": "gzip"}, 200, true, 0},
			{"range", http.MethodGet, map[string]string{"Range": "bytes=0-9"}, 206, false, 10},
			{"range ignored with gzip", http.MethodGet, map[string]string{"Range": "bytes=0-9", "Accept-Encoding": "gzip"}, 200, true, -1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := get(t, client, tc.method, uri, tc.header)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
					t.Errorf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
				}
				if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary %q", resp.Header.Get("Vary"))
				}
				if strings.HasSuffix(resp.Header.Get("ETag"), `-gzip"`) != tc.gzip {
					t.Errorf("ETag %q", resp.Header.Get("ETag"))
				}
				if tc.gzip && tc.method == http.MethodGet {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				wantBody := want
				if tc.bodyBytes >= 0 {
					wantBody = want[:tc.bodyBytes]
				}
				if !bytes.Equal(body, wantBody) {
					t.Errorf("body of %d bytes, want %d", len(body), len(wantBody))
				}
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		// Links inside the world that point out of rrdp/ and ta/.
		evil := []struct{ link, target string }{
			{filepath.Join(srv.Dir(), "rrdp", "evil.xml"), filepath.Join("..", world.StateFile)},
			{filepath.Join(srv.Dir(), "ta", "evil.cer"), "/etc/hostname"},
		}
		for _, e := range evil {
			if err := os.Symlink(e.target, e.link); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(e.link) })
		}
		base := "https://" + srv.HTTPSAddrs()[0]
		tests := []struct{ name, path string }{
			{"world.json", "/world.json"},
			{"dot dot", "/rrdp/../world.json"},
			{"escaped dot dot", "/rrdp/%2e%2e/world.json"},
			{"escaped slash", "/rrdp/..%2fworld.json"},
			{"double slash", "//rrdp/repo1/notification.xml"},
			{"inner double slash", "/rrdp//repo1/notification.xml"},
			{"dot segment", "/rrdp/./repo1/notification.xml"},
			{"rrdp directory", "/rrdp/"},
			{"rrdp without slash", "/rrdp"},
			{"repository directory", "/rrdp/repo1"},
			{"repository directory slash", "/rrdp/repo1/"},
			{"ta directory", "/ta/"},
			{"root", "/"},
			{"tals", "/tals/ta-1.tal"},
			{"rsync tree", "/rsync/"},
			{"ca key", "/serve/ca.key"},
			{"temporary file", "/rrdp/repo1/notification.xml.tmp"},
			{"missing file", "/rrdp/repo1/nothing.xml"},
			{"symlink out of rrdp", "/rrdp/evil.xml"},
			{"symlink out of ta", "/ta/evil.cer"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := get(t, client, http.MethodGet, base+tc.path, nil)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %s, want 404 (%.100q)", tc.path, resp.Status, body)
				}
			})
		}
		resp, _ := get(t, client, http.MethodPost, srv.NotifyURIs()[0], nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %s", resp.Status)
		}
	})

	t.Run("middleware", func(t *testing.T) {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "try later", http.StatusServiceUnavailable)
		})
		override.Store(&h)
		defer override.Store(nil)
		srv.ResetRequests()
		resp, _ := get(t, client, http.MethodGet, srv.NotifyURIs()[0], nil)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %s, want 503", resp.Status)
		}
		if log := srv.Requests(); len(log) != 1 || log[0].Status != http.StatusServiceUnavailable || log[0].Bytes == 0 {
			t.Errorf("request log %+v", log)
		}
	})

	t.Run("busy https port", func(t *testing.T) {
		s2, err := serve.Start(t.Context(), srv.Dir(), serve.Options{})
		if err == nil {
			s2.Close()
			t.Fatal("second server on the same ports started")
		}
		var ae *serve.AddrError
		if !errors.As(err, &ae) || ae.Proto != "https" || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("got %v, want an https AddrError for a busy port", err)
		}
		for _, want := range []string{srv.HTTPSAddrs()[0], "repository repo1", "address already in use"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		// The running servers are untouched.
		fetchOK(t, client, srv.NotifyURIs()[0], nil)
	})

	t.Run("busy rsync port", func(t *testing.T) {
		// repo1 on a free rsync port, repo2 on the one srv holds: Start
		// gets as far as the second daemon and must undo the rest.
		https, rsync1 := freeAddr(t), freeAddr(t)
		dir := cloneWorld(t, srv, func(i int, r *world.Repository) {
			r.HTTPS = https
			if i == 0 {
				r.Rsync = rsync1
			}
		})
		s2, err := serve.Start(t.Context(), dir, serve.Options{})
		if err == nil {
			s2.Close()
			t.Fatal("server on a busy rsync port started")
		}
		var ae *serve.AddrError
		if !errors.As(err, &ae) || ae.Proto != "rsync" || ae.Addr != srv.RsyncAddrs()[0] ||
			!errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "repository repo2") {
			t.Fatalf("got %v, want an rsync AddrError for %s and repo2", err, srv.RsyncAddrs()[0])
		}
		checkFree(t, https)
		checkFree(t, rsync1)
	})

	t.Run("no gzip", func(t *testing.T) {
		https := freeAddr(t)
		dir := cloneWorld(t, srv, func(_ int, r *world.Repository) { r.HTTPS = https })
		s2, err := serve.Start(t.Context(), dir, serve.Options{NoGzip: true, NoRsync: true, HTTP1Only: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if len(s2.RsyncPIDs()) != 0 {
			t.Errorf("rsync daemons %v with NoRsync", s2.RsyncPIDs())
		}
		u, _ := url.Parse(srv.NotifyURIs()[0])
		u.Host = https
		resp, body := get(t, caClient(t, s2.CAFile()), http.MethodGet, u.String(), map[string]string{"Accept-Encoding": "gzip"})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "" ||
			resp.ProtoMajor != 1 || !bytes.HasPrefix(body, []byte("<notification")) {
			t.Errorf("%s %s, Content-Encoding %q, Vary %q, body %.40q", resp.Proto, resp.Status,
				resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body)
		}
	})

	t.Run("mutate while serving", func(t *testing.T) {
		before, err := srv.State()
		if err != nil {
			t.Fatal(err)
		}
		// Readers during the mutation must never see half a
		// notification: they wait for it, then get the new one.
		var done atomic.Bool
		var wg sync.WaitGroup
		var reads, bad atomic.Int64
		wg.Go(func() {
			c := srv.Client()
			c.Timeout = 30 * time.Second
			for !done.Load() {
				resp, err := c.Get(srv.NotifyURIs()[0])
				if err != nil {
					bad.Add(1)
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					_, err = rrdp.ParseNotification(bytes.NewReader(b), rrdp.Limits{})
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					bad.Add(1)
				}
				reads.Add(1)
			}
		})
		time.Sleep(20 * time.Millisecond) // let the reader start
		res, err := srv.Mutate(t.Context(), 5)
		done.Store(true)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("mutated %d points in %v; %d notification reads around it", res.Points, res.Repositories, reads.Load())
		if bad.Load() != 0 || reads.Load() == 0 {
			t.Errorf("%d of %d notification reads were broken", bad.Load(), reads.Load())
		}
		if res.Points == 0 || len(res.Repositories) == 0 {
			t.Fatalf("mutation changed nothing: %+v", res)
		}
		for i, rs := range before.Repositories {
			n := parseNotification(t, fetchOK(t, client, rs.NotifyURI(), nil))
			if !strings.Contains(strings.Join(res.Repositories, " "), rs.Name) {
				if n.Serial != rs.Serial {
					t.Errorf("%s untouched but serial %d → %d", rs.Name, rs.Serial, n.Serial)
				}
				continue
			}
			if n.Serial != rs.Serial+1 || n.SessionID != rs.SessionID {
				t.Errorf("%s: session %s serial %d, want %s %d", rs.Name, n.SessionID, n.Serial, rs.SessionID, rs.Serial+1)
			}
			if len(n.Deltas) == 0 || n.Deltas[0].Serial != n.Serial {
				t.Fatalf("%s: deltas %+v", rs.Name, n.Deltas)
			}
			delta := fetchOK(t, client, n.Deltas[0].URI, &n.Deltas[0].Hash)
			if !bytes.HasPrefix(delta, []byte("<delta ")) || !bytes.Contains(delta, []byte("<publish ")) {
				t.Errorf("%s: not a delta: %.100q", n.Deltas[0].URI, delta)
			}
			fetchOK(t, client, n.Snapshot.URI, &n.Snapshot.Hash)
			if i == 0 {
				// The old notification's ETag no longer matches.
				resp, _ := get(t, client, http.MethodGet, rs.NotifyURI(), map[string]string{"If-None-Match": `"x"`})
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s", resp.Status)
				}
			}
		}
		checkModules(t, srv)
	})

	t.Run("close", func(t *testing.T) {
		pids := srv.RsyncPIDs()
		if len(pids) != 1 {
			t.Fatalf("rsync pids %v, want one daemon", pids)
		}
		if err := syscall.Kill(pids[0], 0); err != nil {
			t.Fatalf("daemon %d not running before Close: %v", pids[0], err)
		}
		// A connection in the middle of the daemon protocol: a child of
		// the daemon serves it, and must die with it.
		conn, err := net.DialTimeout("tcp", srv.RsyncAddrs()[0], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "@RSYNCD: 30.0\n"+srv.Repositories()[0].Module+"\n"); err != nil {
			t.Fatal(err)
		}
		if line, err := br.ReadString('\n'); err != nil || line != "@RSYNCD: OK\n" {
			t.Fatalf("rsync daemon: %q, %v", line, err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("connection to the daemon's child after Close: %v", err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("rsync daemon %d after Close: kill 0 gives %v", pid, err)
			}
		}
		for _, a := range append(srv.HTTPSAddrs(), srv.RsyncAddrs()...) {
			checkFree(t, a)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := srv.Mutate(t.Context(), 1); !errors.Is(err, serve.ErrClosed) {
			t.Errorf("Mutate after Close: %v", err)
		}
	})
}

func TestStartErrors(t *testing.T) {
	noWorld := t.TempDir()
	world1 := t.TempDir()
	st := world.State{Format: 1, Repositories: []world.RepoState{{Repository: world.Repository{
		Name: "r", Rsync: "127.0.0.1:1", Module: "m", HTTPS: "127.0.0.1:2"}}}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(world1, world.StateFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		opt  serve.Options
		want string
	}{
		{"no world", noWorld, serve.Options{}, "world.json"},
		{"no rsync binary", world1, serve.Options{Rsync: "/nonexistent/rsync"}, "rsync not installed"},
		{"module missing", world1, serve.Options{Rsync: "/bin/true"}, "rsync module m: no directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := serve.Start(t.Context(), tc.dir, tc.opt)
			if err == nil {
				s.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		in   []string
		want bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br"}, true},
		{[]string{"br", "gzip;q=0.1"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"identity"}, false},
		{[]string{"deflate, br"}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.in, " | "), func(t *testing.T) {
			if got := serve.AcceptsGzip(tc.in); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServedName(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/rrdp/repo1/notification.xml", "rrdp/repo1/notification.xml", true},
		{"/rrdp/repo1/abc/1/snapshot.xml", "rrdp/repo1/abc/1/snapshot.xml", true},
		{"/ta/ta-1.cer", "ta/ta-1.cer", true},
		{"/ta/ta-1.cer.tmp", "", false},
		{"/rrdp/../world.json", "", false},
		{"/rrdp/", "", false},
		{"/rrdp", "", false},
		{"/ta/x/", "", false},
		{"/truth/vrps.csv", "", false},
		{"rrdp/repo1/notification.xml", "", false},
		{"", "", false},
		{"/rrdp/a\\b", "", false},
		{"/rrdp/a\x00b", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := serve.ServedName(tc.path)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFreeRepositories(t *testing.T) {
	repos, err := serve.FreeRepositories(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 3 || repos[2].Name != "repo3" || repos[2].Module != "repo3" {
		t.Fatalf("repositories %+v", repos)
	}
	for _, r := range repos {
		if r.Rsync != repos[0].Rsync || r.HTTPS != repos[0].HTTPS || r.Rsync == r.HTTPS {
			t.Errorf("repository %+v: want one shared rsync and one shared https address", r)
		}
	}
	checkFree(t, repos[0].Rsync)
	checkFree(t, repos[0].HTTPS)
	if _, err := serve.FreeRepositories(0); err == nil {
		t.Error("FreeRepositories(0) succeeded")
	}
}
