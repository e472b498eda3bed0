package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

func testState(seed int64) *world.State {
	return &world.State{
		Config:    world.Config{Seed: seed, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		KeyDigest: "digest",
		Stats:     world.Stats{CAs: 3},
	}
}

func TestResultsResume(t *testing.T) {
	dir := t.TempDir()
	st := testState(1)
	r, discarded, err := harness.LoadResults(dir, "small", st)
	if err != nil || discarded != "" || r.Done("validate") {
		t.Fatalf("fresh: %+v, %q, %v", r, discarded, err)
	}
	if err := r.Set("validate", map[string]int{"runs": 3}); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}

	r, discarded, err = harness.LoadResults(dir, "small", st)
	if err != nil || discarded != "" || !r.Done("validate") || r.Done("rtr") {
		t.Fatalf("resumed: %+v, %q, %v", r, discarded, err)
	}
	if got := compact(t, r.Stages["validate"]); got != `{"runs":3}` {
		t.Errorf("stored %s", got)
	}

	for _, tc := range []struct {
		name   string
		preset string
		st     *world.State
		mangle func(t *testing.T)
	}{
		{"another world", "small", testState(2), nil},
		{"another preset", "medium", st, nil},
		{"another format", "small", st, func(t *testing.T) {
			rewrite(t, dir, fmt.Sprintf(`"format": %d`, harness.ResultsFormat), `"format": 99`)
		}},
		{"not JSON", "small", st, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, harness.ResultsFile), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mangle != nil {
				tc.mangle(t)
			}
			r, discarded, err := harness.LoadResults(dir, tc.preset, tc.st)
			if err != nil || discarded == "" || r.Done("validate") {
				t.Errorf("got %v, %q, %v; want fresh results and a reason", r.Stages, discarded, err)
			}
		})
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func rewrite(t *testing.T, dir, old, new string) {
	t.Helper()
	p := filepath.Join(dir, harness.ResultsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", p, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunSkipsFinishedStages runs a counting stage twice in one
// directory: the second run finds its results and skips it. A stage
// that fails stores nothing and runs again.
func TestRunSkipsFinishedStages(t *testing.T) {
	calls := map[string]int{}
	fail := true
	defer harness.SetStages(
		harness.FuncStage{StageName: "counted", RunFunc: func(_ context.Context, env *harness.Env) (any, error) {
			calls["counted"]++
			if _, err := os.Stat(filepath.Join(env.WorldDir, world.StateFile)); err != nil {
				return nil, err
			}
			return map[string]string{"hello": "world"}, nil
		}},
		harness.FuncStage{StageName: "flaky", RunFunc: func(context.Context, *harness.Env) (any, error) {
			calls["flaky"]++
			if fail {
				return nil, errors.New("flaked")
			}
			return 42, nil
		}},
	)()
	dir := t.TempDir()
	opt := harness.Options{Preset: "small", Dir: dir, Stages: []string{"flaky", "counted"}, KeyCache: t.TempDir()}
	if err := harness.Run(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "flaked") {
		t.Fatalf("first run: %v, want the flaky stage's error", err)
	}
	fail = false
	for range 2 {
		if err := harness.Run(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
	}
	if calls["counted"] != 1 || calls["flaky"] != 2 {
		t.Errorf("calls %v, want counted once and flaky twice", calls)
	}
	redo := opt
	redo.Redo, redo.Stages = true, []string{"counted"}
	if err := harness.Run(context.Background(), redo); err != nil {
		t.Fatal(err)
	}
	if calls["counted"] != 2 || calls["flaky"] != 2 {
		t.Errorf("calls %v after redo of counted, want counted twice and flaky twice", calls)
	}
	b, err := os.ReadFile(filepath.Join(dir, harness.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var r harness.Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if compact(t, r.Stages["counted"]) != `{"hello":"world"}` || compact(t, r.Stages["flaky"]) != "42" {
		t.Errorf("stages %v", r.Stages)
	}
	report, err := os.ReadFile(filepath.Join(dir, harness.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"preset small", "## Stage counted", `{"hello":"world"}`, "## Stage flaky"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}

	// The world there is the small one: another preset is refused
	// rather than measured on it.
	opt.Preset = "medium"
	if err := harness.Run(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "another shape") {
		t.Errorf("medium on a small world: %v", err)
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, opt := range []harness.Options{
		{Preset: "small", Stages: []string{"validate"}},
		{Preset: "huge", Dir: "x", Stages: []string{"validate"}},
		{Preset: "small", Dir: "x", Stages: []string{"frobnicate"}},
		{Preset: "small", Dir: "x", Stages: []string{"validate"}, Peers: []string{"routinator"}},
		{Preset: "small", Dir: "x", Stages: []string{"validate"}, MutatePercent: 101},
		{Preset: "small", Dir: "x", Runs: -1, Stages: []string{"validate"}},
		{Preset: "small", Dir: "x", Stages: []string{"validate"}, Scale: []harness.Scale{{Num: 0, Den: 1}}},
	} {
		if err := harness.Run(context.Background(), opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
}
