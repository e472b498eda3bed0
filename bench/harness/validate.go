package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// Program IDs of the validate stage, in the order of its table.
const (
	ProgRovdFull        = "rovd-full"
	ProgRovdIncremental = "rovd-incremental"
)

// ValidateResults are the results of the validate stage.
type ValidateResults struct {
	Runs int `json:"runs"`
	// MutatePercent is the share of publication points changed before
	// each incremental run.
	MutatePercent float64 `json:"mutatePercent"`
	// ValidationTime is rovd's --validation-time in the full runs.
	ValidationTime time.Time `json:"validationTime"`
	// ImportSecs is the time of filling rovd's store from the rsync
	// tree ('rovd update --import'); it is not part of any run.
	ImportSecs float64 `json:"importSecs"`
	// Programs are the rows of the table: rovd full, rovd incremental,
	// then the peers.
	Programs []ProgramResult `json:"programs"`
	Floor    Floor           `json:"floor"`
	Checks   []Check         `json:"checks"`
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
}

func (validateStage) Run(ctx context.Context, env *Env) (any, error) {
	st, err := env.State()
	if err != nil {
		return nil, err
	}
	n := env.Runs
	var steps []Step
	if env.Options.Rovd == "" {
		steps = append(steps, Step{"build", 2})
	}
	steps = append(steps, Step{"import", 2}, Step{"floor", 1})
	for range n {
		steps = append(steps, Step{ProgRovdFull, 1})
	}
	for _, p := range env.Peers {
		steps = append(steps, Step{"setup-" + p, 0.5})
		for range n {
			steps = append(steps, Step{p, 4})
		}
	}
	steps = append(steps, Step{"warm-up", 1})
	for range n {
		steps = append(steps, Step{"mutate", 1}, Step{"reimport", 1}, Step{ProgRovdIncremental, 0.1})
	}
	env.Progress.Plan("validate", steps)

	v := &validation{env: env, res: &ValidateResults{Runs: n, MutatePercent: env.MutatePercent}, store: env.Path("rovd-store")}
	for _, d := range []string{"out", "logs"} {
		if err := os.MkdirAll(env.Path(d), 0o755); err != nil {
			return nil, err
		}
	}
	finish := func() {}
	if env.Options.Rovd == "" {
		finish = env.Progress.Begin("build", "building rovd into "+env.Path("bin", "rovd"))
	}
	if v.rovd, err = env.Rovd(ctx); err != nil {
		return nil, err
	}
	finish()
	if err := CheckRovd(ctx, v.rovd); err != nil {
		return nil, err
	}

	// A fresh store: this stage starts over, whatever an interrupted
	// run left.
	if err := os.RemoveAll(v.store); err != nil {
		return nil, err
	}
	finish = env.Progress.Begin("import", "filling rovd's store from the world's rsync tree")
	start := time.Now()
	if err := v.importWorld(ctx, "import"); err != nil {
		return nil, err
	}
	v.res.ImportSecs = time.Since(start).Seconds()
	finish()

	finish = env.Progress.Begin("floor", "measuring RSA verification for the signature floor")
	if v.res.Floor, err = measureFloor(ctx, env); err != nil {
		return nil, err
	}
	finish()

	full := &ProgramResult{ID: ProgRovdFull, Label: "rovd full (cold cache)", Version: version(ctx, v.rovd, "-V")}
	incr := &ProgramResult{ID: ProgRovdIncremental, Label: "rovd incremental", Version: full.Version}
	v.res.ValidationTime = worldTime(st).Add(time.Minute)
	for i := range n {
		finish := env.Progress.Begin(ProgRovdFull, fmt.Sprintf("rovd full run %d/%d", i+1, n))
		out := env.Path("out", fmt.Sprintf("%s-%d.csv", ProgRovdFull, i+1))
		cmd := v.vrpsCommand(v.res.ValidationTime, true, out)
		if err := v.measure(ctx, full, i+1, cmd, out); err != nil {
			return nil, fmt.Errorf("rovd: %w", err)
		}
		finish()
	}

	var peers []*ProgramResult
	for _, name := range env.Peers {
		p := v.runPeer(ctx, name, st)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}

	if err := v.incremental(ctx, incr); err != nil {
		return nil, err
	}

	v.res.Programs = append([]ProgramResult{*full, *incr}, derefAll(peers)...)
	for i := range v.res.Programs {
		v.res.Programs[i].summarize()
	}
	v.res.Checks = checks(v.res)
	return v.res, nil
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
func (v *validation) globalArgs() []string {
	return []string{"-r", v.store, "-t", filepath.Join(v.env.WorldDir, "tals"), "--allow-dubious-hosts"}
}

// importWorld fills rovd's store from the world's rsync tree, offline.
func (v *validation) importWorld(ctx context.Context, log string) error {
	args := append(v.globalArgs(), "update", "--import", filepath.Join(v.env.WorldDir, "rsync"))
	_, err := Measure(ctx, Command{Path: v.rovd, Args: args, Log: v.env.Path("logs", "rovd-"+log+".log"), Timeout: v.env.Timeout})
	if err != nil {
		return fmt.Errorf("rovd update --import: %w", err)
	}
	return nil
}

// vrpsCommand is one 'rovd vrps' run from the store, without updating.
func (v *validation) vrpsCommand(at time.Time, cold bool, out string) Command {
	args := append(v.globalArgs(), "--validation-time", at.UTC().Format(time.RFC3339))
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
	got, err := ReadVRPs(output)
	if err != nil {
		return fmt.Errorf("reading its output: %w", err)
	}
	truth, err := ReadVRPs(filepath.Join(v.env.WorldDir, "truth", "vrps.csv"))
	if err != nil {
		return err
	}
	c := Compare(got, truth)
	p.Compare = &c
	p.Runs = append(p.Runs, RunResult{
		WallSecs: u.Wall.Seconds(), CPUSecs: u.CPU.Seconds(),
		PeakRSSBytes: u.PeakRSS, PeakAnonBytes: u.PeakAnon, Samples: u.Samples,
		VRPs: c.VRPs, Missing: c.Missing, Extra: c.Extra,
	})
	return nil
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

func peerLabel(name string) string {
	if name == PeerFORT {
		return "FORT"
	}
	return name
}

// incremental measures rovd with its cache kept: one warm-up run fills
// the cache, then before each measured run MutatePercent of the
// publication points change and the store takes them in.
func (v *validation) incremental(ctx context.Context, p *ProgramResult) error {
	env, n := v.env, v.env.Runs
	finish := env.Progress.Begin("warm-up", "rovd warm-up run to fill the validation cache")
	warm := env.Path("out", "rovd-warm-up.csv")
	cmd := v.vrpsCommand(v.res.ValidationTime, false, warm)
	cmd.Log = env.Path("logs", "rovd-warm-up.log")
	if _, err := Measure(ctx, cmd); err != nil {
		return fmt.Errorf("rovd warm-up: %w", err)
	}
	finish()
	for i := range n {
		st, err := env.State()
		if err != nil {
			return err
		}
		// Mutations advance a minute at a time from the world's time,
		// not with the clock: the world stays coherent for rovd's
		// --validation-time whenever the run happens, and a minute
		// keeps each new manifest's thisUpdate after the last one's.
		at := worldTime(st).Add(time.Minute)
		finish := env.Progress.Begin("mutate", fmt.Sprintf("mutating %g%% of the publication points (%d/%d)", env.MutatePercent, i+1, n))
		mr, err := world.Mutate(ctx, env.WorldDir, world.MutateOptions{Percent: env.MutatePercent, Now: at, KeyCache: env.KeyCache, Logger: env.Logger})
		if err != nil {
			return fmt.Errorf("mutate: %w", err)
		}
		finish()
		finish = env.Progress.Begin("reimport", "rovd takes in the changes")
		if err := v.importWorld(ctx, fmt.Sprintf("reimport-%d", i+1)); err != nil {
			return err
		}
		finish()
		finish = env.Progress.Begin(ProgRovdIncremental, fmt.Sprintf("rovd incremental run %d/%d", i+1, n))
		out := env.Path("out", fmt.Sprintf("%s-%d.csv", ProgRovdIncremental, i+1))
		if err := v.measure(ctx, p, i+1, v.vrpsCommand(at.Add(time.Minute), false, out), out); err != nil {
			return fmt.Errorf("rovd incremental: %w", err)
		}
		p.Runs[len(p.Runs)-1].MutatedPoints = mr.Points
		finish()
	}
	return nil
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
	full, incr, rc := prog(ProgRovdFull), prog(ProgRovdIncremental), prog(PeerRPKIClient)
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
		// Both rovd rows: the incremental run keeps the cache, which
		// is where rovd's heap could grow.
		anon := full.PeakAnonBytes.Max
		if incr.measured() {
			anon = max(anon, incr.PeakAnonBytes.Max)
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
