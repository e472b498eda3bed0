package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// incremental measures rovd with its cache kept, as its server runs:
// before each run MutatePercent of the publication points change, then
// 'rovd update' takes the changes in (the RRDP deltas from the loopback
// servers, or the whole rsync tree with --import when there are none)
// and validates. A following 'rovd vrps -n', not measured, writes the
// VRPs that update validated, for the comparison with the truth that
// world.Mutate has rewritten.
func (v *validation) incremental(ctx context.Context, p *ProgramResult) error {
	env, n := v.env, v.env.Runs
	for i := range n {
		st, err := env.State()
		if err != nil {
			return err
		}
		// Mutations advance a minute at a time from the world's time,
		// not with the clock: the world stays coherent for rovd's
		// --validation-time whenever the run happens, and a minute
		// keeps each new manifest's thisUpdate after the last one's.
		at := worldTime(st).Add(time.Minute)
		finish := env.Progress.Begin("mutate", fmt.Sprintf("mutating %g%% of the publication points (%d/%d)", env.MutatePercent, i+1, n))
		mr, err := world.Mutate(ctx, env.WorldDir, world.MutateOptions{Percent: env.MutatePercent, Now: at, KeyCache: env.KeyCache, Logger: env.Logger})
		if err != nil {
			return fmt.Errorf("mutate: %w", err)
		}
		finish()

		finish = env.Progress.Begin(ProgRovdIncremental, fmt.Sprintf("rovd incremental run %d/%d", i+1, n))
		runAt := at.Add(time.Minute)
		cmd := v.updateCommand(runAt)
		cmd.Log = env.Path("logs", fmt.Sprintf("%s-%d.log", p.ID, i+1))
		p.Command = cmd.String()
		if v.lb != nil {
			v.lb.reset()
		}
		u, err := Measure(ctx, cmd)
		if err != nil {
			return fmt.Errorf("rovd incremental: %w", err)
		}
		var fetch *FetchStats
		if v.lb != nil {
			fetch = v.lb.fetched()
			v.noteFetch(p, i+1, fetch, mr)
		}
		finish()

		finish = env.Progress.Begin("check", fmt.Sprintf("rovd vrps -n after incremental run %d/%d (not measured)", i+1, n))
		out := env.Path("out", fmt.Sprintf("%s-%d.csv", p.ID, i+1))
		check := v.vrpsCommand(runAt, 0, false, out)
		check.Log = env.Path("logs", fmt.Sprintf("%s-check-%d.log", p.ID, i+1))
		if _, err := Measure(ctx, check); err != nil {
			return fmt.Errorf("rovd vrps after incremental run %d: %w", i+1, err)
		}
		c, err := v.compareTruth(out)
		if err != nil {
			return fmt.Errorf("rovd vrps after incremental run %d: %w", i+1, err)
		}
		p.Compare = &c
		r := runResult(u, c)
		r.MutatedPoints, r.Fetch = mr.Points, fetch
		p.Runs = append(p.Runs, r)
		finish()
	}
	return nil
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
