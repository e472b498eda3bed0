package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
)

// syncBuffer is a bytes.Buffer that the command writes from its goroutine
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, limit)
		}
	}
}

func TestServeCommand(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skipf("rsync not installed: %v", err)
	}
	cfg, err := world.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repositories, err = serve.FreeRepositories(2); err != nil {
		t.Fatal(err)
	}
	cfg.Now = time.Now()
	dir := t.TempDir()
	if _, err := world.Build(t.Context(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	serial := func() uint64 {
		st, err := world.ReadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		return st.Repositories[0].Serial + st.Repositories[1].Serial
	}

	tests := []struct {
		name string
		args []string
		// signal sends SIGUSR1 once the servers run; otherwise the
		// ticker must mutate.
		signal bool
		http2  bool
	}{
		{"mutate on SIGUSR1", []string{"--key-cache", t.TempDir()}, true, true},
		{"mutate every second", []string{"--mutate-every", "1s", "--mutate", "2", "--no-gzip", "--http1", "-q"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			usr1 := make(chan os.Signal, 1)
			var stdout, stderr syncBuffer
			code := make(chan int, 1)
			go func() { code <- serveWorld(ctx, append(tc.args, dir), usr1, &stdout, &stderr) }()
			waitFor(t, "servers", 30*time.Second, func() bool {
				select {
				case c := <-code:
					t.Fatalf("exit %d: %s", c, stderr.String())
				default:
				}
				return strings.Contains(stdout.String(), "stop with")
			})
			out := stdout.String()
			caFile := dir + "/serve/ca.pem"
			for _, want := range []string{
				cfg.Repositories[0].NotifyURI(), cfg.Repositories[1].RsyncBase(), "ta-1.cer", dir + "/tals/ta-1.tal",
				"--tal-dir " + dir + "/tals --rrdp-root-cert " + caFile + " --allow-dubious-hosts",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			pem, err := os.ReadFile(caFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
			resp, err := c.Get(cfg.Repositories[0].NotifyURI())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || (resp.ProtoMajor == 2) != tc.http2 {
				t.Errorf("GET notification: %s %s", resp.Proto, resp.Status)
			}

			before := serial()
			if tc.signal {
				usr1 <- syscall.SIGUSR1
			}
			waitFor(t, "mutation", 30*time.Second, func() bool { return serial() > before })
			if tc.signal && !strings.Contains(stderr.String(), "msg=mutated") {
				// The log line follows the state file by a moment.
				waitFor(t, "mutation log", 5*time.Second, func() bool { return strings.Contains(stderr.String(), "msg=mutated") })
			}
			cancel()
			select {
			case c := <-code:
				if c != 0 {
					t.Errorf("exit %d: %s", c, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
			for _, a := range []string{cfg.Repositories[0].Rsync, cfg.Repositories[0].HTTPS} {
				ln, err := net.Listen("tcp", a)
				if err != nil {
					t.Errorf("%s still taken after serve stopped: %v", a, err)
					continue
				}
				ln.Close()
			}
		})
	}
}
