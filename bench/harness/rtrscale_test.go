package harness

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRTRScalePoints picks the most sessions that rovd and the bare
// server both served in full.
func TestRTRScalePoints(t *testing.T) {
	round := func(server string, sessions, done int) RTRRound {
		return RTRRound{Server: server, Sessions: sessions, Done: done, Max: time.Duration(sessions) * time.Millisecond,
			CPU: time.Second, RSS: 1 << 20}
	}
	for _, c := range []struct {
		name   string
		rounds []RTRRound
		want   []string // programs, rovd first
		wall   float64  // rovd's
	}{
		{"all done", []RTRRound{round("rovd", 1, 1), round("rovd", 100, 100), round("bare", 1, 1), round("bare", 100, 100), round("stayrtr", 10, 10)},
			[]string{"rovd, 100 sessions", "bare server, 100 sessions"}, 0.1},
		{"bare short at the most", []RTRRound{round("rovd", 1, 1), round("rovd", 100, 100), round("bare", 1, 1), round("bare", 100, 99)},
			[]string{"rovd, 1 sessions", "bare server, 1 sessions"}, 0.001},
		{"none", []RTRRound{round("rovd", 1, 0), round("bare", 1, 1)}, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := json.Marshal(RTRResult{VRPs: 10, Rounds: c.rounds})
			if err != nil {
				t.Fatal(err)
			}
			pts, err := rtrStage{}.ScalePoints(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != len(c.want) {
				t.Fatalf("points %+v, want %v", pts, c.want)
			}
			for i, p := range pts {
				if p.Program != c.want[i] {
					t.Errorf("point %d is %q, want %q", i, p.Program, c.want[i])
				}
			}
			if len(pts) == 2 && (!pts[0].Rovd || !pts[1].Bound || pts[0].WallSecs != c.wall || pts[0].PeakRSSBytes == 0 || pts[1].PeakRSSBytes != 0) {
				t.Errorf("points %+v", pts)
			}
		})
	}
}
