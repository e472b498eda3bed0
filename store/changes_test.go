package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rovd/rovd/store"
)

func TestStampUnchanged(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", objectSet{
		"rsync://h/m/a/1.roa": []byte("a1"),
		"rsync://h/m/b/1.roa": []byte("b1"),
	}, store.Repo{Serial: 1})
	stamp := func() (st store.Stamp) {
		_ = s.View(func(v *store.View) error { st = v.Stamp("r"); return nil })
		return st
	}
	unchanged := func(st store.Stamp, repo, dir string) (ok bool) {
		_ = s.View(func(v *store.View) error { ok = v.Unchanged(st, repo, dir); return nil })
		return ok
	}
	first := stamp()
	if first.Gen == 0 {
		t.Fatal("no stamp for a stored repository")
	}
	if got := stamp(); got != first {
		t.Errorf("stamp moved without a change: %+v, then %+v", first, got)
	}
	if err := s.Apply("r", store.Repo{Serial: 2}, []store.Change{{URI: "rsync://h/m/a/2.roa", Data: []byte("a2")}}); err != nil {
		t.Fatal(err)
	}
	second := stamp()
	for _, tc := range []struct {
		name      string
		st        store.Stamp
		repo, dir string
		want      bool
	}{
		{"changed directory", first, "r", "rsync://h/m/a/", false},
		{"other directory", first, "r", "rsync://h/m/b/", true},
		{"after the change", second, "r", "rsync://h/m/a/", true},
		{"other repository", first, "x", "rsync://h/m/b/", false},
		{"zero stamp", store.Stamp{}, "r", "rsync://h/m/b/", false},
	} {
		if got := unchanged(tc.st, tc.repo, tc.dir); got != tc.want {
			t.Errorf("%s: Unchanged = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A new generation replaces everything.
	publish(t, s, "r", objectSet{"rsync://h/m/b/1.roa": []byte("b1")}, store.Repo{Serial: 3})
	if unchanged(second, "r", "rsync://h/m/b/") {
		t.Error("directory unchanged across a new generation")
	}
	if unchanged(stamp(), "r", "rsync://h/m/b/") != true {
		t.Error("fresh stamp of the new generation does not hold")
	}
}

func TestChangedSince(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", objectSet{"rsync://h/m/a/1.roa": []byte("a1")}, store.Repo{Serial: 1})
	var start uint64
	_ = s.View(func(v *store.View) error { start = v.ChangeSeq(); return nil })
	changed := func(seq uint64) (dirs []string, ok bool) {
		_ = s.View(func(v *store.View) error {
			ok = v.ChangedSince(seq, func(_ uint64, d string) { dirs = append(dirs, d) })
			return nil
		})
		return dirs, ok
	}
	if dirs, ok := changed(start); !ok || len(dirs) != 0 {
		t.Fatalf("before any delta: %q, %v; want nothing, true", dirs, ok)
	}
	apply := func(serial uint64, uris ...string) {
		t.Helper()
		var cs []store.Change
		for _, u := range uris {
			cs = append(cs, store.Change{URI: u, Data: []byte(u)})
		}
		if err := s.Apply("r", store.Repo{Serial: serial}, cs); err != nil {
			t.Fatal(err)
		}
	}
	apply(2, "rsync://h/m/a/2.roa", "rsync://h/m/b/1.roa", "rsync://h/m/b/2.roa")
	var mid uint64
	_ = s.View(func(v *store.View) error { mid = v.ChangeSeq(); return nil })
	apply(3, "rsync://h/m/c/1.roa")
	for _, tc := range []struct {
		since uint64
		want  []string
	}{
		{start, []string{"rsync://h/m/a/", "rsync://h/m/b/", "rsync://h/m/c/"}},
		{mid, []string{"rsync://h/m/c/"}},
		{mid + 1, nil},
	} {
		got, ok := changed(tc.since)
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("ChangedSince(%d) = %q, %v; want %q, true", tc.since, got, ok, tc.want)
		}
	}
}

func TestRecord(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	read := func() (got string) {
		_ = s.View(func(v *store.View) error { got = string(v.Record("tree")); return nil })
		return got
	}
	if err := s.PutRecord("tree", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "one" {
		t.Errorf("record = %q, want one", got)
	}
	if err := s.ClearCache(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "" {
		t.Errorf("record after ClearCache = %q, want none", got)
	}
}

func TestChangedSinceForgets(t *testing.T) {
	store.SetChangeLogKeep(t, 2)
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", objectSet{"rsync://h/m/a/1.roa": []byte("a1")}, store.Repo{Serial: 1})
	for i := range 4 {
		uri := fmt.Sprintf("rsync://h/m/d%d/x.roa", i)
		if err := s.Apply("r", store.Repo{Serial: uint64(i + 2)}, []store.Change{{URI: uri, Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
	}
	// Changes 1 to 4 happened; the log keeps 3 and 4.
	for _, tc := range []struct {
		since uint64
		ok    bool
		n     int
	}{{0, false, 0}, {1, false, 0}, {2, true, 2}, {3, true, 1}, {4, true, 0}} {
		n := 0
		var ok bool
		_ = s.View(func(v *store.View) error { ok = v.ChangedSince(tc.since, func(uint64, string) { n++ }); return nil })
		if ok != tc.ok || n != tc.n {
			t.Errorf("ChangedSince(%d): %d directories, %v; want %d, %v", tc.since, n, ok, tc.n, tc.ok)
		}
	}
}

// TestWriteDerived checks that a run's results go in together: a kept
// point that does not hold takes the cache entries and records with it.
func TestWriteDerived(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", objectSet{"rsync://h/m/ca.mft": []byte("manifest")}, store.Repo{})
	kept := pointObjects(t, s, "r")
	state := func() (cached, record string, points int) {
		_ = s.View(func(v *store.View) error {
			cached, record = string(v.Cached("p")), string(v.Record("tree"))
			return v.Points(func(string) error { points++; return nil })
		})
		return
	}
	bad := []store.KeptPoint{{Key: "p", Objects: []store.PointObject{{URI: "rsync://h/m/x", Ref: kept[0].Ref, Hash: hashOf("never stored")}}}}
	d := store.Derived{Points: bad, Cache: []store.CacheEntry{{Key: "p", Summary: []byte("s"), Detail: []byte("d")}},
		Records: map[string][]byte{"tree": []byte("t")}}
	if err := s.WriteDerived(d); err == nil {
		t.Fatal("a kept point that is not in the store was written")
	}
	if c, r, n := state(); c != "" || r != "" || n != 0 {
		t.Fatalf("after a failed write: cache %q, record %q, %d points", c, r, n)
	}
	d.Points = []store.KeptPoint{{Key: "p", Objects: kept}}
	if err := s.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	if c, r, n := state(); c != "s" || r != "t" || n != 1 {
		t.Fatalf("after the write: cache %q, record %q, %d points", c, r, n)
	}
}
