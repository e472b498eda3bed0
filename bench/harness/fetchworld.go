package harness

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/store"
)

// FetchWorldOptions say how FetchWorld fetches.
type FetchWorldOptions struct {
	// Fresh empties the store first; otherwise the store is brought up
	// to date from what it holds (RRDP deltas where the servers have
	// them).
	Fresh bool
	// Rsync fetches over rsync instead of RRDP.
	Rsync bool
	// Parallel is the number of repositories fetched at once; 0 is
	// netio's default.
	Parallel int
}

// FetchWorld fetches every repository of the world in worldDir, served
// on loopback where its state says, into the store in storeDir the way
// rovd's fetcher does (netio and store, as rovd configures them with
// --allow-dubious-hosts and the world's test CA), and returns each
// repository's status. It validates nothing.
func FetchWorld(ctx context.Context, storeDir, worldDir string, state *world.State, o FetchWorldOptions) ([]netio.Status, error) {
	st, err := store.Open(storeDir, store.Options{Fresh: o.Fresh})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cfg := netio.DefaultConfig()
	cfg.Store = st
	cfg.CacheDir = storeDir
	cfg.AllowDubiousHosts = true
	cfg.HTTP.RootCerts = []string{filepath.Join(worldDir, serve.DirName, "ca.pem")}
	if o.Parallel > 0 {
		cfg.Parallel = o.Parallel
	}
	cfg.DisableRsync, cfg.DisableRRDP = !o.Rsync, o.Rsync
	c, err := netio.NewCollector(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()

	run := c.StartRun()
	var wg sync.WaitGroup
	errs := make([]error, len(state.Repositories))
	for i, r := range state.Repositories {
		wg.Go(func() {
			// A CA at the top of the repository names it.
			_, _, errs[i] = run.Fetch(ctx, r.NotifyURI(), r.RsyncBase()+"ca/")
		})
	}
	wg.Wait()
	return run.Statuses(), errors.Join(errs...)
}
