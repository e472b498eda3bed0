package harness_test

import (
	"testing"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

func TestParseScale(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want harness.Scale
		str  string
		dir  string
	}{
		{"1/8", harness.Scale{Num: 1, Den: 8}, "1/8", "1-8"},
		{"2/4", harness.Scale{Num: 1, Den: 2}, "1/2", "1-2"},
		{"0.125", harness.Scale{Num: 1, Den: 8}, "1/8", "1-8"},
		{" 1 ", harness.FullScale, "1", "1"},
		{"2", harness.Scale{Num: 2, Den: 1}, "2", "2"},
		{"3/2", harness.Scale{Num: 3, Den: 2}, "3/2", "3-2"},
	} {
		got, err := harness.ParseScale(tc.in)
		if err != nil || got != tc.want || got.String() != tc.str || got.DirName() != tc.dir {
			t.Errorf("ParseScale(%q) = %+v (%q, %q), %v; want %+v (%q, %q)", tc.in, got, got.String(), got.DirName(), err, tc.want, tc.str, tc.dir)
		}
	}
	for _, bad := range []string{"", "0", "-1/8", "1/0", "x", "1/8/2", "1e9", "1/2000000"} {
		if got, err := harness.ParseScale(bad); err == nil {
			t.Errorf("ParseScale(%q) = %+v, want an error", bad, got)
		}
	}
	list, err := harness.ParseScales([]string{"1/2,1", "1/8", "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	sorted := harness.SortScales(list)
	want := []harness.Scale{{Num: 1, Den: 8}, {Num: 1, Den: 2}, harness.FullScale}
	if len(sorted) != len(want) {
		t.Fatalf("sorted %v, want %v", sorted, want)
	}
	for i := range want {
		if sorted[i] != want[i] {
			t.Errorf("sorted %v, want %v", sorted, want)
		}
	}
}

func FuzzParseScale(f *testing.F) {
	for _, s := range []string{"1/8", "0.25", "2", "1/0", "-3", "7/1048576"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := harness.ParseScale(s)
		if err != nil {
			if sc != (harness.Scale{}) {
				t.Errorf("ParseScale(%q) failed but returned %+v", s, sc)
			}
			return
		}
		if sc.Num <= 0 || sc.Den <= 0 || sc.Float() <= 0 {
			t.Fatalf("ParseScale(%q) = %+v", s, sc)
		}
		again, err := harness.ParseScale(sc.String())
		if err != nil || again != sc {
			t.Errorf("ParseScale(%q) = %+v, but its string %q gives %+v, %v", s, sc, sc.String(), again, err)
		}
	})
}

func TestScaleConfig(t *testing.T) {
	kinds := len(world.FaultKinds)
	for _, tc := range []struct {
		preset      string
		scale       string
		top, faults int
	}{
		{"small", "1", 8, kinds},
		{"small", "1/8", 1, kinds},
		{"small", "1/2", 4, kinds},
		{"world", "1/8", 11, kinds},
		{"world", "1/2", 45, 2 * kinds},
		{"world", "2", 180, 8 * kinds},
		{"medium", "1/1000", 1, kinds},
	} {
		base, err := world.Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := harness.ParseScale(tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		repos := world.DefaultRepositories(len(base.Repositories))
		repos[0].HTTPS = "127.0.0.1:10443"
		c := sc.Config(base, repos)
		if c.TopWidth != tc.top || c.Faults != tc.faults || c.Width != base.Width || c.Depth != base.Depth || c.TAs != base.TAs {
			t.Errorf("%s at %s: top %d, faults %d, width %d, depth %d; want top %d, faults %d and the preset's width and depth",
				tc.preset, tc.scale, c.TopWidth, c.Faults, c.Width, c.Depth, tc.top, tc.faults)
		}
		if c.Repositories[0].HTTPS != "127.0.0.1:10443" {
			t.Errorf("%s at %s: repositories %v, want the ones given", tc.preset, tc.scale, c.Repositories)
		}
		// The number of CAs follows the size, give or take the
		// trust anchors and rounding, until there is one child per
		// trust anchor left.
		if got, full := float64(c.ExpectedCAs()), float64(base.ExpectedCAs()); float64(base.TopWidth)*sc.Float() >= 1 &&
			(got > full*sc.Float()*1.5+float64(base.TAs)*2 || got < full*sc.Float()/1.5) {
			t.Errorf("%s at %s: %v CAs of %v", tc.preset, tc.scale, got, full)
		}
	}
}
