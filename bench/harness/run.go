package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rovd/rovd/bench/world"
)

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
	// Dir receives the world, the stores, outputs and results. In the
	// Env of a stage at a scaled size it is that size's directory,
	// DIR/worlds/SIZE (Env.Root is DIR).
	Dir string
	// Runs is the number of measured runs of each program; 0 means
	// DefaultRuns(Preset).
	Runs int
	// Stages to run, in any order; they run in the order of
	// StageNames.
	Stages []string
	// Scale lists the world sizes, relative to the preset, at which
	// the Scaled stages run; empty means the preset's size alone. The
	// other stages run on the preset's world only.
	Scale []Scale
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
	// FloorDuration is how long RSA verification is measured, and at
	// least how long the ingest bound is; 0 means
	// DefaultFloorDuration.
	FloorDuration time.Duration
	// HTTPRound is the length of each load round of the HTTP stage; 0
	// means the preset's (half a second at small, five seconds at
	// world).
	HTTPRound time.Duration
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
	// Root is the run's directory, DIR; Options.Dir is the directory
	// of this stage's world size (DIR itself at the preset's size).
	Root string
	// Scale is the world's size relative to the preset.
	Scale Scale
	// Unit names the stage at this size in progress lines and
	// results.json: the stage's name, plus "@SIZE" when scaled.
	Unit string
	// WorldDir is the world, DIR/world at the preset's size.
	WorldDir string
	// Progress prints the stage's progress.
	Progress *Progress

	bin *rovdBinary
}

// rovdBinary is the rovd binary, found or built once per Run.
type rovdBinary struct {
	once sync.Once
	done atomic.Bool
	path string
	err  error
}

// WillBuildRovd tells whether Rovd is yet to build rovd, which a
// stage's plan and progress lines count as a step.
func (e *Env) WillBuildRovd() bool { return e.Options.Rovd == "" && !e.bin.done.Load() }

// Path returns a path under Options.Dir.
func (e *Env) Path(elem ...string) string {
	return filepath.Join(append([]string{e.Dir}, elem...)...)
}

