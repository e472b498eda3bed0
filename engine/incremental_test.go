package engine_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
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
	// ROVD_SEED replays the rounds of a failed run.
	seed := rand.Uint64()
	if s := os.Getenv("ROVD_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ROVD_SEED: %v", err)
		}
	}
	rng := rand.New(rand.NewPCG(7, seed))
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
	for round := range rounds {
		var did []string
		switch rng.IntN(6) {
		case 0, 1:
			now = now.Add(time.Minute)
			pct := 5 + rng.Float64()*20
			if _, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: pct, Now: now}); err != nil {
				t.Fatal(err)
			}
			// As a new generation (a snapshot, an rsync run) or in
			// place, as RRDP deltas change a repository.
			if rng.IntN(2) == 0 {
				if _, _, err := st.ImportDir(filepath.Join(dir, "rsync"), 0); err != nil {
					t.Fatal(err)
				}
				did = append(did, "mutate")
			} else {
				applyTree(t, st, filepath.Join(dir, "rsync"))
				did = append(did, "mutate by deltas")
			}
			at = now.Add(time.Minute)
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
		// An update first: it starts from the tree of the last round's
		// run, and may carry subtrees over from it, after a fetch or,
		// as with -n, over the store as it is.
		upd := updateEngine(t, st, own, round%2 == 0, func(o *engine.Options) { opts(o); policy(o) })
		incr := runEngine(t, st, own, func(o *engine.Options) { opts(o); policy(o) })
		full := runEngine(t, st, own, func(o *engine.Options) { opts(o); policy(o); o.ColdCache = true; o.Persist = false })
		t.Logf("round %d: %s: %d VRPs, %d cache hits of %d points; update: %d hits", round, strings.Join(did, ", "), len(incr.Set.VRPs()), incr.Report.Counts.CacheHits, incr.Report.Counts.PointsValid, upd.Report.Counts.CacheHits)
		diffLines(t, "update findings", findingLines(upd), findingLines(full))
		diffLines(t, "update unsafe VRPs", vrpStrings(upd.Unsafe), vrpStrings(full.Unsafe))
		if got, want := countLines(upd.Report.Counts), countLines(full.Report.Counts); got != want {
			t.Errorf("update counts differ:\nupdate %s\nfull   %s", got, want)
		}
		diffLines(t, "VRPs", vrpLines(incr.Set), vrpLines(full.Set))
		diffLines(t, "VRP sources", sourceLines(incr.Set), sourceLines(full.Set))
		diffLines(t, "ASPAs", aspaLines(incr.Set), aspaLines(full.Set))
		diffLines(t, "router keys", keyLines(incr.Set), keyLines(full.Set))
		diffLines(t, "findings", findingLines(incr), findingLines(full))
		if got, want := countLines(incr.Report.Counts), countLines(full.Report.Counts); got != want {
			t.Errorf("counts differ:\nincremental %s\nfull        %s", got, want)
		}
		if t.Failed() {
			t.Fatalf("seed %d, round %d", seed, round)
		}
	}
	// The rounds may have changed some setting every time, or moved
	// the time past every validity; a repeated run at a time the world
	// is valid must reuse every point that validated.
	at = now.Add(time.Minute)
	runEngine(t, st, own, opts)
	again := runEngine(t, st, own, opts)
	if c := again.Report.Counts; c.CacheHits != c.PointsValid-c.PointsLastGood || c.CacheHits == 0 {
		t.Errorf("a repeated run had %d cache hits for %d valid points", c.CacheHits, c.PointsValid)
	}
	// An update after it carries the clean subtrees over.
	upd := updateEngine(t, st, own, false, opts)
	if c := upd.Report.Counts; c.CacheHits != again.Report.Counts.CacheHits {
		t.Errorf("a repeated update had %d cache hits, the run before %d", c.CacheHits, again.Report.Counts.CacheHits)
	}
	if upd.Carried == 0 {
		t.Error("a repeated update carried no subtree over")
	}
	diffLines(t, "repeated update findings", findingLines(upd), findingLines(again))
	if got, want := countLines(upd.Report.Counts), countLines(again.Report.Counts); got != want {
		t.Errorf("repeated update counts differ:\nupdate %s\nrun    %s", got, want)
	}

	// Changed points keep most of their objects, whose signatures need
	// no second check; the result is still that of a full run.
	now = now.Add(time.Minute)
	if _, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: 10, Now: now}); err != nil {
		t.Fatal(err)
	}
	applyTree(t, st, filepath.Join(dir, "rsync"))
	at = now.Add(time.Minute)
	upd = updateEngine(t, st, own, true, opts)
	if upd.SignaturesReused == 0 {
		t.Error("an update after a mutation checked every signature again")
	}
	full := runEngine(t, st, own, func(o *engine.Options) { opts(o); o.ColdCache = true; o.Persist = false })
	if full.SignaturesReused != 0 {
		t.Errorf("a run with a cold cache reused %d signatures", full.SignaturesReused)
	}
	diffLines(t, "findings after a mutation", findingLines(upd), findingLines(full))
	if got, want := countLines(upd.Report.Counts), countLines(full.Report.Counts); got != want {
		t.Errorf("counts after a mutation differ:\nupdate %s\nfull   %s", got, want)
	}
}

// countLines renders counts without the cache hits, one per line, and
// without the repositories not fresh: an update's collector reports
// fresh data, a run's not.
func countLines(c engine.Counts) string {
	c.CacheHits, c.ReposNotFresh = 0, 0
	return strings.ReplaceAll(fmtCounts(c), " ", "\n")
}

