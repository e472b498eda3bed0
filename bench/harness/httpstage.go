package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// httpStage measures rovd's HTTP service (see RunHTTP): the RTR stage's
// VRP set, rendered in every format and served to concurrent clients,
// beside a bare server answering with the same bytes.
type httpStage struct{}

func (httpStage) Name() string { return "http" }

// httpPlan is what the stage does at a preset: the numbers of clients,
// the length of each load round and the RTR sessions held while memory
// is measured. The set is the RTR stage's (rtrPlan).
func httpPlan(preset string) (clients []int, round time.Duration, sessions int) {
	switch preset {
	case "world":
		return []int{1, 16, 64}, 5 * time.Second, 1000
	case "medium":
		return []int{1, 16, 64}, 2 * time.Second, 1000
	}
	return []int{1, 16, 64}, 500 * time.Millisecond, 100
}

// httpScenarios is the number of kinds of load round.
const httpScenarios = 5

func (httpStage) Run(ctx context.Context, env *Env) (any, error) {
	vrps, _, _ := rtrPlan(env.Preset)
	clients, round, sessions := httpPlan(env.Preset)
	if env.HTTPRound > 0 {
		round = env.HTTPRound
	}
	var steps []Step
	if env.WillBuildRovd() {
		steps = append(steps, Step{"build", 30})
	}
	// Weights are guesses in seconds.
	steps = append(steps, Step{httpStepStart, 1 + float64(vrps)/1e5}, Step{httpStepRender, 1 + float64(vrps)/1e5})
	for range httpScenarios * len(clients) {
		steps = append(steps, Step{httpStepLoad, 2 * float64(env.Runs) * round.Seconds()})
	}
	steps = append(steps, Step{httpStepSessions, round.Seconds() + float64(sessions*vrps)/1e6})
	env.Progress.Plan(env.Unit, steps)
	rovd, err := env.rovdStep(ctx)
	if err != nil {
		return nil, err
	}
	return RunHTTP(ctx, HTTPOptions{Rovd: rovd, Dir: env.Path("http"), VRPs: vrps, Clients: clients, Round: round,
		Runs: env.Runs, Sessions: sessions, Timeout: 10 * time.Minute, Step: env.Progress.Begin})
}

func (httpStage) Report(w io.Writer, raw json.RawMessage) error {
	var r HTTPResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	reportHTTP(w, &r)
	return nil
}

// Figures draws requests per second against clients, rovd's and the
// bare server's, for each kind of round.
func (httpStage) Figures(raw json.RawMessage) ([]Figure, error) {
	var r HTTPResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	f := Figure{Name: "http-clients", Title: fmt.Sprintf("HTTP: %d VRPs, requests per second (bare server dashed)", r.VRPs),
		X: Axis{Label: "concurrent clients", Log: true}, Y: Axis{Label: "requests per second", Log: true}}
	for i, sc := range []string{HTTPJSON, HTTPJSONGzip, HTTPJSONNotMod, HTTPValidityQuery, HTTPValidityPath} {
		for _, server := range []string{"rovd", "bare"} {
			s := Series{Label: sc + ", " + server, Style: i, Dashed: server == "bare"}
			for _, rd := range r.Rounds {
				if rd.Scenario == sc && rd.Server == server && rd.RPS.Median > 0 {
					s.Points = append(s.Points, XY{X: float64(rd.Clients), Y: rd.RPS.Median})
				}
			}
			if len(s.Points) > 0 {
				f.Series = append(f.Series, s)
			}
		}
	}
	return []Figure{f}, nil
}

// httpScenarioText says what each kind of round asks for.
var httpScenarioText = map[string]string{
	HTTPJSON:          "`/json`",
	HTTPJSONGzip:      "`/json`, gzip",
	HTTPJSONNotMod:    "`/json`, If-None-Match (304)",
	HTTPValidityQuery: "`/validity?asn=&prefix=`",
	HTTPValidityPath:  "`/api/v1/validity/AS/PREFIX`",
}

