package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CollectStats reports what Collect removed and kept.
type CollectStats struct {
	Generations int   // orphaned repository contents dropped
	Chunks      int   // chunks of object data nothing refers to, removed
	Bytes       int64 // their size
	LiveChunks  int   // chunks kept
	LiveObjects int   // distinct objects in them that something refers to
}

// sweepPerTx bounds the deletions of one sweep transaction, so that the
// pages it dirties stay a few megabytes.
const sweepPerTx = 10000

// Collect removes what nothing refers to any more: repository contents
// that are no repository's current or pending one, and objects that no
// repository content and no kept publication point holds. The freed pages
// are reused by later writes; Compact also shrinks the file.
//
// Other writes wait while Collect runs; views do not.
func (s *Store) Collect() (CollectStats, error) {
	s.writers.Lock()
	defer s.writers.Unlock()
	var st CollectStats

	// Mark: the Refs of every live index and staging list, sorted for a
	// merge with the blobs bucket, which bbolt keeps in key order.
	var live [][16]byte
	var pinned []uint64
	var orphans []uint64
	err := s.view(func(tx *bolt.Tx) error {
		keep := map[uint64]bool{}
		if err := tx.Bucket(bucketRepos).ForEach(func(k, _ []byte) error {
			r, _, err := getRepo(tx, string(k))
			keep[r.Gen] = true
			return err
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPending).ForEach(func(k, _ []byte) error {
			keep[genKeyValue(k)] = true
			return nil
		}); err != nil {
			return err
		}
		mark := func(b *bolt.Bucket) error {
			return forEachEntry(b, func(_, entry []byte) error {
				live = append(live, [16]byte(entry))
				return nil
			})
		}
		gens := tx.Bucket(bucketGens)
		if err := gens.ForEachBucket(func(k []byte) error {
			if g := genKeyValue(k); !keep[g] {
				orphans = append(orphans, g)
				return nil
			}
			return mark(gens.Bucket(k))
		}); err != nil {
			return err
		}
		// Generations being built pin the chunks they refer to before
		// any index does; their staging lists and sort runs only repeat
		// those.
		work := tx.Bucket(bucketWork)
		if err := work.ForEachBucket(func(k []byte) error {
			if c := work.Bucket(k).Bucket(workChunks); c != nil {
				return c.ForEach(func(id, _ []byte) error {
					pinned = append(pinned, genKeyValue(id))
					return nil
				})
			}
			return nil
		}); err != nil {
			return err
		}
		points := tx.Bucket(bucketPoints)
		return points.ForEachBucket(func(k []byte) error { return mark(points.Bucket(k)) })
	})
	if err != nil {
		return st, fmt.Errorf("store: collect: %w", err)
	}
	slices.SortFunc(live, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	live = slices.Compact(live)
	st.LiveObjects = len(live)
	chunks := make([]uint64, 0, len(live)/8)
	for _, r := range live {
		if c := binary.BigEndian.Uint64(r[:]); len(chunks) == 0 || chunks[len(chunks)-1] != c {
			chunks = append(chunks, c)
		}
	}
	live = nil
	chunks = append(chunks, pinned...)
	slices.Sort(chunks)
	chunks = slices.Compact(chunks)
	st.LiveChunks = len(chunks)

	for _, g := range orphans {
		if err := s.updateLocked(func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketGens).DeleteBucket(genKey(g)); err != nil {
				return err
			}
			return dropWork(tx, g)
		}); err != nil {
			return st, fmt.Errorf("store: collect: %w", err)
		}
		st.Generations++
	}

	// Sweep in bounded transactions, resuming at the segment it stopped
	// in.
	var from []byte
	for {
		done := true
		err := s.updateLocked(func(tx *bolt.Tx) error {
			blobs := tx.Bucket(bucketBlobs)
			c := blobs.Cursor()
			k, _ := c.First()
			if from != nil {
				k, _ = c.Seek(from)
			}
			for n := 0; k != nil; {
				if n >= sweepPerTx {
					from = append(from[:0], k...)
					done = false
					return nil
				}
				seg := genKeyValue(k)
				first, _ := slices.BinarySearch(chunks, seg<<segmentShift)
				if first == len(chunks) || segmentOf(chunks[first]) != seg {
					// Nothing refers to the segment: drop it whole,
					// which frees its pages without reading them.
					if err := countChunks(blobs.Bucket(k), &st); err != nil {
						return err
					}
					// As in sweepSegment, seek past the deleted key
					// rather than step.
					deleted := [8]byte(k)
					if err := blobs.DeleteBucket(k); err != nil {
						return err
					}
					n++
					k, _ = c.Seek(deleted[:])
					continue
				}
				deleted, err := sweepSegment(blobs.Bucket(k), chunks[first:], &st)
				if err != nil {
					return err
				}
				n += deleted
				k, _ = c.Next()
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("store: collect: %w", err)
		}
		if done {
			break
		}
	}
	err = s.updateLocked(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyLastCollect, binary.BigEndian.AppendUint64(nil, uint64(time.Now().Unix())))
	})
	if err != nil {
		return st, fmt.Errorf("store: collect: %w", err)
	}
	return st, nil
}

