package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
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

	"github.com/rovd/rovd/appliance/internal/selfsigned"
	"github.com/rovd/rovd/bench/world/serve"
)

// process is a rovd server that a test runs in the foreground from the
// built binary.
type process struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	out    *os.File
	done   chan struct{}
	waited error
}

// startProcess runs `rovd args...` with its output in a file of dir. The
// process is killed at the end of the test if still running.
func startProcess(t *testing.T, bin, dir, name string, args ...string) *process {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, name: name, cmd: exec.Command(bin, args...), out: out, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waited = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		out.Close()
	})
	return p
}

func (p *process) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("%s: %v: %v", p.name, sig, err)
	}
}

// output returns what the process wrote so far.
func (p *process) output() string {
	b, _ := os.ReadFile(p.out.Name())
	return string(b)
}

// stop ends the process with SIGTERM and checks that it exits 0.
func (p *process) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.waited != nil {
			p.t.Errorf("%s: %v\n%s", p.name, p.waited, p.output())
		}
	case <-time.After(patience):
		p.t.Fatalf("%s did not stop", p.name)
	}
}

// running fails the test if the process has ended.
func (p *process) running() {
	p.t.Helper()
	select {
	case <-p.done:
		p.t.Fatalf("%s ended: %v\n%s", p.name, p.waited, p.output())
	default:
	}
}

// webClient fetches from the HTTP services under test, trusting pool
// for HTTPS.
type webClient struct {
	t *testing.T
	c *http.Client
}

func newWebClient(t *testing.T, pool *x509.CertPool) *webClient {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &webClient{t: t, c: &http.Client{Transport: tr, Timeout: patience}}
}

