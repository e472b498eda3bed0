// Package runner ties the parts of a validation run together: the store
// in the repository directory, the netio collector and the engine, set
// up from the configuration, and the cleanup after a run.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/store"
)

// Runner runs validations over one store.
type Runner struct {
	cfg     *config.Config
	log     *slog.Logger
	store   *store.Store
	coll    *netio.Collector // nil when offline
	eng     *engine.Engine
	offline bool
	// imported says Import replaced content, whose old data is garbage.
	imported bool
}

// Open opens the store in the repository directory and prepares runs.
// Offline runners (the manual's -n) fetch nothing and open the store
// read-only, so that they can run beside a server.
func Open(cfg *config.Config, log *slog.Logger, offline bool) (*Runner, error) {
	ex, err := cfg.LoadExceptions()
	if err != nil {
		return nil, err
	}
	return OpenWithExceptions(cfg, log, offline, ex)
}

// OpenWithExceptions is Open with the local exceptions already read: a
// server reads them before each run and keeps the last good ones when a
// file breaks.
func OpenWithExceptions(cfg *config.Config, log *slog.Logger, offline bool, ex *payload.SLURM) (*Runner, error) {
	r := &Runner{cfg: cfg, log: log, offline: offline}
	opts := store.Options{ReadOnly: offline, Fresh: cfg.Fresh && !offline, Logger: log}
	if !offline {
		if err := os.MkdirAll(cfg.RepositoryDir, 0o755); err != nil {
			return nil, fmt.Errorf("repository directory: %w", err)
		}
	}
	st, err := store.Open(cfg.RepositoryDir, opts)
	if err != nil {
		if offline && errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no local repository in %s: run without -n (or rovd update) first", cfg.RepositoryDir)
		}
		return nil, err
	}
	r.store = st
	eo := cfg.EngineOptions()
	eo.Persist = !offline
	eo.Exceptions = ex
	eo.Logger = log
	if r.eng, err = engine.New(st, eo); err != nil {
		st.Close()
		return nil, err
	}
	if !offline {
		if r.coll, err = netio.NewCollector(NetConfig(cfg, st, log)); err != nil {
			st.Close()
			return nil, err
		}
	}
	return r, nil
}

// NetConfig maps the configuration onto the collector's.
func NetConfig(cfg *config.Config, st *store.Store, log *slog.Logger) netio.Config {
	nc := netio.DefaultConfig()
	nc.Store = st
	nc.CacheDir = cfg.RepositoryDir
	nc.DisableRRDP, nc.DisableRsync = cfg.DisableRRDP, cfg.DisableRsync
	nc.RRDPMaxDeltaCount = cfg.RRDPMaxDeltaCount
	nc.RRDPFallbackTime = cfg.RRDPFallbackTime.Duration()
	nc.Refresh = cfg.Refresh.Duration()
	nc.RRDPTotalTimeout = cfg.RRDPTotalTimeout.Duration()
	nc.MaxObjectSize = cfg.MaxObjectSize
	nc.AllowDubiousHosts = cfg.AllowDubiousHosts
	nc.RsyncCommand = cfg.RsyncCommand
	nc.RsyncArgs = cfg.RsyncArgs
	nc.RsyncTimeout = cfg.RsyncTimeout.Duration()
	nc.HTTP.Timeout = cfg.RRDPTimeout.Duration()
	nc.HTTP.ConnectTimeout = cfg.RRDPConnectTimeout.Duration()
	nc.HTTP.LocalAddr = cfg.RRDPLocalAddr
	nc.HTTP.RootCerts = cfg.RRDPRootCerts
	nc.HTTP.Proxies = cfg.RRDPProxies
	nc.HTTP.DisableGzip = cfg.RRDPDisableGzip
	nc.HTTP.KeepResponses = cfg.RRDPKeepResponses
	nc.Logger = log
	return nc
}

// Store returns the runner's store.
func (r *Runner) Store() *store.Store { return r.store }

// Close releases the store and the collector.
func (r *Runner) Close() error {
	if r.coll != nil {
		r.coll.Close()
	}
	return r.store.Close()
}

