package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// Program IDs of the validate stage, in the order of its table.
const (
	ProgRovdFull          = "rovd-full"
	ProgRovdFullOneThread = "rovd-full-1-thread"
	ProgRovdIncremental   = "rovd-incremental"
	ProgRovdUpdate        = "rovd-update-incremental"
)

// Ways of filling rovd's store (FillResult.Method).
const (
	// FillRRDP is 'rovd update' from the world served on loopback.
	FillRRDP = "rrdp"
	// FillImport is 'rovd update --import' from the world's rsync
	// tree, the fallback when the world cannot be served.
	FillImport = "import"
)

// ValidateResults are the results of the validate stage.
type ValidateResults struct {
	Runs int `json:"runs"`
	// MutatePercent is the share of publication points changed before
	// each incremental run.
	MutatePercent float64 `json:"mutatePercent"`
	// ValidationTime is rovd's --validation-time in the fill and the
	// full runs.
	ValidationTime time.Time `json:"validationTime"`
	// Threads is the number of validation threads of the rovd full
	// row: rovd's default, the number of CPUs.
	Threads int `json:"threads"`
	// Fill is how rovd's store was filled; it is not part of any run.
	Fill FillResult `json:"fill"`
	// Programs are the rows of the table: rovd full with Threads
	// threads and with one, rovd incremental, then the peers.
	Programs []ProgramResult `json:"programs"`
	Floor    Floor           `json:"floor"`
	// ThreadSpeedup is the median wall time of rovd full with one
	// thread divided by that with Threads threads; 0 if not measured.
	ThreadSpeedup float64 `json:"threadSpeedup,omitempty"`
	Checks        []Check `json:"checks"`
	// Ratios are rovd full's figures over each peer's and over the
	// floor, and the incremental run's over the full one.
	Ratios []Ratio `json:"ratios,omitempty"`
	// Diff sets rovd full's VRPs and each peer's beside the truth (of
	// the world before the incremental runs changed it); IncrementalDiff
	// the last incremental run's beside the truth of its time.
	Diff            *DiffTable `json:"diff,omitempty"`
	IncrementalDiff *DiffTable `json:"incrementalDiff,omitempty"`
}

// FillResult is the run that filled rovd's store (and its validation
// cache) before the measured runs.
type FillResult struct {
	// Method is FillRRDP or FillImport.
	Method string `json:"method"`
	// Fallback says why the world could not be served, when Method is
	// FillImport.
	Fallback string  `json:"fallback,omitempty"`
	Command  string  `json:"command"`
	WallSecs float64 `json:"wallSecs"`
	CPUSecs  float64 `json:"cpuSecs"`
	// PeakRSSBytes and PeakAnonBytes are rovd's, not the server's.
	PeakRSSBytes  int64 `json:"peakRSSBytes"`
	PeakAnonBytes int64 `json:"peakAnonBytes"`
	// Fetch is what rovd fetched from the loopback servers (FillRRDP).
	Fetch *FetchStats `json:"fetch,omitempty"`
	Notes []string    `json:"notes,omitempty"`
}

// ProgramResult is one program's runs.
type ProgramResult struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Version string `json:"version,omitempty"`
	// Command is the measured command line (of the last run).
	Command string `json:"command,omitempty"`
	// Skipped says why the program did not run; Error why its runs
	// stopped.
	Skipped string   `json:"skipped,omitempty"`
	Error   string   `json:"error,omitempty"`
	Notes   []string `json:"notes,omitempty"`

	Runs []RunResult `json:"runs,omitempty"`
	// WallSecs, CPUSecs, PeakRSSBytes and PeakAnonBytes summarise the
	// runs.
	WallSecs      Spread `json:"wallSecs"`
	CPUSecs       Spread `json:"cpuSecs"`
	PeakRSSBytes  Spread `json:"peakRSSBytes"`
	PeakAnonBytes Spread `json:"peakAnonBytes"`
	// Compare is the last run's output against the truth of its time.
	Compare *Comparison `json:"compare,omitempty"`
}

