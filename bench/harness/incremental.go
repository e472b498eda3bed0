package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/store"
)

// incremental measures rovd with its cache kept, in two rows, each run
// of each row after its own change of MutatePercent of the publication
// points:
//
//   - incr, the incremental run as the full run is measured: the changed
//     repositories are first brought into rovd's store (RRDP deltas
//     fetched by the harness with rovd's own fetcher, or the rsync tree
//     imported when the world is not served), then 'rovd vrps -n -f
//     none' validates from the store with the cache kept; since -n
//     writes nothing, a following 'rovd update' (not measured) writes
//     the cache as rovd's server would;
//   - upd, 'rovd update' with the network: fetching the deltas from the
//     loopback servers and validating, as rovd's server does each
//     refresh.
//
// After each run a 'rovd vrps -n' (not measured) gives the VRPs, for the
// comparison with the truth that world.Mutate has rewritten.
func (v *validation) incremental(ctx context.Context, incr, upd *ProgramResult) error {
	n := v.env.Runs
	for i := range n {
		for _, p := range []*ProgramResult{incr, upd} {
			if err := v.incrementalRun(ctx, p, i+1, n, p == incr); err != nil {
				return err
			}
		}
	}
	return nil
}

// incrementalRun mutates the world and makes run 'run' of row p; fromStore
// says p is the row that validates from the store.
func (v *validation) incrementalRun(ctx context.Context, p *ProgramResult, run, n int, fromStore bool) error {
	env := v.env
	st, err := env.State()
	if err != nil {
		return err
	}
	// Mutations advance a minute at a time from the world's time, not
	// with the clock: the world stays coherent for rovd's
	// --validation-time whenever the run happens, and a minute keeps
	// each new manifest's thisUpdate after the last one's.
	at := worldTime(st).Add(time.Minute)
	finish := env.Progress.Begin("mutate", fmt.Sprintf("mutating %g%% of the publication points (%s, %d/%d)", env.MutatePercent, p.ID, run, n))
	mr, err := world.Mutate(ctx, env.WorldDir, world.MutateOptions{Percent: env.MutatePercent, Now: at, KeyCache: env.KeyCache, Logger: env.Logger})
	if err != nil {
		return fmt.Errorf("mutate: %w", err)
	}
	finish()
	runAt := at.Add(time.Minute)

	var fetch *FetchStats
	var takeIn float64
	if fromStore {
		finish = env.Progress.Begin("take-in", fmt.Sprintf("bringing the changes into rovd's store (%d/%d, not measured)", run, n))
		if v.lb != nil {
			v.lb.reset()
		}
		start := time.Now()
		if err := v.takeIn(ctx, st); err != nil {
			return fmt.Errorf("bringing the changes into rovd's store: %w", err)
		}
		takeIn = time.Since(start).Seconds()
		if v.lb != nil {
			fetch = v.lb.fetched()
			v.noteFetch(p, run, fetch, mr)
		}
		finish()
	}

	finish = env.Progress.Begin(p.ID, fmt.Sprintf("%s run %d/%d", shortLabel(p.ID, p.Label), run, n))
	cmd := v.updateCommand(runAt)
	if fromStore {
		cmd = v.noUpdateCommand(runAt)
	}
	cmd.Log = env.Path("logs", fmt.Sprintf("%s-%d.log", p.ID, run))
	p.Command = cmd.String()
	if v.lb != nil && !fromStore {
		v.lb.reset()
	}
	u, err := Measure(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", p.ID, err)
	}
	if v.lb != nil && !fromStore {
		fetch = v.lb.fetched()
		v.noteFetch(p, run, fetch, mr)
	}
	finish()

	finish = env.Progress.Begin("check", fmt.Sprintf("rovd vrps -n after %s run %d/%d (not measured)", p.ID, run, n))
	if fromStore {
		// -n wrote nothing: the cache is written as the server would.
		write := v.updateCommand(runAt)
		write.Log = env.Path("logs", fmt.Sprintf("%s-write-%d.log", p.ID, run))
		if _, err := Measure(ctx, write); err != nil {
			return fmt.Errorf("rovd update after %s run %d: %w", p.ID, run, err)
		}
	}
	out := env.Path("out", fmt.Sprintf("%s-%d.csv", p.ID, run))
	check := v.vrpsCommand(runAt, 0, false, out)
	check.Log = env.Path("logs", fmt.Sprintf("%s-check-%d.log", p.ID, run))
	if _, err := Measure(ctx, check); err != nil {
		return fmt.Errorf("rovd vrps after %s run %d: %w", p.ID, run, err)
	}
	c, err := v.compareTruth(out)
	if err != nil {
		return fmt.Errorf("rovd vrps after %s run %d: %w", p.ID, run, err)
	}
	p.Compare = &c
	rr := runResult(u, c)
	rr.MutatedPoints, rr.Fetch, rr.TakeInSecs = mr.Points, fetch, takeIn
	p.Runs = append(p.Runs, rr)
	finish()
	return nil
}

// takeIn brings the world's changes into rovd's store without
// validating: over RRDP from the loopback servers with rovd's fetcher,
// or, when the world is not served, by importing its rsync tree.
func (v *validation) takeIn(ctx context.Context, st *world.State) error {
	if v.lb != nil {
		_, err := FetchWorld(ctx, v.store, v.env.WorldDir, st, FetchWorldOptions{})
		return err
	}
	s, err := store.Open(v.store, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	_, _, err = s.ImportDir(filepath.Join(v.env.WorldDir, "rsync"), 0)
	return err
}

// noteFetch notes an incremental run that did not fetch what the
// mutation calls for: a delta from each changed repository, no
// snapshot, no rsync.
func (v *validation) noteFetch(p *ProgramResult, run int, f *FetchStats, mr *world.MutateResult) {
	if f.Deltas < len(mr.Repositories) {
		p.note(fmt.Sprintf("run %d fetched %d RRDP delta(s) for %d changed repositories", run, f.Deltas, len(mr.Repositories)))
	}
	if f.Snapshots > 0 {
		p.note(fmt.Sprintf("run %d fetched %d RRDP snapshot(s)", run, f.Snapshots))
	}
	if f.Failed > 0 {
		p.note(fmt.Sprintf("run %d: %d HTTPS request(s) failed", run, f.Failed))
	}
	if f.RsyncConnections > 0 {
		p.note(fmt.Sprintf("run %d made %d rsync connection(s)", run, f.RsyncConnections))
	}
}
