package netio

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rovd/rovd/netio/rrdp"
	"github.com/rovd/rovd/store"
)

// Config configures a Collector. DefaultConfig gives the manual's
// defaults; the appliance fills it from the command line and config file.
type Config struct {
	// Store receives everything fetched.
	Store *store.Store
	// CacheDir is the repository directory: rsync's working trees go
	// under CacheDir/rsync/HOST/MODULE.
	CacheDir string
	// HTTP configures the RRDP client.
	HTTP HTTPConfig

	DisableRRDP  bool // disable-rrdp
	DisableRsync bool // disable-rsync

	// RRDPMaxDeltaCount is rrdp-max-delta-count: more deltas than this
	// and the snapshot is used.
	RRDPMaxDeltaCount int
	// RRDPFallbackTime is rrdp-fallback-time, Refresh the refresh time:
	// when RRDP fails, the stored RRDP data are used until a time drawn
	// between Refresh and RRDPFallbackTime (at least twice Refresh) has
	// passed since RRDP last worked; after that rsync is used.
	RRDPFallbackTime time.Duration
	Refresh          time.Duration
	// RRDPTotalTimeout bounds one repository's whole RRDP update
	// (rrdp-total-timeout, ours): rrdp-timeout bounds each network
	// operation, but a server that sends one byte just before every
	// timeout would otherwise hold the run forever. Zero disables it.
	RRDPTotalTimeout time.Duration

	// MaxObjectSize is max-object-size; zero disables the limit.
	MaxObjectSize int64
	// AllowDubiousHosts is allow-dubious-hosts.
	AllowDubiousHosts bool

	// RsyncCommand is rsync-command; RsyncArgs is rsync-args (nil: probe
	// for --contimeout); RsyncTimeout is rsync-timeout.
	RsyncCommand string
	RsyncArgs    []string
	RsyncTimeout time.Duration

	// Parallel bounds the repositories fetched at once.
	Parallel int
	// Logger gets a few lines per failing repository; nil discards.
	Logger *slog.Logger
	// Progress, if set, gets a progress line (repositories done of
	// started, bytes) about twice a second while fetching: a terminal.
	Progress io.Writer
}

// Defaults of the manual, and ours.
const (
	DefaultRRDPMaxDeltaCount = 100
	DefaultRRDPFallbackTime  = time.Hour
	DefaultRefresh           = 600 * time.Second
	DefaultRRDPTotalTimeout  = 20 * time.Minute
	DefaultMaxObjectSize     = 20_000_000
	DefaultRsyncTimeout      = 300 * time.Second
	DefaultParallel          = 16
)

// DefaultConfig returns the manual's defaults for everything but Store
// and CacheDir.
func DefaultConfig() Config {
	return Config{
		HTTP:              DefaultHTTPConfig(),
		RRDPMaxDeltaCount: DefaultRRDPMaxDeltaCount,
		RRDPFallbackTime:  DefaultRRDPFallbackTime,
		Refresh:           DefaultRefresh,
		RRDPTotalTimeout:  DefaultRRDPTotalTimeout,
		MaxObjectSize:     DefaultMaxObjectSize,
		RsyncCommand:      "rsync",
		RsyncTimeout:      DefaultRsyncTimeout,
		Parallel:          DefaultParallel,
	}
}

// Collector fetches repositories into the store. It lives across
// validation runs (it keeps HTTP connections); each run starts a Run.
type Collector struct {
	cfg   Config
	log   *slog.Logger
	rrdp  *rrdpUpdater
	rsync *rsyncRunner
}