// RunResult is one measured run.
type RunResult struct {
	WallSecs      float64 `json:"wallSecs"`
	CPUSecs       float64 `json:"cpuSecs"`
	PeakRSSBytes  int64   `json:"peakRSSBytes"`
	PeakAnonBytes int64   `json:"peakAnonBytes"`
	Samples       int     `json:"samples"`
	VRPs          int     `json:"vrps"`
	Missing       int     `json:"missing"`
	Extra         int     `json:"extra"`
	// MutatedPoints is, for an incremental run, the number of
	// publication points changed before it.
	MutatedPoints int `json:"mutatedPoints,omitempty"`
	// Fetch is, for an incremental run from the loopback servers, what
	// it fetched, or what was fetched into its store before it.
	Fetch *FetchStats `json:"fetch,omitempty"`
	// TakeInSecs is, for an incremental run from the store, the wall
	// time of bringing the changes into the store before it (not part
	// of the run).
	TakeInSecs float64 `json:"takeInSecs,omitempty"`
}

// Spread is the median, minimum and maximum of some runs.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// SpreadOf summarises xs; no values give the zero Spread.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func (p *ProgramResult) summarize() {
	var wall, cpu, rss, anon []float64
	for _, r := range p.Runs {
		wall = append(wall, r.WallSecs)
		cpu = append(cpu, r.CPUSecs)
		rss = append(rss, float64(r.PeakRSSBytes))
		anon = append(anon, float64(r.PeakAnonBytes))
	}
	p.WallSecs, p.CPUSecs, p.PeakRSSBytes, p.PeakAnonBytes = SpreadOf(wall), SpreadOf(cpu), SpreadOf(rss), SpreadOf(anon)
}

// measured tells whether the program has at least one run.
func (p *ProgramResult) measured() bool { return p != nil && len(p.Runs) > 0 }

// note adds a note once.
func (p *ProgramResult) note(s string) {
	if !slices.Contains(p.Notes, s) {
		p.Notes = append(p.Notes, s)
	}
}

// Check is one of the targets rovd is held to.
type Check struct {
	Name string `json:"name"`
	// Value is the measured quantity, as the report prints it.
	Value  string `json:"value"`
	Status string `json:"status"`
}

// Check statuses.
const (
	CheckPass = "pass"
	CheckFail = "fail"
	CheckNA   = "n/a"
)

type validateStage struct{}

func (validateStage) Name() string { return "validate" }

// validation is one run of the validate stage.
type validation struct {
	env   *Env
	res   *ValidateResults
	rovd  string
	store string
	// lb serves the world; nil when it could not be served and the
	// store is filled from the rsync tree instead.
	lb *loopback
}