// get returns the status and body of url; a failed connection is status
// 0.
func (w *webClient) get(url string) (int, []byte) {
	w.t.Helper()
	resp, err := w.c.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

// servedJSON is a /json answer without the trust anchors, which the
// relay does not learn from /json-delta: VRPs as "ASn,prefix,maxLength"
// lines as rtrReset gives them, router keys and ASPAs as written.
type servedJSON struct {
	VRPs  []string
	Keys  []string
	ASPAs []string
}

// servedSet fetches url (a /json path) and returns its content; ok is
// false until the service has a set.
func (w *webClient) servedSet(url string) (servedJSON, bool) {
	w.t.Helper()
	code, body := w.get(url)
	if code != http.StatusOK {
		return servedJSON{}, false
	}
	var doc struct {
		ROAs []struct {
			ASN       string `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
		} `json:"roas"`
		RouterKeys []map[string]any `json:"routerKeys"`
		ASPAs      []map[string]any `json:"aspas"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		w.t.Fatalf("%s: %v", url, err)
	}
	var s servedJSON
	for _, r := range doc.ROAs {
		s.VRPs = append(s.VRPs, fmt.Sprintf("%s,%s,%d", r.ASN, r.Prefix, r.MaxLength))
	}
	slices.Sort(s.VRPs)
	item := func(m map[string]any) string {
		delete(m, "ta")
		b, err := json.Marshal(m) // sorted keys
		if err != nil {
			w.t.Fatal(err)
		}
		return string(b)
	}
	for _, k := range doc.RouterKeys {
		s.Keys = append(s.Keys, item(k))
	}
	for _, a := range doc.ASPAs {
		s.ASPAs = append(s.ASPAs, item(a))
	}
	slices.Sort(s.Keys)
	slices.Sort(s.ASPAs)
	return s, true
}

func (s servedJSON) equal(o servedJSON) bool {
	return slices.Equal(s.VRPs, o.VRPs) && slices.Equal(s.Keys, o.Keys) && slices.Equal(s.ASPAs, o.ASPAs)
}

// TestServerRelayFollowsDeltas runs two rovd servers from the built
// binary: a validating one on the small world, with ASPAs and router
// keys on, serving RTR and HTTP, each plain and over TLS (--rtr-tls,
// --http-tls with a generated certificate), and per-client RTR metrics,
// and a relay whose --source is the first one's https://.../json-delta.
// Both serve the world's VRPs over RTR (the validator over TLS too), and
// the same VRPs, router keys and ASPAs on /json. After a change in the
// world and SIGUSR1 to each, both serve the new VRPs, and the relay's
// log shows that it took a delta, not the whole set again. /metrics
// over HTTPS carries the RTR client figures of the Reset Queries made.
// SIGTERM stops both with status 0.
func TestServerRelayFollowsDeltas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and serves a world")
	}
	world := serve.SmallWorld(t, serve.Options{})
	bin := buildRovd(t)
	certFile, keyFile, pool := selfsigned.LoopbackFiles(t)
	web := newWebClient(t, pool)
	dir := t.TempDir()
	relayLog := filepath.Join(dir, "relay.log")

	vRTR, vRTRTLS, vHTTP, vHTTPS := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	validator := startProcess(t, bin, dir, "validator",
		"-r", filepath.Join(dir, "validator-repo"), "-t", world.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", world.CAFile(),
		"-q", "--enable-aspa", "--enable-bgpsec",
		"server", "--rtr", vRTR, "--rtr-tls", vRTRTLS, "--rtr-tls-cert", certFile, "--rtr-tls-key", keyFile,
		"--http", vHTTP, "--http-tls", vHTTPS, "--http-tls-cert", certFile, "--http-tls-key", keyFile,
		"--rtr-client-metrics", "--refresh", "86400")
	want := truthVRPs(t, world.Dir())
	var vSet servedJSON
	waitFor(t, "the validator's first set on /json", func() bool {
		validator.running()
		var ok bool
		vSet, ok = web.servedSet("http://" + vHTTP + "/json")
		return ok
	})
	if !slices.Equal(vSet.VRPs, want) {
		t.Fatalf("validator serves %d VRPs, the world has %d", len(vSet.VRPs), len(want))
	}
	if len(vSet.Keys) == 0 || len(vSet.ASPAs) == 0 {
		t.Fatalf("validator serves %d router keys and %d ASPAs; the small world has both", len(vSet.Keys), len(vSet.ASPAs))
	}
	if code, _ := web.get("https://" + vHTTPS + "/version"); code != http.StatusOK {
		t.Fatalf("/version over HTTPS: status %d", code)
	}

	rRTR, rHTTP := freeAddr(t), freeAddr(t)
	relayed := startProcess(t, bin, dir, "relay",
		"-r", filepath.Join(dir, "relay-repo"), "-vv", "--logfile", relayLog, "--rrdp-root-cert", certFile,
		"--enable-aspa", "--enable-bgpsec",
		"server", "--source", "https://"+vHTTPS+"/json-delta", "--rtr", rRTR, "--http", rHTTP, "--refresh", "86400", "--retry", "1")

	// same checks that both servers serve want over RTR and the same
	// set on /json, waiting (bounded) for each to get there first.
	same := func(stage string, want []string) {
		t.Helper()
		var v, r servedJSON
		waitFor(t, stage+": the validator's set", func() bool {
			validator.running()
			var ok bool
			v, ok = web.servedSet("http://" + vHTTP + "/json")
			return ok && slices.Equal(v.VRPs, want)
		})
		waitFor(t, stage+": the relay's set", func() bool {
			relayed.running()
			var ok bool
			r, ok = web.servedSet("http://" + rHTTP + "/json")
			return ok && slices.Equal(r.VRPs, want)
		})
		if !v.equal(r) {
			t.Errorf("%s: /json differs: validator %d VRPs, %d keys, %d ASPAs; relay %d, %d, %d",
				stage, len(v.VRPs), len(v.Keys), len(v.ASPAs), len(r.VRPs), len(r.Keys), len(r.ASPAs))
		}
		if got := rtrReset(t, vRTR); !slices.Equal(got, want) {
			t.Errorf("%s: validator's RTR: %d VRPs, want %d", stage, len(got), len(want))
		}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: patience}, "tcp", vRTRTLS, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatalf("RTR over TLS: %v", err)
		}
		got := rtrResetOn(t, c)
		c.Close()
		if !slices.Equal(got, want) {
			t.Errorf("%s: validator's RTR over TLS: %d VRPs, want %d", stage, len(got), len(want))
		}
		if got := rtrReset(t, rRTR); !slices.Equal(got, want) {
			t.Errorf("%s: relay's RTR: %d VRPs, want %d", stage, len(got), len(want))
		}
	}
	same("start", want)

	if _, err := world.Mutate(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	changed := truthVRPs(t, world.Dir())
	if slices.Equal(changed, want) {
		t.Fatal("the change in the world changed no VRP")
	}
	validator.signal(syscall.SIGUSR1)
	waitFor(t, "the validator's new set", func() bool {
		validator.running()
		v, ok := web.servedSet("http://" + vHTTP + "/json")
		return ok && slices.Equal(v.VRPs, changed)
	})
	relayed.signal(syscall.SIGUSR1)
	same("after the change", changed)

	log, err := os.ReadFile(relayLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("relay: whole set taken")); n != 1 {
		t.Errorf("the relay took the whole set %d times, want once (at start):\n%s", n, log)
	}
	if !bytes.Contains(log, []byte("relay: delta applied")) {
		t.Errorf("the relay applied no delta:\n%s", log)
	}

	// The Reset Queries above came from 127.0.0.1.
	code, metrics := web.get("https://" + vHTTPS + "/metrics")
	if code != http.StatusOK || !strings.Contains(string(metrics), `routinator_rtr_client_reset_queries{addr="127.0.0.1"}`) {
		t.Errorf("/metrics over HTTPS: status %d, no RTR client figures for 127.0.0.1:\n%.2000s", code, metrics)
	}

	relayed.stop()
	validator.stop()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+vHTTPS+"/version", nil)
	if resp, err := web.c.Do(req); err == nil {
		resp.Body.Close()
		t.Error("HTTPS still served after the server stopped")
	}
}