// Import loads a directory tree in rsync layout (DIR/HOST/MODULE/path)
// into the store, replacing the modules it holds: the data of an
// archived repository, for an offline run.
func (r *Runner) Import(dir string) error {
	repos, skipped, err := r.store.ImportDir(dir, r.cfg.MaxObjectSize)
	for _, s := range skipped {
		r.log.Warn("file not imported", "err", s)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", dir, err)
	}
	r.log.Info("imported", "dir", dir, "modules", len(repos))
	r.imported = true
	return nil
}

// Run is one validation run's outcome.
type Run struct {
	*engine.Result
	// Statuses are the repository fetches (none offline).
	Statuses []netio.Status
}

// Validate runs a validation, fetching unless the runner is offline or
// fetch is false, and then removes data no run needs any more (unless
// dirty). Without withPayload the run builds no payload set (see
// engine.Engine.Update), which is what makes it cheap.
func (r *Runner) Validate(ctx context.Context, fetch, withPayload bool) (*Run, error) {
	var coll engine.Collector = engine.NewStoreCollector(r.store)
	var nr *netio.Run
	if fetch && r.coll != nil {
		nr = r.coll.StartRun()
		coll = nr
	}
	run := r.eng.Run
	if !withPayload {
		run = r.eng.Update
	}
	res, err := run(ctx, coll)
	if nr != nil {
		nr.Done()
	}
	if err != nil {
		return nil, err
	}
	out := &Run{Result: res}
	if nr != nil {
		out.Statuses = nr.Statuses()
	}
	if !r.offline && !r.cfg.Dirty {
		if err := r.cleanup(res, out.Statuses); err != nil {
			r.log.Warn("cleanup of unused data failed", "err", err)
		}
	}
	return out, nil
}

// cleanup drops repositories, kept publication points and validation
// cache entries the run did not use, removes the rsync working trees of
// dropped modules and frees the space when that is worth it. It does
// nothing after a run in which a trust anchor failed: the data of its
// tree would look unused.
func (r *Runner) cleanup(res *engine.Result, statuses []netio.Status) error {
	if res.Report.Counts.TAsFailed > 0 || res.Report.Counts.TAs == 0 {
		return nil
	}
	var repos, points []string
	var cached []store.CacheEntry // nil values: deletions
	err := r.store.View(func(v *store.View) error {
		if err := v.Repos(func(key string, _ store.Repo) error {
			if !res.Used.Repos[key] {
				repos = append(repos, key)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := v.Points(func(key string) error {
			if !res.Used.Points[key] {
				points = append(points, key)
			}
			return nil
		}); err != nil {
			return err
		}
		return v.CacheKeys(func(key string) error {
			if !res.Used.Points[key] {
				cached = append(cached, store.CacheEntry{Key: key})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, key := range repos {
		if err := r.store.DropRepo(key); err != nil {
			return err
		}
		if rest, ok := strings.CutPrefix(key, "rsync://"); ok {
			dir := filepath.Join(r.cfg.RepositoryDir, "rsync", filepath.FromSlash(strings.TrimSuffix(rest, "/")))
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	for _, key := range points {
		if err := r.store.DropPoint(key); err != nil {
			return err
		}
	}
	if err := r.store.PutCache(cached); err != nil {
		return err
	}
	if len(repos)+len(points) > 0 {
		r.log.Info("removed unused data", "repositories", len(repos), "points", len(points))
	}
	last, err := r.store.LastCollect()
	if err != nil {
		return err
	}
	// Collecting reads the whole index (seconds at world scale), so it
	// runs when this run made much garbage: dropped data, or a
	// repository's content replaced by a snapshot or an rsync run.
	// Deltas leave a little, collected at least every few hours.
	if len(repos)+len(points) == 0 && !r.imported && !replacedContent(statuses) && time.Since(last) < collectEvery {
		return nil
	}
	_, err = r.store.Collect()
	return err
}

// collectEvery bounds how long the garbage of deltas may pile up.
const collectEvery = 6 * time.Hour

// replacedContent reports whether a fetch replaced a repository's
// content wholesale, which leaves its old data as garbage.
func replacedContent(statuses []netio.Status) bool {
	for _, st := range statuses {
		if st.Err == nil && (st.Method == netio.MethodSnapshot || st.Protocol == "rsync") {
			return true
		}
	}
	return false
}