// The validate stage, in the order it runs:
//
//  1. serve the world on loopback (RRDP over HTTPS, rsync) for the
//     whole stage;
//  2. fill rovd's store and its validation cache with 'rovd update'
//     from the servers, as of the world's time plus a minute; if the
//     world cannot be served, 'rovd update --import' from its rsync
//     tree instead;
//  3. measure the full run, 'rovd vrps -n --cold-cache' (no network,
//     no cache), with rovd's default number of validation threads (one
//     per CPU) and with one, the runs of the two interleaved;
//  4. measure the peers, offline, on the same world;
//  5. measure the incremental run Runs times: change MutatePercent of
//     the publication points a minute later in world time, then 'rovd
//     update' a minute after that, which fetches the RRDP deltas of the
//     changed repositories and validates with the cache kept, as rovd's
//     server does every refresh; a following 'rovd vrps -n' (not
//     measured) gives its VRPs for the comparison with the mutated
//     world's truth, which world.Mutate rewrites.
func (validateStage) Run(ctx context.Context, env *Env) (_ any, err error) {
	st, err := env.State()
	if err != nil {
		return nil, err
	}
	n := env.Runs
	var steps []Step
	if env.WillBuildRovd() {
		steps = append(steps, Step{"build", 2})
	}
	steps = append(steps, Step{"serve", 0.2}, Step{"fill", 2}, Step{"floor", 1})
	for range n {
		steps = append(steps, Step{ProgRovdFull, 1}, Step{ProgRovdFullOneThread, 1.6})
	}
	for _, p := range env.Peers {
		steps = append(steps, Step{"setup-" + p, 0.5})
		for range n {
			steps = append(steps, Step{p, 4})
		}
	}
	for range n {
		steps = append(steps, Step{"mutate", 1}, Step{"take-in", 0.1}, Step{ProgRovdIncremental, 0.1}, Step{"check", 0.2},
			Step{"mutate", 1}, Step{ProgRovdUpdate, 0.1}, Step{"check", 0.1})
	}
	env.Progress.Plan(env.Unit, steps)

	v := &validation{
		env:   env,
		res:   &ValidateResults{Runs: n, MutatePercent: env.MutatePercent, Threads: runtime.NumCPU()},
		store: env.Path("rovd-store"),
	}
	for _, d := range []string{"out", "logs"} {
		if err := os.MkdirAll(env.Path(d), 0o755); err != nil {
			return nil, err
		}
	}
	if v.rovd, err = env.rovdStep(ctx); err != nil {
		return nil, err
	}
	if err := CheckRovd(ctx, v.rovd); err != nil {
		return nil, err
	}

	// A fresh store: this stage starts over, whatever an interrupted
	// run left.
	if err := os.RemoveAll(v.store); err != nil {
		return nil, err
	}
	v.res.ValidationTime = worldTime(st).Add(time.Minute)

	finish := env.Progress.Begin("serve", "serving the world on loopback")
	lb, err := startLoopback(ctx, env)
	finish()
	switch {
	case err == nil:
		v.lb = lb
		// Every way out of the stage, an interrupt included (it
		// cancels ctx, which ends the program being run), stops
		// the servers and the rsync daemons.
		defer func() {
			if cerr := lb.close(); cerr != nil && err == nil {
				err = fmt.Errorf("stopping the loopback servers: %w", cerr)
			}
		}()
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		v.res.Fill.Fallback = err.Error()
		env.Progress.Printf("cannot serve the world (%v); filling rovd's store with 'update --import' instead", err)
	}

	if err := v.fill(ctx); err != nil {
		return nil, err
	}

	finish = env.Progress.Begin("floor", "measuring RSA verification for the signature floor")
	if v.res.Floor, err = measureFloor(ctx, env); err != nil {
		return nil, err
	}
	finish()

	ver := version(ctx, v.rovd, "-V")
	full := &ProgramResult{ID: ProgRovdFull, Label: fmt.Sprintf("rovd full, %s (cold cache)", threadsLabel(v.res.Threads)), Version: ver}
	one := &ProgramResult{ID: ProgRovdFullOneThread, Label: "rovd full, " + threadsLabel(1) + " (cold cache)", Version: ver}
	incr := &ProgramResult{ID: ProgRovdIncremental, Label: fmt.Sprintf("rovd incremental (%g%% changed, from the store)", env.MutatePercent), Version: ver}
	label := fmt.Sprintf("rovd update (%g%% changed, with RRDP delta fetch)", env.MutatePercent)
	if v.lb == nil {
		label = fmt.Sprintf("rovd update (%g%% changed, with re-import of the rsync tree)", env.MutatePercent)
	}
	upd := &ProgramResult{ID: ProgRovdUpdate, Label: label, Version: ver}
	// The runs of the two rows alternate, so that whatever else the
	// machine does weighs on both alike.
	for i := range n {
		for _, row := range []struct {
			p       *ProgramResult
			threads int
		}{{full, v.res.Threads}, {one, 1}} {
			finish := env.Progress.Begin(row.p.ID, fmt.Sprintf("rovd full run with %s %d/%d", threadsLabel(row.threads), i+1, n))
			out := env.Path("out", fmt.Sprintf("%s-%d.csv", row.p.ID, i+1))
			cmd := v.vrpsCommand(v.res.ValidationTime, row.threads, true, out)
			if err := v.measure(ctx, row.p, i+1, cmd, out); err != nil {
				return nil, fmt.Errorf("rovd: %w", err)
			}
			finish()
		}
	}

	var peers []*ProgramResult
	for _, name := range env.Peers {
		p := v.runPeer(ctx, name, st)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}
	// Before the incremental runs change the world and its truth.
	if v.res.Diff, err = v.diff(full, peers); err != nil {
		return nil, err
	}

	if err := v.incremental(ctx, incr, upd); err != nil {
		return nil, err
	}
	if upd.measured() {
		// The last run of all: the world's truth is that of its time.
		out := env.Path("out", fmt.Sprintf("%s-%d.csv", upd.ID, len(upd.Runs)))
		if v.res.IncrementalDiff, err = v.diffFiles("validate-incremental.csv", []string{upd.ID}, []string{out}); err != nil {
			return nil, err
		}
	}

	v.res.Programs = append([]ProgramResult{*full, *one, *incr, *upd}, derefAll(peers)...)
	for i := range v.res.Programs {
		v.res.Programs[i].summarize()
	}
	if full.measured() && one.measured() {
		p := v.res.Programs
		if p[0].WallSecs.Median > 0 {
			v.res.ThreadSpeedup = p[1].WallSecs.Median / p[0].WallSecs.Median
		}
	}
	v.res.Checks = checks(v.res)
	v.res.Ratios = validateRatios(v.res)
	return v.res, nil
}

