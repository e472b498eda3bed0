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
	"github.com/rovd/rovd/netio"
)

// Validator is the source of the server: a validation run, fetching
// first, with the payload set.
type Validator struct {
	Runner *runner.Runner
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
	run, err := v.Runner.Validate(ctx, true, true)
	if err != nil {
		return nil, err
	}
	return &Update{Set: run.Set, Time: run.Started, Expires: EarliestExpiry(run.Set, run.Time)}, nil
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
	return &Update{Set: doc.Set, Time: doc.Generated, Expires: doc.Expires}, nil
}
