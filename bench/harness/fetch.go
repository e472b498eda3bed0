package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Program IDs of the fetch stage, in the order of its table.
const (
	// ProgUpdateRRDP is 'rovd update' into an empty store over RRDP.
	ProgUpdateRRDP = "rovd-update-rrdp"
	// ProgValidationAlone is 'rovd vrps -n --cold-cache' on the store
	// ProgUpdateRRDP filled: the validation part of an update.
	ProgValidationAlone = "rovd-validation-alone"
	// ProgUpdateRsync is 'rovd update --disable-rrdp' into an empty
	// store, over rsync.
	ProgUpdateRsync = "rovd-update-rsync"
)

// FetchResults are the results of the fetch stage.
type FetchResults struct {
	Runs int `json:"runs"`
	// ValidationTime is rovd's --validation-time.
	ValidationTime time.Time `json:"validationTime"`
	// Programs are the rows of the table: ProgUpdateRRDP,
	// ProgValidationAlone and ProgUpdateRsync.
	Programs []ProgramResult `json:"programs"`
	// Bound is the ingest bound, measured after the runs.
	Bound IngestBound `json:"bound"`
	// FetchSecs estimates the RRDP fetch alone: the median wall time
	// of ProgUpdateRRDP less that of ProgValidationAlone; 0 if not
	// measured.
	FetchSecs float64 `json:"fetchSecs,omitempty"`
	// Ratios are rovd's times over the bound.
	Ratios []Ratio `json:"ratios"`
	// Diff compares the VRPs of the RRDP and the rsync store with the
	// truth.
	Diff *DiffTable `json:"diff,omitempty"`
}

// Ratio is one of rovd's figures divided by a peer's or a bound's.
type Ratio struct {
	// Name says what is divided by what ("rovd full ÷ rpki-client").
	Name string `json:"name"`
	// Of is the quantity: "wall", "cpu", "peak RSS", "peak anon ÷ peak
	// RSS".
	Of    string  `json:"of"`
	Value float64 `json:"value"`
}

type fetchStage struct{}

func (fetchStage) Name() string { return "fetch" }

