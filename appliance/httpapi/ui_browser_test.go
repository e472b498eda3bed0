package httpapi_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rovd/rovd/appliance/httpapi"
)

// browserTimeout bounds one run of the headless browser; it usually
// takes a few seconds.
const browserTimeout = 2 * time.Minute

// chromiumPath returns the headless browser the test runs, or skips the
// test when there is none.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (Debian package chromium); CI installs it")
	return ""
}

// dumpDOM loads url in headless Chromium and returns the document as its
// script left it. The virtual time budget lets the page's script fetch
// its data and render before the dump; the browser's profile and caches
// live in a temporary directory, and its background services are off so
// that it contacts nothing but url.
func dumpDOM(t *testing.T, url string) *html.Node {
	t.Helper()
	bin := chromiumPath(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+dir, "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--metrics-recording-only",
		"--virtual-time-budget=5000", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish within %v\n%s", browserTimeout, stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	doc, err := html.Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("the dumped DOM does not parse: %v\n%s", err, out)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// byID returns the element with the id, or fails the test.
func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	for n := range doc.Descendants() {
		if v, ok := attr(n, "id"); ok && v == id {
			return n
		}
	}
	t.Fatalf("the page has no element %q", id)
	return nil
}

// grouped writes n as the page does: 1,234,567.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestUIInBrowser loads /ui in headless Chromium and checks that the
// rendered page shows what /status says: serial, VRP counts, the trust
// anchors with their counts, the repositories, the RTR connections, and
// a chart point per run.
func TestUIInBrowser(t *testing.T) {
	chromiumPath(t)
	s := httpapi.New(fixtureConfig())
	s.SetRTRStats(fixtureRTR)
	s.SetGuard(fixtureGuard)
	// Two runs for the chart; a serial large enough to be grouped.
	prev := fixture()
	prev.Serial, prev.Started = 1234566, t0.Add(-10*time.Minute)
	s.Publish(prev)
	snap := fixture()
	snap.Serial = 1234567
	s.Publish(snap)
	base := serve(t, s)

	status := do(t, "GET", base+"/status", nil)
	if status.code != 200 {
		t.Fatalf("/status answers %d", status.code)
	}
	f := statusFields(status.body)
	doc := dumpDOM(t, base+"/ui")

	if _, hidden := attr(byID(t, doc, "content"), "hidden"); hidden {
		t.Fatalf("the page did not render its data; message: %q", text(byID(t, doc, "message")))
	}
	want := map[string]string{
		"serial":          grouped(atoi(t, "serial", f)),
		"session":         grouped(atoi(t, "session", f)),
		"valid-roas":      grouped(atoi(t, "valid-roas", f)),
		"vrps":            grouped(atoi(t, "vrps", f)),
		"final-vrps":      grouped(atoi(t, "final-vrps", f)),
		"unsafe-vrps":     grouped(atoi(t, "unsafe-vrps", f)),
		"stale":           grouped(atoi(t, "stale-count", f)),
		"rtr-connections": grouped(atoi(t, "rtr-connections", f)),
		"last-duration":   "2.5 s",
		"last-done":       "2026-11-01 12:00:02 UTC (57.5 s ago)",
		"version":         "version 0.1.0-test",
	}
	for id, w := range want {
		if got := text(byID(t, doc, id)); got != w {
			t.Errorf("#%s shows %q, want %q", id, got, w)
		}
	}

	// The trust anchor table: a row per TA of /status with its counts.
	roas, vrps := perTA(t, f["valid-roas-per-tal"]), perTA(t, f["final-vrps-per-tal"])
	rows := map[string]map[string]string{}
	for n := range byID(t, doc, "tas").Descendants() {
		ta, ok := attr(n, "data-ta")
		if !ok {
			continue
		}
		rows[ta] = map[string]string{}
		for c := range n.ChildNodes() {
			if key, ok := attr(c, "data-key"); ok {
				rows[ta][key] = text(c)
			}
		}
	}
	if len(rows) != len(vrps) {
		t.Errorf("the page shows %d trust anchors, /status %d", len(rows), len(vrps))
	}
	for ta, n := range vrps {
		if got := rows[ta]["vrps"]; got != grouped(n) {
			t.Errorf("trust anchor %s: %q VRPs, /status has %d", ta, got, n)
		}
		if got := rows[ta]["roas"]; got != grouped(roas[ta]) {
			t.Errorf("trust anchor %s: %q ROAs, /status has %d", ta, got, roas[ta])
		}
	}

	// A row per repository, the failed one first and marked.
	var repos []*html.Node
	for n := range byID(t, doc, "repos").Descendants() {
		if n.Type == html.ElementNode && n.Data == "tr" && n.Parent.Data == "tbody" {
			repos = append(repos, n)
		}
	}
	if len(repos) != len(fixtureRepos()) {
		t.Fatalf("%d repository rows, want %d", len(repos), len(fixtureRepos()))
	}
	if cls, _ := attr(repos[0], "class"); cls != "failed" || !strings.Contains(text(repos[0]), brokenURI) || !strings.Contains(text(repos[0]), "connection refused") {
		t.Errorf("first repository row %q (class %q), want the failed %s", text(repos[0]), cls, brokenURI)
	}

	// A dot per run in the VRP chart, a bar per run in the time chart.
	count := func(id, tag string) int {
		n := 0
		for d := range byID(t, doc, id).Descendants() {
			if d.Type == html.ElementNode && d.Data == tag {
				n++
			}
		}
		return n
	}
	if dots, bars := count("chart-vrps", "circle"), count("chart-time", "rect"); dots != 2 || bars != 2 {
		t.Errorf("charts: %d dots and %d bars, want 2 of each", dots, bars)
	}
	if got := text(byID(t, doc, "badge")); got != "new data held back" {
		t.Errorf("badge %q, want the guard's hold", got)
	}
}

// TestUIInBrowserBeforeData checks that the page explains the wait
// until the first data set.
func TestUIInBrowserBeforeData(t *testing.T) {
	chromiumPath(t)
	base := serve(t, httpapi.New(fixtureConfig()))
	doc := dumpDOM(t, base+"/ui")
	if got := text(byID(t, doc, "message")); got != "Initial validation ongoing. Please wait." {
		t.Errorf("message %q", got)
	}
	if _, hidden := attr(byID(t, doc, "content"), "hidden"); !hidden {
		t.Errorf("the page shows its tables without data")
	}
}
