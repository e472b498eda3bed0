package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// Stage is one part of a benchmark run.
type Stage interface {
	// Name is the stage's name on the command line and its key in
	// results.json.
	Name() string
	// Run measures the stage; its results go into results.json as
	// JSON. A stage that returns an error stores nothing and runs
	// again next time.
	Run(ctx context.Context, env *Env) (any, error)
	// Report writes the stage's section of report.md from the results
	// Run returned, as stored.
	Report(w io.Writer, raw json.RawMessage) error
}

// stages lists every stage in the order they run and are reported.
var stages = []Stage{validateStage{}}

// StageNames returns the names of the stages, in order.
func StageNames() []string {
	var names []string
	for _, s := range stages {
		names = append(names, s.Name())
	}
	return names
}

// Peer names.
const (
	PeerRPKIClient = "rpki-client"
	PeerFORT       = "fort"
)

// Peers lists the peers the harness knows.
var Peers = []string{PeerRPKIClient, PeerFORT}

// Options control Run.
type Options struct {
	// Preset is the world preset (world.Preset).
	Preset string
	// Dir receives the world, the stores, outputs and results.
	Dir string
	// Runs is the number of measured runs of each program; 0 means
	// DefaultRuns(Preset).
	Runs int
	// Stages to run, in any order; they run in the order of
	// StageNames.
	Stages []string
	// Redo runs the stages even if DIR holds their results.
	Redo bool
	// Peers to run beside rovd, each only if installed.
	Peers []string
	// Rovd is the rovd binary; empty builds ./cmd/rovd of the module
	// the working directory is in into DIR/bin/rovd.
	Rovd string
	// KeyCache is the world's key cache (world.Config.KeyCache).
	KeyCache string
	// Timeout bounds every run of a program; 0 means DefaultTimeout.
	Timeout time.Duration
	// MutatePercent is the share of publication points changed before
	// each incremental run; 0 means 1.
	MutatePercent float64
	// FloorDuration is how long RSA verification is measured; 0 means
	// DefaultFloorDuration.
	FloorDuration time.Duration
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Logger receives the world generator's log; nil discards.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTimeout       = 2 * time.Hour
	DefaultFloorDuration = 3 * time.Second
)

// DefaultRuns is the default number of runs: three, the fewest that
// give a median apart from the extremes, but one for the world preset
// whose runs take minutes each.
func DefaultRuns(preset string) int {
	if preset == "world" {
		return 1
	}
	return 3
}

// Env is what a stage works with.
type Env struct {
	Options
	// WorldDir is DIR/world.
	WorldDir string
	// Progress prints the stage's progress.
	Progress *Progress

	rovdOnce sync.Once
	rovd     string
	rovdErr  error
}

// Path returns a path under DIR.
func (e *Env) Path(elem ...string) string {
	return filepath.Join(append([]string{e.Dir}, elem...)...)
}

// State reads the world's current state (mutations change it).
func (e *Env) State() (*world.State, error) { return world.ReadState(e.WorldDir) }

// Run runs the stages of opt whose results DIR does not hold yet, then
// writes DIR/results.json and DIR/report.md.
func Run(ctx context.Context, opt Options) error {
	if err := opt.normalize(); err != nil {
		return err
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return err
	}
	env := &Env{Options: opt, WorldDir: filepath.Join(opt.Dir, "world"), Progress: NewProgress(opt.Progress)}
	st, err := ensureWorld(ctx, env)
	if err != nil {
		return err
	}
	res, discarded, err := LoadResults(opt.Dir, opt.Preset, st)
	if err != nil {
		return err
	}
	if discarded != "" {
		env.Progress.Printf("starting afresh: %s", discarded)
	}
	for _, s := range stages {
		if !slices.Contains(opt.Stages, s.Name()) {
			continue
		}
		if res.Done(s.Name()) && !opt.Redo {
			env.Progress.Printf("stage %s: results from %s in %s, skipped", s.Name(),
				res.Finished[s.Name()].Format(time.RFC3339), ResultsFile)
			continue
		}
		start := time.Now()
		v, err := s.Run(ctx, env)
		env.Progress.Plan("", nil)
		if err != nil {
			return fmt.Errorf("stage %s: %w", s.Name(), err)
		}
		if err := res.Set(s.Name(), v); err != nil {
			return err
		}
		if err := res.Save(opt.Dir); err != nil {
			return err
		}
		if err := WriteReport(opt.Dir, res); err != nil {
			return err
		}
		env.Progress.Printf("stage %s done in %s", s.Name(), roundDuration(time.Since(start)))
	}
	if err := WriteReport(opt.Dir, res); err != nil {
		return err
	}
	env.Progress.Printf("results in %s, report in %s", filepath.Join(opt.Dir, ResultsFile), filepath.Join(opt.Dir, ReportFile))
	return nil
}

