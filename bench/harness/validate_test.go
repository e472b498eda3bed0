package harness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
)

// stubRovd stands in for rovd: it logs its arguments to $STUB_LOG, and
// its vrps command writes the world's current truth (found beside the
// TAL directory), so the harness's plumbing is tested without rovd. Its
// update command sleeps for $STUB_UPDATE_SLEEP seconds, if set.
const stubRovd = `#!/bin/sh
echo "$*" >> "$STUB_LOG"
tals= out= cmd=
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) exit 0;;
	-V|--version) echo "rovd stub"; exit 0;;
	-t) tals=$2; shift;;
	-o) out=$2; shift;;
	-r|--validation-time|--validation-threads|--rrdp-root-cert|--import|-f) shift;;
	update|vrps) cmd=$1;;
	esac
	shift
done
case $cmd in
vrps) [ -z "$out" ] || cp "$tals/../truth/vrps.csv" "$out";;
update) [ -z "$STUB_UPDATE_SLEEP" ] || sleep "$STUB_UPDATE_SLEEP";;
*) exit 1;;
esac
`

// stubSetup writes the stub and builds the small world into DIR/world
// with its servers on free ports of 127.0.0.1 (the preset's fixed ports
// may be taken on a test machine); the harness reuses it, since only the
// shape of a world must match the preset. It returns the stub, the log
// of its arguments and the world's state.
func stubSetup(t *testing.T, dir string) (stub, argLog string, st *world.State) {
	t.Helper()
	stub = filepath.Join(t.TempDir(), "rovd")
	if err := os.WriteFile(stub, []byte(stubRovd), 0o755); err != nil {
		t.Fatal(err)
	}
	argLog = filepath.Join(t.TempDir(), "args")
	t.Setenv("STUB_LOG", argLog)
	t.Setenv("STUB_UPDATE_SLEEP", "")
	return stub, argLog, buildWorld(t, filepath.Join(dir, "world"), "")
}