// The fetch stage, in the order it runs:
//
//  1. serve the world on loopback for the whole stage; unlike the
//     validate stage it has no fallback, since fetching is what it
//     measures;
//  2. Runs times, in turn: 'rovd update' into an empty store over RRDP
//     (HTTPS from the harness's server), then 'rovd vrps -n
//     --cold-cache' on that store, which is the validation part of the
//     update measured alone, then 'rovd update --disable-rrdp' into
//     another empty store, fetching over rsync from Debian's rsync
//     daemon (rovd runs the rsync client, which is in its process
//     tree);
//  3. 'rovd vrps -n' on the rsync store, not measured, for the
//     comparison with the truth;
//  4. the ingest bound on the world's snapshot files.
func (fetchStage) Run(ctx context.Context, env *Env) (_ any, err error) {
	st, err := env.State()
	if err != nil {
		return nil, err
	}
	n := env.Runs
	var steps []Step
	if env.WillBuildRovd() {
		steps = append(steps, Step{"build", 2})
	}
	steps = append(steps, Step{"serve", 0.2})
	for range n {
		steps = append(steps, Step{ProgUpdateRRDP, 1}, Step{ProgValidationAlone, 0.5}, Step{ProgUpdateRsync, 1.5})
	}
	steps = append(steps, Step{"check", 0.5}, Step{"bound", 0.3})
	env.Progress.Plan(env.Unit, steps)
	for _, d := range []string{"out", "logs"} {
		if err := os.MkdirAll(env.Path(d), 0o755); err != nil {
			return nil, err
		}
	}
	rovd, err := env.rovdStep(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckRovd(ctx, rovd); err != nil {
		return nil, err
	}

	finish := env.Progress.Begin("serve", "serving the world on loopback")
	lb, err := startLoopback(ctx, env)
	finish()
	if err != nil {
		return nil, fmt.Errorf("serving the world on loopback, which fetching needs: %w", err)
	}
	defer func() {
		if cerr := lb.close(); cerr != nil && err == nil {
			err = fmt.Errorf("stopping the loopback servers: %w", cerr)
		}
	}()

	res := &FetchResults{Runs: n, ValidationTime: worldTime(st).Add(time.Minute)}
	ver := version(ctx, rovd, "-V")
	rrdp := &ProgramResult{ID: ProgUpdateRRDP, Label: "rovd update over RRDP, empty store", Version: ver}
	alone := &ProgramResult{ID: ProgValidationAlone, Label: "rovd validation alone (vrps -n --cold-cache, same store)", Version: ver}
	rsync := &ProgramResult{ID: ProgUpdateRsync, Label: "rovd update over rsync (--disable-rrdp), empty store", Version: ver}
	rrdpStore, rsyncStore := env.Path("fetch-store", "rrdp"), env.Path("fetch-store", "rsync")
	// The stores are big at world scale and of no use afterwards.
	defer func() {
		if rerr := os.RemoveAll(env.Path("fetch-store")); rerr != nil && err == nil {
			err = rerr
		}
	}()

	update := func(p *ProgramResult, store string, i int, extra ...string) error {
		if err := os.RemoveAll(store); err != nil {
			return err
		}
		args := append(rovdGlobalArgs(store, env.WorldDir), "--rrdp-root-cert", lb.caFile())
		args = append(append(args, extra...), "--validation-time", res.ValidationTime.UTC().Format(time.RFC3339), "update")
		cmd := Command{Path: rovd, Args: args, Timeout: env.Timeout, Log: env.Path("logs", fmt.Sprintf("%s-%d.log", p.ID, i))}
		p.Command = cmd.String()
		lb.reset()
		u, err := Measure(ctx, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Label, err)
		}
		f := lb.fetched()
		p.Runs = append(p.Runs, RunResult{WallSecs: u.Wall.Seconds(), CPUSecs: u.CPU.Seconds(),
			PeakRSSBytes: u.PeakRSS, PeakAnonBytes: u.PeakAnon, Samples: u.Samples, Fetch: f})
		noteUpdateFetch(p, i, f, len(st.Repositories), p == rsync)
		return nil
	}
	vrps := func(store, out, log string) Command {
		args := append(rovdGlobalArgs(store, env.WorldDir), "--validation-time", res.ValidationTime.UTC().Format(time.RFC3339),
			"--cold-cache", "vrps", "-n", "-f", "csv", "-o", out)
		return Command{Path: rovd, Args: args, Timeout: env.Timeout, Log: log}
	}
	truth := filepath.Join(env.WorldDir, "truth", "vrps.csv")
	compare := func(p *ProgramResult, out string) error {
		got, err := ReadVRPs(out)
		if err != nil {
			return fmt.Errorf("%s: reading its output: %w", p.Label, err)
		}
		want, err := ReadVRPs(truth)
		if err != nil {
			return err
		}
		c := Compare(got, want)
		p.Compare = &c
		return nil
	}

	var rrdpOut, rsyncOut string
	for i := 1; i <= n; i++ {
		finish := env.Progress.Begin(ProgUpdateRRDP, fmt.Sprintf("rovd update over RRDP into an empty store %d/%d", i, n))
		if err := update(rrdp, rrdpStore, i); err != nil {
			return nil, err
		}
		finish()

		finish = env.Progress.Begin(ProgValidationAlone, fmt.Sprintf("rovd validation alone on that store %d/%d", i, n))
		rrdpOut = env.Path("out", fmt.Sprintf("%s-%d.csv", ProgValidationAlone, i))
		cmd := vrps(rrdpStore, rrdpOut, env.Path("logs", fmt.Sprintf("%s-%d.log", ProgValidationAlone, i)))
		alone.Command = cmd.String()
		u, err := Measure(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", alone.Label, err)
		}
		if err := compare(alone, rrdpOut); err != nil {
			return nil, err
		}
		c := *alone.Compare
		alone.Runs = append(alone.Runs, runResult(u, c))
		// What the store holds is what the update fetched.
		rrdp.Compare = &c
		r := &rrdp.Runs[len(rrdp.Runs)-1]
		r.VRPs, r.Missing, r.Extra = c.VRPs, c.Missing, c.Extra
		finish()

		finish = env.Progress.Begin(ProgUpdateRsync, fmt.Sprintf("rovd update over rsync into an empty store %d/%d", i, n))
		if err := update(rsync, rsyncStore, i, "--disable-rrdp"); err != nil {
			return nil, err
		}
		finish()
	}

	finish = env.Progress.Begin("check", "rovd vrps -n on the rsync store (not measured)")
	rsyncOut = env.Path("out", fmt.Sprintf("%s-%d.csv", ProgUpdateRsync, n))
	cmd := vrps(rsyncStore, rsyncOut, env.Path("logs", ProgUpdateRsync+"-check.log"))
	if _, err := Measure(ctx, cmd); err != nil {
		return nil, fmt.Errorf("rovd vrps on the rsync store: %w", err)
	}
	if err := compare(rsync, rsyncOut); err != nil {
		return nil, err
	}
	last := &rsync.Runs[len(rsync.Runs)-1]
	last.VRPs, last.Missing, last.Extra = rsync.Compare.VRPs, rsync.Compare.Missing, rsync.Compare.Extra
	finish()

	finish = env.Progress.Begin("bound", "measuring SHA-256 and base64 over the snapshots for the ingest bound")
	if res.Bound, err = MeasureIngestBound(ctx, env.WorldDir, st, env.FloorDuration); err != nil {
		return nil, fmt.Errorf("ingest bound: %w", err)
	}
	finish()

	if res.Diff, err = DiffFiles(env.WorldDir, []string{"truth", ProgUpdateRRDP, ProgUpdateRsync}, []string{truth, rrdpOut, rsyncOut}, 0,
		env.Path("diffs", "fetch.csv"), env.Rel(env.Path("diffs", "fetch.csv"))); err != nil {
		return nil, err
	}
	res.Programs = []ProgramResult{*rrdp, *alone, *rsync}
	for i := range res.Programs {
		res.Programs[i].summarize()
	}
	res.FetchSecs = max(res.Programs[0].WallSecs.Median-res.Programs[1].WallSecs.Median, 0)
	res.Ratios = fetchRatios(res)
	return res, nil
}

