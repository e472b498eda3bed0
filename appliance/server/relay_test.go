package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/relay"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/netio"
)

// feed serves one document with an ETag and answers 304 to a request
// naming it; each request's If-None-Match goes to asked.
type feed struct {
	mu    sync.Mutex
	body  []byte
	etag  string
	asked chan string
}

func (f *feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked <- r.Header.Get("If-None-Match")
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", f.etag)
	w.Write(f.body)
}

func (f *feed) serve(body []byte, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag = body, etag
}

// TestRelay runs the server in relay mode against a test HTTP server: a
// document is published; an unchanged one (304) is not; truncated,
// malformed and stale documents are refused with an error naming the
// URL while the last good set is served; a new document is published.
func TestRelay(t *testing.T) {
	good, err := os.ReadFile("../relay/testdata/routinator.json")
	if err != nil {
		t.Fatal(err)
	}
	docTime := time.Unix(1795435200, 0)
	f := &feed{asked: make(chan string, 100)}
	f.serve(good, `"1"`)
	hs := httptest.NewServer(f)
	defer hs.Close()
	client, err := netio.NewHTTPClient(netio.HTTPConfig{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return docTime.Add(time.Minute) }
	src := &server.Relay{Feed: relay.NewFeed(hs.URL+"/json", client, 2*time.Hour), Now: now}
	h := startWith(t, src, server.Options{RunName: "relay fetch", Now: now, Retry: time.Hour})

	// poll starts a fetch and waits for its request.
	poll := func(wantINM string) {
		t.Helper()
		h.signal(t, syscall.SIGUSR1)
		select {
		case inm := <-f.asked:
			if inm != wantINM {
				t.Errorf("If-None-Match %q, want %q", inm, wantINM)
			}
		case <-time.After(patience):
			t.Fatal("no request")
		}
	}
	<-f.asked
	first := h.pub.Next(t, patience)
	if len(first.VRPs()) != 3 || len(first.RouterKeys()) != 1 || len(first.ASPAs()) != 1 {
		t.Fatalf("published %d VRPs, %d keys, %d ASPAs", len(first.VRPs()), len(first.RouterKeys()), len(first.ASPAs()))
	}
	h.serving(t)

	poll(`"1"`) // 304
	for _, bad := range []struct {
		name string
		body []byte
	}{
		{"truncated", good[:len(good)-10]},
		{"malformed", bytes.Replace(good, []byte(`"maxLength": 24`), []byte(`"maxLength": 33`), 1)},
		{"stale", bytes.Replace(good, []byte("1795435200"), []byte("1795420000"), 1)},
	} {
		f.serve(bad.body, `"`+bad.name+`"`)
		poll(`"1"`)
	}
	h.pub.None(t)
	if h.srv.Current().Set != first {
		t.Error("the last good set is no longer served")
	}
	// Every poll is answered before the next starts, so after one more
	// the errors of all are in the log.
	next := bytes.Replace(good, []byte(`"AS64496", "prefix": "192.0.2.0/24"`), []byte(`"AS64497", "prefix": "192.0.2.0/24"`), 1)
	f.serve(next, `"2"`)
	poll(`"1"`)
	got := h.pub.Next(t, patience)
	if got == first || got.VRPs()[0].ASN != 64497 {
		t.Fatalf("the new document was not published")
	}
	log := h.logText()
	for _, want := range []string{"document ends early (truncated)", "maxLength 33 is not between", "more than 2h0m0s ago"} {
		if !strings.Contains(log, `level=ERROR msg="relay fetch failed" err="source `+hs.URL+`/json: `) || !strings.Contains(log, want) {
			t.Errorf("log lacks an error with the URL and %q:\n%s", want, log)
		}
	}
	if err := h.stop(t); err != nil {
		t.Error(err)
	}
}
