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
	run := func(b *testing.B, threads int, cold bool) {
		opt := engine.DefaultOptions()
		opt.TALDir = filepath.Join(bw.dir, "tals")
		opt.Time = bw.w.Config.Now
		opt.Threads = threads
		opt.ColdCache = cold
		e, err := engine.New(st, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			res, err := e.Run(context.Background(), engine.NewStoreCollector(st))
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Set.VRPs()) == 0 {
				b.Fatal("no VRPs")
			}
		}
	}
	for _, cold := range []bool{true, false} {
		for _, threads := range []int{1, 2} {
			name := fmt.Sprintf("warm/threads=%d", threads)
			if cold {
				name = fmt.Sprintf("cold/threads=%d", threads)
			}
			b.Run(name, func(b *testing.B) { run(b, threads, cold) })
		}
	}
}