// NewCollector checks cfg and builds a Collector.
func NewCollector(cfg Config) (*Collector, error) {
	if cfg.Store == nil {
		return nil, errors.New("netio: no store")
	}
	if cfg.RRDPMaxDeltaCount <= 0 {
		cfg.RRDPMaxDeltaCount = DefaultRRDPMaxDeltaCount
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.RsyncCommand == "" {
		cfg.RsyncCommand = "rsync"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, log: log}
	if !cfg.DisableRRDP {
		hc, err := NewHTTPClient(cfg.HTTP)
		if err != nil {
			return nil, err
		}
		maxObj := cfg.MaxObjectSize
		if maxObj == 0 {
			maxObj = -1 // the parser's "no limit"
		}
		c.rrdp = &rrdpUpdater{http: hc, store: cfg.Store, cfg: &c.cfg, log: log, limits: rrdp.Limits{MaxObjectSize: maxObj}}
		c.rrdp.pool.New = func() any { return rrdp.NewReader(nil, c.rrdp.limits) }
	}
	if !cfg.DisableRsync {
		c.rsync = &rsyncRunner{
			command: cfg.RsyncCommand,
			args:    cfg.RsyncArgs,
			timeout: cfg.RsyncTimeout,
			dir:     cfg.CacheDir,
			store:   cfg.Store,
			maxSize: cfg.MaxObjectSize,
		}
	}
	return c, nil
}

// Close releases idle connections.
func (c *Collector) Close() {
	if c.rrdp != nil {
		c.rrdp.http.CloseIdle()
	}
}

// Status is one repository's fetch in a run, for metrics and /status.
type Status struct {
	// URI is the repository: its notification URI or rsync module.
	URI      string
	Protocol string // "rrdp" or "rsync"
	// Method is how an RRDP update went (MethodSnapshot, ...).
	Method    string
	SessionID string
	Serial    uint64
	Deltas    int
	Bytes     int64 // received
	Objects   int   // in the store afterwards
	Started   time.Time
	Duration  time.Duration
	// Err is why the fetch failed; the store kept the previous data.
	Err error
}

// Run is one validation run's view of the Collector: every repository is
// fetched at most once in it, however many CAs ask. It is safe for
// concurrent use.
type Run struct {
	c   *Collector
	sem chan struct{}

	mu      sync.Mutex
	fetches map[string]*fetch // by repository URI

	started, done atomic.Int64
	bytes         atomic.Int64
	stopProgress  chan struct{}
	progressDone  chan struct{}
}

type fetch struct {
	ready  chan struct{}
	status Status
}

// StartRun begins a validation run.
func (c *Collector) StartRun() *Run {
	r := &Run{c: c, sem: make(chan struct{}, c.cfg.Parallel), fetches: map[string]*fetch{}}
	if c.cfg.Progress != nil {
		r.stopProgress = make(chan struct{})
		r.progressDone = make(chan struct{})
		go r.progress()
	}
	return r
}

// Done ends the run's progress line.
func (r *Run) Done() {
	if r.stopProgress != nil {
		close(r.stopProgress)
		<-r.progressDone
		r.stopProgress = nil
	}
}

func (r *Run) progress() {
	defer close(r.progressDone)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	line := func() {
		fmt.Fprintf(r.c.cfg.Progress, "\rrepositories %d/%d, %.1f MB ", r.done.Load(), r.started.Load(), float64(r.bytes.Load())/1e6)
	}
	for {
		select {
		case <-r.stopProgress:
			line()
			fmt.Fprintln(r.c.cfg.Progress)
			return
		case <-t.C:
			line()
		}
	}
}

// once runs f for key the first time it is asked in this run and waits
// for it; later callers wait for the same result.
func (r *Run) once(ctx context.Context, key string, f func(context.Context, *Status)) Status {
	r.mu.Lock()
	ft, ok := r.fetches[key]
	if !ok {
		ft = &fetch{ready: make(chan struct{}), status: Status{URI: key}}
		r.fetches[key] = ft
	}
	r.mu.Unlock()
	if !ok {
		r.started.Add(1)
		select {
		case r.sem <- struct{}{}:
			ft.status.Started = time.Now()
			f(ctx, &ft.status)
			ft.status.Duration = time.Since(ft.status.Started)
			<-r.sem
		case <-ctx.Done():
			ft.status.Err = ctx.Err()
		}
		r.bytes.Add(ft.status.Bytes)
		r.done.Add(1)
		close(ft.ready)
	}
	select {
	case <-ft.ready:
		return ft.status
	case <-ctx.Done():
		return Status{URI: key, Err: ctx.Err()}
	}
}

// Fetch brings the repository of a CA up to date, given the CA's
// rpkiNotify (empty if it has none) and caRepository URIs, and says
// where in the store its objects are. RRDP comes first; rsync is used
// when the CA has no RRDP, RRDP is disabled, or RRDP has failed for
// longer than the fallback time.
//
// repo is the store key to read from: the notification URI when the
// objects come from RRDP, the rsync module URI otherwise, and empty when
// the store has nothing for the CA. fresh says the data was brought up
// to date in this run. err is the failure, if any, even when older data
// is served. The signature uses only standard types, so that the engine
// can declare the interface it needs without importing netio.
func (r *Run) Fetch(ctx context.Context, notify, caRepository string) (repo string, fresh bool, err error) {
	c := r.c
	host, _, module, modErr := RsyncModule(caRepository)
	scope := ""
	if modErr == nil {
		scope = "rsync://" + host + "/"
	}
	var rrdpErr error
	if notify != "" && c.rrdp != nil {
		if err := CheckHost(notify, c.cfg.AllowDubiousHosts); err != nil {
			rrdpErr = err
		} else {
			st := r.once(ctx, notify, func(ctx context.Context, st *Status) { r.updateRRDP(ctx, notify, scope, st) })
			if st.Err == nil {
				return notify, true, nil
			}
			rrdpErr = st.Err
			if r.withinFallback(notify) {
				return notify, false, st.Err
			}
		}
	}
	if c.rsync == nil || modErr != nil {
		err := rrdpErr
		if err == nil {
			if modErr != nil {
				err = modErr
			} else {
				err = errors.New("rsync is disabled and the CA has no usable RRDP repository")
			}
		}
		if notify != "" && r.has(notify) {
			return notify, false, err
		}
		return "", false, err
	}
	if err := CheckHost(module, c.cfg.AllowDubiousHosts); err != nil {
		return r.stale(module, errors.Join(rrdpErr, err))
	}
	st := r.once(ctx, module, func(ctx context.Context, st *Status) { r.updateRsync(ctx, module, st) })
	if st.Err != nil {
		return r.stale(module, errors.Join(rrdpErr, st.Err))
	}
	return module, true, nil
}

// Ready reports whether Fetch would answer at once for this CA, because
// the repositories it would use were already fetched in this run. The
// engine then asks from its validation workers, without queueing the CA
// for a fetch; false only means it cannot tell.
func (r *Run) Ready(notify, caRepository string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	done := func(key string) (Status, bool) {
		f := r.fetches[key]
		if f == nil {
			return Status{}, false
		}
		select {
		case <-f.ready:
			return f.status, true
		default:
			return Status{}, false
		}
	}
	if notify != "" && r.c.rrdp != nil {
		st, ok := done(notify)
		if !ok {
			return false
		}
		if st.Err == nil {
			return true
		}
	}
	if r.c.rsync == nil {
		return true
	}
	_, _, module, err := RsyncModule(caRepository)
	if err != nil {
		return true
	}
	_, ok := done(module)
	return ok
}

// stale returns what the store has for repo after a failed fetch.
func (r *Run) stale(repo string, err error) (string, bool, error) {
	if r.has(repo) {
		return repo, false, err
	}
	return "", false, err
}

func (r *Run) has(repo string) bool {
	var ok bool
	_ = r.c.cfg.Store.View(func(v *store.View) error { // an unreadable store means "nothing"
		ok = v.HasRepo(repo)
		return nil
	})
	return ok
}

// withinFallback reports whether a failing RRDP repository's stored data
// may still be used: RRDP worked for it less than the fallback time ago.
// The time is drawn between the refresh time and rrdp-fallback-time (at
// least twice the refresh time), per repository, to spread the load of
// a failing server's clients over the rsync servers, as the manual says.
func (r *Run) withinFallback(notify string) bool {
	var info store.Repo
	var ok bool
	_ = r.c.cfg.Store.View(func(v *store.View) error {
		info, ok, _ = v.Repo(notify)
		return nil
	})
	if !ok || info.Protocol != "rrdp" || info.LastRRDP.IsZero() {
		return false
	}
	lo, hi := r.c.cfg.Refresh, r.c.cfg.RRDPFallbackTime
	if hi < 2*lo {
		hi = 2 * lo
	}
	limit := lo
	if hi > lo {
		h := fnv.New64a()
		h.Write([]byte(notify))
		rng := rand.New(rand.NewPCG(h.Sum64(), uint64(info.LastRRDP.Unix())))
		limit += time.Duration(rng.Int64N(int64(hi - lo)))
	}
	return time.Since(info.LastRRDP) < limit
}

func (r *Run) updateRRDP(ctx context.Context, notify, scope string, st *Status) {
	st.Protocol = "rrdp"
	if t := r.c.cfg.RRDPTotalTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, fmt.Errorf("rrdp-total-timeout of %v passed", t))
		defer cancel()
	}
	res, err := r.c.rrdp.update(ctx, notify, scope)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	st.Method, st.SessionID, st.Serial = res.Method, res.SessionID, res.Serial
	st.Deltas, st.Bytes, st.Objects, st.Err = res.Deltas, res.Bytes, res.Objects, err
	if err != nil {
		// The engine reports the failure where it decides what to
		// do about it; this line adds the detail at info.
		r.c.log.Info("rrdp repository failed", "repo", notify, "err", err)
	}
}

func (r *Run) updateRsync(ctx context.Context, module string, st *Status) {
	st.Protocol = "rsync"
	objects, skipped, err := r.c.rsync.update(ctx, module)
	st.Objects, st.Err = objects, err
	if err != nil {
		r.c.log.Info("rsync repository failed", "repo", module, "err", err)
	}
	if len(skipped) > 0 {
		r.c.log.Warn("rsync repository has files that were skipped", "repo", module, "count", len(skipped), "first", skipped[0])
	}
}

// Statuses returns the status of every repository fetched in the run so
// far, sorted by URI.
func (r *Run) Statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.fetches))
	for _, f := range r.fetches {
		select {
		case <-f.ready:
			out = append(out, f.status)
		default:
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out
}
