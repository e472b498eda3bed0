package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"help lists run", []string{"--help"}, 0, "run"},
		{"run help", []string{"run", "--help"}, 0, "--peers"},
		{"run without output", []string{"run"}, 2, ""},
		{"run with an argument", []string{"run", "-o", "x", "y"}, 2, ""},
		{"run bad flag", []string{"run", "--frobnicate", "-o", "x"}, 2, ""},
		{"run bad preset", []string{"run", "--preset", "huge", "-o", t.TempDir()}, 1, ""},
		{"run unknown stage", []string{"run", "--stages", "frobnicate", "-o", t.TempDir()}, 1, ""},
		{"run unknown peer", []string{"run", "--peers", "routinator", "-o", t.TempDir()}, 1, ""},
		{"run bad scale", []string{"run", "--scale", "1/0", "-o", t.TempDir()}, 2, ""},
		{"run negative http round", []string{"run", "--stages", "http", "--http-round", "-1s", "-o", t.TempDir()}, 1, ""},
		{"run help names the stages", []string{"run", "--help"}, 0, "fetch, validate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.out)
			}
		})
	}
}

// TestRunSmoke is the CI smoke test of 'rovd-bench run': the small
// preset end to end, one run per program, the fetch stage, the
// validate stage at half and at full size and the http stage with short
// load rounds, with rovd built from this module by the harness and every
// peer that is installed. It checks that the VRP sets agree (rovd's with
// the truth; each peer's with the truth wherever no injected fault
// explains the difference; rovd's /json with the set it relays), that
// the reports and plots are written, and that a second run resumes from
// them; it never looks at a time.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and runs the fetch and validate stages")
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync is not installed; the fetch stage serves the world with its daemon")
	}
	if _, err := exec.Command("go", "env", "GOMOD").Output(); err != nil {
		t.Skipf("no go command to build rovd with: %v", err)
	}
	var peers []string
	for _, p := range harness.Peers {
		if _, err := exec.LookPath(p); err == nil {
			peers = append(peers, p)
		} else {
			t.Logf("%s is not installed: the smoke test runs without it", p)
		}
	}
	peerArg := strings.Join(peers, ",")
	if peerArg == "" {
		peerArg = "none"
	}

	dir, keys := t.TempDir(), t.TempDir()
	// The world is built first, on free ports of 127.0.0.1 rather than
	// the preset's fixed ones, which may be taken on a test machine;
	// the harness reuses it since only its shape must match the preset,
	// and builds the half-size world on the same ports.
	cfg, err := world.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repositories, err = serve.FreeRepositories(len(cfg.Repositories)); err != nil {
		t.Fatal(err)
	}
	cfg.KeyCache = keys
	if _, err := world.Build(context.Background(), cfg, filepath.Join(dir, "world")); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--preset", "small", "--runs", "1", "--stages", "fetch,validate,rtr,http", "--scale", "1/2,1",
		"--peers", peerArg, "-o", dir, "--key-cache", keys, "--floor-time", "200ms", "--http-round", "100ms", "--timeout", "5m", "-q"}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(args, &stdout, &stderr)
	t.Logf("first run took %v:\n%s", time.Since(start), stderr.String())
	if code != 0 {
		if strings.Contains(stderr.String(), "address already in use") {
			t.Skip("a port picked for the world was taken before the run could serve it")
		}
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{harness.ReportFile, harness.ReportJSONFile, "plots/scale-validate-wall.svg", "plots/scale-validate-memory.svg", "plots/http-clients.svg", "bin/rovd"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", report)
	for _, want := range []string{"## Stage fetch", "| ingest bound", "| rovd full, ", "| rovd incremental (1% changed, from the store)",
		"| rovd update (1% changed, with RRDP delta fetch)",
		"Signature floor:", "## Stage validate at 1/2 of the preset's size", "## Scaling of stage validate", "(plots/scale-validate-wall.svg)",
		"## Stage http", "| `/validity?asn=&prefix=` | 64 |", "| `/openbgpd` |",
		"## Stage rtr at 1/2 of the preset's size", "## Scaling of stage rtr", "(plots/scale-rtr-wall.svg)"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	var f harness.FetchResults
	if err := harness.ReadStage(dir, "fetch", &f); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Programs {
		if len(p.Runs) != 1 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 {
			t.Errorf("fetch, %s: %+v, comparison %+v", p.ID, p, p.Compare)
		}
	}
	if len(f.Programs) == 3 {
		if r := f.Programs[0].Runs[0].Fetch; r == nil || r.Snapshots != len(cfg.Repositories) || r.RsyncConnections != 0 {
			t.Errorf("the RRDP update fetched %+v; want a snapshot per repository and no rsync", r)
		}
		if r := f.Programs[2].Runs[0].Fetch; r == nil || r.Snapshots != 0 || r.RsyncConnections == 0 {
			t.Errorf("the rsync update fetched %+v; want rsync and no snapshot", r)
		}
	}
	if f.Diff == nil || f.Diff.Lines != 0 || f.Bound.Secs <= 0 {
		t.Errorf("fetch: diff %+v, bound %+v", f.Diff, f.Bound)
	}

	for _, unit := range []string{"validate", "validate@1/2"} {
		v := readValidate(t, dir, unit)
		for _, p := range v.Programs {
			if !strings.HasPrefix(p.ID, "rovd-") {
				continue
			}
			if len(p.Runs) == 0 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 {
				t.Errorf("%s, %s: %+v, comparison %+v", unit, p.ID, p, p.Compare)
			}
		}
		if v.Fill.Method != harness.FillRRDP {
			t.Errorf("%s: fill %+v; want one over RRDP", unit, v.Fill)
		}
		for _, name := range peers {
			var p *harness.ProgramResult
			for i := range v.Programs {
				if v.Programs[i].ID == name {
					p = &v.Programs[i]
				}
			}
			if p == nil || len(p.Runs) != 1 || p.Skipped != "" || p.Error != "" {
				t.Errorf("%s, %s did not run: %+v", unit, name, p)
				continue
			}
			c := v.Diff.Count(name)
			if c == nil || c.Unexplained != 0 {
				t.Errorf("%s, %s beside the truth: %+v; want every difference explained by an injected fault", unit, name, c)
			}
		}
	}

	var h harness.HTTPResult
	if err := harness.ReadStage(dir, "http", &h); err != nil {
		t.Fatal(err)
	}
	if h.Served != h.VRPs || h.Sessions == nil || h.Sessions.Synced != h.Sessions.Sessions {
		t.Errorf("http: rovd served %d of %d VRPs; sessions %+v", h.Served, h.VRPs, h.Sessions)
	}
	for _, rd := range h.Rounds {
		if rd.Failed != 0 || rd.RPS.Median <= 0 {
			t.Errorf("http, %s, %s with %d clients: %d failed (%s), %v req/s", rd.Server, rd.Scenario, rd.Clients, rd.Failed, rd.Err, rd.RPS.Median)
		}
	}
	for _, r := range h.Render {
		if r.Err != "" {
			t.Errorf("http, first %s: %s", r.Path, r.Err)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	for _, unit := range []string{"fetch", "validate@1/2", "validate", "http"} {
		if !strings.Contains(stderr.String(), "stage "+unit+": results from") {
			t.Errorf("second run did not skip stage %s:\n%s", unit, stderr.String())
		}
	}
}

// readValidate reads the validate stage's results at one size (unit
// "validate" or "validate@SIZE") from DIR.
func readValidate(t *testing.T, dir, unit string) *harness.ValidateResults {
	t.Helper()
	var v harness.ValidateResults
	if err := harness.ReadStage(dir, unit, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}