// freshCollector serves the store as a fetcher would after fetching
// every repository cleanly: the data counts as fresh.
type freshCollector struct{ *engine.StoreCollector }

func (c freshCollector) Fetch(ctx context.Context, notify, caRepository string) (string, bool, error) {
	repo, _, err := c.StoreCollector.Fetch(ctx, notify, caRepository)
	return repo, err == nil, err
}

// updateEngine runs Engine.Update over st with a freshCollector, or
// with the store collector of -n.
func updateEngine(t *testing.T, st *store.Store, bw *builtWorld, fresh bool, change func(*engine.Options)) *engine.Result {
	t.Helper()
	opt := engine.DefaultOptions()
	opt.TALDir, opt.Time = filepath.Join(bw.dir, "tals"), bw.w.Config.Now
	if change != nil {
		change(&opt)
	}
	e, err := engine.New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	var coll engine.Collector = engine.NewStoreCollector(st)
	if fresh {
		coll = freshCollector{engine.NewStoreCollector(st)}
	}
	res, err := e.Update(context.Background(), coll)
	if err != nil {
		t.Fatal(err)
	}
	if res.Set != nil {
		t.Error("Update built a payload set")
	}
	return res
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

// sourceLines renders where each VRP came from, with the validity of
// the object and of its chain.
func sourceLines(s *payload.Set) []string {
	var out []string
	for i, v := range s.VRPs() {
		for _, src := range s.VRPSources(i) {
			out = append(out, fmt.Sprintf("AS%d,%s %s %v %v", v.ASN, v.Prefix, src.URI, src.Validity, src.Chain))
		}
	}
	slices.Sort(out)
	return out
}

// applyTree brings the store's rsync modules to the content of a
// directory in rsync layout (DIR/HOST/MODULE/path) through Apply, one
// delta per module, as an RRDP client would.
func applyTree(t *testing.T, st *store.Store, dir string) {
	t.Helper()
	want := map[string]map[string][]byte{} // module key → URI → data
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		parts := strings.SplitN(filepath.ToSlash(rel), "/", 3)
		if len(parts) < 3 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		key := store.RsyncRepoKey(parts[0], parts[1])
		if want[key] == nil {
			want[key] = map[string][]byte{}
		}
		want[key]["rsync://"+filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, objs := range want {
		var changes []store.Change
		var info store.Repo
		err := st.View(func(v *store.View) error {
			info, _, _ = v.Repo(key)
			seen := map[string]bool{}
			err := v.Repository(key).Walk("", func(o store.Object) error {
				uri := string(o.URI)
				seen[uri] = true
				data, ok := objs[uri]
				switch {
				case !ok:
					changes = append(changes, store.Change{URI: uri, Withdraw: true, HasHash: true, Hash: o.Hash})
				case sha256.Sum256(data) != o.Hash:
					changes = append(changes, store.Change{URI: uri, HasHash: true, Hash: o.Hash, Data: data})
				}
				return nil
			})
			for uri, data := range objs {
				if !seen[uri] {
					changes = append(changes, store.Change{URI: uri, Data: data})
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(key, info, changes); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUpdateWithoutPayload checks that a run building no payload set
// (rovd update) reports what a full run reports, unsafe VRPs included,
// both when it validates every point and when it reuses the cache.
func TestUpdateWithoutPayload(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	var exceptions *payload.SLURM
	update := func() *engine.Result {
		t.Helper()
		opt := engine.DefaultOptions()
		opt.TALDir, opt.Time = filepath.Join(bw.dir, "tals"), bw.w.Config.Now
		opt.Exceptions = exceptions
		e, err := engine.New(st, opt)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Update(context.Background(), engine.NewStoreCollector(st))
		if err != nil {
			t.Fatal(err)
		}
		if res.Set != nil {
			t.Error("Update built a payload set")
		}
		return res
	}
	full := runEngine(t, st, bw, func(o *engine.Options) { o.ColdCache = true; o.Persist = false })
	if len(full.Unsafe) == 0 {
		t.Fatal("the small world has no unsafe VRPs to find")
	}
	for _, name := range []string{"cold", "warm"} {
		res := update()
		if name == "warm" && res.Report.Counts.CacheHits == 0 {
			t.Fatal("second update used no cache")
		}
		diffLines(t, name+" findings", findingLines(res), findingLines(full))
		diffLines(t, name+" unsafe VRPs", vrpStrings(res.Unsafe), vrpStrings(full.Unsafe))
		uc, fc := res.Report.Counts, full.Report.Counts
		uc.CacheHits, fc.CacheHits = 0, 0
		if got, want := fmtCounts(uc), fmtCounts(fc); got != want {
			t.Errorf("%s counts differ:\nupdate %s\nfull   %s", name, got, want)
		}
	}
	// A local exception that filters an unsafe VRP: kept unsafe VRPs are
	// listed only if the exceptions keep them.
	exceptions = &payload.SLURM{PrefixFilters: []payload.PrefixFilter{{Prefix: full.Unsafe[0].Prefix}}}
	before := len(full.Unsafe)
	full = runEngine(t, st, bw, func(o *engine.Options) { o.ColdCache, o.Persist, o.Exceptions = true, false, exceptions })
	res := update()
	diffLines(t, "unsafe VRPs with exceptions", vrpStrings(res.Unsafe), vrpStrings(full.Unsafe))
	if len(full.Unsafe) >= before {
		t.Error("the exception filtered no unsafe VRP")
	}
}

func vrpStrings(vs []payload.VRP) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("AS%d,%s,%d", v.ASN, v.Prefix, v.MaxLength))
	}
	slices.Sort(out)
	return out
}
