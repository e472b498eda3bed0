package netio_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/store"
)

// fixture is a served world, a store and a collector configured for it.
type fixture struct {
	srv   *serve.Server
	store *store.Store
	c     *netio.Collector
	cache string
}

func newFixture(t *testing.T, srv *serve.Server, edit func(*netio.Config)) *fixture {
	t.Helper()
	f := &fixture{srv: srv, cache: t.TempDir()}
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.store = st
	f.c = f.collector(t, edit)
	return f
}

func (f *fixture) collector(t *testing.T, edit func(*netio.Config)) *netio.Collector {
	t.Helper()
	cfg := netio.DefaultConfig()
	cfg.Store = f.store
	cfg.CacheDir = f.cache
	cfg.AllowDubiousHosts = true
	cfg.HTTP.RootCerts = []string{f.srv.CAFile()}
	cfg.HTTP.Timeout = 20 * time.Second
	cfg.RsyncTimeout = 60 * time.Second
	cfg.RRDPTotalTimeout = time.Minute
	if edit != nil {
		edit(&cfg)
	}
	c, err := netio.NewCollector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// result is what Run.Fetch returns, in one value.
type result struct {
	Repo  string
	Fresh bool
	Err   error
}

func resultOf(repo string, fresh bool, err error) result { return result{repo, fresh, err} }

// fetchAll fetches every repository of the world in one run, as a CA of
// each would ask, and returns the run's statuses.
func (f *fixture) fetchAll(t *testing.T) []netio.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := f.c.StartRun()
	defer run.Done()
	for _, repo := range f.srv.Repositories() {
		if run.Ready(repo.NotifyURI(), repo.RsyncBase()+"ta-1/") {
			t.Errorf("%s ready before it was fetched", repo.Name)
		}
		// Twice: the second ask must not fetch again.
		for range 2 {
			if res := resultOf(run.Fetch(ctx, repo.NotifyURI(), repo.RsyncBase()+"ta-1/")); res.Err != nil || !res.Fresh {
				t.Fatalf("fetch %s: %+v", repo.Name, res)
			}
		}
		if !run.Ready(repo.NotifyURI(), repo.RsyncBase()+"ta-2/") {
			t.Errorf("%s not ready after it was fetched", repo.Name)
		}
	}
	return run.Statuses()
}

// served returns the files of one repository as the world has them,
// keyed by rsync URI: its rsync tree, without the trust anchor
// certificates, which RRDP does not carry.
func served(t *testing.T, dir string, repo world.Repository, withTA bool) map[string][]byte {
	t.Helper()
	root := filepath.Join(dir, "rsync", repo.Rsync, repo.Module)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "ta/") && !withTA {
			return nil
		}
		data, err := os.ReadFile(path)
		out[repo.RsyncBase()+rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stored(t *testing.T, st *store.Store, key string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := st.View(func(v *store.View) error {
		objs := v.Repository(key)
		if objs == nil {
			return nil
		}
		return objs.Walk("", func(o store.Object) error {
			out[string(o.URI)] = bytes.Clone(o.Data)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareRepo(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("store has %d objects, the world %d", len(got), len(want))
	}
	n := 0
	for uri, w := range want {
		if g, ok := got[uri]; !ok || !bytes.Equal(g, w) {
			if n++; n <= 5 {
				t.Errorf("%s: stored %d bytes (present %v), served %d", uri, len(g), ok, len(w))
			}
		}
	}
	if n > 5 {
		t.Errorf("... %d objects differ", n)
	}
}

func TestFetchWorldOverRRDP(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	var progress bytes.Buffer // written by the run, read after run.Done
	f := newFixture(t, srv, func(c *netio.Config) { c.DisableRsync = true; c.Progress = &progress })
	sts := f.fetchAll(t)
	if !strings.Contains(progress.String(), "repositories 2/2") {
		t.Errorf("progress output %q, want repositories 2/2", progress.String())
	}
	if len(sts) != len(srv.Repositories()) {
		t.Fatalf("%d repositories fetched, want %d: %+v", len(sts), len(srv.Repositories()), sts)
	}
	for _, s := range sts {
		if s.Protocol != "rrdp" || s.Method != netio.MethodSnapshot || s.Serial != 1 || s.Bytes == 0 {
			t.Errorf("status %+v, want a snapshot at serial 1", s)
		}
	}
	for _, repo := range srv.Repositories() {
		compareRepo(t, served(t, srv.Dir(), repo, false), stored(t, f.store, repo.NotifyURI()))
	}

	// Nothing changed: the next run asks conditionally.
	for _, s := range f.fetchAll(t) {
		if s.Method != netio.MethodNotModified {
			t.Errorf("second run: %s: %s, want %s", s.URI, s.Method, netio.MethodNotModified)
		}
	}

	// After a mutation the deltas bring the store to the new state.
	res, err := srv.Mutate(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, name := range res.Repositories {
		changed[name] = true
	}
	byNotify := map[string]netio.Status{}
	for _, s := range f.fetchAll(t) {
		byNotify[s.URI] = s
	}
	for _, repo := range srv.Repositories() {
		s := byNotify[repo.NotifyURI()]
		want := netio.MethodNotModified
		if changed[repo.Name] {
			want = netio.MethodDeltas
		}
		if s.Method != want || s.Err != nil {
			t.Errorf("after mutation: %s: %s (%v), want %s", repo.Name, s.Method, s.Err, want)
		}
		compareRepo(t, served(t, srv.Dir(), repo, false), stored(t, f.store, repo.NotifyURI()))
	}
}

func TestFetchWorldOverRsync(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	f := newFixture(t, srv, func(c *netio.Config) { c.DisableRRDP = true })
	sts := f.fetchAll(t)
	for _, s := range sts {
		if s.Protocol != "rsync" || s.Err != nil || s.Objects == 0 {
			t.Errorf("status %+v, want an rsync fetch", s)
		}
	}
	for _, repo := range srv.Repositories() {
		compareRepo(t, served(t, srv.Dir(), repo, true), stored(t, f.store, repo.RsyncBase()))
	}
	if _, err := srv.Mutate(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	f.fetchAll(t)
	for _, repo := range srv.Repositories() {
		compareRepo(t, served(t, srv.Dir(), repo, true), stored(t, f.store, repo.RsyncBase()))
	}
}

// TestRsyncFallback: with RRDP failing and no RRDP data ever stored, the
// CA's objects come over rsync.
func TestRsyncFallback(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	f := newFixture(t, srv, nil)
	repo := srv.Repositories()[0]
	run := f.c.StartRun()
	defer run.Done()
	notify := strings.Replace(repo.NotifyURI(), "notification.xml", "missing.xml", 1)
	res := resultOf(run.Fetch(context.Background(), notify, repo.RsyncBase()+"ta-1/"))
	if res.Repo != repo.RsyncBase() || !res.Fresh || res.Err != nil {
		t.Fatalf("fetch with a broken RRDP server: %+v, want fresh rsync data", res)
	}
	// The failed RRDP repository and the rsync module are both done.
	if !run.Ready(notify, repo.RsyncBase()+"ta-2/") {
		t.Error("not ready after the rsync fallback")
	}
	if diff := cmp.Diff(len(served(t, srv.Dir(), repo, true)), len(stored(t, f.store, repo.RsyncBase()))); diff != "" {
		t.Errorf("rsync fallback object count (-want +got): %s", diff)
	}
}
