package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

// TestRunScaled runs a Scaled stage at two sizes: the smaller world
// is built from the preset into DIR/worlds/SIZE on the repositories of
// the preset's world, the results of each size are stored and resumed
// on their own, and the reports and plots cover them all.
func TestRunScaled(t *testing.T) {
	type sized struct {
		Objects int    `json:"objects"`
		Unit    string `json:"unit"`
	}
	var runs []string
	stage := harness.ScaledFuncStage{
		FuncStage: harness.FuncStage{StageName: "sized", RunFunc: func(_ context.Context, env *harness.Env) (any, error) {
			st, err := env.State()
			if err != nil {
				return nil, err
			}
			runs = append(runs, env.Unit)
			return sized{Objects: st.Stats.Objects, Unit: env.Unit}, nil
		}},
		PointsFunc: func(raw json.RawMessage) ([]harness.ScalePoint, error) {
			var s sized
			err := json.Unmarshal(raw, &s)
			return []harness.ScalePoint{
				{Program: "rovd", Rovd: true, WallSecs: float64(s.Objects) / 1000, PeakRSSBytes: 2e7, PeakAnonBytes: 1e7, Agrees: true},
				{Program: "peer", WallSecs: float64(s.Objects) / 500, PeakRSSBytes: 1e7, PeakAnonBytes: 3e6, Agrees: false},
				{Program: "bound", Bound: true, WallSecs: float64(s.Objects) / 5000, Agrees: true},
			}, err
		},
		FiguresFunc: func(raw json.RawMessage) ([]harness.Figure, error) {
			return []harness.Figure{{Name: "own", Title: "a stage's own figure",
				Series: []harness.Series{{Label: "x", Points: []harness.XY{{X: 1, Y: 2}, {X: 2, Y: 3}}}}}}, nil
		},
	}
	other := harness.FuncStage{StageName: "plain", RunFunc: func(_ context.Context, env *harness.Env) (any, error) {
		runs = append(runs, env.Unit)
		return 1, nil
	}}
	defer harness.SetStages(other, stage)()

	dir := t.TempDir()
	main := buildWorld(t, filepath.Join(dir, "world"), "")
	scales, err := harness.ParseScales([]string{"1,1/4", "0.25"})
	if err != nil {
		t.Fatal(err)
	}
	opt := harness.Options{Preset: "small", Dir: dir, Stages: []string{"sized", "plain"}, Scale: scales, KeyCache: t.TempDir()}
	if err := harness.Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if want := []string{"plain", "sized@1/4", "sized"}; !slices.Equal(runs, want) {
		t.Errorf("ran %q, want %q", runs, want)
	}
	for _, size := range []string{"1-4"} {
		st, err := world.ReadState(filepath.Join(dir, "worlds", size, "world"))
		if err != nil {
			t.Fatal(err)
		}
		if st.Stats.Objects >= main.Stats.Objects || !slices.Equal(repoAddrs(st), repoAddrs(main)) {
			t.Errorf("world at %s: %d objects (preset's %d), repositories %v (preset's %v)",
				size, st.Stats.Objects, main.Stats.Objects, repoAddrs(st), repoAddrs(main))
		}
	}

	var rep harness.ReportJSON
	b, err := os.ReadFile(filepath.Join(dir, harness.ReportJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Host.Cores == 0 || rep.Host.CPU == "" || rep.Host.MemoryBytes == 0 || rep.Host.Kernel == "" || rep.Host.GoVersion == "" {
		t.Errorf("host %+v", rep.Host)
	}
	if _, err := os.Stat("/usr/bin/rsync"); err == nil && rep.Host.Versions["rsync"] == "" {
		t.Errorf("no rsync version in %v", rep.Host.Versions)
	}
	if len(rep.Stages) != 3 || len(rep.Scaling) != 1 || len(rep.Scaling[0].Rows) != 2 {
		t.Fatalf("stages %v, scaling %+v", slices.Sorted(maps.Keys(rep.Stages)), rep.Scaling)
	}
	var sizes []string
	prev := 0
	for _, row := range rep.Scaling[0].Rows {
		sizes = append(sizes, row.Scale)
		if row.World.Stats.Objects <= prev || len(row.Points) != 3 {
			t.Errorf("row %+v", row)
		}
		prev = row.World.Stats.Objects
	}
	if !slices.Equal(sizes, []string{"1/4", "1"}) {
		t.Errorf("sizes %q", sizes)
	}
	var files []string
	for _, p := range rep.Plots {
		files = append(files, p.File)
		if _, err := os.Stat(filepath.Join(dir, p.File)); err != nil {
			t.Error(err)
		}
	}
	want := []string{"plots/scale-sized-wall.svg", "plots/scale-sized-memory.svg", "plots/own.svg", "plots/own-1-4.svg"}
	if !slices.Equal(files, want) {
		t.Errorf("plots %q, want %q", files, want)
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"## Stage sized at 1/4 of the preset's size", "## Scaling of stage sized",
		"| size | CAs | objects | VRPs | rovd | peer | bound | rovd ÷ peer | rovd ÷ bound |",
		"| 1 | 146 | ", " *", "(plots/own-1-4.svg)", "(plots/scale-sized-wall.svg)",
	} {
		if !strings.Contains(string(report), w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
	// The memory table leaves the bound out.
	if !strings.Contains(string(report), "| size | rovd | peer |\n") {
		t.Errorf("report's memory table:\n%s", report)
	}

	// Everything is done: a second run builds and runs nothing.
	runs = nil
	if err := harness.Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Errorf("second run ran %q", runs)
	}

	// A smaller world on other addresses than the preset's is built
	// again when its stage runs.
	state := filepath.Join(dir, "worlds", "1-4", "world", world.StateFile)
	b, err = os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	addr := main.Repositories[0].HTTPS
	if err := os.WriteFile(state, []byte(strings.ReplaceAll(string(b), addr, "127.0.0.1:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	redo := opt
	redo.Redo, redo.Stages, redo.Progress = true, []string{"sized"}, &progress
	if err := harness.Run(context.Background(), redo); err != nil {
		t.Fatal(err)
	}
	st, err := world.ReadState(filepath.Dir(state))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "on other addresses; building the small world at 1/4 of its size again") ||
		!slices.Equal(repoAddrs(st), repoAddrs(main)) {
		t.Errorf("repositories %v after:\n%s", repoAddrs(st), progress.String())
	}
}

func repoAddrs(st *world.State) []string {
	var out []string
	for _, r := range st.Config.Repositories {
		out = append(out, r.HTTPS+" "+r.Rsync)
	}
	return out
}
