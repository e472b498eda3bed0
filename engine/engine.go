package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/store"
)

// Policy is how a run treats a class of problem: the manual's values for
// stale, unsafe-vrps and unknown-objects.
type Policy uint8

// The policies.
const (
	// Reject treats the problem as a failure.
	Reject Policy = iota
	// Warn accepts the data and logs a warning.
	Warn
	// Accept accepts the data quietly.
	Accept
)

// ParsePolicy reads a policy as the manual spells it.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "reject":
		return Reject, nil
	case "warn":
		return Warn, nil
	case "accept":
		return Accept, nil
	}
	return 0, fmt.Errorf("invalid policy %q: want reject, warn or accept", s)
}

func (p Policy) String() string {
	switch p {
	case Reject:
		return "reject"
	case Warn:
		return "warn"
	case Accept:
		return "accept"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Limits against hostile trees. A tree that exceeds one loses the part
// beyond it, with a finding; the rest validates as usual.
const (
	// DefaultMaxCADepth is how many CAs deep below a trust anchor the walk
	// goes. Real trees are under ten deep; FORT's default is 32.
	DefaultMaxCADepth = 32
	// DefaultMaxReposPerTA bounds the repositories one trust anchor's
	// tree may name; the largest real TA names some hundreds.
	DefaultMaxReposPerTA = 4096
	// DefaultMaxObjectsPerPoint bounds the files one manifest may list;
	// rpki-client allows 100,000 and the largest real points hold tens of
	// thousands.
	DefaultMaxObjectsPerPoint = 100000
)

// Options are a run's settings, with the manual's names.
type Options struct {
	// TALDir holds the *.tal files (tal-dir).
	TALDir string
	// TALLabels maps a TAL's file name without .tal to the name its
	// trust anchor has in the output (tal-label).
	TALLabels map[string]string
	// Strict selects strict decoding (strict).
	Strict bool
	// Stale is the policy for stale manifests and CRLs (stale, default
	// reject).
	Stale Policy
	// UnsafeVRPs is the policy for VRPs that overlap the resources of a
	// rejected CA (unsafe-vrps, default warn).
	UnsafeVRPs Policy
	// UnknownObjects is the policy for files of unknown type on a
	// manifest (unknown-objects, default warn).
	UnknownObjects Policy
	// Threads is the number of validation workers (validation-threads,
	// default the number of CPUs).
	Threads int
	// Exceptions are the local exceptions (exceptions, RFC 8416),
	// applied to every run's result; nil for none.
	Exceptions *payload.SLURM
	// ColdCache ignores the validation cache in this run: every point is
	// validated in full (and the cache written anew).
	ColdCache bool
	// Time is the instant to validate at (--validation-time); zero means
	// the start of each run.
	Time time.Time
	// Persist writes to the store: the last good copy of each publication
	// point that validates, so that a broken update can fall back to it,
	// and the validation cache. Off for read-only stores.
	Persist bool

	MaxCADepth         int
	MaxReposPerTA      int
	MaxObjectsPerPoint int

	// Logger receives findings; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns the manual's defaults.
func DefaultOptions() Options {
	return Options{
		Stale:              Reject,
		UnsafeVRPs:         Warn,
		UnknownObjects:     Warn,
		Threads:            runtime.NumCPU(),
		Persist:            true,
		MaxCADepth:         DefaultMaxCADepth,
		MaxReposPerTA:      DefaultMaxReposPerTA,
		MaxObjectsPerPoint: DefaultMaxObjectsPerPoint,
	}
}

// Collector brings a CA's repository up to date and says where in the
// store its objects are. A netio run satisfies it; StoreCollector serves
// what the store already has.
type Collector interface {
	// Fetch is asked once per CA, with the CA's rpkiNotify (empty if it
	// has none) and caRepository URIs. repo is the store's key of the
	// repository holding the CA's objects, empty when there is none;
	// fresh says the data was updated in this run; err is the failure,
	// if any, even when older data is served.
	Fetch(ctx context.Context, notify, caRepository string) (repo string, fresh bool, err error)
	// FetchTA brings a trust anchor certificate from a TAL URI into the
	// store: the object uri in repository repo.
	FetchTA(ctx context.Context, uri string) (repo string, fresh bool, err error)
}

// Engine validates the RPKI held in a store. It may run many times; runs
// must not overlap.
type Engine struct {
	store *store.Store
	opt   Options
	log   *slog.Logger
}

// New returns an engine over st.
func New(st *store.Store, opt Options) (*Engine, error) {
	if opt.TALDir == "" {
		return nil, errors.New("no TAL directory")
	}
	if opt.Threads <= 0 {
		opt.Threads = runtime.NumCPU()
	}
	if opt.MaxCADepth <= 0 {
		opt.MaxCADepth = DefaultMaxCADepth
	}
	if opt.MaxReposPerTA <= 0 {
		opt.MaxReposPerTA = DefaultMaxReposPerTA
	}
	if opt.MaxObjectsPerPoint <= 0 {
		opt.MaxObjectsPerPoint = DefaultMaxObjectsPerPoint
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: st, opt: opt, log: log}, nil
}

// Result is what a run produced.
type Result struct {
	Set *payload.Set
	// Unsafe are the VRPs that overlap resources of rejected CAs: left
	// out of Set under unsafe-vrps=reject, kept in it otherwise.
	Unsafe []payload.VRP
	// Exceptions counts what the local exceptions changed.
	Exceptions payload.ExceptionCounts
	Report     *Report
	// Used are the repositories and publication points the run looked
	// at: what a cleanup must keep.
	Used Used
	// Carried counts the subtrees taken over from the last run without
	// a visit (Update only).
	Carried int
	// SignaturesReused counts the objects of changed points whose
	// signatures were not checked again: the last cache entry of their
	// point saw them verify, byte for byte, under the same key.
	SignaturesReused int
	// Time is the instant validated at; Started and Elapsed time the run.
	Time    time.Time
	Started time.Time
	Elapsed time.Duration
}

// Used names store content a run relied on.
type Used struct {
	// Repos are store repository keys, Points manifest URIs.
	Repos, Points map[string]bool
}