// diff sets the last output of rovd full and of each peer that ran
// beside the world's current truth.
func (v *validation) diff(full *ProgramResult, peers []*ProgramResult) (*DiffTable, error) {
	if !full.measured() {
		return nil, nil
	}
	names := []string{full.ID}
	files := []string{v.env.Path("out", fmt.Sprintf("%s-%d.csv", full.ID, len(full.Runs)))}
	for _, p := range peers {
		out := v.env.Path("out", fmt.Sprintf("%s-%d.csv", p.ID, len(p.Runs)))
		if _, err := os.Stat(out); err != nil || !p.measured() {
			continue
		}
		names, files = append(names, p.ID), append(files, out)
	}
	return v.diffFiles("validate.csv", names, files)
}

// diffFiles compares VRP files with the truth, the first being the
// reference, into DIR/diffs/NAME.
func (v *validation) diffFiles(name string, names, files []string) (*DiffTable, error) {
	out := v.env.Path("diffs", name)
	return DiffFiles(v.env.WorldDir, append([]string{"truth"}, names...),
		append([]string{filepath.Join(v.env.WorldDir, "truth", "vrps.csv")}, files...), 1, out, v.env.Rel(out))
}

func threadsLabel(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

func derefAll(ps []*ProgramResult) []ProgramResult {
	out := make([]ProgramResult, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// worldTime is the world's time: its Now or its latest mutation.
func worldTime(st *world.State) time.Time {
	t := st.Config.Now
	for _, m := range st.Mutations {
		if m.Time.After(t) {
			t = m.Time
		}
	}
	return t
}

// globalArgs are rovd's global options for every command.
func (v *validation) globalArgs() []string { return rovdGlobalArgs(v.store, v.env.WorldDir) }

// updateCommand is one 'rovd update' validating as of at: from the
// loopback servers, or with --import from the rsync tree when there
// are none.
func (v *validation) updateCommand(at time.Time) Command {
	args := v.globalArgs()
	if v.lb != nil {
		args = append(args, "--rrdp-root-cert", v.lb.caFile())
	}
	args = append(args, "--validation-time", at.UTC().Format(time.RFC3339), "update")
	if v.lb == nil {
		args = append(args, "--import", filepath.Join(v.env.WorldDir, "rsync"))
	}
	return Command{Path: v.rovd, Args: args, Timeout: v.env.Timeout}
}

// fill fills rovd's empty store and its validation cache.
func (v *validation) fill(ctx context.Context) error {
	f := &v.res.Fill
	what := "filling rovd's store over RRDP from the loopback servers"
	f.Method = FillRRDP
	if v.lb == nil {
		what, f.Method = "filling rovd's store from the world's rsync tree (update --import)", FillImport
	}
	finish := v.env.Progress.Begin("fill", what)
	cmd := v.updateCommand(v.res.ValidationTime)
	cmd.Log = v.env.Path("logs", "rovd-fill.log")
	f.Command = cmd.String()
	if v.lb != nil {
		v.lb.reset()
	}
	u, err := Measure(ctx, cmd)
	if err != nil {
		return fmt.Errorf("filling rovd's store: %w", err)
	}
	finish()
	f.WallSecs, f.CPUSecs, f.PeakRSSBytes, f.PeakAnonBytes = u.Wall.Seconds(), u.CPU.Seconds(), u.PeakRSS, u.PeakAnon
	if v.lb == nil {
		return nil
	}
	f.Fetch = v.lb.fetched()
	st, err := v.env.State()
	if err != nil {
		return err
	}
	// A relying party that cannot use RRDP falls back to rsync without
	// failing, so only the servers can tell how the store was filled.
	if f.Fetch.Snapshots < len(st.Repositories) {
		f.Notes = append(f.Notes, fmt.Sprintf("rovd fetched %d RRDP snapshot(s) for %d repositories", f.Fetch.Snapshots, len(st.Repositories)))
	}
	if f.Fetch.Failed > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("%d HTTPS request(s) failed", f.Fetch.Failed))
	}
	if f.Fetch.RsyncConnections > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("rovd made %d rsync connection(s)", f.Fetch.RsyncConnections))
	}
	return nil
}

