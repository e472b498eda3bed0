package harness

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ScalingTable is a Scaled stage's results at every world size it ran
// at, from the smallest.
type ScalingTable struct {
	Stage string       `json:"stage"`
	Rows  []ScalingRow `json:"rows"`
}

// ScalingRow is one world size.
type ScalingRow struct {
	// Scale is the size relative to the preset ("1/8", "1").
	Scale  string       `json:"scale"`
	World  WorldInfo    `json:"world"`
	Points []ScalePoint `json:"points"`
}

// unitScale splits a key of results.json into the stage's name and
// its world size.
func unitScale(key string) (name string, sc Scale, err error) {
	name, size, scaled := strings.Cut(key, "@")
	if !scaled {
		return name, FullScale, nil
	}
	sc, err = ParseScale(size)
	return name, sc, err
}

// stageUnits returns the keys of results.json that hold results of the
// stage: its own name, then NAME@SIZE from the smallest size.
func stageUnits(r *Results, stage string) []string {
	type unit struct {
		key string
		sc  Scale
	}
	var scaled []unit
	var keys []string
	for key := range r.Stages {
		name, sc, err := unitScale(key)
		switch {
		case err != nil || name != stage:
		case sc.IsFull():
			keys = append(keys, key)
		default:
			scaled = append(scaled, unit{key, sc})
		}
	}
	slices.SortFunc(scaled, func(a, b unit) int {
		return compareScale(a.sc, b.sc)
	})
	for _, u := range scaled {
		keys = append(keys, u.key)
	}
	return keys
}

// compareScale orders sizes by value.
func compareScale(a, b Scale) int { return cmp.Compare(a.Num*b.Den, b.Num*a.Den) }

// scalingTables gathers every Scaled stage's results by world size.
func scalingTables(r *Results) ([]ScalingTable, error) {
	var out []ScalingTable
	for _, s := range stages {
		sc, ok := s.(Scaled)
		if !ok {
			continue
		}
		t := ScalingTable{Stage: s.Name()}
		for _, key := range stageUnits(r, s.Name()) {
			_, size, _ := unitScale(key)
			pts, err := sc.ScalePoints(r.Stages[key])
			if err != nil {
				return nil, fmt.Errorf("scaling of %s: %w", key, err)
			}
			t.Rows = append(t.Rows, ScalingRow{Scale: size.String(), World: r.Worlds[size.String()], Points: pts})
		}
		slices.SortStableFunc(t.Rows, func(a, b ScalingRow) int {
			x, _ := ParseScale(a.Scale)
			y, _ := ParseScale(b.Scale)
			return compareScale(x, y)
		})
		if len(t.Rows) > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// programs returns the series of a scaling table in the order they
// first appear.
func (t *ScalingTable) programs() []ScalePoint {
	var out []ScalePoint
	for _, row := range t.Rows {
		for _, p := range row.Points {
			if !slices.ContainsFunc(out, func(q ScalePoint) bool { return q.Program == p.Program }) {
				out = append(out, p)
			}
		}
	}
	return out
}

// point returns a row's point of a program, or nil.
func (row *ScalingRow) point(program string) *ScalePoint {
	for i := range row.Points {
		if row.Points[i].Program == program {
			return &row.Points[i]
		}
	}
	return nil
}

// figures returns the scaling table's plots: wall time and peak memory
// against the number of objects in the world, one line per program.
func (t *ScalingTable) figures() []Figure {
	wall := Figure{
		Name:  "scale-" + t.Stage + "-wall",
		Title: fmt.Sprintf("%s: wall time against world size", t.Stage),
		X:     Axis{Label: "objects in the world", Log: true},
		Y:     Axis{Label: "wall time, s (median)", Log: true},
	}
	mem := Figure{
		Name:  "scale-" + t.Stage + "-memory",
		Title: fmt.Sprintf("%s: peak memory against world size", t.Stage),
		X:     Axis{Label: "objects in the world", Log: true},
		Y:     Axis{Label: "peak memory of the process tree, MB (median)", Log: true},
	}
	for i, prog := range t.programs() {
		var w, rss, anon []XY
		for _, row := range t.Rows {
			p := row.point(prog.Program)
			if p == nil {
				continue
			}
			x := float64(row.World.Stats.Objects)
			w = append(w, XY{x, p.WallSecs})
			if !p.Bound {
				rss = append(rss, XY{x, p.PeakRSSBytes / 1e6})
				anon = append(anon, XY{x, p.PeakAnonBytes / 1e6})
			}
		}
		wall.Series = append(wall.Series, Series{Label: prog.Program, Points: w, Style: i, Dashed: prog.Bound})
		if !prog.Bound {
			mem.Series = append(mem.Series, Series{Label: prog.Program + ", RSS", Points: rss, Style: i},
				Series{Label: prog.Program + ", anonymous", Points: anon, Style: i, Dashed: true})
		}
	}
	return []Figure{wall, mem}
}

// WritePlots draws the scaling plots of every Scaled stage and the
// figures of every Plotter stage into DIR/plots, replacing what is
// there, and returns what it wrote.
func WritePlots(dir string, r *Results) ([]PlotFile, error) {
	plotDir := filepath.Join(dir, PlotsDir)
	if err := os.RemoveAll(plotDir); err != nil {
		return nil, err
	}
	var out []PlotFile
	write := func(stage, unit string, f Figure) error {
		err := WriteSVG(f, filepath.Join(plotDir, f.Name+".svg"))
		if errors.Is(err, errEmptyFigure) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, PlotFile{File: PlotsDir + "/" + f.Name + ".svg", Title: f.Title, Stage: stage, Unit: unit})
		return nil
	}
	tables, err := scalingTables(r)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		for _, f := range t.figures() {
			if err := write(t.Stage, "", f); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range stages {
		pl, ok := s.(Plotter)
		if !ok {
			continue
		}
		for _, key := range stageUnits(r, s.Name()) {
			figs, err := pl.Figures(r.Stages[key])
			if err != nil {
				return nil, fmt.Errorf("figures of %s: %w", key, err)
			}
			_, sc, _ := unitScale(key)
			for _, f := range figs {
				if !sc.IsFull() {
					f.Name += "-" + sc.DirName()
					f.Title += fmt.Sprintf(" (%s of the preset)", sc)
				}
				if err := write(s.Name(), key, f); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}
