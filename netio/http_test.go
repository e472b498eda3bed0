package netio_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/netio"
)

func TestCheckObjectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"rsync://rpki.example.net/repo/ca/a.roa", true},
		{"rsync://127.0.0.1:8873/repo1/ta-1/x.mft", true},
		{"rsync://rpki.example.net/repo/a.roa", true},
		{"https://rpki.example.net/repo/a.roa", false},
		{"rsync://rpki.example.net/repo", false},
		{"rsync://rpki.example.net/repo/", false},
		{"rsync:///repo/a.roa", false},
		{"rsync://h/repo/../a.roa", false},
		{"rsync://h/repo/./a.roa", false},
		{"rsync://h/repo/....//a.roa", false},
		{"rsync://h/repo/%2e%2e/a.roa", false},
		{"rsync://h/repo/a\x00.roa", false},
		{"rsync://h/repo/a b.roa", false},
		{"rsync://h/repo/a\\b.roa", false},
		{"rsync://h/repo/a.roa?x", false},
		{"rsync://h/repo/a.roa#x", false},
		{"rsync://h/repo/\xc3\xa9.roa", false},
	}
	for _, tc := range tests {
		if err := netio.CheckObjectURI(tc.uri); (err == nil) != tc.ok {
			t.Errorf("CheckObjectURI(%q) = %v, want ok %v", tc.uri, err, tc.ok)
		}
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		uri     string
		dubious bool
	}{
		{"https://rrdp.ripe.net/notification.xml", false},
		{"rsync://rpki.ripe.net/repository/", false},
		{"https://localhost/notification.xml", true},
		{"https://LOCALHOST/n.xml", true},
		{"https://a.localhost/n.xml", true},
		{"https://127.0.0.1/n.xml", true},
		{"https://[::1]/n.xml", true},
		{"https://rrdp.example.net:8443/n.xml", true},
		{"rsync://rpki.example.net:873/repo/", true},
	}
	for _, tc := range tests {
		err := netio.CheckHost(tc.uri, false)
		if got := errors.Is(err, netio.ErrDubiousHost); got != tc.dubious {
			t.Errorf("CheckHost(%q) = %v, want dubious %v", tc.uri, err, tc.dubious)
		}
		if err := netio.CheckHost(tc.uri, true); err != nil {
			t.Errorf("CheckHost(%q, allow) = %v", tc.uri, err)
		}
	}
}

// get fetches the world's first notification with cfg and returns its
// body.
func get(t *testing.T, srv *serve.Server, cfg netio.HTTPConfig) (string, error) {
	t.Helper()
	c, err := netio.NewHTTPClient(cfg)
	if err != nil {
		return "", err
	}
	defer c.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, srv.NotifyURIs()[0], nil, "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestHTTPOptions(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{NoRsync: true})
	base := netio.HTTPConfig{Timeout: 10 * time.Second, RootCerts: []string{srv.CAFile()}}

	t.Run("rrdp-root-cert is needed", func(t *testing.T) {
		cfg := base
		cfg.RootCerts = nil
		if _, err := get(t, srv, cfg); err == nil {
			t.Fatal("fetched from a server whose CA is not trusted")
		}
	})
	t.Run("system roots read only when needed", func(t *testing.T) {
		public := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "public") }))
		defer public.Close()
		system := x509.NewCertPool()
		system.AddCert(public.Certificate())
		reads := 0
		netio.SetSystemRoots(t, system, &reads)
		c, err := netio.NewHTTPClient(base)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdle()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		fetch := func(uri string) (string, error) {
			resp, err := c.Get(ctx, uri, nil, "")
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}
		if body, err := fetch(srv.NotifyURIs()[0]); err != nil || !strings.Contains(body, "<notification") {
			t.Fatalf("server of the extra root: %v", err)
		}
		if reads != 0 {
			t.Fatalf("system roots read %d times for a server of the extra root", reads)
		}
		for range 2 {
			if body, err := fetch(public.URL + "/x"); err != nil || body != "public" {
				t.Fatalf("server of a system root: %q, %v", body, err)
			}
		}
		if reads != 1 {
			t.Errorf("system roots read %d times, want once", reads)
		}
		if body, err := fetch(srv.NotifyURIs()[0]); err != nil || !strings.Contains(body, "<notification") {
			t.Fatalf("server of the extra root after the system roots: %v", err)
		}
		// With system roots that do not vouch for it, the same server
		// is refused: the second try verifies as strictly as the first.
		netio.SetSystemRoots(t, x509.NewCertPool(), &reads)
		c2, err := netio.NewHTTPClient(base)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.CloseIdle()
		if resp, err := c2.Get(ctx, public.URL+"/x", nil, ""); err == nil {
			resp.Body.Close()
			t.Error("fetched from a server no root vouches for")
		}
	})
	t.Run("rrdp-root-cert missing file", func(t *testing.T) {
		cfg := base
		cfg.RootCerts = []string{filepath.Join(t.TempDir(), "none.pem")}
		if _, err := netio.NewHTTPClient(cfg); err == nil || !strings.Contains(err.Error(), "rrdp-root-cert") {
			t.Fatalf("missing root cert file: %v", err)
		}
	})
	t.Run("gzip and rrdp-disable-gzip", func(t *testing.T) {
		for _, disable := range []bool{false, true} {
			srv.ResetRequests()
			cfg := base
			cfg.DisableGzip = disable
			body, err := get(t, srv, cfg)
			if err != nil || !strings.Contains(body, "<notification") {
				t.Fatalf("disable-gzip %v: %v %.40q", disable, err, body)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Gzip == disable {
				t.Errorf("disable-gzip %v: requests %+v", disable, reqs)
			}
		}
	})
	t.Run("rrdp-local-addr", func(t *testing.T) {
		cfg := base
		cfg.LocalAddr = "127.0.0.1"
		if _, err := get(t, srv, cfg); err != nil {
			t.Fatal(err)
		}
		cfg.LocalAddr = "not-an-address"
		if _, err := netio.NewHTTPClient(cfg); err == nil {
			t.Fatal("accepted a bad local address")
		}
	})
	t.Run("rrdp-keep-responses", func(t *testing.T) {
		cfg := base
		cfg.KeepResponses = t.TempDir()
		body, err := get(t, srv, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		_ = filepath.WalkDir(cfg.KeepResponses, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				found = append(found, p)
			}
			return err
		})
		if len(found) != 1 || !strings.HasSuffix(found[0], "notification.xml") {
			t.Fatalf("kept %v", found)
		}
		if kept, _ := os.ReadFile(found[0]); string(kept) != body {
			t.Error("kept body differs from the one read")
		}
	})
	t.Run("rrdp-proxy HTTP, after one that is down", func(t *testing.T) {
		var used atomic.Int32
		p := startConnectProxy(t, &used)
		cfg := base
		cfg.Proxies = []string{"http://" + deadAddr(t), "http://" + p}
		if _, err := get(t, srv, cfg); err != nil {
			t.Fatal(err)
		}
		if used.Load() == 0 {
			t.Error("the HTTP proxy was not used")
		}
	})
	t.Run("rrdp-proxy SOCKS5", func(t *testing.T) {
		var used atomic.Int32
		p := startSOCKS5(t, &used)
		cfg := base
		cfg.Proxies = []string{"socks5://" + p}
		if _, err := get(t, srv, cfg); err != nil {
			t.Fatal(err)
		}
		if used.Load() == 0 {
			t.Error("the SOCKS5 proxy was not used")
		}
	})
	t.Run("rrdp-proxy bad URI", func(t *testing.T) {
		cfg := base
		cfg.Proxies = []string{"ftp://proxy.example.net"}
		if _, err := netio.NewHTTPClient(cfg); err == nil || !strings.Contains(err.Error(), "rrdp-proxy") {
			t.Fatalf("bad proxy: %v", err)
		}
	})
}