// noUpdateCommand is 'rovd vrps -n -f none' validating as of at: the
// validation of what the store holds, with the cache, no network and no
// output, as the full run has none of the first two.
func (v *validation) noUpdateCommand(at time.Time) Command {
	args := append(v.globalArgs(), "--validation-time", at.UTC().Format(time.RFC3339), "vrps", "-n", "-f", "none")
	return Command{Path: v.rovd, Args: args, Timeout: v.env.Timeout}
}

// vrpsCommand is one 'rovd vrps -n' run from the store, without
// updating; threads 0 leaves rovd's default.
func (v *validation) vrpsCommand(at time.Time, threads int, cold bool, out string) Command {
	args := append(v.globalArgs(), "--validation-time", at.UTC().Format(time.RFC3339))
	if threads > 0 {
		args = append(args, "--validation-threads", strconv.Itoa(threads))
	}
	if cold {
		args = append(args, "--cold-cache")
	}
	args = append(args, "vrps", "-n", "-f", "csv", "-o", out)
	return Command{Path: v.rovd, Args: args, Timeout: v.env.Timeout}
}

// measure runs one measured run of p and checks its output against the
// world's truth at that moment.
func (v *validation) measure(ctx context.Context, p *ProgramResult, run int, cmd Command, output string) error {
	cmd.Log = v.env.Path("logs", fmt.Sprintf("%s-%d.log", p.ID, run))
	p.Command = cmd.String()
	u, err := Measure(ctx, cmd)
	if err != nil {
		return err
	}
	c, err := v.compareTruth(output)
	if err != nil {
		return err
	}
	p.Compare = &c
	p.Runs = append(p.Runs, runResult(u, c))
	return nil
}

// compareTruth compares a VRP file with the world's current truth.
func (v *validation) compareTruth(output string) (Comparison, error) {
	got, err := ReadVRPs(output)
	if err != nil {
		return Comparison{}, fmt.Errorf("reading its output: %w", err)
	}
	truth, err := ReadVRPs(filepath.Join(v.env.WorldDir, "truth", "vrps.csv"))
	if err != nil {
		return Comparison{}, err
	}
	return Compare(got, truth), nil
}

func runResult(u Usage, c Comparison) RunResult {
	return RunResult{
		WallSecs: u.Wall.Seconds(), CPUSecs: u.CPU.Seconds(),
		PeakRSSBytes: u.PeakRSS, PeakAnonBytes: u.PeakAnon, Samples: u.Samples,
		VRPs: c.VRPs, Missing: c.Missing, Extra: c.Extra,
	}
}

// runPeer measures a peer; what goes wrong is recorded in its result,
// not returned, since the peers are there for comparison only.
func (v *validation) runPeer(ctx context.Context, name string, st *world.State) *ProgramResult {
	env, n := v.env, v.env.Runs
	p := &ProgramResult{ID: name, Label: peerLabel(name)}
	bin, err := lookPeer(name)
	if err != nil {
		p.Skipped = "not installed"
		env.Progress.Skip("setup-"+name, 1)
		env.Progress.Skip(name, n)
		env.Progress.Printf("%s is not installed, skipped", name)
		return p
	}
	if why := peerUsable(st, env.WorldDir, time.Now()); why != "" {
		p.Skipped = why
		env.Progress.Skip("setup-"+name, 1)
		env.Progress.Skip(name, n)
		env.Progress.Printf("%s skipped: %s", name, why)
		return p
	}
	finish := env.Progress.Begin("setup-"+name, "laying out the world for "+name)
	ps, err := setupPeer(ctx, env, name, bin, st)
	finish()
	if err != nil {
		p.Error = "setup: " + err.Error()
		env.Progress.Skip(name, n)
		return p
	}
	defer ps.cleanup()
	p.Version, p.Notes = ps.version, ps.notes
	for i := range n {
		finish := env.Progress.Begin(name, fmt.Sprintf("%s run %d/%d", name, i+1, n))
		// A failed run must not leave the previous run's output to be
		// read as its own.
		if err := os.Remove(ps.output); err != nil && !os.IsNotExist(err) {
			p.Error = err.Error()
			break
		}
		err := v.measure(ctx, p, i+1, ps.cmd, ps.output)
		finish()
		if err != nil {
			p.Error = err.Error()
			env.Progress.Printf("%s failed: %v", name, err)
			env.Progress.Skip(name, n-i-1)
			break
		}
		if err := copyFile(ps.output, env.Path("out", fmt.Sprintf("%s-%d.csv", name, i+1))); err != nil {
			p.Error = err.Error()
			break
		}
	}
	return p
}

