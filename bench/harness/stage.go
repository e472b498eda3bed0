package harness

import (
	"context"
	"encoding/json"
	"io"
)

// Stage is one part of a benchmark run.
//
// A stage is added by implementing Stage (and, where it fits, Scaled
// and Plotter) and putting a value of it into stages, the registry
// below: its place there is where it runs and where its section goes
// in report.md. The stage's name becomes a value of --stages, its
// results an entry of results.json and report.json; Run hands it an Env
// with the world already built, the rovd binary (Env.Rovd), the paths
// under DIR and the progress printer.
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

// Scaled is a Stage that runs on every world size of Options.Scale,
// each size's world built from the preset's by Scale.Config. Its
// ScalePoints give the scaling table and the plots of cost against
// world size.
type Scaled interface {
	Stage
	// ScalePoints returns one point per program (or bound) from the
	// stage's results at one size, as stored.
	ScalePoints(raw json.RawMessage) ([]ScalePoint, error)
}

// ScalePoint is what one program cost at one world size.
type ScalePoint struct {
	// Program names the series; the same name at every size.
	Program string `json:"program"`
	// Rovd marks rovd's series, Bound a physical bound (drawn dashed,
	// without memory).
	Rovd  bool `json:"rovd,omitempty"`
	Bound bool `json:"bound,omitempty"`
	// WallSecs, CPUSecs, PeakRSSBytes and PeakAnonBytes are medians of
	// the runs.
	WallSecs      float64 `json:"wallSecs"`
	CPUSecs       float64 `json:"cpuSecs,omitempty"`
	PeakRSSBytes  float64 `json:"peakRSSBytes,omitempty"`
	PeakAnonBytes float64 `json:"peakAnonBytes,omitempty"`
	// Agrees tells whether the program's VRPs equalled the truth, or
	// differed only where an injected fault explains it.
	Agrees bool `json:"agrees"`
}

// Plotter is a Stage with figures of its own beyond the scaling plots:
// they are drawn into DIR/plots/ and shown in report.md after the
// stage's section.
type Plotter interface {
	Stage
	// Figures returns the stage's figures from its results, as
	// stored.
	Figures(raw json.RawMessage) ([]Figure, error)
}

// stages lists every stage in the order they run and are reported.
var stages = []Stage{fetchStage{}, validateStage{}, rtrStage{}, httpStage{}}

// StageNames returns the names of the stages, in order.
func StageNames() []string {
	var names []string
	for _, s := range stages {
		names = append(names, s.Name())
	}
	return names
}
