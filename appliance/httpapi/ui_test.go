package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/rovd/rovd/appliance/httpapi"
)

const htmlType = "text/html;charset=utf-8"

// uiData is the part of /ui/data.json that the tests compare.
type uiData struct {
	Version             string `json:"version"`
	Session             uint16 `json:"session"`
	Serial              uint32 `json:"serial"`
	ValidROAs           int    `json:"validROAs"`
	VRPs                int    `json:"vrps"`
	FinalVRPs           int    `json:"finalVRPs"`
	UnsafeVRPs          *int   `json:"unsafeVRPs"`
	LocallyFilteredVRPs int    `json:"locallyFilteredVRPs"`
	LocallyAddedVRPs    int    `json:"locallyAddedVRPs"`
	StaleCount          int    `json:"staleCount"`
	TAs                 []struct {
		Name string `json:"name"`
		ROAs int    `json:"roas"`
		VRPs int    `json:"vrps"`
	} `json:"tas"`
	Repositories []struct {
		URI    string `json:"uri"`
		OK     bool   `json:"ok"`
		Status int    `json:"status"`
	} `json:"repositories"`
	RTR struct {
		Connections  int    `json:"connections"`
		BytesRead    uint64 `json:"bytesRead"`
		BytesWritten uint64 `json:"bytesWritten"`
		Clients      []struct {
			Addr string `json:"addr"`
		} `json:"clients"`
	} `json:"rtr"`
	Guard        *struct{ Holding bool } `json:"collapseGuard"`
	DeltaHistory int                     `json:"jsonDeltaHistory"`
	Runs         []struct {
		Serial uint32    `json:"serial"`
		Done   time.Time `json:"done"`
		VRPs   int       `json:"vrps"`
	} `json:"runs"`
}

func decodeUIData(t *testing.T, body []byte) uiData {
	t.Helper()
	var d uiData
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("/ui/data.json: %v\n%s", err, body)
	}
	return d
}

// statusFields splits /status into its "key: value" lines.
func statusFields(body []byte) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// perTA splits a per-TAL value of /status ("apnic=2 ripe=1").
func perTA(t *testing.T, v string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for f := range strings.FieldsSeq(v) {
		name, n, _ := strings.Cut(f, "=")
		i, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("per-TAL value %q: %v", v, err)
		}
		m[name] = i
	}
	return m
}

func atoi(t *testing.T, key string, fields map[string]string) int {
	t.Helper()
	v, ok := fields[key]
	if !ok {
		t.Fatalf("/status has no %s", key)
	}
	// "rtr-connections: 2 current"
	v, _, _ = strings.Cut(v, " ")
	i, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("/status %s: %v", key, err)
	}
	return i
}

func TestUIPaths(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	base := serve(t, s)
	const msg = `{
   "error": "Initial validation ongoing. Please wait."
}`
	before := []struct {
		path     string
		code     int
		ctype    string
		contains string
	}{
		{"/ui", 200, htmlType, "<title>rovd status</title>"},
		{"/ui/data.json", 503, jsonType, msg},
	}
	for _, tc := range before {
		a := do(t, "GET", base+tc.path, nil)
		if a.code != tc.code || a.header.Get("Content-Type") != tc.ctype || !strings.Contains(string(a.body), tc.contains) {
			t.Errorf("before data, %s: %d %q %q; want %d %q with %q", tc.path, a.code, a.header.Get("Content-Type"), a.body, tc.code, tc.ctype, tc.contains)
		}
	}

	s.Publish(fixture())
	tests := []struct {
		name   string
		method string
		path   string
		code   int
		ctype  string
		header map[string]string // expected
	}{
		{name: "page", path: "/ui", code: 200, ctype: htmlType, header: map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
		}},
		{name: "page head", method: "HEAD", path: "/ui", code: 200, ctype: htmlType},
		{name: "trailing slash", path: "/ui/", code: 301, header: map[string]string{"Location": "../ui"}},
		{name: "data", path: "/ui/data.json", code: 200, ctype: jsonType, header: map[string]string{"Cache-Control": "no-cache"}},
		{name: "post", method: "POST", path: "/ui", code: 405, ctype: textType, header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "unknown below ui", path: "/ui/other", code: 404, ctype: textType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			// Redirects are not followed: the client sees the 301.
			a := doNoRedirect(t, method, base+tc.path)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d", a.code, tc.code)
			}
			if tc.ctype != "" && a.header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", a.header.Get("Content-Type"), tc.ctype)
			}
			for k, v := range tc.header {
				if got := a.header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if method == "HEAD" && len(a.body) != 0 {
				t.Errorf("HEAD answered with a body of %d bytes", len(a.body))
			}
		})
	}
}

