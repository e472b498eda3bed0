package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/bench/harness"
)

// TestHTTPStage runs the HTTP stage small: rovd serves the whole set in
// every format, every load round against rovd and the bare server gets
// its answers, and rovd holds RTR sessions under HTTP load. No timing
// is checked.
func TestHTTPStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd")
	}
	dir := t.TempDir()
	rovd := buildRovd(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const vrps = 2000
	var steps []string
	res, err := harness.RunHTTP(ctx, harness.HTTPOptions{Rovd: rovd, Dir: filepath.Join(dir, "http"), VRPs: vrps,
		Clients: []int{1, 4}, Round: 50 * time.Millisecond, Runs: 2, Sessions: 10, Timeout: time.Minute,
		Step: func(kind, what string) func() { steps = append(steps, kind); return func() {} }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Served != vrps || res.JSONBytes == 0 || res.JSONGzipBytes == 0 || res.JSONGzipBytes >= res.JSONBytes {
		t.Errorf("served %d VRPs of %d; /json %d bytes, gzip %d", res.Served, vrps, res.JSONBytes, res.JSONGzipBytes)
	}
	// /json-delta, every format, /json in gzip.
	if len(res.Render) != len(output.Formats)+2 {
		t.Errorf("%d paths rendered, want %d", len(res.Render), len(output.Formats)+2)
	}
	for _, r := range res.Render {
		if r.Err != "" || (r.Bytes == 0 && r.Path != "/none") || r.CompleteSecs < r.FirstByteSecs {
			t.Errorf("render %+v", r)
		}
	}
	// Five kinds of round, two numbers of clients, two servers.
	if len(res.Rounds) != 5*2*2 {
		t.Errorf("%d rounds, want 20", len(res.Rounds))
	}
	for _, rd := range res.Rounds {
		if len(rd.Runs) != 2 || rd.Failed != 0 || rd.RPS.Min <= 0 || rd.P99Secs < rd.P50Secs {
			t.Errorf("%s, %s with %d clients: %+v", rd.Server, rd.Scenario, rd.Clients, rd)
		}
		if notMod := rd.Scenario == harness.HTTPJSONNotMod; notMod != (rd.MBPerSec == 0) {
			t.Errorf("%s, %s: %v MB/s", rd.Server, rd.Scenario, rd.MBPerSec)
		}
		if rd.PeakRSS == 0 {
			t.Errorf("%s, %s: no peak RSS", rd.Server, rd.Scenario)
		}
	}
	if s := res.Sessions; s == nil || s.Synced != 10 || s.Err != "" || s.PeakRSS == 0 || s.JSON.Requests == 0 || s.Validity.Requests == 0 {
		t.Errorf("sessions: %+v", s)
	}
	if res.MaxHWM == 0 || res.LoopbackBytesPerSec <= 0 {
		t.Errorf("VmHWM %d, loopback %v", res.MaxHWM, res.LoopbackBytesPerSec)
	}
	if want := "http-start http-render " + strings.Repeat("http-load ", 10) + "http-sessions"; strings.Join(steps, " ") != want {
		t.Errorf("steps %v, want %s", steps, want)
	}

	var b bytes.Buffer
	harness.ReportHTTP(&b, res)
	for _, want := range []string{"| `/json` | 4 |", "| `/api/v1/validity/AS/PREFIX` | 1 |", "| `/bird2` |", "| `/json`, gzip |",
		"with 10 RTR sessions connected (10 synced", "Raw loopback TCP copy"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := harness.HTTPFigures(raw)
	if err != nil || len(figs) != 1 || len(figs[0].Series) != 10 {
		t.Errorf("figures %+v, %v; want one with 10 series", figs, err)
	}
}
