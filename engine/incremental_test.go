package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// findingLines renders a run's findings for comparison.
func findingLines(res *engine.Result) []string {
	var out []string
	for _, f := range res.Report.Findings {
		out = append(out, f.Level.String()+" "+f.Point+" "+f.URI+" "+f.Msg)
	}
	slices.Sort(out)
	return out
}

// storedURIs lists the object URIs of the world's rsync modules in the
// store.
func storedURIs(t *testing.T, st *store.Store) []string {
	t.Helper()
	var uris []string
	err := st.View(func(v *store.View) error {
		var repos []string
		if err := v.Repos(func(key string, _ store.Repo) error {
			if strings.HasPrefix(key, "rsync://") {
				repos = append(repos, key)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, r := range repos {
			if err := v.Repository(r).Walk("", func(o store.Object) error {
				uris = append(uris, string(o.URI))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uris
}

// TestIncrementalEqualsFull changes a world at random, round after
// round, and checks that a run reusing the validation cache gives
// exactly what a run from scratch gives: payload, findings and counts.
// The changes are re-issued publication points, broken and removed
// files, validation times moving both ways, and policy changes.
func TestIncrementalEqualsFull(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", bw.dir+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy world: %v %s", err, out)
	}
	own := &builtWorld{dir: dir, w: bw.w}
	st := importWorld(t, own)
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	seed := rng.Uint64()
	rng = rand.New(rand.NewPCG(7, seed))
	t.Logf("seed %d", seed)

	// A TAL directory with only the first trust anchor: a changed TAL
	// set.
	oneTAL := t.TempDir()
	if out, err := exec.Command("cp", filepath.Join(dir, "tals", "ta-1.tal"), oneTAL).CombinedOutput(); err != nil {
		t.Fatalf("copy TAL: %v %s", err, out)
	}

	now := bw.w.Config.Now
	at := now
	opts := func(o *engine.Options) { o.Time = at }
	first := runEngine(t, st, own, opts)
	if first.Report.Counts.CacheHits != 0 {
		t.Fatalf("%d cache hits in the first run", first.Report.Counts.CacheHits)
	}

	const rounds = 12
	hits := 0
	for round := range rounds {
		var did []string
		switch rng.IntN(6) {
		case 0, 1:
			now = now.Add(time.Minute)
			pct := 5 + rng.Float64()*20
			if _, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: pct, Now: now}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.ImportDir(filepath.Join(dir, "rsync"), 0); err != nil {
				t.Fatal(err)
			}
			at = now.Add(time.Minute)
			did = append(did, "mutate")
		case 2:
			uris := storedURIs(t, st)
			uri := uris[rng.IntN(len(uris))]
			replace(t, st, uri, []byte("broken"))
			did = append(did, "break "+uri)
		case 3:
			uris := storedURIs(t, st)
			uri := uris[rng.IntN(len(uris))]
			withdraw(t, st, uri)
			did = append(did, "remove "+uri)
		case 4:
			// Far enough to pass validity boundaries: manifests are
			// valid for a day from an hour before the world's time.
			at = at.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
			did = append(did, "time "+at.Format(time.RFC3339))
		case 5:
			did = append(did, "no change")
		}
		// Settings that change what points give: each run may pick
		// some at random; the cache must notice.
		var changes []func(*engine.Options)
		if rng.IntN(4) == 0 {
			stale := engine.Policy(rng.IntN(3))
			changes = append(changes, func(o *engine.Options) { o.Stale = stale })
			did = append(did, "stale="+stale.String())
		}
		if rng.IntN(4) == 0 {
			unknown := engine.Policy(rng.IntN(3))
			changes = append(changes, func(o *engine.Options) { o.UnknownObjects = unknown })
			did = append(did, "unknown-objects="+unknown.String())
		}
		if rng.IntN(6) == 0 {
			changes = append(changes, func(o *engine.Options) { o.Strict = true })
			did = append(did, "strict")
		}
		if rng.IntN(6) == 0 {
			changes = append(changes, func(o *engine.Options) { o.TALLabels = map[string]string{"ta-1": "renamed"} })
			did = append(did, "tal-label")
		}
		if rng.IntN(6) == 0 {
			changes = append(changes, func(o *engine.Options) { o.TALDir = oneTAL })
			did = append(did, "one TAL")
		}
		policy := func(o *engine.Options) {
			for _, c := range changes {
				c(o)
			}
		}
		incr := runEngine(t, st, own, func(o *engine.Options) { opts(o); policy(o) })
		full := runEngine(t, st, own, func(o *engine.Options) { opts(o); policy(o); o.ColdCache = true; o.Persist = false })
		t.Logf("round %d: %s: %d VRPs, %d cache hits of %d points", round, strings.Join(did, ", "), len(incr.Set.VRPs()), incr.Report.Counts.CacheHits, incr.Report.Counts.PointsValid)
		hits += incr.Report.Counts.CacheHits
		diffLines(t, "VRPs", vrpLines(incr.Set), vrpLines(full.Set))
		diffLines(t, "ASPAs", aspaLines(incr.Set), aspaLines(full.Set))
		diffLines(t, "router keys", keyLines(incr.Set), keyLines(full.Set))
		diffLines(t, "findings", findingLines(incr), findingLines(full))
		ic, fc := incr.Report.Counts, full.Report.Counts
		ic.CacheHits, fc.CacheHits = 0, 0
		if got, want := strings.ReplaceAll(fmtCounts(ic), " ", "\n"), strings.ReplaceAll(fmtCounts(fc), " ", "\n"); got != want {
			t.Errorf("counts differ:\nincremental %s\nfull        %s", got, want)
		}
		if t.Failed() {
			t.Fatalf("seed %d, round %d", seed, round)
		}
	}
	if hits == 0 {
		t.Error("the cache was never used")
	}
}

// fmtCounts renders counts; fmt prints maps in key order.
func fmtCounts(c engine.Counts) string {
	byRepo := map[string]engine.RepoCounts{}
	for k, v := range c.ByRepo {
		byRepo[k] = *v
	}
	c.ByRepo = nil
	return fmt.Sprintf("%+v %+v", c, byRepo)
}
