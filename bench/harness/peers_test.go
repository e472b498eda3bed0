package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

func TestLinkTree(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "cache")
	f := filepath.Join(src, "127.0.0.1:8873", "repo1", "ta", "ta-1.cer")
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("cert"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := harness.LinkTree(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(dst, "127.0.0.1:8873", "repo1", "ta", "ta-1.cer")
	a, err1 := os.Stat(f)
	b, err2 := os.Stat(got)
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		t.Fatalf("%s is not a link of %s: %v %v", got, f, err1, err2)
	}
	// Directories are opened up for rpki-client's user even where the
	// source's are not.
	if fi, err := os.Stat(filepath.Dir(got)); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("directory mode %v (%v), want 0755", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := harness.LinkTree(ctx, src, filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("cancelled: no error")
	}
}

func TestReachableBy(t *testing.T) {
	base := t.TempDir()
	open, closed := filepath.Join(base, "open", "dir"), filepath.Join(base, "closed", "dir")
	for _, d := range []string{open, closed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The test's own directories are 0700; open them up and close one
	// subtree again.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Dir(closed), 0o700); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(base)
	if err != nil {
		t.Fatal(err)
	}
	owner := int(fi.Sys().(*syscall.Stat_t).Uid)
	const other = 65534 // nobody
	if owner == other || !harness.ReachableBy(base, other, other) {
		t.Skipf("%s's ancestors keep other users out, or belong to them", base)
	}
	if !harness.ReachableBy(open, other, other) {
		t.Errorf("%s (0755 all the way) not reachable by another user", open)
	}
	if harness.ReachableBy(closed, other, other) {
		t.Errorf("%s (behind 0700) reachable by another user", closed)
	}
	if !harness.ReachableBy(closed, owner, -1) {
		t.Errorf("%s not reachable by its owner", closed)
	}
}

func TestPeerUsable(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	st := &world.State{Config: world.Config{Now: now}}
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{
		{now, true},
		{now.Add(-30 * time.Minute), true},
		{now.Add(23 * time.Hour), true},
		{now.Add(-2 * time.Hour), false},
		{now.Add(25 * time.Hour), false},
	} {
		if why := harness.PeerUsable(st, "DIR/world", tc.at); (why == "") != tc.ok {
			t.Errorf("at %s: %q, want usable %v", tc.at, why, tc.ok)
		}
	}
	// A mutation two hours on issues manifests valid from an hour on.
	st.Mutations = []world.Mutation{{Time: now.Add(2 * time.Hour)}}
	if why := harness.PeerUsable(st, "DIR/world", now.Add(30*time.Minute)); why == "" {
		t.Error("usable before the mutated manifests are valid")
	}
	if why := harness.PeerUsable(st, "DIR/world", now.Add(90*time.Minute)); why != "" {
		t.Errorf("after the mutated manifests are valid: %q", why)
	}
}
