package store_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/rovd/rovd/store"
)

// benchObjects returns n distinct objects of about size bytes with
// URIs laid out like a repository's: a few hundred per directory.
func benchObjects(n, size int) ([]string, [][]byte) {
	rng := rand.New(rand.NewPCG(7, 7))
	uris := make([]string, n)
	data := make([][]byte, n)
	for i := range n {
		uris[i] = fmt.Sprintf("rsync://rpki.example.net/repo/ca-%04d/roa-%05d.roa", i/300, i)
		d := make([]byte, size/2+rng.IntN(size))
		for j := range d {
			d[j] = byte(rng.Uint32())
		}
		data[i] = d
	}
	return uris, data
}

// BenchmarkIngest measures writing a repository's objects as a new
// generation, fsync on as in production: MB/s of object data.
func BenchmarkIngest(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			uris, data := benchObjects(n, 2048)
			total := 0
			for _, d := range data {
				total += len(d)
			}
			s := open(b, b.TempDir(), store.Options{})
			b.SetBytes(int64(total))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// Change one byte per object so that every round stores
				// new blobs, as a fresh snapshot would.
				i++
				g, err := s.NewGeneration("r")
				if err != nil {
					b.Fatal(err)
				}
				for j, d := range data {
					d[0] = byte(i)
					d[1] = byte(i >> 8)
					if err := g.Put(uris[j], d); err != nil {
						b.Fatal(err)
					}
				}
				if err := g.Publish(store.Repo{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHashBound is SHA-256 over the same objects: the part of
// ingest that no store design avoids.
func BenchmarkHashBound(b *testing.B) {
	_, data := benchObjects(20000, 2048)
	total := 0
	for _, d := range data {
		total += len(d)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range data {
			sha256.Sum256(d)
		}
	}
}

// BenchmarkGet measures one object lookup by URI in a repository of
// 20,000 objects inside an open view.
func BenchmarkGet(b *testing.B) {
	uris, data := benchObjects(20000, 2048)
	s := open(b, b.TempDir(), store.Options{NoSync: true})
	g, err := s.NewGeneration("r")
	if err != nil {
		b.Fatal(err)
	}
	for i := range uris {
		if err := g.Put(uris[i], data[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Publish(store.Repo{}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	err = s.View(func(v *store.View) error {
		objs := v.Repository("r")
		for b.Loop() {
			if _, ok := objs.Get(uris[rng.IntN(len(uris))]); !ok {
				b.Fatal("object missing")
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkView measures opening and closing a read view and looking up
// a repository: the per-publication-point overhead.
func BenchmarkView(b *testing.B) {
	s := open(b, b.TempDir(), store.Options{NoSync: true})
	publish(b, s, "r", makeSet("rsync://h/m/", 10, 100, "x"), store.Repo{})
	b.ReportAllocs()
	for b.Loop() {
		err := s.View(func(v *store.View) error {
			if v.Repository("r") == nil {
				b.Fatal("repository missing")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestNaive is the layout the store does not use, for
// comparison: each object a bbolt value keyed by its URI, inserted in
// arrival order (a snapshot's order is the server's, not sorted), 8 MB
// per transaction. Every transaction then rewrites pages all over the
// tree.
func BenchmarkIngestNaive(b *testing.B) {
	uris, data := benchObjects(20000, 2048)
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(uris), func(i, j int) {
		uris[i], uris[j] = uris[j], uris[i]
		data[i], data[j] = data[j], data[i]
	})
	total := 0
	for _, d := range data {
		total += len(d)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db, err := bolt.Open(filepath.Join(b.TempDir(), "naive.db"), 0o644, &bolt.Options{InitialMmapSize: 1 << 34, FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(data); {
			err := db.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte("objects"))
				if err != nil {
					return err
				}
				for n := 0; i < len(data) && n < store.DefaultBatchBytes; i++ {
					if err := bk.Put([]byte(uris[i]), data[i]); err != nil {
						return err
					}
					n += len(data[i])
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = db.Close()
		b.StartTimer()
	}
}