// rovdGlobalArgs are rovd's global options for every command: the
// store, the world's TALs, and the loopback addresses its URIs name.
func rovdGlobalArgs(store, worldDir string) []string {
	return []string{"-r", store, "-t", filepath.Join(worldDir, "tals"), "--allow-dubious-hosts"}
}

// noteUpdateFetch notes an update into an empty store that did not
// fetch what its protocol calls for: over RRDP a snapshot of every
// repository and no rsync, over rsync no RRDP file and some rsync.
func noteUpdateFetch(p *ProgramResult, run int, f *FetchStats, repos int, overRsync bool) {
	if overRsync {
		if n := f.Notifications + f.Snapshots + f.Deltas; n > 0 {
			p.note(fmt.Sprintf("run %d fetched %d RRDP file(s) with RRDP disabled", run, n))
		}
		if f.RsyncConnections == 0 {
			p.note(fmt.Sprintf("run %d made no rsync connection", run))
		}
	} else {
		if f.Snapshots < repos {
			p.note(fmt.Sprintf("run %d fetched %d RRDP snapshot(s) for %d repositories", run, f.Snapshots, repos))
		}
		if f.RsyncConnections > 0 {
			p.note(fmt.Sprintf("run %d made %d rsync connection(s)", run, f.RsyncConnections))
		}
	}
	if f.Failed > 0 {
		p.note(fmt.Sprintf("run %d: %d HTTPS request(s) failed", run, f.Failed))
	}
}

// fetchRatios are rovd's times over the ingest bound.
func fetchRatios(r *FetchResults) []Ratio {
	b := r.Bound.Secs
	if b <= 0 {
		return nil
	}
	var out []Ratio
	for _, p := range r.Programs {
		if p.measured() && p.ID != ProgValidationAlone {
			out = append(out, Ratio{Name: p.Label + " ÷ ingest bound", Of: "wall", Value: p.WallSecs.Median / b})
		}
	}
	if r.FetchSecs > 0 {
		out = append(out, Ratio{Name: "RRDP fetch alone (update − validation) ÷ ingest bound", Of: "wall", Value: r.FetchSecs / b})
	}
	return out
}

func (fetchStage) Report(w io.Writer, raw json.RawMessage) error {
	var r FetchResults
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	return reportFetch(w, &r)
}
