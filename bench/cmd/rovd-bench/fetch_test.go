package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world/serve"
)

// TestFetchCommand fetches a small world served in this process, over
// RRDP and then over rsync, each into an empty store, and then brings
// the RRDP store up to date with --update: the servers answer the same
// serial, so nothing but the notifications is fetched again.
func TestFetchCommand(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	rrdpStore := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", rrdpStore}, "snapshot"},
		{[]string{"--store", t.TempDir(), "--rsync"}, "rsync"},
		{[]string{"--store", rrdpStore, "--update"}, "notification"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(c.args, "--no-serve", srv.Dir())
		if code := run(append([]string{"fetch"}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("fetch %v: exit %d: %s", args, code, stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, "fetched 2 repositories") || !strings.Contains(out, "peak RSS") || !strings.Contains(out, c.want) {
			t.Errorf("fetch %v printed:\n%s", args, out)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"fetch", "--update", "--no-serve", srv.Dir()}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--update needs --store") {
		t.Errorf("--update without --store: exit %d, %q", code, stderr.String())
	}
}
