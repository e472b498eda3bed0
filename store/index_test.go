package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/store"
)

// TestIndexBlocksUnderDeltas applies many deltas to a repository whose
// index spans many blocks, against a model of what it should hold: new
// URIs before the first block and after the last, a directory withdrawn
// whole, one grown well past a block, and the index emptied and filled
// again.
func TestIndexBlocksUnderDeltas(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true})
	model := objectSet{}
	for d := range 4 {
		for uri, data := range makeSet(fmt.Sprintf("rsync://h/m/dir-%d/", d), 600, 40, fmt.Sprint("base", d)) {
			model[uri] = data
		}
	}
	publish(t, s, "r", model, store.Repo{})
	check := func(step string) {
		t.Helper()
		if diff := cmp.Diff(model, content(t, s, "r")); diff != "" {
			t.Fatalf("%s: content (-want +got):\n%s", step, diff)
		}
		err := s.View(func(v *store.View) error {
			objs := v.Repository("r")
			if objs.Len() != len(model) {
				return fmt.Errorf("Len = %d, want %d", objs.Len(), len(model))
			}
			var walked []string
			if err := objs.Walk("rsync://h/m/dir-2/", func(o store.Object) error {
				walked = append(walked, string(o.URI))
				return nil
			}); err != nil {
				return err
			}
			var want []string
			for uri := range model {
				if strings.HasPrefix(uri, "rsync://h/m/dir-2/") {
					want = append(want, uri)
				}
			}
			slices.Sort(want)
			if !slices.Equal(walked, want) {
				return fmt.Errorf("Walk(dir-2/) gave %d URIs, want %d", len(walked), len(want))
			}
			for uri, data := range model {
				if h, ok := objs.HashIn(uri, nil); !ok || h != hashOf(string(data)) {
					return fmt.Errorf("HashIn(%s) = %x, %v", uri, h, ok)
				}
			}
			if _, ok := objs.Get("rsync://h/m/dir-2/none.roa"); ok {
				return fmt.Errorf("Get found an object never stored")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	check("snapshot")

	serial := uint64(1)
	apply := func(step string, changes []store.Change) {
		t.Helper()
		serial++
		if err := s.Apply("r", store.Repo{Serial: serial}, changes); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for _, c := range changes {
			if c.Withdraw {
				delete(model, c.URI)
			} else {
				model[c.URI] = c.Data
			}
		}
		check(step)
	}
	withdraw := func(uri string) store.Change {
		return store.Change{URI: uri, Withdraw: true, HasHash: true, Hash: hashOf(string(model[uri]))}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		var changes []store.Change
		seen := map[string]bool{}
		for i := range 60 {
			uris := slices.Sorted(mapsKeys(model))
			uri := uris[rng.IntN(len(uris))]
			if seen[uri] {
				continue
			}
			seen[uri] = true
			switch i % 3 {
			case 0:
				changes = append(changes, withdraw(uri))
			case 1:
				changes = append(changes, store.Change{URI: uri, HasHash: true, Hash: hashOf(string(model[uri])), Data: fmt.Appendf(nil, "r%d-%d", round, i)})
			default:
				fresh := fmt.Sprintf("rsync://h/m/dir-%d/new-%d-%d.roa", rng.IntN(5), round, i)
				changes = append(changes, store.Change{URI: fresh, Data: []byte(fresh)})
			}
		}
		apply(fmt.Sprint("round ", round), changes)
	}

	apply("before the first block and after the last", []store.Change{
		{URI: "rsync://h/m/a.cer", Data: []byte("first")},
		{URI: "rsync://h/m/zz/z.roa", Data: []byte("last")},
	})

	var changes []store.Change
	for uri := range model {
		if strings.HasPrefix(uri, "rsync://h/m/dir-1/") {
			changes = append(changes, withdraw(uri))
		}
	}
	apply("a directory withdrawn", changes)

	changes = nil
	for i := range 3000 {
		uri := fmt.Sprintf("rsync://h/m/dir-3/grown-%05d.roa", i)
		changes = append(changes, store.Change{URI: uri, Data: []byte(uri)})
	}
	apply("a directory grown past a block", changes)

	changes = nil
	for uri := range model {
		changes = append(changes, withdraw(uri))
	}
	apply("everything withdrawn", changes)
	apply("an empty index filled again", []store.Change{
		{URI: "rsync://h/m/dir-0/again.roa", Data: []byte("again")},
		{URI: "rsync://h/m/b.roa", Data: []byte("b")},
	})
}