// LastCollect returns when Collect last finished, zero if never. At the
// scale of the global RPKI a Collect reads the whole index, so callers
// run it when there is garbage worth it rather than after every update.
func (s *Store) LastCollect() (time.Time, error) {
	var t time.Time
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLastCollect); len(v) == 8 {
			t = time.Unix(int64(binary.BigEndian.Uint64(v)), 0)
		}
		return nil
	})
	return t, err
}

// countChunks adds the chunks of segment seg to st's removed ones.
func countChunks(seg *bolt.Bucket, st *CollectStats) error {
	return seg.ForEach(func(_, v []byte) error {
		st.Chunks++
		st.Bytes += int64(len(v))
		return nil
	})
}

// sweepSegment deletes the chunks of segment seg that are not in live,
// the sorted live chunk IDs from this segment's first on, and returns
// how many it deleted.
func sweepSegment(seg *bolt.Bucket, live []uint64, st *CollectStats) (int, error) {
	c := seg.Cursor()
	n := 0
	for k, v := c.First(); k != nil; {
		if _, found := slices.BinarySearch(live, genKeyValue(k)); found {
			k, v = c.Next()
			continue
		}
		st.Chunks++
		st.Bytes += int64(len(v))
		n++
		// Cursor.Next after Delete may skip an item; seeking past the
		// deleted key does not.
		deleted := [8]byte(k)
		if err := c.Delete(); err != nil {
			return n, err
		}
		k, v = c.Seek(deleted[:])
	}
	return n, nil
}

func genKeyValue(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// FileStats describes the database file.
type FileStats struct {
	Size      int64 // bytes on disk
	FreeBytes int64 // in free pages, reused by later writes
	Chunks    int   // chunks of object data
	Repos     int
	Points    int
}

// Stats returns the database file's statistics.
func (s *Store) Stats() (FileStats, error) {
	var st FileStats
	err := s.view(func(tx *bolt.Tx) error {
		st.Size = tx.Size()
		// Each segment is a key of blobs as well as a bucket.
		blobs := tx.Bucket(bucketBlobs).Stats()
		st.Chunks = blobs.KeyN - (blobs.BucketN - 1)
		st.Repos = tx.Bucket(bucketRepos).Stats().KeyN
		bs := tx.DB().Stats()
		st.FreeBytes = int64(bs.FreePageN+bs.PendingPageN) * int64(tx.DB().Info().PageSize)
		return tx.Bucket(bucketPoints).ForEachBucket(func([]byte) error { st.Points++; return nil })
	})
	return st, err
}

// Compact collects garbage and, when more than half of the file is free
// pages, rewrites the file without them. The rewrite waits for every
// view and write to end and holds them off until it is done; a crash
// during it leaves the old file in place.
func (s *Store) Compact() (CollectStats, error) {
	st, err := s.Collect()
	if err != nil {
		return st, err
	}
	fs, err := s.Stats()
	if err != nil {
		return st, err
	}
	const minSize = 64 << 20
	if fs.Size < minSize || fs.FreeBytes*2 < fs.Size {
		return st, nil
	}
	return st, s.rewrite()
}

// rewrite copies the live pages into a new file and puts it in place of
// the old one.
func (s *Store) rewrite() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if s.opt.ReadOnly {
		return ErrReadOnly
	}
	tmp := s.path + ".compact"
	_ = os.Remove(tmp) // a leftover of a crashed rewrite
	dst, err := bolt.Open(tmp, 0o644, &bolt.Options{NoSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("store %s: compact: %w", s.path, err)
	}
	err = s.guard(func() error { return bolt.Compact(dst, s.db, 16<<20) })
	if err == nil {
		// The copy ran without fsync; make it durable before it
		// replaces the original.
		dst.NoSync = false
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store %s: compact: %w", s.path, err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store %s: compact: %w", s.path, err)
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		return errors.Join(fmt.Errorf("store %s: compact: %w", s.path, err), s.reopen())
	}
	return s.reopen()
}

// reopen opens the database file again after a rewrite.
func (s *Store) reopen() error {
	db, err := openBolt(s.path, &bolt.Options{
		Timeout:         s.opt.LockTimeout,
		InitialMmapSize: s.opt.MmapSize,
		NoSync:          s.opt.NoSync,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		return fmt.Errorf("store %s: reopen after compact: %w", s.path, err)
	}
	db.AllocSize = allocSize
	s.db = db
	return nil
}