// shortLabel names a program in the scaling tables, the plots and the
// difference tables, where its full label would be too long.
func shortLabel(id, label string) string {
	switch id {
	case ProgRovdFull:
		return "rovd full"
	case ProgRovdFullOneThread:
		return "rovd full, 1 thread"
	case ProgRovdIncremental:
		return "rovd incremental"
	case ProgRovdUpdate:
		return "rovd update after a change"
	case ProgUpdateRRDP:
		return "rovd update, RRDP"
	case ProgUpdateRsync:
		return "rovd update, rsync"
	case ProgValidationAlone:
		return "rovd validation alone"
	}
	return label
}

func peerLabel(name string) string {
	if name == PeerFORT {
		return "FORT"
	}
	return name
}

func measureFloor(ctx context.Context, env *Env) (Floor, error) {
	sigs, err := CountSignatures(filepath.Join(env.WorldDir, "rsync"))
	if err != nil {
		return Floor{}, err
	}
	cores := Cores()
	rate, err := MeasureVerify(ctx, env.FloorDuration, cores)
	if err != nil {
		return Floor{}, fmt.Errorf("measuring RSA verification: %w", err)
	}
	return NewFloor(sigs, rate, cores), nil
}

// Targets rovd is held to (the validate stage's checks).
const (
	targetSpeedupOverRPKIClient = 4    // rovd full at least 4× faster than rpki-client
	targetFloorRatio            = 2    // rovd full within 2× of the signature floor
	targetIncrementalShare      = 0.05 // an incremental run at most 5% of a full one
)

func checks(r *ValidateResults) []Check {
	prog := func(id string) *ProgramResult {
		for i := range r.Programs {
			if r.Programs[i].ID == id {
				return &r.Programs[i]
			}
		}
		return nil
	}
	full, one, incr, rc := prog(ProgRovdFull), prog(ProgRovdFullOneThread), prog(ProgRovdIncremental), prog(PeerRPKIClient)
	var out []Check
	add := func(name string, ok bool, value string, have bool) {
		c := Check{Name: name, Value: value, Status: CheckNA}
		if have {
			c.Status = CheckFail
			if ok {
				c.Status = CheckPass
			}
		} else if c.Value == "" {
			c.Value = "not measured"
		}
		out = append(out, c)
	}
	if full.measured() && rc.measured() {
		x := rc.WallSecs.Median / full.WallSecs.Median
		add(fmt.Sprintf("rovd full ≥ %d× faster than rpki-client", targetSpeedupOverRPKIClient),
			x >= targetSpeedupOverRPKIClient, fmt.Sprintf("%.2f×", x), true)
	} else {
		add(fmt.Sprintf("rovd full ≥ %d× faster than rpki-client", targetSpeedupOverRPKIClient), false, "", false)
	}
	if full.measured() && r.Floor.Secs > 0 {
		x := full.WallSecs.Median / r.Floor.Secs
		add(fmt.Sprintf("rovd full within %d× of the signature floor", targetFloorRatio),
			x <= targetFloorRatio, fmt.Sprintf("%.2f× the floor", x), true)
	} else {
		add(fmt.Sprintf("rovd full within %d× of the signature floor", targetFloorRatio), false, "", false)
	}
	if full.measured() && rc.measured() {
		// Every rovd row: the incremental run keeps the cache and
		// fetches, which is where rovd's heap could grow.
		anon := full.PeakAnonBytes.Max
		for _, p := range []*ProgramResult{one, incr, prog(ProgRovdUpdate)} {
			if p.measured() {
				anon = max(anon, p.PeakAnonBytes.Max)
			}
		}
		add("rovd peak anon ≤ rpki-client peak RSS", anon <= rc.PeakRSSBytes.Median,
			fmt.Sprintf("%s MB vs %s MB", fmtMB(anon), fmtMB(rc.PeakRSSBytes.Median)), true)
	} else {
		add("rovd peak anon ≤ rpki-client peak RSS", false, "", false)
	}
	if full.measured() && incr.measured() {
		x := incr.WallSecs.Median / full.WallSecs.Median
		add(fmt.Sprintf("incremental ≤ %g%% of full", targetIncrementalShare*100), x <= targetIncrementalShare,
			fmt.Sprintf("%.1f%%", x*100), true)
	} else {
		add(fmt.Sprintf("incremental ≤ %g%% of full", targetIncrementalShare*100), false, "", false)
	}
	return out
}