func (o *Options) normalize() error {
	if o.Dir == "" {
		return errors.New("no output directory")
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	o.Dir = abs
	if o.Preset == "" {
		o.Preset = "small"
	}
	if _, err := world.Preset(o.Preset); err != nil {
		return err
	}
	if o.Runs == 0 {
		o.Runs = DefaultRuns(o.Preset)
	}
	if o.Runs < 0 {
		return fmt.Errorf("runs %d: want at least 1", o.Runs)
	}
	if len(o.Stages) == 0 {
		return errors.New("no stages")
	}
	for _, s := range o.Stages {
		if !slices.Contains(StageNames(), s) {
			return fmt.Errorf("unknown stage %q (have %s)", s, strings.Join(StageNames(), ", "))
		}
	}
	for _, p := range o.Peers {
		if !slices.Contains(Peers, p) {
			return fmt.Errorf("unknown peer %q (have %s)", p, strings.Join(Peers, ", "))
		}
	}
	if o.Rovd != "" {
		abs, err := filepath.Abs(o.Rovd)
		if err != nil {
			return err
		}
		o.Rovd = abs
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MutatePercent == 0 {
		o.MutatePercent = 1
	}
	if o.MutatePercent < 0 || o.MutatePercent > 100 {
		return fmt.Errorf("mutate %v%%: want a percentage in (0, 100]", o.MutatePercent)
	}
	if o.FloorDuration == 0 {
		o.FloorDuration = DefaultFloorDuration
	}
	return nil
}

// ensureWorld builds the preset's world into DIR/world unless a
// complete one (world.json is written last) is there already.
func ensureWorld(ctx context.Context, env *Env) (*world.State, error) {
	cfg, err := world.Preset(env.Preset)
	if err != nil {
		return nil, err
	}
	if st, err := world.ReadState(env.WorldDir); err == nil {
		if !samePreset(cfg, st.Config) {
			return nil, fmt.Errorf("%s holds a world of another shape than preset %q; use another directory", env.WorldDir, env.Preset)
		}
		env.Progress.Printf("reusing the world in %s (built for %s)", env.WorldDir, st.Config.Now.Format(time.RFC3339))
		return st, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// A directory without world.json is a build that was interrupted.
	if err := os.RemoveAll(env.WorldDir); err != nil {
		return nil, err
	}
	cfg.KeyCache, cfg.Logger = env.KeyCache, env.Logger
	env.Progress.Printf("building the %s world into %s", env.Preset, env.WorldDir)
	start := time.Now()
	if _, err := world.Build(ctx, cfg, env.WorldDir); err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	st, err := world.ReadState(env.WorldDir)
	if err != nil {
		return nil, err
	}
	env.Progress.Printf("built the world in %s: %d CAs, %d objects, %d VRPs", roundDuration(time.Since(start)),
		st.Stats.CAs, st.Stats.Objects, st.Stats.VRPs)
	return st, nil
}

// samePreset tells whether a world was built from the preset cfg: the
// shape, not the time or the repositories.
func samePreset(cfg, built world.Config) bool {
	return cfg.Seed == built.Seed && cfg.TAs == built.TAs && cfg.Depth == built.Depth &&
		cfg.TopWidth == built.TopWidth && cfg.Width == built.Width && cfg.ROAsPerCA == built.ROAsPerCA
}

// Rovd returns the rovd binary, building it on first use unless
// Options.Rovd names one.
func (e *Env) Rovd(ctx context.Context) (string, error) {
	e.rovdOnce.Do(func() {
		if e.Options.Rovd != "" {
			e.rovd = e.Options.Rovd
			_, e.rovdErr = os.Stat(e.rovd)
			return
		}
		e.rovd, e.rovdErr = buildRovd(ctx, e)
	})
	return e.rovd, e.rovdErr
}

// rovdModule is the module whose ./cmd/rovd is built.
const rovdModule = "github.com/rovd/rovd"

func buildRovd(ctx context.Context, e *Env) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the rovd module (go env GOMOD): %w; pass the rovd binary instead", err)
	}
	gomod := strings.TrimSpace(string(out))
	mod, err := os.ReadFile(gomod)
	if gomod == "" || gomod == os.DevNull || err != nil || !strings.Contains(string(mod), "module "+rovdModule+"\n") {
		return "", fmt.Errorf("the working directory is not in the %s module; run from there or pass the rovd binary", rovdModule)
	}
	bin := e.Path("bin", "rovd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(e.Path("logs"), 0o755); err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	_, err = Measure(ctx, Command{
		Path: goBin, Args: []string{"build", "-o", bin, "./cmd/rovd"},
		Dir: filepath.Dir(gomod), Log: e.Path("logs", "build-rovd.log"), Timeout: 30 * time.Minute,
	})
	if err != nil {
		return "", fmt.Errorf("building rovd: %w", err)
	}
	return bin, nil
}

// CheckRovd tells whether the rovd binary at path has the vrps command
// the harness drives.
func CheckRovd(ctx context.Context, path string) error {
	_, err := Measure(ctx, Command{Path: path, Args: []string{"vrps", "-h"}, Timeout: time.Minute})
	if err != nil {
		return fmt.Errorf("%s has no usable vrps command: %w", path, err)
	}
	return nil
}

// version returns the first line a program prints for its version
// option, or "" if it prints nothing useful.
func version(ctx context.Context, path string, arg string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, arg).CombinedOutput() // some exit 1 after printing
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