// TestRRDPTimeout: a server that accepts and then says nothing fails the
// request after rrdp-timeout, not later.
func TestRRDPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	c, err := netio.NewHTTPClient(netio.HTTPConfig{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.Get(ctx, "https://"+ln.Addr().String()+"/notification.xml", nil, "")
	if err == nil || ctx.Err() != nil {
		t.Fatalf("silent server: %v (context: %v)", err, ctx.Err())
	}
	t.Logf("failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startConnectProxy runs a minimal HTTP CONNECT proxy.
func startConnectProxy(t *testing.T, used *atomic.Int32) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		used.Add(1)
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		pipe(conn, up, rw.Reader)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// startSOCKS5 runs a minimal SOCKS5 server (RFC 1928, no
// authentication, CONNECT only).
func startSOCKS5(t *testing.T, used *atomic.Int32) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				hdr := make([]byte, 2)
				if _, err := io.ReadFull(br, hdr); err != nil {
					c.Close()
					return
				}
				methods := make([]byte, hdr[1])
				if _, err := io.ReadFull(br, methods); err != nil {
					c.Close()
					return
				}
				_, _ = c.Write([]byte{5, 0})
				req := make([]byte, 4)
				if _, err := io.ReadFull(br, req); err != nil {
					c.Close()
					return
				}
				var host string
				switch req[3] {
				case 1:
					ip := make([]byte, 4)
					_, _ = io.ReadFull(br, ip)
					host = net.IP(ip).String()
				case 3:
					n, _ := br.ReadByte()
					name := make([]byte, n)
					_, _ = io.ReadFull(br, name)
					host = string(name)
				case 4:
					ip := make([]byte, 16)
					_, _ = io.ReadFull(br, ip)
					host = net.IP(ip).String()
				}
				pb := make([]byte, 2)
				_, _ = io.ReadFull(br, pb)
				used.Add(1)
				up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(pb)))))
				if err != nil {
					_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
					c.Close()
					return
				}
				_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				pipe(c, up, br)
			}()
		}
	}()
	return ln.Addr().String()
}

// pipe copies between a client connection (with what was already
// buffered from it) and an upstream one until either side closes.
func pipe(client net.Conn, up net.Conn, buffered io.Reader) {
	go func() {
		_, _ = io.Copy(up, buffered)
		up.Close()
	}()
	_, _ = io.Copy(client, up)
	client.Close()
}
