package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
)

// TestFetchStage runs the fetch stage with the stub for rovd: the
// plumbing, not rovd's fetching (TestRunSmoke in bench/cmd/rovd-bench
// runs the real one).
func TestFetchStage(t *testing.T) {
	dir := t.TempDir()
	stub, argLog, st := stubSetup(t, dir)
	var progress bytes.Buffer
	err := harness.Run(context.Background(), harness.Options{
		Preset: "small", Dir: dir, Runs: 2, Stages: []string{"fetch"},
		Rovd: stub, KeyCache: t.TempDir(), Timeout: time.Minute, FloorDuration: 20 * time.Millisecond,
		Progress: &progress,
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	checkServersStopped(t, st)
	var r harness.FetchResults
	if err := harness.ReadStage(dir, "fetch", &r); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range r.Programs {
		ids = append(ids, p.ID)
		if len(p.Runs) != 2 || p.WallSecs.Median <= 0 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 {
			t.Errorf("%s: %+v", p.ID, p)
		}
	}
	if want := []string{harness.ProgUpdateRRDP, harness.ProgValidationAlone, harness.ProgUpdateRsync}; !slices.Equal(ids, want) {
		t.Fatalf("programs %q, want %q", ids, want)
	}
	// The stub fetches nothing, and the stage says so.
	if len(r.Programs[0].Notes) == 0 || len(r.Programs[2].Notes) == 0 || r.Programs[0].Runs[0].Fetch == nil {
		t.Errorf("notes %q, %q; fetch %+v", r.Programs[0].Notes, r.Programs[2].Notes, r.Programs[0].Runs[0].Fetch)
	}
	if b := r.Bound; b.Files != len(st.Repositories) || b.Objects == 0 || b.Bytes == 0 || b.Secs <= 0 {
		t.Errorf("bound %+v", b)
	}
	if r.Diff == nil || r.Diff.Lines != 0 || len(r.Diff.Counts) != 2 {
		t.Errorf("diff %+v", r.Diff)
	}
	if len(r.Ratios) < 2 {
		t.Errorf("ratios %+v", r.Ratios)
	}
	if _, err := os.Stat(filepath.Join(dir, "fetch-store")); !os.IsNotExist(err) {
		t.Errorf("the stores are left behind: %v", err)
	}

	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	at := st.Config.Now.Add(time.Minute).Format(time.RFC3339)
	ca := filepath.Join(dir, "world", "serve", "ca.pem")
	rrdp, rsync := filepath.Join(dir, "fetch-store", "rrdp"), filepath.Join(dir, "fetch-store", "rsync")
	for _, want := range []string{
		fmt.Sprintf("-r %s -t %s --allow-dubious-hosts --rrdp-root-cert %s --validation-time %s update\n",
			rrdp, filepath.Join(dir, "world", "tals"), ca, at),
		"-r " + rrdp + " -t " + filepath.Join(dir, "world", "tals") + " --allow-dubious-hosts --validation-time " + at +
			" --cold-cache vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-validation-alone-2.csv") + "\n",
		"-r " + rsync + " -t " + filepath.Join(dir, "world", "tals") + " --allow-dubious-hosts --rrdp-root-cert " + ca +
			" --disable-rrdp --validation-time " + at + " update\n",
		"-r " + rsync + " -t " + filepath.Join(dir, "world", "tals") + " --allow-dubious-hosts --validation-time " + at +
			" --cold-cache vrps -n -f csv -o " + filepath.Join(dir, "out", "rovd-update-rsync-2.csv") + "\n",
	} {
		if !strings.Contains(string(args), want) {
			t.Errorf("rovd was not run with %q:\n%s", want, args)
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Stage fetch", "| rovd update over RRDP, empty store (rovd stub)", "| rovd update over rsync",
		"| ingest bound: SHA-256 + base64", "VRP differences, the stores filled over RRDP and over rsync beside the truth: none"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}

	// The stage has no fallback when the world cannot be served, and
	// says why it failed.
	ln, err := net.Listen("tcp", st.Repositories[0].HTTPS)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = harness.Run(context.Background(), harness.Options{
		Preset: "small", Dir: dir, Runs: 1, Stages: []string{"fetch"}, Redo: true, Rovd: stub, KeyCache: t.TempDir(), Timeout: time.Minute,
	})
	if err == nil || !strings.Contains(err.Error(), "serving the world on loopback") || !strings.Contains(err.Error(), st.Repositories[0].HTTPS) {
		t.Errorf("error %v, want one naming the busy address", err)
	}
}
