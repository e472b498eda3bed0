package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world/serve"
)

// TestFetchCommand fetches a small world served in this process, over
// RRDP and then over rsync.
func TestFetchCommand(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	for _, args := range [][]string{{}, {"--rsync"}} {
		var stdout, stderr bytes.Buffer
		args = append(args, "--no-serve", "--store", t.TempDir(), srv.Dir())
		if code := run(append([]string{"fetch"}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("fetch %v: exit %d: %s", args, code, stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, "fetched 2 repositories") || !strings.Contains(out, "peak RSS") {
			t.Errorf("fetch %v printed:\n%s", args, out)
		}
	}
}
