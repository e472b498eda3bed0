package store

import (
	"bytes"
	"encoding/binary"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Change tracking, for readers that derive data from a repository's
// objects (the engine's validation cache) and want to know cheaply
// whether the objects of a directory are still the ones they read.
//
// A repository's content changes in two ways. Publish replaces all of
// it with a new generation, so the generation number tells. Apply
// (an RRDP delta) edits it in place: each Apply takes the next change
// number and records it for every directory it touched. A reader notes
// a Stamp with what it read; the directory is unchanged as long as the
// repository is at the same generation and no later change number is
// recorded for the directory.
//
// The same numbers also go into a log (change number → directories), so
// that a reader that took a stamp of the whole store can ask which
// directories changed since, without a lookup per directory. The log
// keeps the last changeLogKeep numbers; a reader whose stamp is older
// learns that it cannot tell.

// Stamp identifies the state of a repository as a View saw it.
type Stamp struct {
	// Gen is the repository's generation; Seq the store's last change
	// number.
	Gen, Seq uint64
}

// Stamp returns the state of repository repo in this view. The zero
// Stamp means the store does not hold the repository.
func (v *View) Stamp(repo string) Stamp {
	gen, ok, err := repoGen(v.tx, repo)
	if !ok || err != nil {
		return Stamp{}
	}
	return Stamp{Gen: gen, Seq: changeSeq(v.tx)}
}

// Unchanged reports whether the objects directly in each directory of
// dirs (rsync URIs ending in "/") of repository repo are the ones they
// were when stamp s was taken.
func (v *View) Unchanged(s Stamp, repo string, dirs ...string) bool {
	if s.Gen == 0 {
		return false
	}
	if gen, ok, err := repoGen(v.tx, repo); !ok || err != nil || gen != s.Gen {
		return false
	}
	b := v.tx.Bucket(bucketChanges)
	if b == nil {
		return false
	}
	for _, dir := range dirs {
		last := b.Get(bytesOf(dir))
		if last != nil && (len(last) != 8 || binary.BigEndian.Uint64(last) > s.Seq) {
			return false
		}
	}
	return true
}

// ChangeSeq returns the store's last change number: with the generations
// of the repositories (Stamp), what ChangedSince needs later.
func (v *View) ChangeSeq() uint64 { return changeSeq(v.tx) }

// changeLogKeep is how many change numbers the log keeps: days of deltas
// for a server that fetches every few minutes. A variable for the tests.
var changeLogKeep uint64 = 16384

// ChangedSince calls fn with each directory that a delta touched after
// change number seq and the change's number, in change order (a
// directory may come more than once). It returns false, having called fn
// for none, when the log no longer reaches back to seq.
func (v *View) ChangedSince(seq uint64, fn func(seq uint64, dir string)) bool {
	log := v.tx.Bucket(bucketChangeLog)
	if log == nil {
		return false
	}
	if first := counterOr(v.tx, keyChangeLogStart, 1); seq+1 < first {
		return false
	}
	c := log.Cursor()
	for k, val := c.Seek(binary.BigEndian.AppendUint64(nil, seq+1)); k != nil; k, val = c.Next() {
		n := binary.BigEndian.Uint64(k)
		for len(val) > 0 {
			i := bytes.IndexByte(val, '\n')
			if i < 0 {
				i = len(val)
			}
			fn(n, string(val[:i]))
			val = val[min(i+1, len(val)):]
		}
	}
	return true
}

// counterOr reads a meta counter, def if it is absent or malformed.
func counterOr(tx *bolt.Tx, key []byte, def uint64) uint64 {
	v := tx.Bucket(bucketMeta).Get(key)
	if len(v) != 8 {
		return def
	}
	return binary.BigEndian.Uint64(v)
}

func changeSeq(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyChangeSeq)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// noteChanges takes the next change number for a delta's changes and
// records it for each directory they touch.
func noteChanges(tx *bolt.Tx, changes []Change) error {
	seq := changeSeq(tx) + 1
	if err := setCounter(tx, keyChangeSeq, seq); err != nil {
		return err
	}
	b := tx.Bucket(bucketChanges)
	key := binary.BigEndian.AppendUint64(nil, seq)
	var logged []byte
	last := ""
	for _, c := range changes {
		dir := c.URI[:strings.LastIndexByte(c.URI, '/')+1]
		if dir == last {
			continue
		}
		last = dir
		if err := b.Put([]byte(dir), key); err != nil {
			return err
		}
		if len(logged) > 0 {
			logged = append(logged, '\n')
		}
		logged = append(logged, dir...)
	}
	return logChanges(tx, seq, key, logged)
}

// logChanges adds change seq's directories to the log and drops what
// falls out of its length.
func logChanges(tx *bolt.Tx, seq uint64, key, dirs []byte) error {
	log := tx.Bucket(bucketChangeLog)
	if log == nil {
		return nil // a read-only store opened before the log existed
	}
	if err := log.Put(key, dirs); err != nil {
		return err
	}
	if seq <= changeLogKeep {
		return nil
	}
	first := seq - changeLogKeep + 1
	c := log.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < first; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return setCounter(tx, keyChangeLogStart, first)
}
