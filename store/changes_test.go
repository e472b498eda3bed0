package store_test

import (
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
