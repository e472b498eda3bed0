package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

// stubRovd stands in for rovd: it logs its arguments to $STUB_LOG, and
// its vrps command writes the world's current truth (found beside the
// TAL directory), so the harness's plumbing is tested without rovd.
const stubRovd = `#!/bin/sh
echo "$*" >> "$STUB_LOG"
tals= out= cmd=
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) exit 0;;
	-V|--version) echo "rovd stub"; exit 0;;
	-t) tals=$2; shift;;
	-o) out=$2; shift;;
	-r|--validation-time|--import|-f) shift;;
	update|vrps) cmd=$1;;
	esac
	shift
done
case $cmd in
vrps) cp "$tals/../truth/vrps.csv" "$out";;
update) ;;
*) exit 1;;
esac
`

// TestValidateStage runs the validate stage with the stub for rovd and
// whichever peers are installed.
func TestValidateStage(t *testing.T) {
	dir := t.TempDir()
	stub := filepath.Join(t.TempDir(), "rovd")
	if err := os.WriteFile(stub, []byte(stubRovd), 0o755); err != nil {
		t.Fatal(err)
	}
	argLog := filepath.Join(t.TempDir(), "args")
	t.Setenv("STUB_LOG", argLog)
	var progress bytes.Buffer
	err := harness.Run(context.Background(), harness.Options{
		Preset: "small", Dir: dir, Runs: 1, Stages: []string{"validate"}, Peers: harness.Peers,
		Rovd: stub, KeyCache: t.TempDir(), Timeout: 5 * time.Minute, FloorDuration: 100 * time.Millisecond,
		Progress: &progress,
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, harness.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var res harness.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	var v harness.ValidateResults
	if err := json.Unmarshal(res.Stages["validate"], &v); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range v.Programs {
		ids = append(ids, p.ID)
	}
	if want := []string{harness.ProgRovdFull, harness.ProgRovdIncremental, harness.PeerRPKIClient, harness.PeerFORT}; !slices.Equal(ids, want) {
		t.Fatalf("programs %v, want %v", ids, want)
	}
	for _, p := range v.Programs[:2] {
		if len(p.Runs) != 1 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 || p.Compare.VRPs == 0 {
			t.Errorf("%s: runs %+v, comparison %+v", p.ID, p.Runs, p.Compare)
		}
	}
	if r := v.Programs[1].Runs; len(r) == 1 && r[0].MutatedPoints == 0 {
		t.Error("the incremental run changed no publication point")
	}
	for _, p := range v.Programs[2:] {
		if _, err := exec.LookPath(p.ID); err != nil {
			if p.Skipped == "" {
				t.Errorf("%s is not installed but was not skipped: %+v", p.ID, p)
			}
			continue
		}
		if p.Error != "" || p.Skipped != "" || len(p.Runs) != 1 {
			t.Errorf("%s: error %q, skipped %q, %d runs", p.ID, p.Error, p.Skipped, len(p.Runs))
			continue
		}
		// How well a peer validates is its business; that it found
		// the world is ours.
		t.Logf("%s (%s): %+v; notes %q", p.ID, p.Version, *p.Compare, p.Notes)
		if p.Compare.VRPs < p.Compare.Truth/2 {
			t.Errorf("%s found %d of %d VRPs: its input is laid out wrong", p.ID, p.Compare.VRPs, p.Compare.Truth)
		}
		if p.PeakRSSBytes.Median <= 0 || p.CPUSecs.Median <= 0 {
			t.Errorf("%s: not measured: %+v", p.ID, p)
		}
	}
	if v.Floor.Verifications == 0 || v.Floor.Secs <= 0 || len(v.Checks) != 4 {
		t.Errorf("floor %+v, checks %+v", v.Floor, v.Checks)
	}

	// rovd was driven as its command line says.
	st, err := world.ReadState(filepath.Join(dir, "world"))
	if err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	at := st.Config.Now.Add(time.Minute).Format(time.RFC3339)
	for _, want := range []string{
		"--allow-dubious-hosts update --import " + filepath.Join(dir, "world", "rsync"),
		"--validation-time " + at + " --cold-cache vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-full-1.csv"),
		"--validation-time " + at + " vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-warm-up.csv"),
	} {
		if !strings.Contains(string(args), want) {
			t.Errorf("rovd was not run with %q:\n%s", want, args)
		}
	}

	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| rovd full (cold cache)", "| rovd incremental", "| rpki-client", "| FORT", "Signature floor:", "| incremental ≤ 5% of full"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(progress.String(), "left)") {
		t.Error("no time estimate in the progress lines")
	}
}
