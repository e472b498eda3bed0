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

// TestRunValidate runs 'rovd-bench run --preset small --stages validate'
// end to end with rovd built from this module (the harness builds it
// itself) and the peers that are installed, then runs it again to see
// the finished stage skipped. It is skipped while rovd has no vrps
// command.
func TestRunValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and runs the validate stage")
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	rovd := filepath.Join(t.TempDir(), "rovd")
	build := exec.Command("go", "build", "-o", rovd, "./cmd/rovd")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rovd: %v\n%s", err, out)
	}
	if err := harness.CheckRovd(context.Background(), rovd); err != nil {
		t.Skipf("rovd is not ready for the harness yet: %v", err)
	}

	dir, keys := t.TempDir(), t.TempDir()
	// The world is built first, on free ports of 127.0.0.1 rather than
	// the preset's fixed ones, which may be taken on a test machine;
	// the harness reuses it since only its shape must match the preset.
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
	args := []string{"run", "--preset", "small", "--stages", "validate", "--runs", "1", "-o", dir,
		"--key-cache", keys, "--floor-time", "200ms", "--timeout", "5m", "-q"}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(args, &stdout, &stderr)
	t.Logf("first run took %v:\n%s", time.Since(start), stderr.String())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", report)
	for _, want := range []string{"| rovd full, ", "| rovd full, 1 thread", "| rovd incremental (1% changed, includes RRDP delta fetch)", "Signature floor:"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	v := readValidate(t, dir)
	// rovd filled its store over RRDP, and the incremental run fetched
	// deltas and nothing else, then validated the mutated world right.
	if f := v.Fill; f.Method != harness.FillRRDP || f.Fetch == nil || f.Fetch.Snapshots != len(cfg.Repositories) || f.Fetch.RsyncConnections != 0 {
		t.Errorf("fill %+v, fetched %+v; want a snapshot per repository and no rsync", f, f.Fetch)
	}
	for _, p := range v.Programs {
		if !strings.HasPrefix(p.ID, "rovd-") {
			continue
		}
		if len(p.Runs) == 0 || p.Compare == nil || p.Compare.Missing != 0 || p.Compare.Extra != 0 {
			t.Errorf("%s: %+v, comparison %+v", p.ID, p, p.Compare)
		}
		if p.ID != harness.ProgRovdIncremental || len(p.Runs) == 0 {
			continue
		}
		r := p.Runs[0]
		if f := r.Fetch; f == nil || f.Deltas == 0 || f.Snapshots != 0 || f.Failed != 0 || f.RsyncConnections != 0 {
			t.Errorf("incremental run fetched %+v; want deltas only", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "rovd")); err != nil {
		t.Errorf("the harness did not build rovd: %v", err)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stage validate: results from") {
		t.Errorf("second run did not skip the finished stage:\n%s", stderr.String())
	}
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
