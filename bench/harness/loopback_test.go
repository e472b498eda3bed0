package harness_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rovd/rovd/bench/harness"
)

// TestLoopbackFetched serves a world and checks what the stage counts of
// the requests a relying party makes.
func TestLoopbackFetched(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync is not installed")
	}
	dir := filepath.Join(t.TempDir(), "world")
	st := buildWorld(t, dir, "")
	caFile, reset, fetched, stop, err := harness.StartLoopback(context.Background(), &harness.Env{WorldDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		checkServersStopped(t, st)
	}()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	get := func(uri string) {
		t.Helper()
		resp, err := client.Get(uri)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}

	reset()
	r := st.Repositories[0]
	get(r.NotifyURI())
	get(r.Snapshot.URI)
	get("https://" + r.HTTPS + "/rrdp/" + r.Name + "/" + r.SessionID + "/99/delta.xml") // not there: 404
	get(st.TAs[0].HTTPSURI)
	if out, err := exec.Command("rsync", "rsync://"+r.Rsync+"/").CombinedOutput(); err != nil {
		t.Fatalf("rsync: %v\n%s", err, out)
	}
	f := fetched()
	want := harness.FetchStats{Notifications: 1, Snapshots: 1, Deltas: 1, Other: 1, Failed: 1, RsyncConnections: 1}
	got := *f
	got.Bytes = 0
	if got != want || f.Bytes == 0 {
		t.Errorf("fetched %+v, want %+v and some bytes", *f, want)
	}
	reset()
	if f := fetched(); *f != (harness.FetchStats{}) {
		t.Errorf("after reset: %+v", *f)
	}
}