// reportHTTP writes the HTTP stage's section.
func reportHTTP(w io.Writer, r *HTTPResult) {
	fmt.Fprintf(w, "%d VRPs (%d in rovd's `/json`), relayed by `rovd server --source --http` from the RTR stage's generated JSON. "+
		"`/json` is %s, %s in gzip. Each load round runs %s s, %d time(s) (medians shown); "+
		"the clients run in the harness on the same cores. The validity rounds ask about 1,024 random routes of the set "+
		"(half valid, a quarter invalid, a quarter not found). The bound, \"bare\", is a bare fasthttp server answering every request "+
		"with rovd's own answer, prebuilt (one validity answer for every route), measured with the same client in the same run, "+
		"in a process of its own as rovd. CPU is a percentage of one core.\n\n",
		r.VRPs, r.Served, fmtSize(int64(r.JSONBytes)), fmtSize(int64(r.JSONGzipBytes)), fmtSecs(r.RoundSecs), r.Runs)
	tableHeader(w, []string{"requests", "clients", "rovd req/s (median, min–max)", "p50 ms", "p99 ms", "MB/s", "rovd CPU %",
		"rovd peak RSS / anon MB", "bare req/s", "bare p99 ms", "bare CPU %", "rovd ÷ bare"})
	type key struct {
		scenario string
		clients  int
	}
	bare := map[key]HTTPRound{}
	for _, rd := range r.Rounds {
		if rd.Server == "bare" {
			bare[key{rd.Scenario, rd.Clients}] = rd
		}
	}
	var notes []string
	for _, rd := range r.Rounds {
		if rd.Failed > 0 {
			notes = append(notes, fmt.Sprintf("- %s, %s with %d client(s): %d request(s) failed: %s", rd.Server, rd.Scenario, rd.Clients, rd.Failed, rd.Err))
		}
		if rd.Server != "rovd" {
			continue
		}
		b := bare[key{rd.Scenario, rd.Clients}]
		ratio, bareRPS, bareP99, bareCPU := "—", "", "", ""
		if b.RPS.Median > 0 {
			ratio = fmt.Sprintf("%.2f", rd.RPS.Median/b.RPS.Median)
			bareRPS, bareP99, bareCPU = fmtRate(b.RPS.Median), fmtMillis(b.P99Secs), fmt.Sprintf("%.0f", b.CPUPercent)
		}
		rps := fmtRate(rd.RPS.Median)
		if rd.RPS.Min != rd.RPS.Max {
			rps += fmt.Sprintf(" (%s–%s)", fmtRate(rd.RPS.Min), fmtRate(rd.RPS.Max))
		}
		tableRow(w, []string{httpScenarioText[rd.Scenario], fmt.Sprint(rd.Clients), rps, fmtMillis(rd.P50Secs), fmtMillis(rd.P99Secs),
			fmt.Sprintf("%.0f", rd.MBPerSec), fmt.Sprintf("%.0f", rd.CPUPercent),
			fmtMB(float64(rd.PeakRSS)) + " / " + fmtMB(float64(rd.PeakAnon)), bareRPS, bareP99, bareCPU, ratio})
	}
	var best HTTPRound
	for _, rd := range r.Rounds {
		if rd.Server == "rovd" && rd.Scenario == HTTPJSON && rd.MBPerSec > best.MBPerSec {
			best = rd
		}
	}
	if r.LoopbackBytesPerSec > 0 {
		fmt.Fprintf(w, "\nRaw loopback TCP copy of `/json`'s bytes: %.0f MB/s", r.LoopbackBytesPerSec/1e6)
		if best.MBPerSec > 0 {
			fmt.Fprintf(w, "; rovd's `/json` at its best (%d clients) moves %.0f MB/s, %.2f of it", best.Clients, best.MBPerSec, best.MBPerSec*1e6/r.LoopbackBytesPerSec)
		}
		fmt.Fprintln(w, ".")
	}

	fmt.Fprintln(w, "\nThe first request of each path after the set was published renders the answer (gzip: compresses the rendered `/json`); the second is served from memory.")
	fmt.Fprintln(w)
	tableHeader(w, []string{"path", "size", "first byte ms", "complete ms", "again (cached) ms"})
	var total float64
	for _, rr := range r.Render {
		p := "`" + rr.Path + "`"
		if rr.Gzip {
			p += ", gzip"
		}
		if rr.Err != "" {
			tableRow(w, []string{p, "", "", "", rr.Err})
			continue
		}
		total += rr.CompleteSecs
		tableRow(w, []string{p, fmtSize(rr.Bytes), fmtMillis(rr.FirstByteSecs), fmtMillis(rr.CompleteSecs), fmtMillis(rr.CachedSecs)})
	}
	fmt.Fprintf(w, "\nAll of them, one after another: %s s.\n", fmtSecs(total))

	if s := r.Sessions; s != nil {
		fmt.Fprintf(w, "\nrovd holding the set with %d RTR sessions connected (%d synced with a full table) and the HTTP service up: "+
			"RSS %s MB, anonymous %s MB (before the sessions: %s / %s MB); "+
			"while `/json` and `/api/v1/validity/` ran at once with %d clients each for %s s, peak RSS %s MB, anonymous %s MB "+
			"(%s `/json` and %s validity requests per second). Over the whole stage rovd's own peak RSS (VmHWM) was %s MB.\n",
			s.Sessions, s.Synced, fmtMB(float64(s.RSSSynced)), fmtMB(float64(s.AnonSynced)), fmtMB(float64(s.RSSBefore)), fmtMB(float64(s.AnonBefore)),
			s.LoadClients, fmtSecs(s.LoadSecs), fmtMB(float64(s.PeakRSS)), fmtMB(float64(s.PeakAnon)), fmtRate(s.JSON.RPS), fmtRate(s.Validity.RPS),
			fmtMB(float64(r.MaxHWM)))
		if s.Err != "" {
			notes = append(notes, "- with the RTR sessions: "+s.Err)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, mdEscape(n))
		}
	}
	fmt.Fprintln(w)
}

// fmtRate prints a rate with about three significant digits.
func fmtRate(x float64) string {
	if x < 100 {
		return fmt.Sprintf("%.3g", x)
	}
	return fmt.Sprintf("%.0f", x)
}
