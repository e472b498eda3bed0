package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// rtrStage measures RTR (see RunRTR): one VRP set, sized by the preset,
// served by rovd to growing numbers of simultaneous routers, beside the
// bare server, the loopback copy and StayRTR. At a scaled world size
// (--scale) the set has that share of the preset's VRPs.
type rtrStage struct{}

func (rtrStage) Name() string { return "rtr" }

// rtrPlan is what the stage does at a preset.
func rtrPlan(preset string) (vrps int, sessions []int, delta int) {
	switch preset {
	case "world":
		return 800000, []int{1, 100, 1000, 3000}, 1000
	case "medium":
		return 100000, []int{1, 100, 1000}, 1000
	}
	return 10000, []int{1, 20, 100}, 100
}

func (rtrStage) Run(ctx context.Context, env *Env) (any, error) {
	rovd, err := env.Rovd(ctx)
	if err != nil {
		return nil, err
	}
	vrps, sessions, delta := rtrPlan(env.Preset)
	if env.Scale.valid() {
		vrps = max(1, int(float64(vrps)*env.Scale.Float()))
	}
	opt := RTROptions{Rovd: rovd, Dir: env.Path("rtr"), VRPs: vrps, Sessions: sessions,
		StayRTRSessions: 10, DeltaSessions: delta, DeltaChange: 1000, Timeout: 10 * time.Minute}
	if p, err := exec.LookPath("stayrtr"); err == nil {
		opt.StayRTR = p
	}
	env.Progress.Plan(env.Unit, []Step{{Kind: "rtr", Weight: 1}})
	finish := env.Progress.Begin("rtr", fmt.Sprintf("%d VRPs to %v sessions at once, a bare server and StayRTR beside", vrps, sessions))
	defer finish()
	return RunRTR(ctx, opt)
}

// ScalePoints gives rovd's and the bare server's time to the last End
// of Data at the most sessions both served in full, rovd's with its CPU
// time and resident memory after the round (no anonymous RSS: the
// stage reads RSS alone); the bare server is the bound. The
// set's size is the preset's VRP count times the scale, not the
// world's.
func (rtrStage) ScalePoints(raw json.RawMessage) ([]ScalePoint, error) {
	var r RTRResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	full := func(server string, sessions int) *RTRRound {
		for i, rd := range r.Rounds {
			if rd.Server == server && rd.Sessions == sessions && rd.Done == rd.Sessions && rd.Err == "" {
				return &r.Rounds[i]
			}
		}
		return nil
	}
	var rovd, bare *RTRRound
	for _, rd := range r.Rounds {
		if rd.Server != "rovd" || (rovd != nil && rd.Sessions <= rovd.Sessions) {
			continue
		}
		if a, b := full("rovd", rd.Sessions), full("bare", rd.Sessions); a != nil && b != nil {
			rovd, bare = a, b
		}
	}
	if rovd == nil {
		return nil, nil
	}
	name := func(server string) string { return fmt.Sprintf("%s, %d sessions", server, rovd.Sessions) }
	return []ScalePoint{
		{Program: name("rovd"), Rovd: true, WallSecs: rovd.Max.Seconds(), CPUSecs: rovd.CPU.Seconds(), PeakRSSBytes: float64(rovd.RSS), Agrees: true},
		{Program: name("bare server"), Bound: true, WallSecs: bare.Max.Seconds(), Agrees: true},
	}, nil
}

func (rtrStage) Report(w io.Writer, raw json.RawMessage) error {
	var r RTRResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	reportRTR(w, &r)
	return nil
}

// Figures draws the time to the last End of Data against sessions.
func (rtrStage) Figures(raw json.RawMessage) ([]Figure, error) {
	var r RTRResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	f := Figure{Name: "rtr-sessions", Title: fmt.Sprintf("RTR: %d VRPs, time to the last End of Data", r.VRPs),
		X: Axis{Label: "simultaneous Reset Queries", Log: true}, Y: Axis{Label: "seconds", Log: true}}
	for i, server := range []string{"rovd", "bare", "stayrtr"} {
		s := Series{Label: server, Style: i, Dashed: server == "bare"}
		for _, rd := range r.Rounds {
			if rd.Server == server && rd.Done == rd.Sessions {
				s.Points = append(s.Points, XY{X: float64(rd.Sessions), Y: rd.Max.Seconds()})
			}
		}
		if len(s.Points) > 0 {
			f.Series = append(f.Series, s)
		}
	}
	return []Figure{f}, nil
}

// reportRTR writes the RTR stage's section.
func reportRTR(w io.Writer, r *RTRResult) {
	fmt.Fprintf(w, "%d VRPs; one full table (version 1) is %.1f MB. rovd runs as `rovd server --source` relaying the set; the bare server writes the captured response; StayRTR, if installed, relays the same JSON.\n\n", r.VRPs, float64(r.ResponseBytes)/1e6)
	fmt.Fprintln(w, "| server | sessions | done | p50 s | p99 s | max s | M PDUs/s | MB/s | server CPU s | server RSS MB | ÷ bare (PDUs/s) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	bare := map[int]float64{}
	for _, rd := range r.Rounds {
		if rd.Server == "bare" {
			bare[rd.Sessions] = rd.PDUsPerSec
		}
	}
	for _, rd := range r.Rounds {
		ratio := "—"
		if b := bare[rd.Sessions]; b > 0 && rd.Server != "bare" {
			ratio = fmt.Sprintf("%.2f", rd.PDUsPerSec/b)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.3f | %.3f | %.3f | %.2f | %.0f | %.2f | %.1f | %s |\n", rd.Server, rd.Sessions, rd.Done,
			rd.P50.Seconds(), rd.P99.Seconds(), rd.Max.Seconds(), rd.PDUsPerSec/1e6, rd.BytesPerSec/1e6, rd.CPU.Seconds(), float64(rd.RSS)/1e6, ratio)
	}
	fmt.Fprintf(w, "\nRaw loopback TCP copy of the same bytes: %.0f MB/s.\n", r.LoopbackBytesPerSec/1e6)
	// StayRTR is measured with few sessions (it is slow); rovd's
	// throughput with the most sessions is its sustained rate.
	var best, stay RTRRound
	for _, rd := range r.Rounds {
		switch {
		case rd.Server == "rovd" && rd.Sessions > best.Sessions && rd.Done == rd.Sessions:
			best = rd
		case rd.Server == "stayrtr":
			stay = rd
		}
	}
	if best.PDUsPerSec > 0 && stay.PDUsPerSec > 0 {
		fmt.Fprintf(w, "rovd with %d sessions moves %.1f× the PDUs per second of StayRTR with %d.\n", best.Sessions, best.PDUsPerSec/stay.PDUsPerSec, stay.Sessions)
	}
	for _, rd := range r.Rounds {
		if rd.Err != "" {
			fmt.Fprintf(w, "- %s with %d sessions: %s\n", rd.Server, rd.Sessions, rd.Err)
		}
	}
	if d := r.Delta; d != nil {
		fmt.Fprintf(w, "\nA change delivered as deltas to %d synced sessions: %d done; from the first Serial Notify to the last End of Data %.3f s (p50 %.3f s), %d PDUs, server CPU %.2f s. rovd's resident memory grew by %.1f KiB per idle session.\n",
			d.Sessions, d.Done, d.Max.Seconds(), d.P50.Seconds(), d.PDUs, d.CPU.Seconds(), r.IdleRSSPerSession/1024)
	}
	fmt.Fprintln(w)
}
