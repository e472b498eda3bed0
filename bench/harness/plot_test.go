package harness_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/harness"
)

func TestWriteSVG(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		fig  harness.Figure
		want []string
		err  error
	}{
		{
			name: "log axes, a bound",
			fig: harness.Figure{Name: "log", Title: "wall time against size",
				X: harness.Axis{Label: "objects", Log: true}, Y: harness.Axis{Label: "seconds", Log: true},
				Series: []harness.Series{
					{Label: "rovd full", Points: []harness.XY{{X: 450, Y: 0.1}, {X: 900, Y: 0.2}, {X: 1800, Y: 0.35}}},
					{Label: "signature floor", Points: []harness.XY{{X: 450, Y: 0.04}, {X: 900, Y: 0}, {X: 1800, Y: 0.2}}, Style: 1, Dashed: true},
				}},
			want: []string{"wall time against size", "rovd full", "signature floor", "objects", "seconds"},
		},
		{
			name: "one point on linear axes",
			fig: harness.Figure{Name: "one", Title: "one size",
				Series: []harness.Series{{Label: "rovd", Points: []harness.XY{{X: 1657, Y: 0.27}}}}},
			want: []string{"one size", "rovd"},
		},
		{
			name: "nothing to draw on a log axis",
			fig: harness.Figure{Name: "empty", Y: harness.Axis{Log: true},
				Series: []harness.Series{{Label: "zero", Points: []harness.XY{{X: 1, Y: 0}}}}},
			err: harness.ErrEmptyFigure,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.fig.Name+".svg")
			err := harness.WriteSVG(tc.fig, path)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), "<?xml") || !strings.Contains(string(b), "<svg") || !strings.HasSuffix(strings.TrimSpace(string(b)), "</svg>") {
				t.Errorf("not an SVG document:\n%.300s", b)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), ">"+w+"<") {
					t.Errorf("the SVG lacks the text %q", w)
				}
			}
		})
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{350, 2300, []string{"500", "1000", "2000"}},
		{0.03, 0.9, []string{"0.05", "0.1", "0.2", "0.5"}},
		{1.1, 1.9, nil},
		{3, 4.5, []string{"3", "4"}},
		{0, 1, nil},
	} {
		if got := harness.LogTickLabels(tc.lo, tc.hi); !slices.Equal(got, tc.want) {
			t.Errorf("ticks %v..%v: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
