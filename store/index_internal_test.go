package store

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzBlock reads arbitrary bytes as an index block, as a damaged store
// file would give them: nothing may panic. Bytes that look like a list
// of URIs are also written as blocks and read back.
func FuzzBlock(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 8}, []byte("rsync://h/m/a"))
	f.Add([]byte("rsync://h/m/a.roa\nrsync://h/m/b.roa"), []byte("rsync://h/m/b.roa"))
	f.Fuzz(func(t *testing.T, raw, key []byte) {
		b := block(raw)
		n := b.count()
		for i := range n {
			b.record(n, i)
		}
		b.search(key)

		uris := slices.DeleteFunc(bytes.Split(raw, []byte("\n")), func(u []byte) bool { return len(u) == 0 })
		slices.SortFunc(uris, bytes.Compare)
		uris = slices.CompactFunc(uris, bytes.Equal)
		var blocks []block
		w := blockWriter{put: func(last, v []byte) error {
			if n := block(v).count(); n == 0 {
				t.Fatal("empty block written")
			} else if u, _ := block(v).record(n, n-1); !bytes.Equal(u, last) {
				t.Fatalf("block keyed %q ends with %q", last, u)
			}
			blocks = append(blocks, v)
			return nil
		}}
		for i, u := range uris {
			if err := w.add(u, Ref{Chunk: uint64(i)}, &[32]byte{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		i := 0
		for _, blk := range blocks {
			n := blk.count()
			for j := range n {
				u, e := blk.record(n, j)
				r, _, ok := parseEntry(e)
				if !ok || !bytes.Equal(u, uris[i]) || r.Chunk != uint64(i) {
					t.Fatalf("record %d = %q, %v; want %q", i, u, r, uris[i])
				}
				if k, found := blk.search(u); !found || k != j {
					t.Fatalf("search(%q) = %d, %v; want %d", u, k, found, j)
				}
				i++
			}
		}
		if i != len(uris) {
			t.Fatalf("blocks hold %d records, want %d", i, len(uris))
		}
	})
}
