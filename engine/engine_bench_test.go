package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/store"
)

// BenchmarkRun validates the small world from a warm store: "cold"
// ignores the validation cache (every signature checked), "warm" reuses
// it. Comparing threads=1 and threads=2 shows what the second core buys.
func BenchmarkRun(b *testing.B) {
	bw, err := smallWorld()
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(b.TempDir(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.ImportDir(filepath.Join(bw.dir, "rsync"), 0); err != nil {
		b.Fatal(err)
	}
	// cold validates every point; warm reuses the cache; update reuses
	// it without reading payload and builds no set (rovd update).
	run := func(b *testing.B, threads int, mode string) {
		opt := engine.DefaultOptions()
		opt.TALDir = filepath.Join(bw.dir, "tals")
		opt.Time = bw.w.Config.Now
		opt.Threads = threads
		opt.ColdCache = mode == "cold"
		e, err := engine.New(st, opt)
		if err != nil {
			b.Fatal(err)
		}
		runOnce := e.Run
		if mode == "update" {
			runOnce = e.Update
		}
		b.ReportAllocs()
		for b.Loop() {
			res, err := runOnce(context.Background(), engine.NewStoreCollector(st))
			if err != nil {
				b.Fatal(err)
			}
			if res.Report.Counts.PointsValid == 0 || mode != "update" && len(res.Set.VRPs()) == 0 {
				b.Fatal("nothing validated")
			}
		}
	}
	for _, mode := range []string{"cold", "warm", "update"} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", mode, threads), func(b *testing.B) { run(b, threads, mode) })
		}
	}
}