// Rel returns path relative to Root, for report.md and report.json; a
// path outside Root is returned as it is.
func (e *Env) Rel(path string) string {
	rel, err := filepath.Rel(e.Root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return filepath.ToSlash(rel)
}

// State reads the world's current state (mutations change it).
func (e *Env) State() (*world.State, error) { return world.ReadState(e.WorldDir) }

// atScale returns the Env of the stage unit name at size sc: at the
// preset's size e itself with Unit set, otherwise one whose directory
// is DIR/worlds/SIZE, with the world in its world/.
func (e *Env) atScale(name string, sc Scale) *Env {
	u := *e
	u.Unit, u.Scale = unitKey(name, sc), sc
	if !sc.IsFull() {
		u.Dir = filepath.Join(e.Root, "worlds", sc.DirName())
		u.WorldDir = filepath.Join(u.Dir, "world")
	}
	return &u
}

// unitKey is a stage's key in results.json at one size: its name at
// the preset's size, NAME@SIZE at another.
func unitKey(name string, sc Scale) string {
	if sc.IsFull() {
		return name
	}
	return name + "@" + sc.String()
}

// Run runs the stages of opt whose results DIR does not hold yet, each
// Scaled stage at every size of opt.Scale, then writes DIR/results.json,
// DIR/report.md, DIR/report.json and the plots in DIR/plots.
func Run(ctx context.Context, opt Options) error {
	if err := opt.normalize(); err != nil {
		return err
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return err
	}
	env := &Env{Options: opt, Root: opt.Dir, Scale: FullScale, WorldDir: filepath.Join(opt.Dir, "world"),
		Progress: NewProgress(opt.Progress), bin: &rovdBinary{}}
	preset, err := world.Preset(opt.Preset)
	if err != nil {
		return err
	}
	st, err := ensureWorld(ctx, env, preset, false)
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
	res.Worlds[FullScale.String()] = worldInfo(st)
	for _, s := range stages {
		if !slices.Contains(opt.Stages, s.Name()) {
			continue
		}
		sizes := []Scale{FullScale}
		if _, ok := s.(Scaled); ok {
			sizes = opt.Scale
		}
		for _, sc := range sizes {
			u := env.atScale(s.Name(), sc)
			if res.Done(u.Unit) && !opt.Redo {
				env.Progress.Printf("stage %s: results from %s in %s, skipped", u.Unit,
					res.Finished[u.Unit].Format(time.RFC3339), ResultsFile)
				continue
			}
			if !sc.IsFull() {
				// A peer validates at the current time, so a cached
				// world too old for it is built again.
				wst, err := ensureWorld(ctx, u, sc.Config(preset, st.Config.Repositories), len(opt.Peers) > 0)
				if err != nil {
					return err
				}
				res.Worlds[sc.String()] = worldInfo(wst)
			}
			start := time.Now()
			v, err := s.Run(ctx, u)
			env.Progress.Plan("", nil)
			if err != nil {
				return fmt.Errorf("stage %s: %w", u.Unit, err)
			}
			if err := res.Set(u.Unit, v); err != nil {
				return err
			}
			res.Host.Versions = programVersions(ctx, env, res.Host.Versions)
			if err := writeOutputs(opt.Dir, res); err != nil {
				return err
			}
			env.Progress.Printf("stage %s done in %s", u.Unit, roundDuration(time.Since(start)))
		}
	}
	res.Host.Versions = programVersions(ctx, env, res.Host.Versions)
	if err := writeOutputs(opt.Dir, res); err != nil {
		return err
	}
	env.Progress.Printf("results in %s, report in %s and %s, plots in %s", filepath.Join(opt.Dir, ResultsFile),
		filepath.Join(opt.Dir, ReportFile), filepath.Join(opt.Dir, ReportJSONFile), filepath.Join(opt.Dir, PlotsDir))
	return nil
}

// writeOutputs saves results.json, then renders the reports and plots
// from it.
func writeOutputs(dir string, res *Results) error {
	if err := res.Save(dir); err != nil {
		return err
	}
	plots, err := WritePlots(dir, res)
	if err != nil {
		return err
	}
	if err := WriteReport(dir, res, plots); err != nil {
		return err
	}
	return WriteReportJSON(dir, res, plots)
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
	if len(o.Scale) == 0 {
		o.Scale = []Scale{FullScale}
	}
	for _, sc := range o.Scale {
		if !sc.valid() {
			return fmt.Errorf("scale %s: want a positive fraction such as 1/8", sc)
		}
	}
	o.Scale = sortScales(o.Scale)
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
	if o.HTTPRound < 0 {
		return fmt.Errorf("http round %s: want a positive duration", o.HTTPRound)
	}
	if o.FloorDuration == 0 {
		o.FloorDuration = DefaultFloorDuration
	}
	return nil
}

// ensureWorld builds the world of cfg into env.WorldDir unless a
// complete one (world.json is written last) of the same shape is there
// already. A world of another shape is an error at the preset's size,
// where it may hold results, and is built again at another size, where
// it is a cache; so is one there on other repositories than cfg's, or
// whose manifests no longer cover the current time when forPeers is
// set.
func ensureWorld(ctx context.Context, env *Env, cfg world.Config, forPeers bool) (*world.State, error) {
	what := "the " + env.Preset + " world"
	if !env.Scale.IsFull() {
		what = fmt.Sprintf("the %s world at %s of its size", env.Preset, env.Scale)
	}
	st, err := world.ReadState(env.WorldDir)
	switch {
	case err == nil && !sameShape(cfg, st.Config) && env.Scale.IsFull():
		return nil, fmt.Errorf("%s holds a world of another shape than preset %q; use another directory", env.WorldDir, env.Preset)
	case err == nil && !env.Scale.IsFull() && (!sameShape(cfg, st.Config) || !slices.Equal(cfg.Repositories, st.Config.Repositories)):
		// A world of another size follows the preset's onto its
		// addresses.
		env.Progress.Printf("%s holds a world of another shape or on other addresses; building %s again", env.WorldDir, what)
	case err == nil && forPeers && peerUsable(st, env.WorldDir, time.Now()) != "":
		env.Progress.Printf("%s is too old for the peers; building %s again", env.WorldDir, what)
	case err == nil:
		env.Progress.Printf("reusing %s in %s (built for %s)", what, env.WorldDir, st.Config.Now.Format(time.RFC3339))
		return st, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	// A directory without world.json is a build that was interrupted.
	if err := os.RemoveAll(env.WorldDir); err != nil {
		return nil, err
	}
	cfg.KeyCache, cfg.Logger = env.KeyCache, env.Logger
	env.Progress.Printf("building %s into %s", what, env.WorldDir)
	start := time.Now()
	if _, err := world.Build(ctx, cfg, env.WorldDir); err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	st, err = world.ReadState(env.WorldDir)
	if err != nil {
		return nil, err
	}
	env.Progress.Printf("built the world in %s: %d CAs, %d objects, %d VRPs", roundDuration(time.Since(start)),
		st.Stats.CAs, st.Stats.Objects, st.Stats.VRPs)
	return st, nil
}

// sameShape tells whether a world was built from cfg: the shape, not
// the time or the repositories.
func sameShape(cfg, built world.Config) bool {
	return cfg.Seed == built.Seed && cfg.TAs == built.TAs && cfg.Depth == built.Depth &&
		cfg.TopWidth == built.TopWidth && cfg.Width == built.Width && cfg.ROAsPerCA == built.ROAsPerCA &&
		cfg.Faults == built.Faults
}

// Rovd returns the rovd binary, building it on first use unless
// Options.Rovd names one.
func (e *Env) Rovd(ctx context.Context) (string, error) {
	b := e.bin
	b.once.Do(func() {
		if e.Options.Rovd != "" {
			b.path = e.Options.Rovd
			_, b.err = os.Stat(b.path)
			return
		}
		b.path, b.err = buildRovd(ctx, e)
		b.done.Store(true)
	})
	return b.path, b.err
}

// rovdStep is Rovd as a step of the stage's plan: a build, if one is
// due, is announced on the progress printer as a step of kind "build".
func (e *Env) rovdStep(ctx context.Context) (string, error) {
	finish := func() {}
	if e.WillBuildRovd() {
		finish = e.Progress.Begin("build", "building rovd into "+filepath.Join(e.Root, "bin", "rovd"))
	}
	path, err := e.Rovd(ctx)
	if err == nil {
		finish()
	}
	return path, err
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
	bin := filepath.Join(e.Root, "bin", "rovd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(e.Root, "logs"), 0o755); err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	_, err = Measure(ctx, Command{
		Path: goBin, Args: []string{"build", "-o", bin, "./cmd/rovd"},
		Dir: filepath.Dir(gomod), Log: filepath.Join(e.Root, "logs", "build-rovd.log"), Timeout: 30 * time.Minute,
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
	// rsync pads its version line with runs of spaces.
	return strings.Join(strings.Fields(line), " ")
}

// programVersions returns the versions of the programs a run uses,
// over those of earlier runs (old): rovd (when given or already
// built), each peer asked for that is installed, and rsync, which
// serves the world and which rovd runs to fetch from it.
func programVersions(ctx context.Context, env *Env, old map[string]string) map[string]string {
	v := maps.Clone(old)
	if v == nil {
		v = map[string]string{}
	}
	set := func(name, path, arg string) {
		if s := version(ctx, path, arg); s != "" {
			v[name] = s
		}
	}
	rovd := env.Options.Rovd
	if rovd == "" {
		rovd = filepath.Join(env.Root, "bin", "rovd")
	}
	if _, err := os.Stat(rovd); err == nil {
		set("rovd", rovd, "-V")
	}
	for _, p := range env.Peers {
		if bin, err := lookPeer(p); err == nil {
			set(p, bin, peerVersionArg(p))
		}
	}
	if bin, err := exec.LookPath("rsync"); err == nil {
		set("rsync", bin, "--version")
	}
	return v
}

// peerVersionArg is the option that makes a peer print its version.
func peerVersionArg(name string) string {
	if name == PeerFORT {
		return "--version"
	}
	return "-V"
}
