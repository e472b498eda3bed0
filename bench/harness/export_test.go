package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"gonum.org/v1/plot"
)

// ParseStat and ParseStatus expose the /proc parsers to the tests.
var (
	ParseStat   = parseStat
	ParseStatus = parseStatus
	LinkTree    = linkTree
	ReachableBy = reachableBy
	PeerUsable  = peerUsable

	ResultsFormat = resultsFormat

	SampleByScan     = sampleByScan
	SampleByChildren = sampleByChildren
)

// FuncStage is a stage made of functions, for tests of Run.
type FuncStage struct {
	StageName string
	RunFunc   func(ctx context.Context, env *Env) (any, error)
}

func (s FuncStage) Name() string                                   { return s.StageName }
func (s FuncStage) Run(ctx context.Context, env *Env) (any, error) { return s.RunFunc(ctx, env) }
func (s FuncStage) Report(w io.Writer, raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := b.WriteTo(w)
	return err
}

// SetStages replaces the stage list for a test and returns the function
// that restores it.
func SetStages(s ...Stage) (restore func()) {
	old := stages
	stages = s
	return func() { stages = old }
}

// StartLoopback starts the validate stage's loopback servers and
// returns what the tests need of them.
func StartLoopback(ctx context.Context, env *Env) (caFile string, reset func(), fetched func() *FetchStats, stop func() error, err error) {
	l, err := startLoopback(ctx, env)
	if err != nil {
		return "", nil, nil, nil, err
	}
	return l.caFile(), l.reset, l.fetched, l.close, nil
}

// ScaledFuncStage is a FuncStage that runs at every size of
// Options.Scale and draws figures of its own.
type ScaledFuncStage struct {
	FuncStage
	PointsFunc  func(raw json.RawMessage) ([]ScalePoint, error)
	FiguresFunc func(raw json.RawMessage) ([]Figure, error)
}

func (s ScaledFuncStage) ScalePoints(raw json.RawMessage) ([]ScalePoint, error) {
	return s.PointsFunc(raw)
}

func (s ScaledFuncStage) Figures(raw json.RawMessage) ([]Figure, error) {
	return s.FiguresFunc(raw)
}

// Internals the tests check directly.
var (
	ErrEmptyFigure  = errEmptyFigure
	PublishContents = publishContents
	SortScales      = sortScales
	LogTickLabels   = func(lo, hi float64) []string { return tickLabels(logTicks{}.Ticks(lo, hi)) }
)

func tickLabels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// ReportHTTP writes the HTTP stage's section of report.md.
func ReportHTTP(w io.Writer, r *HTTPResult) { reportHTTP(w, r) }

// HTTPFigures returns the HTTP stage's figures from its results.
func HTTPFigures(raw json.RawMessage) ([]Figure, error) { return httpStage{}.Figures(raw) }