// validateRatios divides rovd full's figures by each peer's and by the
// signature floor, and the incremental run's wall time by the full
// run's.
func validateRatios(r *ValidateResults) []Ratio {
	var full, incr, upd *ProgramResult
	for i := range r.Programs {
		switch r.Programs[i].ID {
		case ProgRovdFull:
			full = &r.Programs[i]
		case ProgRovdIncremental:
			incr = &r.Programs[i]
		case ProgRovdUpdate:
			upd = &r.Programs[i]
		}
	}
	if !full.measured() {
		return nil
	}
	var out []Ratio
	add := func(name, of string, a, b float64) {
		if b > 0 {
			out = append(out, Ratio{Name: name, Of: of, Value: a / b})
		}
	}
	for _, p := range r.Programs {
		if strings.HasPrefix(p.ID, "rovd-") || !p.measured() {
			continue
		}
		name := "rovd full ÷ " + p.Label
		add(name, "wall", full.WallSecs.Median, p.WallSecs.Median)
		add(name, "cpu", full.CPUSecs.Median, p.CPUSecs.Median)
		add(name, "peak RSS", full.PeakRSSBytes.Median, p.PeakRSSBytes.Median)
		add(name, "peak anon ÷ peak RSS", full.PeakAnonBytes.Median, p.PeakRSSBytes.Median)
	}
	add("rovd full ÷ signature floor", "wall", full.WallSecs.Median, r.Floor.Secs)
	if incr.measured() {
		add("rovd incremental ÷ rovd full", "wall", incr.WallSecs.Median, full.WallSecs.Median)
	}
	if upd.measured() {
		add("rovd update after a change ÷ rovd full", "wall", upd.WallSecs.Median, full.WallSecs.Median)
	}
	return out
}

// ScalePoints gives every measured program's medians and the signature
// floor.
func (validateStage) ScalePoints(raw json.RawMessage) ([]ScalePoint, error) {
	var r ValidateResults
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	var out []ScalePoint
	for _, p := range r.Programs {
		if !p.measured() {
			continue
		}
		rovd := strings.HasPrefix(p.ID, "rovd-")
		agrees := p.Compare != nil && p.Compare.Missing == 0 && p.Compare.Extra == 0
		if !rovd && r.Diff != nil {
			if c := r.Diff.Count(p.ID); c != nil {
				agrees = c.Unexplained == 0
			}
		}
		out = append(out, ScalePoint{Program: shortLabel(p.ID, p.Label), Rovd: rovd, WallSecs: p.WallSecs.Median, CPUSecs: p.CPUSecs.Median,
			PeakRSSBytes: p.PeakRSSBytes.Median, PeakAnonBytes: p.PeakAnonBytes.Median, Agrees: agrees})
	}
	if r.Floor.Secs > 0 {
		out = append(out, ScalePoint{Program: "signature floor", Bound: true, WallSecs: r.Floor.Secs, Agrees: true})
	}
	return out, nil
}

func (validateStage) Report(w io.Writer, raw json.RawMessage) error {
	var r ValidateResults
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	return reportValidate(w, &r)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
