package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/store"
)

// TestThreads checks that the result does not depend on the number of
// validation threads.
func TestThreads(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	one := runEngine(t, st, bw, func(o *engine.Options) { o.Threads = 1 })
	many := runEngine(t, st, bw, func(o *engine.Options) { o.Threads = 8 })
	diffLines(t, "VRPs", vrpLines(many.Set), vrpLines(one.Set))
	diffLines(t, "ASPAs", aspaLines(many.Set), aspaLines(one.Set))
	diffLines(t, "router keys", keyLines(many.Set), keyLines(one.Set))
	if len(one.Report.Findings) != len(many.Report.Findings) {
		t.Errorf("%d findings with 1 thread, %d with 8", len(one.Report.Findings), len(many.Report.Findings))
	}
}

// pointOf returns a CA of the world without a fault that has a ROA:
// that ROA's URI and the CA's manifest URI.
func pointOf(t *testing.T, bw *builtWorld) (roa, mft string) {
	t.Helper()
	faulty := map[string]bool{}
	for _, f := range bw.w.Truth.Faults {
		faulty[f.CA] = true
	}
	root := filepath.Join(bw.dir, "rsync")
	matches, err := filepath.Glob(filepath.Join(root, "*", "*", "*", "roa-*.roa"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(matches)
	for _, m := range matches {
		rel, _ := filepath.Rel(root, m)
		ca := filepath.Base(filepath.Dir(m))
		if !faulty[ca] {
			uri := "rsync://" + filepath.ToSlash(rel)
			return uri, uri[:strings.LastIndexByte(uri, '/')+1] + ca + ".mft"
		}
	}
	t.Fatal("no valid ROA in the world")
	return "", ""
}

// replace puts data under uri in the repository that holds it.
func replace(t *testing.T, st *store.Store, uri string, data []byte) {
	t.Helper()
	change(t, st, store.Change{URI: uri, Data: data})
}

// withdraw removes uri from the repository that holds it.
func withdraw(t *testing.T, st *store.Store, uri string) {
	t.Helper()
	change(t, st, store.Change{URI: uri, Withdraw: true})
}

// change applies c to the stored object it names, whose hash it fills in.
func change(t *testing.T, st *store.Store, c store.Change) {
	t.Helper()
	rest := strings.TrimPrefix(c.URI, "rsync://")
	parts := strings.SplitN(rest, "/", 3)
	repo := store.RsyncRepoKey(parts[0], parts[1])
	var info store.Repo
	err := st.View(func(v *store.View) error {
		info, _, _ = v.Repo(repo)
		o, ok := v.Repository(repo).Get(c.URI)
		if !ok {
			t.Fatalf("%s not stored", c.URI)
		}
		c.HasHash, c.Hash = true, o.Hash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(repo, info, []store.Change{c}); err != nil {
		t.Fatal(err)
	}
}

// TestLastGood breaks a publication point after it validated once: the
// run falls back to the kept copy and the VRPs stay.
func TestLastGood(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	first := runEngine(t, st, bw, nil)
	roa, mft := pointOf(t, bw)
	replace(t, st, roa, []byte("not a ROA any more"))

	res := runEngine(t, st, bw, nil)
	diffLines(t, "VRPs", vrpLines(res.Set), vrpLines(first.Set))
	if res.Report.Counts.PointsLastGood != 1 {
		t.Errorf("%d points served from their last good copy, want 1", res.Report.Counts.PointsLastGood)
	}
	found := false
	for _, f := range res.Report.Findings {
		if f.Point == mft && strings.Contains(f.Msg, "last good copy") {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding says %s fell back to its last good copy", mft)
	}

	// Without a kept copy the CA is rejected.
	if err := st.DropPoint(mft); err != nil {
		t.Fatal(err)
	}
	res = runEngine(t, st, bw, func(o *engine.Options) { o.Persist = false })
	if len(res.Set.VRPs()) >= len(first.Set.VRPs()) {
		t.Errorf("%d VRPs with a broken point and no kept copy, %d before", len(res.Set.VRPs()), len(first.Set.VRPs()))
	}
}

// TestManifestBackwards replays an older manifest after a newer one
// validated: the older is rejected and the kept newer copy is used.
func TestManifestBackwards(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", bw.dir+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy world: %v %s", err, out)
	}
	st := importWorld(t, &builtWorld{dir: dir, w: bw.w})
	_, mft := pointOf(t, bw)
	rel := strings.TrimPrefix(mft, "rsync://")
	old, err := os.ReadFile(filepath.Join(dir, "rsync", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	// Re-issue every point one minute later, and take the new state in.
	later := bw.w.Config.Now.Add(time.Minute)
	if _, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: 100, Now: later}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ImportDir(filepath.Join(dir, "rsync"), 0); err != nil {
		t.Fatal(err)
	}
	at := func(o *engine.Options) { o.Time = later.Add(time.Minute) }
	newer := runEngine(t, st, &builtWorld{dir: dir, w: bw.w}, at)
	if newer.Report.Counts.PointsRejected == 0 || newer.Report.Counts.PointsValid == 0 {
		t.Fatalf("counts after the mutation: %+v", newer.Report.Counts)
	}

	replace(t, st, mft, old)
	res := runEngine(t, st, &builtWorld{dir: dir, w: bw.w}, at)
	diffLines(t, "VRPs", vrpLines(res.Set), vrpLines(newer.Set))
	var msgs []string
	for _, f := range res.Report.Findings {
		if f.Point == mft {
			msgs = append(msgs, f.Msg)
		}
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "went backwards") || !strings.Contains(all, "last good copy") {
		t.Errorf("findings for %s:\n%s", mft, all)
	}
}

// TestLimits checks the limits against hostile trees.
func TestLimits(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	full := runEngine(t, st, bw, nil)
	for _, tc := range []struct {
		name   string
		change func(*engine.Options)
		msg    string
	}{
		{"depth", func(o *engine.Options) { o.MaxCADepth = 1 }, "levels below its trust anchor"},
		{"objects", func(o *engine.Options) { o.MaxObjectsPerPoint = 5 }, "more than 5"},
		{"repositories", func(o *engine.Options) { o.MaxReposPerTA = 1 }, "more than 1 repositories"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runEngine(t, st, bw, tc.change)
			if len(res.Set.VRPs()) >= len(full.Set.VRPs()) || len(res.Set.VRPs()) == 0 && tc.name != "objects" {
				t.Errorf("%d VRPs, %d without the limit", len(res.Set.VRPs()), len(full.Set.VRPs()))
			}
			if !slices.ContainsFunc(res.Report.Findings, func(f engine.Finding) bool { return strings.Contains(f.Msg, tc.msg) }) {
				t.Errorf("no finding mentions %q", tc.msg)
			}
		})
	}
}

// TestRIPE2019Replay validates the real RIPE NCC trust anchor's
// publication point as of April 2019, as rpki-client does: the TA point
// is valid, the aca point lacks files and is rejected, no VRPs.
func TestRIPE2019Replay(t *testing.T) {
	fixture := "../../shared/testdata/real/rpki-rs/e2e-ripe-ta-2019"
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("fixture not present:", err)
	}
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.ImportDir(filepath.Join(fixture, "cache"), 0); err != nil {
		t.Fatal(err)
	}
	tals := filepath.Join(fixture, "tals")
	res := validate(t, st, tals, time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC), nil)
	c := res.Report.Counts
	if c.PointsValid != 1 || c.PointsRejected != 1 || len(res.Set.VRPs()) != 0 {
		t.Errorf("valid points %d, rejected %d, VRPs %d; want 1, 1, 0", c.PointsValid, c.PointsRejected, len(res.Set.VRPs()))
	}
	if !slices.ContainsFunc(res.Report.Findings, func(f engine.Finding) bool {
		return strings.HasSuffix(f.Point, "/aca/Kn3R14fXk-TIr1bhl9Tu2Sr2uhM.mft") && strings.Contains(f.Msg, "missing")
	}) {
		t.Errorf("no finding says the aca point lacks files: %+v", res.Report.Findings)
	}

	// Today the same data has long expired: the trust anchor's manifest
	// is stale and the point is rejected.
	res = validate(t, st, tals, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if res.Report.Counts.PointsValid != 0 {
		t.Errorf("%d valid points in 2026", res.Report.Counts.PointsValid)
	}
}
