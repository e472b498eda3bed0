package harness

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// PlotsDir is the directory under DIR that receives the plots.
const PlotsDir = "plots"

// Figure is a plot of lines with points: one Series per program, with
// its values against a common X.
type Figure struct {
	// Name is the file's name under DIR/plots, without ".svg"; unique
	// in a run.
	Name  string
	Title string
	X, Y  Axis
	// Series are drawn in order, each in its own colour and marker.
	Series []Series
}

// Axis is a figure's axis.
type Axis struct {
	Label string
	// Log draws the axis on a logarithmic scale; values that are not
	// positive are then left out.
	Log bool
}

// Series is one line of a figure.
type Series struct {
	Label  string
	Points []XY
	// Style picks the colour and marker; series of one program share
	// it and differ in Dashed.
	Style int
	// Dashed draws the line dashed: for bounds, or a second quantity
	// of the same program.
	Dashed bool
}

// XY is one point of a series.
type XY struct{ X, Y float64 }

// PlotFile is a figure written into DIR/plots.
type PlotFile struct {
	// File is the path relative to DIR.
	File  string `json:"file"`
	Title string `json:"title"`
	// Stage is the stage the figure belongs to; Unit, for a figure
	// of one run of a Plotter stage, its key in results.json (NAME or
	// NAME@SIZE), empty for the scaling plots.
	Stage string `json:"stage"`
	Unit  string `json:"unit,omitempty"`
}

// Size of a figure, legend included, and the room between the plot and
// the legend on its right.
const (
	figureWidth  = 8 * vg.Inch
	figureHeight = 4.5 * vg.Inch
	legendGap    = 0.15 * vg.Inch
	legendSlack  = 1.25
)

// errEmptyFigure is returned for a figure without a point to draw.
var errEmptyFigure = errors.New("no points to draw")

// WriteSVG draws f into the SVG file path.
func WriteSVG(f Figure, path string) error {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.X.Label, f.Y.Label
	p.Add(plotter.NewGrid())
	// The legend goes to the right of the plot, where it hides no
	// line.
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	xr, yr := newRange(), newRange()
	drawn := 0
	for _, s := range f.Series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if (f.X.Log && pt.X <= 0) || (f.Y.Log && pt.Y <= 0) || math.IsNaN(pt.X) || math.IsNaN(pt.Y) {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
			xr.add(pt.X)
			yr.add(pt.Y)
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("figure %s, series %s: %w", f.Name, s.Label, err)
		}
		c := plotutil.Color(s.Style)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(s.Style)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line, points)
		legend.Add(s.Label, line, points)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("figure %s: %w", f.Name, errEmptyFigure)
	}
	setAxis(&p.X, f.X.Log, xr)
	setAxis(&p.Y, f.Y.Log, yr)

	c := vgsvg.New(figureWidth, figureHeight)
	dc := draw.New(c)
	// The SVG names its font without embedding it, and a viewer that
	// lacks it may draw wider text than measured here: the legend's
	// text starts after its markers and has room to grow rightwards.
	lr := legend.Rectangle(dc)
	area, side := dc, dc
	area.Max.X -= (lr.Max.X-lr.Min.X)*legendSlack + legendGap
	side.Min.X = area.Max.X + legendGap
	p.Draw(area)
	legend.Draw(side)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// valueRange is the smallest and largest value drawn on an axis.
type valueRange struct{ min, max float64 }

func newRange() valueRange { return valueRange{math.Inf(1), math.Inf(-1)} }

func (r *valueRange) add(v float64) {
	r.min, r.max = min(r.min, v), max(r.max, v)
}

// setAxis sets an axis's range from the values drawn on it, with some
// room around them (a single value gets a range of its own), and its
// ticks.
func setAxis(a *plot.Axis, log bool, r valueRange) {
	if log {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = logTicks{}
		// A factor of 1.5 each way spans more than the widest gap
		// between two ticks (1 to 2), so there is always one.
		a.Min, a.Max = r.min/1.5, r.max*1.5
		return
	}
	pad := (r.max - r.min) * 0.08
	if pad == 0 {
		pad = math.Max(math.Abs(r.max)*0.5, 1)
	}
	a.Min, a.Max = r.min-pad, r.max+pad
	if r.min >= 0 {
		a.Min = math.Max(a.Min, 0)
	}
}

// logTicks marks a logarithmic axis at 1, 2 and 5 times each power of
// ten, with minor ticks at the other multiples: plot.LogTicks labels
// only the powers of ten, which leaves a range within one decade (the
// common case here) without a label.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		decade := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * decade
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled < 2 {
		// A narrow range: label every tick.
		for i := range ticks {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 3, 64)
		}
	}
	return ticks
}
