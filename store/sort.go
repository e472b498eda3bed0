package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// sortRun is the number of staged entries sorted in memory at a time:
// 65,536 entries of about 120 bytes, some 8 MB. A repository up to that
// size is sorted in one pass; a larger one in runs merged on disk.
var sortRun = 1 << 16

// staged is a staging entry copied out of a transaction: the index value
// (blob ID and hash) followed by the URI.
type staged []byte

func (e staged) uri() []byte   { return e[entrySize:] }
func (e staged) value() []byte { return e[:entrySize] }

func compareStaged(a, b staged) int { return bytes.Compare(a.uri(), b.uri()) }

// mergeStaged merges two lists sorted by URI into a new sorted list.
func mergeStaged(a, b []staged) []staged {
	out := make([]staged, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compareStaged(a[0], b[0]) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// sortStaged turns generation gen's staging list into its URI index.
func (s *Store) sortStaged(gen uint64) error {
	key := genKey(gen)
	var runs uint64
	var from uint64
	for {
		chunk, err := s.readEntries(func(tx *bolt.Tx) *bolt.Bucket {
			return tx.Bucket(bucketWork).Bucket(key).Bucket(workStage)
		}, from, sortRun)
		if err != nil {
			return err
		}
		from += uint64(len(chunk))
		if len(chunk) == 0 && runs > 0 {
			break
		}
		slices.SortFunc(chunk, compareStaged)
		if runs == 0 && len(chunk) < sortRun {
			// Everything fits one run: it is the index.
			w := indexWriter{s: s, gen: gen}
			for _, e := range chunk {
				if err := w.add(e); err != nil {
					return err
				}
			}
			return w.flush()
		}
		err = s.update(func(tx *bolt.Tx) error {
			run, err := tx.Bucket(bucketWork).Bucket(key).Bucket(workRuns).CreateBucket(genKey(runs))
			if err != nil {
				return err
			}
			run.FillPercent = 1
			var k [8]byte
			for i, e := range chunk {
				binary.BigEndian.PutUint64(k[:], uint64(i))
				if err := run.Put(k[:], e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		runs++
	}
	return s.mergeRuns(gen, runs)
}

// readEntries copies up to n entries of a sequence-keyed bucket, from
// sequence number from on, in a short read transaction.
func (s *Store) readEntries(bucket func(*bolt.Tx) *bolt.Bucket, from uint64, n int) ([]staged, error) {
	var out []staged
	err := s.view(func(tx *bolt.Tx) error {
		b := bucket(tx)
		if b == nil {
			return fmt.Errorf("generation work bucket missing")
		}
		c := b.Cursor()
		for k, v := c.Seek(genKey(from)); k != nil && len(out) < n; k, v = c.Next() {
			if len(v) < entrySize {
				return fmt.Errorf("malformed staging entry")
			}
			out = append(out, staged(bytes.Clone(v)))
		}
		return nil
	})
	return out, err
}

// mergeRuns merges the sorted runs of generation gen into its index. Each
// run is read a slice at a time, so memory stays near one run's worth.
func (s *Store) mergeRuns(gen uint64, runs uint64) error {
	key := genKey(gen)
	per := max(sortRun/int(runs), 1024)
	type reader struct {
		run  []byte // bucket name
		next uint64 // sequence number to read from
		buf  []staged
		done bool
	}
	rs := make([]*reader, runs)
	for i := range rs {
		rs[i] = &reader{run: genKey(uint64(i))}
	}
	refill := func(r *reader) error {
		buf, err := s.readEntries(func(tx *bolt.Tx) *bolt.Bucket {
			return tx.Bucket(bucketWork).Bucket(key).Bucket(workRuns).Bucket(r.run)
		}, r.next, per)
		r.buf, r.next, r.done = buf, r.next+uint64(len(buf)), len(buf) == 0
		return err
	}
	w := indexWriter{s: s, gen: gen}
	for {
		// Few runs even for the largest repositories: a linear scan for
		// the smallest head is cheaper than a heap.
		var min *reader
		for _, r := range rs {
			if len(r.buf) == 0 && !r.done {
				if err := refill(r); err != nil {
					return err
				}
			}
			if len(r.buf) > 0 && (min == nil || compareStaged(r.buf[0], min.buf[0]) < 0) {
				min = r
			}
		}
		if min == nil {
			return w.flush()
		}
		if err := w.add(min.buf[0]); err != nil {
			return err
		}
		min.buf = min.buf[1:]
	}
}

// indexWriter appends sorted entries to a generation's URI index in
// transactions of sortRun entries.
type indexWriter struct {
	s    *Store
	gen  uint64
	buf  []staged
	last []byte // the URI added last, to find duplicates
}

func (w *indexWriter) add(e staged) error {
	if w.last != nil && bytes.Equal(w.last, e.uri()) {
		return fmt.Errorf("%s: %w", e.uri(), ErrDuplicate)
	}
	w.last = e.uri()
	w.buf = append(w.buf, e)
	if len(w.buf) >= sortRun {
		return w.flush()
	}
	return nil
}

func (w *indexWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.s.update(func(tx *bolt.Tx) error { return writeIndex(tx, w.gen, w.buf) })
	w.buf = w.buf[:0]
	return err
}

// writeIndex appends sorted entries to generation gen's URI index.
func writeIndex(tx *bolt.Tx, gen uint64, entries []staged) error {
	idx := tx.Bucket(bucketGens).Bucket(genKey(gen))
	if idx == nil {
		return fmt.Errorf("generation bucket missing")
	}
	// Keys arrive in order: fill pages completely.
	idx.FillPercent = 1
	w := blockWriter{put: idx.Put}
	for _, e := range entries {
		if err := w.addEntry(e.uri(), e.value()); err != nil {
			return fmt.Errorf("%s: %w", e.uri(), err)
		}
	}
	return w.flush()
}