// buildWorld builds the small world into dir on free ports, with the
// key cache keys (a temporary one if empty).
func buildWorld(t *testing.T, dir, keys string) *world.State {
	t.Helper()
	cfg, err := world.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repositories, err = serve.FreeRepositories(len(cfg.Repositories)); err != nil {
		t.Fatal(err)
	}
	if keys == "" {
		keys = t.TempDir()
	}
	cfg.KeyCache = keys
	if _, err := world.Build(context.Background(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	st, err := world.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// readValidate reads the validate stage's results from DIR.
func readValidate(t *testing.T, dir string) *harness.ValidateResults {
	t.Helper()
	var v harness.ValidateResults
	if err := harness.ReadStage(dir, "validate", &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// checkServersStopped fails unless every address the world is served
// on can be bound again.
func checkServersStopped(t *testing.T, st *world.State) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range st.Repositories {
		for _, addr := range []string{r.HTTPS, r.Rsync} {
			if seen[addr] {
				continue
			}
			seen[addr] = true
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("%s is still in use after the stage: %v", addr, err)
				continue
			}
			ln.Close()
		}
	}
}

// TestValidateStage runs the validate stage with the stub for rovd and
// whichever peers are installed.
func TestValidateStage(t *testing.T) {
	dir := t.TempDir()
	stub, argLog, st := stubSetup(t, dir)
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
	checkServersStopped(t, st)
	v := readValidate(t, dir)
	var ids []string
	for _, p := range v.Programs {
		ids = append(ids, p.ID)
	}
	if want := []string{harness.ProgRovdFull, harness.ProgRovdFullOneThread, harness.ProgRovdIncremental, harness.ProgRovdUpdate,
		harness.PeerRPKIClient, harness.PeerFORT}; !slices.Equal(ids, want) {
		t.Fatalf("programs %v, want %v", ids, want)
	}
	for _, p := range v.Programs[:4] {
		if len(p.Runs) != 1 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 || p.Compare.VRPs == 0 {
			t.Errorf("%s: runs %+v, comparison %+v", p.ID, p.Runs, p.Compare)
		}
	}
	for _, p := range v.Programs[2:4] {
		if r := p.Runs; len(r) == 1 && (r[0].MutatedPoints == 0 || r[0].Fetch == nil) {
			t.Errorf("%s run: %+v; want mutated points and fetch counts", p.ID, r[0])
		}
	}
	// The harness brought the changes into the store with rovd's own
	// fetcher (snapshots here: the stub filled nothing).
	if r := v.Programs[2].Runs; len(r) == 1 && (r[0].Fetch == nil || r[0].Fetch.Deltas+r[0].Fetch.Snapshots == 0 || r[0].TakeInSecs <= 0) {
		t.Errorf("incremental run from the store: %+v; want the changes fetched before it", r[0])
	}
	if v.Fill.Method != harness.FillRRDP || v.Fill.Fallback != "" || v.Fill.Fetch == nil {
		t.Errorf("fill %+v, want one over RRDP", v.Fill)
	}
	// The stub fetches nothing, and the stage says so.
	if len(v.Fill.Notes) == 0 || len(v.Programs[3].Notes) == 0 {
		t.Errorf("no note that the stub fetched nothing: fill %q, update %q", v.Fill.Notes, v.Programs[3].Notes)
	}
	if v.Threads != runtime.NumCPU() || v.ThreadSpeedup <= 0 {
		t.Errorf("threads %d, speed-up %v", v.Threads, v.ThreadSpeedup)
	}
	for _, p := range v.Programs[4:] {
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
	// Every list beside the truth: rovd full's, then each peer's that
	// ran; the stub's equals the truth.
	if d := v.Diff; d == nil || len(d.Sets) < 2 || d.Sets[1] != harness.ProgRovdFull || d.Count(harness.ProgRovdFull).Missing != 0 ||
		d.Count(harness.ProgRovdFull).Extra != 0 {
		t.Errorf("diff %+v", v.Diff)
	} else {
		for _, c := range d.Counts[1:] {
			t.Logf("%s beside the truth: %+v", c.Set, c)
		}
	}
	if d := v.IncrementalDiff; d == nil || d.Lines != 0 {
		t.Errorf("incremental diff %+v", d)
	}
	if len(v.Ratios) == 0 {
		t.Error("no ratios")
	}
	if v.Floor.Verifications == 0 || v.Floor.Secs <= 0 || len(v.Checks) != 4 {
		t.Errorf("floor %+v, checks %+v", v.Floor, v.Checks)
	}

	// rovd was driven as its command line says.
	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	at := st.Config.Now.Add(time.Minute).Format(time.RFC3339)
	at2 := st.Config.Now.Add(2 * time.Minute).Format(time.RFC3339)
	ca := filepath.Join(dir, "world", "serve", "ca.pem")
	for _, want := range []string{
		"--allow-dubious-hosts --rrdp-root-cert " + ca + " --validation-time " + at + " update\n",
		fmt.Sprintf("--validation-time %s --validation-threads %d --cold-cache vrps -n -f csv -o %s", at, runtime.NumCPU(),
			filepath.Join(dir, "out", "rovd-full-1.csv")),
		"--validation-time " + at + " --validation-threads 1 --cold-cache vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-full-1-thread-1.csv"),
		"--allow-dubious-hosts --rrdp-root-cert " + ca + " --validation-time " + at2 + " update\n",
		"--allow-dubious-hosts --validation-time " + at2 + " vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-incremental-1.csv"),
	} {
		if !strings.Contains(string(args), want) {
			t.Errorf("rovd was not run with %q:\n%s", want, args)
		}
	}
	if strings.Contains(string(args), "--import") {
		t.Errorf("rovd was run with --import though the world was served:\n%s", args)
	}

	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| rovd full, " + fmt.Sprint(runtime.NumCPU()), "| rovd full, 1 thread (cold cache)",
		"| rovd incremental (1% changed, from the store)", "| rovd update (1% changed, with RRDP delta fetch)", "| rpki-client", "| FORT",
		"Signature floor:", "Threads: rovd full with 1 thread", "over RRDP from the world served on loopback",
		"rovd incremental (1% changed, from the store), each run:", "to bring the changes into the store",
		"| incremental ≤ 5% of full", "| ÷ signature floor |",
		"VRP differences, rovd full and the peers beside the truth",
		"VRP differences, the last incremental run beside the truth of the changed world: none",
	} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(progress.String(), "left)") {
		t.Error("no time estimate in the progress lines")
	}
}

// TestValidateStageImportFallback: when the world cannot be served (its
// HTTPS port is taken), the store is filled with 'update --import' and
// the report says so.
func TestValidateStageImportFallback(t *testing.T) {
	dir := t.TempDir()
	stub, argLog, st := stubSetup(t, dir)
	ln, err := net.Listen("tcp", st.Repositories[0].HTTPS)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = harness.Run(context.Background(), harness.Options{
		Preset: "small", Dir: dir, Runs: 1, Stages: []string{"validate"},
		Rovd: stub, KeyCache: t.TempDir(), Timeout: time.Minute, FloorDuration: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	v := readValidate(t, dir)
	if v.Fill.Method != harness.FillImport || !strings.Contains(v.Fill.Fallback, st.Repositories[0].HTTPS) {
		t.Errorf("fill %+v, want the import fallback naming %s", v.Fill, st.Repositories[0].HTTPS)
	}
	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	rsync := filepath.Join(dir, "world", "rsync")
	// The fill, then, after the incremental run, the write of its
	// cache, and the update after a change.
	if n := strings.Count(string(args), " update --import "+rsync+"\n"); n != 3 {
		t.Errorf("%d runs of update --import, want 3 (fill, cache write, update):\n%s", n, args)
	}
	if strings.Contains(string(args), "--rrdp-root-cert") {
		t.Errorf("--rrdp-root-cert without a server:\n%s", args)
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"could not be served on loopback", "with re-import of the rsync tree", "imports the world's rsync tree into rovd's store"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// TestValidateStageInterrupted: cancelling the run (what Ctrl-C does)
// while rovd updates stops the loopback servers too.
func TestValidateStageInterrupted(t *testing.T) {
	dir := t.TempDir()
	stub, argLog, st := stubSetup(t, dir)
	t.Setenv("STUB_UPDATE_SLEEP", "30")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once the fill has started.
		for ctx.Err() == nil {
			if b, _ := os.ReadFile(argLog); strings.Contains(string(b), " update") {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	err := harness.Run(ctx, harness.Options{
		Preset: "small", Dir: dir, Runs: 1, Stages: []string{"validate"},
		Rovd: stub, KeyCache: t.TempDir(), Timeout: time.Minute, FloorDuration: 50 * time.Millisecond,
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the interrupted stage took %v", d)
	}
	checkServersStopped(t, st)
}
