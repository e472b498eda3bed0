package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/rovd/rovd/appliance/relay"
	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

// Validator is the source of the server: a validation run, fetching
// first, with the payload set.
//
// The store is opened for each run and closed after it: between runs
// another rovd process (vrps -n, validate -n, dump) can open it, as the
// manual suggests, and during one it waits for the lock a bounded time.
type Validator struct {
	// Open opens the store and prepares one run with local exceptions ex.
	Open func(ex *payload.SLURM) (*runner.Runner, error)
	// LoadExceptions reads the local exceptions afresh before each run;
	// nil keeps Exceptions. When a file has broken since, the previous
	// exceptions stay in force and a warning says why.
	LoadExceptions func() (*payload.SLURM, error)
	Exceptions     *payload.SLURM
	Logger         *slog.Logger
	// TALDir is checked on Reload.
	TALDir string
	// BeforeRun, if set, is called at the start of each run (tests).
	BeforeRun func()
}

// Next runs a validation.
func (v *Validator) Next(ctx context.Context) (*Update, error) {
	if v.BeforeRun != nil {
		v.BeforeRun()
	}
	if v.LoadExceptions != nil {
		ex, err := v.LoadExceptions()
		if err != nil {
			if v.Logger != nil {
				v.Logger.Warn("local exceptions not reloaded, the previous ones stay in force", "err", err)
			}
		} else {
			v.Exceptions = ex
		}
	}
	r, err := v.Open(v.Exceptions)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	run, err := r.Validate(ctx, true, true)
	if err != nil {
		return nil, err
	}
	return &Update{Set: run.Set, Time: run.Started, Expires: EarliestExpiry(run.Set, run.Time), Run: run}, nil
}

// Reload checks that the TAL directory still holds TALs. Every run reads
// them afresh, so the run that follows SIGUSR1 uses the new ones.
func (v *Validator) Reload() error {
	tals, err := filepath.Glob(filepath.Join(v.TALDir, "*.tal"))
	if err == nil && len(tals) == 0 {
		err = fmt.Errorf("no TALs (*.tal) in %s", v.TALDir)
	}
	for _, t := range tals {
		if err != nil {
			break
		}
		var f *os.File
		if f, err = os.Open(t); err == nil {
			f.Close()
		}
	}
	return err
}

// Relay is the source of the relay mode: a relay.Feed.
type Relay struct {
	Feed *relay.Feed
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Next polls the feed. A refused document is an error naming the URL;
// the server keeps serving the last good set.
func (r *Relay) Next(ctx context.Context) (*Update, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	doc, err := r.Feed.Fetch(ctx, now)
	if errors.Is(err, netio.ErrNotModified) {
		return &Update{Unchanged: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", r.Feed.URL(), err)
	}
	if doc.Expired > 0 && r.Logger != nil {
		r.Logger.Info("relayed entries past their expiry left out", "uri", r.Feed.URL(), "count", doc.Expired)
	}
	if st := doc.Step; st != nil && r.Logger != nil {
		if st.Reset {
			r.Logger.Debug("relay: whole set taken", "uri", r.Feed.URL(), "session", st.Session, "serial", st.Serial, "announced", st.Announced)
		} else {
			r.Logger.Debug("relay: delta applied", "uri", r.Feed.URL(), "session", st.Session, "serial", st.Serial, "from", st.FromSerial,
				"announced", st.Announced, "withdrawn", st.Withdrawn)
		}
	}
	return &Update{Set: doc.Set, Time: doc.Generated, Expires: doc.Expires}, nil
}