// doNoRedirect is do without following redirects.
func doNoRedirect(t *testing.T, method, url string) answer {
	t.Helper()
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// TestUISelfContained checks that the page loads nothing from anywhere:
// no external script, style, font, image or frame, no URL with a scheme
// or host in any attribute, no url() or @import in its style.
func TestUISelfContained(t *testing.T) {
	code, page := get(t, fixtureService(), "/ui")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, bad := range []string{"://", "url(", "@import", "<iframe", "<object", "<embed", "<img", "<base"} {
		if bytes.Contains(bytes.ToLower(page), []byte(bad)) {
			t.Errorf("the page contains %q", bad)
		}
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	urlAttrs := map[string]bool{"src": true, "href": true, "action": true, "formaction": true, "poster": true, "srcset": true, "data": true, "xlink:href": true, "background": true}
	scripts := 0
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "script" {
			scripts++
		}
		for _, a := range n.Attr {
			key := a.Key
			if a.Namespace != "" {
				key = a.Namespace + ":" + a.Key
			}
			if !urlAttrs[key] {
				continue
			}
			v := strings.TrimSpace(a.Val)
			switch {
			case n.Data == "script" || n.Data == "link" && key == "href" && v != "data:,":
				t.Errorf("<%s %s=%q>: the page must carry its scripts and styles inline", n.Data, key, v)
			case strings.HasPrefix(v, "data:"):
			case strings.HasPrefix(v, "//") || strings.Contains(v, ":"):
				t.Errorf("<%s %s=%q> points elsewhere", n.Data, key, v)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want the one inline script", scripts)
	}
}

// TestUIDataMatchesStatus checks that /ui/data.json gives the counts
// /status gives, and keeps its whole document in a golden file.
func TestUIDataMatchesStatus(t *testing.T) {
	s := fixtureService()
	_, status := get(t, s, "/status")
	code, body := get(t, s, "/ui/data.json")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	d := decodeUIData(t, body)
	f := statusFields(status)

	ints := []struct {
		key string
		got int
	}{
		{"serial", int(d.Serial)},
		{"valid-roas", d.ValidROAs},
		{"vrps", d.VRPs},
		{"final-vrps", d.FinalVRPs},
		{"locally-filtered-vrps", d.LocallyFilteredVRPs},
		{"locally-added-vrps", d.LocallyAddedVRPs},
		{"stale-count", d.StaleCount},
		{"rtr-connections", d.RTR.Connections},
		{"session", int(d.Session)},
		{"json-delta-history", d.DeltaHistory},
	}
	for _, c := range ints {
		if want := atoi(t, c.key, f); c.got != want {
			t.Errorf("%s: %d in data.json, %d in /status", c.key, c.got, want)
		}
	}
	if d.UnsafeVRPs == nil || *d.UnsafeVRPs != atoi(t, "unsafe-vrps", f) {
		t.Errorf("unsafeVRPs %v, /status %s", d.UnsafeVRPs, f["unsafe-vrps"])
	}
	roas, vrps := map[string]int{}, map[string]int{}
	for _, ta := range d.TAs {
		roas[ta.Name], vrps[ta.Name] = ta.ROAs, ta.VRPs
	}
	if diff := cmp.Diff(perTA(t, f["valid-roas-per-tal"]), roas); diff != "" {
		t.Errorf("ROAs per TA (-status +data.json):\n%s", diff)
	}
	if diff := cmp.Diff(perTA(t, f["final-vrps-per-tal"]), vrps); diff != "" {
		t.Errorf("VRPs per TA (-status +data.json):\n%s", diff)
	}
	// Every repository of /status, with its status code.
	codes := map[string]int{}
	for line := range strings.SplitSeq(string(status), "\n") {
		uri, rest, ok := strings.Cut(strings.TrimSpace(line), ": status=")
		if !ok {
			continue
		}
		code, _, _ := strings.Cut(rest, ",")
		codes[uri], _ = strconv.Atoi(code)
	}
	got := map[string]int{}
	for _, r := range d.Repositories {
		got[r.URI] = r.Status
	}
	if diff := cmp.Diff(codes, got); diff != "" {
		t.Errorf("repository status (-status +data.json):\n%s", diff)
	}
	if d.Repositories[0].OK {
		t.Errorf("the failed repository is not listed first: %+v", d.Repositories)
	}
	if len(d.RTR.Clients) != 2 || d.Guard == nil || !d.Guard.Holding {
		t.Errorf("clients %+v, guard %+v; want two clients and the guard holding", d.RTR.Clients, d.Guard)
	}

	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden(t, "ui-data.golden", pretty.Bytes())
}

// TestUIDataWithoutOptions checks what is left out: the per-client RTR
// figures without rtr-client-metrics, the guard until the server sets
// it, the unsafe count under unsafe-vrps = accept.
func TestUIDataWithoutOptions(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RTRClientMetrics = false
	cfg.UnsafeVRPs = "accept"
	s := httpapi.New(cfg)
	s.SetRTRStats(fixtureRTR)
	snap := fixture()
	snap.Report = nil // a relayed set has no run report
	snap.Repos = nil
	s.Publish(snap)
	_, body := get(t, s, "/ui/data.json")
	for _, absent := range []string{`"clients"`, `"collapseGuard"`, `"unsafeVRPs"`} {
		if bytes.Contains(body, []byte(absent)) {
			t.Errorf("data.json has %s", absent)
		}
	}
	// Lists are present, if empty, so that the page need not check.
	for _, present := range []string{`"repositories":[]`, `"tas":[`} {
		if !bytes.Contains(body, []byte(present)) {
			t.Errorf("data.json lacks %s:\n%s", present, body)
		}
	}
	d := decodeUIData(t, body)
	if d.VRPs != d.FinalVRPs || d.ValidROAs != 0 {
		t.Errorf("without a report: vrps %d, final %d, valid ROAs %d", d.VRPs, d.FinalVRPs, d.ValidROAs)
	}
}

// TestUIRunHistory checks the history of runs behind the chart: one
// entry per run, oldest first, at most UIRuns of them.
func TestUIRunHistory(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	runs := func() []uint32 {
		_, body := get(t, s, "/ui/data.json")
		var serials []uint32
		for _, r := range decodeUIData(t, body).Runs {
			serials = append(serials, r.Serial)
		}
		return serials
	}
	publish := func(serial uint32, started time.Time) {
		snap := fixture()
		snap.Serial, snap.Started = serial, started
		s.Publish(snap)
	}
	publish(1, t0)
	publish(1, t0) // the same run published again
	if diff := cmp.Diff([]uint32{1}, runs()); diff != "" {
		t.Errorf("after one run published twice (-want +got):\n%s", diff)
	}
	publish(1, t0.Add(time.Minute)) // a run that changed nothing keeps the serial
	publish(2, t0.Add(2*time.Minute))
	if diff := cmp.Diff([]uint32{1, 1, 2}, runs()); diff != "" {
		t.Errorf("after three runs (-want +got):\n%s", diff)
	}
	n := httpapi.UIRuns + 10
	for i := 3; i <= n; i++ {
		publish(uint32(i), t0.Add(time.Duration(i)*time.Minute))
	}
	got := runs()
	if len(got) != httpapi.UIRuns || got[0] != uint32(n-httpapi.UIRuns+1) || got[len(got)-1] != uint32(n) {
		t.Errorf("after %d runs: %d kept, serials %d to %d; want the last %d", n+1, len(got), got[0], got[len(got)-1], httpapi.UIRuns)
	}
}
