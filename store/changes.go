package store

import (
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
	val := binary.BigEndian.AppendUint64(nil, seq)
	last := ""
	for _, c := range changes {
		dir := c.URI[:strings.LastIndexByte(c.URI, '/')+1]
		if dir == last {
			continue
		}
		last = dir
		if err := b.Put([]byte(dir), val); err != nil {
			return err
		}
	}
	return nil
}
