package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/rovd/rovd/store"
)

func open(t testing.TB, dir string, opt store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // tests that close it themselves get nil here
	return s
}

// objectSet is a repository's content as a test writes and expects it.
type objectSet map[string][]byte

func makeSet(prefix string, n, size int, tag string) objectSet {
	set := objectSet{}
	for i := range n {
		unit := fmt.Sprintf("%s/%d;", tag, i)
		data := []byte(strings.Repeat(unit, size/len(unit)+1)[:size])
		set[fmt.Sprintf("%sobj-%05d.roa", prefix, i)] = data
	}
	return set
}

func publish(t testing.TB, s *store.Store, repo string, set objectSet, info store.Repo) {
	t.Helper()
	g, err := s.NewGeneration(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range slices.Sorted(mapsKeys(set)) {
		if err := g.Put(uri, set[uri]); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Publish(info); err != nil {
		t.Fatal(err)
	}
}

func mapsKeys(m objectSet) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// content reads a repository's objects back, copying them out.
func content(t testing.TB, s *store.Store, repo string) objectSet {
	t.Helper()
	got := objectSet{}
	err := s.View(func(v *store.View) error {
		objs := v.Repository(repo)
		if objs == nil {
			return nil
		}
		return objs.Walk("", func(o store.Object) error {
			if o.Hash != sha256.Sum256(o.Data) {
				return fmt.Errorf("%s: stored hash does not match the data", o.URI)
			}
			got[string(o.URI)] = bytes.Clone(o.Data)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGenerationPublish(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: 4096})
	const repo = "https://rrdp.example.net/notification.xml"
	first := makeSet("rsync://example.net/repo/a/", 100, 300, "one")
	publish(t, s, repo, first, store.Repo{Protocol: "rrdp", SessionID: "s", Serial: 1})
	if diff := cmp.Diff(first, content(t, s, repo)); diff != "" {
		t.Fatalf("content after first publish (-want +got):\n%s", diff)
	}

	// A reader keeps its state while the next generation is built and
	// published; a new reader sees the new one.
	second := makeSet("rsync://example.net/repo/b/", 50, 200, "two")
	g, err := s.NewGeneration(repo)
	if err != nil {
		t.Fatal(err)
	}
	for uri, data := range second {
		if err := g.Put(uri, data); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(first, content(t, s, repo)); diff != "" {
		t.Fatalf("content while the next generation is built (-want +got):\n%s", diff)
	}
	if err := g.Publish(store.Repo{Protocol: "rrdp", SessionID: "s", Serial: 7}); err != nil {
		t.Fatal(err)
	}
	g.Abort() // after Publish: no effect
	if diff := cmp.Diff(second, content(t, s, repo)); diff != "" {
		t.Fatalf("content after second publish (-want +got):\n%s", diff)
	}

	err = s.View(func(v *store.View) error {
		info, ok, err := v.Repo(repo)
		if err != nil || !ok {
			return fmt.Errorf("repo info: %v, %v", ok, err)
		}
		if info.Serial != 7 || info.Objects != 50 || info.Bytes != 50*200 {
			t.Errorf("repo info = %+v, want serial 7, 50 objects, 10000 bytes", info)
		}
		objs := v.Repository(repo)
		if n := objs.Len(); n != 50 {
			t.Errorf("Len = %d, want 50", n)
		}
		uri := "rsync://example.net/repo/b/obj-00007.roa"
		o, ok := objs.Get(uri)
		if !ok || !bytes.Equal(o.Data, second[uri]) {
			t.Errorf("Get(%s) = %q, %v", uri, o.Data, ok)
		}
		if _, ok := objs.Get("rsync://example.net/repo/a/obj-00007.roa"); ok {
			t.Error("an object of the replaced generation is still there")
		}
		if v.Repository("rsync://other/") != nil {
			t.Error("unknown repository has content")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWalkPrefix(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	set := objectSet{
		"rsync://h/m/a/1.roa":  []byte("1"),
		"rsync://h/m/a/2.roa":  []byte("2"),
		"rsync://h/m/ab/3.roa": []byte("3"),
		"rsync://h/m/b/4.roa":  []byte("4"),
	}
	publish(t, s, "r", set, store.Repo{})
	var got []string
	err := s.View(func(v *store.View) error {
		return v.Repository("r").Walk("rsync://h/m/a/", func(o store.Object) error {
			got = append(got, string(o.URI))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rsync://h/m/a/1.roa", "rsync://h/m/a/2.roa"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk = %v, want %v", got, want)
	}
}

func TestAbortAndDuplicateKeepContent(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: 1024})
	base := makeSet("rsync://h/m/", 10, 100, "base")
	publish(t, s, "r", base, store.Repo{})

	g, err := s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	for uri := range makeSet("rsync://h/x/", 40, 100, "x") {
		if err := g.Put(uri, []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	g.Abort()
	if diff := cmp.Diff(base, content(t, s, "r")); diff != "" {
		t.Fatalf("content after abort (-want +got):\n%s", diff)
	}

	g, err = s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	err = g.Put("rsync://h/m/dup.roa", []byte("1"))
	if err == nil {
		err = g.Put("rsync://h/m/dup.roa", []byte("2"))
	}
	if err == nil {
		err = g.Publish(store.Repo{})
	}
	if !errors.Is(err, store.ErrDuplicate) || !strings.Contains(err.Error(), "dup.roa") {
		t.Fatalf("publishing a duplicate URI: %v, want ErrDuplicate naming it", err)
	}
	if diff := cmp.Diff(base, content(t, s, "r")); diff != "" {
		t.Fatalf("content after the duplicate (-want +got):\n%s", diff)
	}
	st, err := s.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if st.Generations != 0 || st.LiveObjects != len(base) {
		t.Errorf("after abort, Collect = %+v: want no orphaned generation and %d live objects", st, len(base))
	}
}

func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func TestApply(t *testing.T) {
	base := objectSet{
		"rsync://h/m/a.roa": []byte("a"),
		"rsync://h/m/b.roa": []byte("b"),
	}
	tests := []struct {
		name    string
		changes []store.Change
		want    objectSet // nil: a conflict, content unchanged
	}{
		{"publish new", []store.Change{{URI: "rsync://h/m/c.roa", Data: []byte("c")}},
			objectSet{"rsync://h/m/a.roa": []byte("a"), "rsync://h/m/b.roa": []byte("b"), "rsync://h/m/c.roa": []byte("c")}},
		{"replace", []store.Change{{URI: "rsync://h/m/a.roa", HasHash: true, Hash: hashOf("a"), Data: []byte("A")}},
			objectSet{"rsync://h/m/a.roa": []byte("A"), "rsync://h/m/b.roa": []byte("b")}},
		{"withdraw", []store.Change{{URI: "rsync://h/m/b.roa", Withdraw: true, HasHash: true, Hash: hashOf("b")}},
			objectSet{"rsync://h/m/a.roa": []byte("a")}},
		{"several deltas in a row", []store.Change{
			{URI: "rsync://h/m/c.roa", Data: []byte("c")},
			{URI: "rsync://h/m/c.roa", HasHash: true, Hash: hashOf("c"), Data: []byte("C")},
			{URI: "rsync://h/m/a.roa", Withdraw: true, HasHash: true, Hash: hashOf("a")},
			{URI: "rsync://h/m/a.roa", Data: []byte("a2")},
		}, objectSet{"rsync://h/m/a.roa": []byte("a2"), "rsync://h/m/b.roa": []byte("b"), "rsync://h/m/c.roa": []byte("C")}},
		{"replace with wrong hash", []store.Change{{URI: "rsync://h/m/a.roa", HasHash: true, Hash: hashOf("x"), Data: []byte("A")}}, nil},
		{"replace missing object", []store.Change{{URI: "rsync://h/m/x.roa", HasHash: true, Hash: hashOf("x"), Data: []byte("X")}}, nil},
		{"publish over existing without hash", []store.Change{{URI: "rsync://h/m/a.roa", Data: []byte("A")}}, nil},
		{"withdraw missing object", []store.Change{{URI: "rsync://h/m/x.roa", Withdraw: true, HasHash: true, Hash: hashOf("x")}}, nil},
		{"withdraw without hash", []store.Change{{URI: "rsync://h/m/a.roa", Withdraw: true}}, nil},
		{"conflict after good changes applies none", []store.Change{
			{URI: "rsync://h/m/c.roa", Data: []byte("c")},
			{URI: "rsync://h/m/b.roa", Withdraw: true, HasHash: true, Hash: hashOf("b")},
			{URI: "rsync://h/m/a.roa", HasHash: true, Hash: hashOf("wrong"), Data: []byte("A")},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, t.TempDir(), store.Options{NoSync: true})
			publish(t, s, "r", base, store.Repo{Serial: 1})
			err := s.Apply("r", store.Repo{Serial: 2}, tc.changes)
			want, serial := tc.want, uint64(2)
			if want == nil {
				var ce *store.ConflictError
				if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
					t.Fatalf("Apply = %v, want a ConflictError", err)
				}
				want, serial = base, 1
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, content(t, s, "r")); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			var info store.Repo
			_ = s.View(func(v *store.View) error { info, _, _ = v.Repo("r"); return nil })
			size := 0
			for _, d := range want {
				size += len(d)
			}
			if info.Serial != serial || info.Objects != len(want) || info.Bytes != int64(size) {
				t.Errorf("repo info = %+v, want serial %d, %d objects, %d bytes", info, serial, len(want), size)
			}
		})
	}
}

func TestApplyWithoutContent(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	err := s.Apply("r", store.Repo{}, []store.Change{{URI: "rsync://h/m/a", Data: []byte("a")}})
	if err == nil {
		t.Fatal("deltas applied to a repository the store does not have")
	}
	if err := s.SetRepo("r", store.Repo{}); err == nil {
		t.Fatal("SetRepo of an unknown repository succeeded")
	}
}

func TestPointsOutliveRepositories(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	old := objectSet{"rsync://h/m/ca.mft": []byte("manifest 1"), "rsync://h/m/ca.crl": []byte("crl 1")}
	publish(t, s, "r", old, store.Repo{})
	kept := pointObjects(t, s, "r")
	if err := s.KeepPoint("rsync://h/m/ca.mft", kept); err != nil {
		t.Fatal(err)
	}
	bad := []store.PointObject{{URI: "rsync://h/m/x", Ref: kept[0].Ref, Hash: hashOf("never stored")}}
	if err := s.KeepPoint("rsync://h/m/other.mft", bad); err == nil {
		t.Fatal("KeepPoint accepted an object that is not in the store")
	}

	// A broken update replaces the repository's content; the point's
	// last valid objects survive it and garbage collection.
	publish(t, s, "r", objectSet{"rsync://h/m/ca.mft": []byte("garbage")}, store.Repo{})
	st, err := s.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if st.Chunks != 0 || st.LiveObjects != 3 {
		t.Errorf("Collect = %+v, want nothing removed and 3 live objects", st)
	}
	got := objectSet{}
	err = s.View(func(v *store.View) error {
		return v.Point("rsync://h/m/ca.mft").Walk("", func(o store.Object) error {
			got[string(o.URI)] = bytes.Clone(o.Data)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(old, got); diff != "" {
		t.Errorf("kept point (-want +got):\n%s", diff)
	}

	if err := s.DropPoint("rsync://h/m/ca.mft"); err != nil {
		t.Fatal(err)
	}
	if err := s.DropPoint("rsync://h/m/never-kept.mft"); err != nil {
		t.Fatal(err)
	}
	st, err = s.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if st.Chunks != 1 || st.LiveObjects != 1 {
		t.Errorf("Collect after DropPoint = %+v, want the first chunk removed and 1 live object", st)
	}
	if err := s.DropRepo("r"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Collect(); st.Chunks != 1 || st.LiveObjects != 0 {
		t.Errorf("Collect after DropRepo = %+v, want 1 chunk removed, none live", st)
	}
}

func TestCollectAndCompact(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, store.Options{NoSync: true})
	// 80 MB in, then replaced by a small set: Compact must shrink the
	// file and keep the small set.
	publish(t, s, "r", makeSet("rsync://h/m/big/", 20000, 4000, "big"), store.Repo{})
	small := makeSet("rsync://h/m/small/", 100, 1000, "small")
	publish(t, s, "r", small, store.Repo{})
	before, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < 20000*4000 || st.LiveObjects != 100 || st.LiveChunks != 1 {
		t.Errorf("Compact collected %+v, want 80 MB removed and 100 live objects in one chunk", st)
	}
	after, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after.Size*4 > before.Size {
		t.Errorf("file %d bytes before Compact, %d after: want it to shrink to under a quarter", before.Size, after.Size)
	}
	if diff := cmp.Diff(small, content(t, s, "r")); diff != "" {
		t.Fatalf("content after Compact (-want +got):\n%s", diff)
	}
	// The store stays writable after the rewrite.
	publish(t, s, "r2", small, store.Repo{})
	if after.Chunks != 1 || after.Repos != 1 {
		t.Errorf("Stats = %+v", after)
	}
}

func TestReopenDropsUnfinishedGeneration(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, store.Options{NoSync: true, BatchBytes: 512})
	base := makeSet("rsync://h/m/", 5, 100, "base")
	publish(t, s, "r", base, store.Repo{})
	g, err := s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	for uri := range makeSet("rsync://h/n/", 50, 100, "new") {
		if err := g.Put(uri, []byte(uri)); err != nil {
			t.Fatal(err)
		}
	}
	// The writer dies before Publish: simulate by closing underneath it
	// once its batches are committed.
	time.Sleep(10 * time.Millisecond)
	_ = s.Close()

	s = open(t, dir, store.Options{NoSync: true})
	if diff := cmp.Diff(base, content(t, s, "r")); diff != "" {
		t.Fatalf("content after reopen (-want +got):\n%s", diff)
	}
	st, err := s.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if st.Generations != 0 || st.LiveObjects != 5 {
		t.Errorf("Collect after reopen = %+v, want the unfinished generation already gone", st)
	}
}

func TestLocking(t *testing.T) {
	dir := t.TempDir()
	w := open(t, dir, store.Options{NoSync: true})
	publish(t, w, "r", makeSet("rsync://h/m/", 3, 10, "x"), store.Repo{})

	_, err := store.Open(dir, store.Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, store.FileName)) {
		t.Fatalf("read-only open beside a writer: %v, want ErrLocked naming the file", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Readers share the store.
	r1 := open(t, dir, store.Options{ReadOnly: true, LockTimeout: time.Second})
	r2 := open(t, dir, store.Options{ReadOnly: true, LockTimeout: time.Second})
	for _, r := range []*store.Store{r1, r2} {
		if got := len(content(t, r, "r")); got != 3 {
			t.Errorf("reader sees %d objects, want 3", got)
		}
		if _, err := r.NewGeneration("r"); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("NewGeneration on a read-only store: %v, want ErrReadOnly", err)
		}
	}
	if _, err := store.Open(dir, store.Options{LockTimeout: -1}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("writable open beside readers: %v, want ErrLocked", err)
	}
}

func TestFresh(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, store.Options{NoSync: true})
	publish(t, s, "r", makeSet("rsync://h/m/", 3, 10, "x"), store.Repo{})
	_ = s.Close()
	s = open(t, dir, store.Options{NoSync: true, Fresh: true})
	if got := content(t, s, "r"); len(got) != 0 {
		t.Errorf("fresh store has %d objects", len(got))
	}
	if _, err := store.Open(dir, store.Options{Fresh: true, ReadOnly: true}); err == nil {
		t.Error("fresh read-only open succeeded")
	}
	if _, err := store.Open(t.TempDir(), store.Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing store succeeded")
	}
}

func TestDamagedFile(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"not a database", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte("rovd"), 8192))
		}},
		{"truncated to one page", func(t *testing.T, path string) {
			truncate(t, path, 4096)
		}},
		{"meta pages zeroed", func(t *testing.T, path string) {
			patch(t, path, 0, make([]byte, 8192))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, store.Options{NoSync: true})
			publish(t, s, "r", makeSet("rsync://h/m/", 200, 500, "x"), store.Repo{})
			_ = s.Close()
			tc.damage(t, filepath.Join(dir, store.FileName))

			_, err := store.Open(dir, store.Options{})
			if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), store.FileName) {
				t.Fatalf("Open = %v, want ErrCorrupt naming the file", err)
			}
			aside, err := store.Repair(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(aside); err != nil {
				t.Errorf("damaged file not kept: %v", err)
			}
			s = open(t, dir, store.Options{NoSync: true})
			publish(t, s, "r", makeSet("rsync://h/m/", 2, 5, "y"), store.Repo{})
		})
	}
}

// TestDamagedPages overwrites data pages and checks that reading the store
// gives errors, never a panic.
func TestDamagedPages(t *testing.T) {
	for _, offset := range []int64{3 * 4096, 5 * 4096, 9 * 4096, 17 * 4096} {
		t.Run(fmt.Sprint(offset), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, store.Options{NoSync: true})
			publish(t, s, "r", makeSet("rsync://h/m/", 300, 300, "x"), store.Repo{})
			_ = s.Close()
			patch(t, filepath.Join(dir, store.FileName), offset, bytes.Repeat([]byte{0xa5}, 4096))

			s, err := store.Open(dir, store.Options{NoSync: true})
			if err != nil {
				if !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("Open = %v, want success or ErrCorrupt", err)
				}
				return
			}
			defer s.Close()
			err = s.View(func(v *store.View) error {
				if objs := v.Repository("r"); objs != nil {
					return objs.Walk("", func(store.Object) error { return nil })
				}
				return nil
			})
			if err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Logf("walk: %v", err) // a decoding error of a damaged record is fine too
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func patch(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

func TestImportDir(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"rpki.example.net/repo/ca/a.roa":       "a",
		"rpki.example.net/repo/ca/sub/b.mft":   "b",
		"rpki.example.net/other/c.cer":         "c",
		"127.0.0.1:8873/repo1/ta/ta-1.cer":     "ta",
		"127.0.0.1:8873/repo1/ca/toolarge.gbr": strings.Repeat("x", 100),
	}
	for name, data := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, []byte(data))
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "rpki.example.net/repo/ca/link.roa")); err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	repos, skipped, err := s.ImportDir(root, 50)
	if err != nil {
		t.Fatal(err)
	}
	wantRepos := []string{"rsync://127.0.0.1:8873/repo1/", "rsync://rpki.example.net/other/", "rsync://rpki.example.net/repo/"}
	if diff := cmp.Diff(wantRepos, repos); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	if len(skipped) != 2 || !errors.Is(skipped[1], store.ErrObjectTooLarge) && !errors.Is(skipped[0], store.ErrObjectTooLarge) {
		t.Errorf("skipped = %v, want the symlink and the file over the limit", skipped)
	}
	want := objectSet{"rsync://rpki.example.net/repo/ca/a.roa": []byte("a"), "rsync://rpki.example.net/repo/ca/sub/b.mft": []byte("b")}
	if diff := cmp.Diff(want, content(t, s, "rsync://rpki.example.net/repo/")); diff != "" {
		t.Errorf("imported module (-want +got):\n%s", diff)
	}
	if got := content(t, s, "rsync://127.0.0.1:8873/repo1/"); len(got) != 1 || string(got["rsync://127.0.0.1:8873/repo1/ta/ta-1.cer"]) != "ta" {
		t.Errorf("module with a port: %v", got)
	}
}

func TestGetAllocatesNothing(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", makeSet("rsync://h/m/", 1000, 100, "x"), store.Repo{})
	err := s.View(func(v *store.View) error {
		objs := v.Repository("r")
		uri := "rsync://h/m/obj-00500.roa"
		if n := testing.AllocsPerRun(100, func() { objs.Get(uri) }); n != 0 {
			t.Errorf("Get allocates %v times", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSortRuns builds generations larger than one in-memory sort run, in
// shuffled order, so the index comes from runs merged on disk.
func TestSortRuns(t *testing.T) {
	defer store.SetSortRun(64)()
	s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: 2048})
	set := makeSet("rsync://h/m/", 1000, 50, "x")
	uris := slices.Sorted(mapsKeys(set))
	rand.New(rand.NewPCG(5, 5)).Shuffle(len(uris), func(i, j int) { uris[i], uris[j] = uris[j], uris[i] })
	g, err := s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range uris {
		if err := g.Put(uri, set[uri]); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Publish(store.Repo{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(set, content(t, s, "r")); diff != "" {
		t.Fatalf("content (-want +got):\n%s", diff)
	}
	var walked []string
	_ = s.View(func(v *store.View) error {
		return v.Repository("r").Walk("", func(o store.Object) error {
			walked = append(walked, string(o.URI))
			return nil
		})
	})
	if !slices.IsSorted(walked) || len(walked) != 1000 {
		t.Errorf("walk gave %d URIs, sorted: %v", len(walked), slices.IsSorted(walked))
	}

	// A duplicate far apart lands in different runs.
	g, err = s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	for i, uri := range uris {
		if i == 900 {
			uri = uris[3]
		}
		if err := g.Put(uri, set[uris[i]]); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Publish(store.Repo{}); !errors.Is(err, store.ErrDuplicate) || !strings.Contains(err.Error(), uris[3]) {
		t.Fatalf("duplicate across runs: %v, want ErrDuplicate naming %s", err, uris[3])
	}
	if diff := cmp.Diff(set, content(t, s, "r")); diff != "" {
		t.Fatalf("content after the failed generation (-want +got):\n%s", diff)
	}
	if st, err := s.Collect(); err != nil || st.LiveObjects != 1000 || st.Generations != 0 {
		t.Errorf("Collect = %+v, %v: want 1000 live objects and nothing orphaned", st, err)
	}
}

// TestUnchangedObjectsKeepTheirData checks that a new generation reuses
// the stored data of objects that did not change.
func TestUnchangedObjectsKeepTheirData(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	set := makeSet("rsync://h/m/", 100, 100, "x")
	publish(t, s, "r", set, store.Repo{})
	refs := func() map[string]store.Ref {
		m := map[string]store.Ref{}
		_ = s.View(func(v *store.View) error {
			return v.Repository("r").Walk("", func(o store.Object) error {
				m[string(o.URI)] = o.Ref
				return nil
			})
		})
		return m
	}
	before := refs()
	changed := "rsync://h/m/obj-00010.roa"
	set[changed] = []byte("new content")
	publish(t, s, "r", set, store.Repo{})
	after := refs()
	for uri, ref := range before {
		if same := after[uri] == ref; same == (uri == changed) {
			t.Errorf("%s: data at %+v before, %+v after", uri, ref, after[uri])
		}
	}
	if st, _ := s.Collect(); st.Chunks != 0 || st.LiveObjects != 100 || st.LiveChunks != 2 {
		t.Errorf("Collect = %+v, want nothing removed and 100 objects in 2 chunks", st)
	}
}

// TestCollectDuringGeneration runs Collect while a generation is half
// built: the chunks it wrote have no index yet and must survive.
func TestCollectDuringGeneration(t *testing.T) {
	for _, run := range []int{1 << 16, 8} { // in memory, and spilled to staging
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			defer store.SetSortRun(run)()
			s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: 1024})
			set := makeSet("rsync://h/m/", 200, 100, "x")
			g, err := s.NewGeneration("r")
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for uri, data := range set {
				if err := g.Put(uri, data); err != nil {
					t.Fatal(err)
				}
				if i++; i == 150 {
					if _, err := s.Collect(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := g.Publish(store.Repo{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Collect(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(set, content(t, s, "r")); diff != "" {
				t.Fatalf("content (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHashIn looks up files of one directory in the orders a validation
// run asks for them, with other files, a subdirectory and missing names
// in between.
func TestHashIn(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	set := objectSet{}
	for _, name := range []string{"a.cer", "b.crl", "b.mft", "c.roa", "d/x.roa", "d/y.roa", "d/z.roa", "d/zz.roa", "d/zzz.roa", "e.roa", "f.gbr"} {
		set["rsync://h/m/ca/"+name] = []byte("data of " + name)
	}
	publish(t, s, "r", set, store.Repo{})
	err := s.View(func(v *store.View) error {
		objs := v.Repository("r")
		for _, names := range [][]string{
			{"a.cer", "b.crl", "b.mft", "c.roa", "e.roa", "f.gbr"},
			{"a.cer", "c.roa", "f.gbr"},
			{"a.bad", "b.mft", "c.rob", "e.roa", "g.roa"},
			{"e.roa"},
			{"f.gbr", "a.cer", "d/zz.roa", "b.mft"},
		} {
			for _, name := range names {
				got, gotOK := objs.HashIn("rsync://h/m/ca/", []byte(name))
				if _, present := set["rsync://h/m/ca/"+name]; present != gotOK || gotOK && got != hashOf("data of "+name) {
					t.Errorf("%v: %s: found %v", names, name, gotOK)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pointObjects lists the objects of repository repo as a point to keep.
func pointObjects(t *testing.T, s *store.Store, repo string) []store.PointObject {
	t.Helper()
	var objs []store.PointObject
	err := s.View(func(v *store.View) error {
		return v.Repository(repo).Walk("", func(o store.Object) error {
			objs = append(objs, store.PointObject{URI: string(o.URI), Ref: o.Ref, Hash: o.Hash})
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestCollectPartlyLiveSegment sweeps a segment whose chunks are partly
// live, then drops it whole once none is. A delta is one transaction, so
// its chunks share a segment.
func TestCollectPartlyLiveSegment(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	publish(t, s, "r", objectSet{"rsync://h/m/x.roa": []byte("x")}, store.Repo{})
	big := func(tag string) []byte { return bytes.Repeat([]byte(tag), 400<<10) }
	// 1.2 MB: chunks [a b] and [c] in one new segment.
	set := objectSet{"rsync://h/m/x.roa": []byte("x")}
	var changes []store.Change
	for _, n := range []string{"a", "b", "c"} {
		uri := "rsync://h/m/" + n + ".roa"
		set[uri] = big(n)
		changes = append(changes, store.Change{URI: uri, Data: set[uri]})
	}
	apply := func(changes []store.Change) {
		t.Helper()
		if err := s.Apply("r", store.Repo{}, changes); err != nil {
			t.Fatal(err)
		}
	}
	apply(changes)
	replace := func(names ...string) []store.Change {
		var out []store.Change
		for _, n := range names {
			uri := "rsync://h/m/" + n + ".roa"
			old := sha256.Sum256(set[uri])
			set[uri] = []byte("small " + n)
			out = append(out, store.Change{URI: uri, HasHash: true, Hash: old, Data: set[uri]})
		}
		return out
	}
	apply(replace("a", "b"))
	st, err := s.Collect()
	if err != nil || st.Chunks != 1 || st.Bytes != 800<<10 || st.LiveChunks != 3 {
		t.Errorf("Collect = %+v, %v: want chunk [a b] removed, 3 chunks live", st, err)
	}
	if diff := cmp.Diff(set, content(t, s, "r")); diff != "" {
		t.Fatalf("content after Collect (-want +got):\n%s", diff)
	}
	apply(replace("c"))
	st, err = s.Collect()
	if err != nil || st.Chunks != 1 || st.Bytes != 400<<10 || st.LiveChunks != 3 {
		t.Errorf("Collect = %+v, %v: want the segment of [c] dropped, 3 chunks live", st, err)
	}
	if diff := cmp.Diff(set, content(t, s, "r")); diff != "" {
		t.Fatalf("content after Collect (-want +got):\n%s", diff)
	}
	if fs, err := s.Stats(); err != nil || fs.Chunks != 3 {
		t.Errorf("Stats = %+v, %v: want 3 chunks", fs, err)
	}
}

// TestOldFormatStartsFresh opens a store written in format 1: read-only
// it is refused with ErrOldFormat, for writing it starts empty.
func TestOldFormatStartsFresh(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, store.Options{NoSync: true})
	publish(t, s, "r", makeSet("rsync://h/m/", 2, 5, "x"), store.Repo{})
	_ = s.Close()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, 1})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	if _, err := store.Open(dir, store.Options{ReadOnly: true}); !errors.Is(err, store.ErrOldFormat) || !strings.Contains(err.Error(), store.FileName) {
		t.Fatalf("read-only Open = %v, want ErrOldFormat naming the file", err)
	}
	s = open(t, dir, store.Options{NoSync: true})
	if got := content(t, s, "r"); len(got) != 0 {
		t.Errorf("after a writable Open the store holds %d objects, want none", len(got))
	}
	publish(t, s, "r", makeSet("rsync://h/m/", 2, 5, "y"), store.Repo{})
}
