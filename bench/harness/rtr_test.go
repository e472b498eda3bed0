package harness_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
)

// TestRTRStage runs the RTR stage small: rovd as a relay and the bare
// server answer every session with the whole set, and a change reaches
// every session as a delta. No timing is checked.
func TestRTRStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd")
	}
	dir := t.TempDir()
	rovd := buildRovd(t, dir)
	stayrtr, _ := exec.LookPath("stayrtr")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const vrps = 3000
	res, err := harness.RunRTR(ctx, harness.RTROptions{Rovd: rovd, StayRTR: stayrtr, Dir: filepath.Join(dir, "rtr"),
		VRPs: vrps, Sessions: []int{1, 20}, StayRTRSessions: 2, DeltaSessions: 10, DeltaChange: 50, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rounds {
		if r.Done != r.Sessions || r.Err != "" {
			t.Errorf("%s, %d sessions: %d done: %s", r.Server, r.Sessions, r.Done, r.Err)
		}
		// Cache Response, the prefixes, End of Data.
		if want := int64(r.Sessions * (vrps + 2)); r.PDUs != want {
			t.Errorf("%s, %d sessions: %d PDUs, want %d", r.Server, r.Sessions, r.PDUs, want)
		}
	}
	if d := res.Delta; d == nil || d.Done != 10 || d.PDUs != 10*(2*50+2) {
		t.Errorf("delta: %+v", d)
	}
	if res.LoopbackBytesPerSec <= 0 || res.ResponseBytes == 0 {
		t.Errorf("loopback %v, response %d bytes", res.LoopbackBytesPerSec, res.ResponseBytes)
	}
}

// buildRovd builds rovd into dir and returns its path.
func buildRovd(t *testing.T, dir string) string {
	t.Helper()
	rovd := filepath.Join(dir, "rovd")
	if out, err := exec.Command("go", "build", "-o", rovd, "github.com/rovd/rovd/cmd/rovd").CombinedOutput(); err != nil {
		t.Fatalf("build rovd: %v\n%s", err, out)
	}
	return rovd
}
