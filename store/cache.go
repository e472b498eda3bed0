package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The validation cache: per publication point, what its validation
// gave, so that an unchanged point is not verified again. The store
// keeps the bytes without interpreting them, beside the data they were
// derived from, so that both are dropped together (--fresh, Repair).

// cacheBatchBytes bounds one cache write transaction, for the same
// reason as BatchBytes: bbolt holds a transaction's pages in memory.
const cacheBatchBytes = 8 << 20

// Cached returns the summary of the cache entry of key, or nil. The
// slice aliases the mapping and is valid inside the View only.
func (v *View) Cached(key string) []byte { return v.get(bucketCache, key) }

// CachedDetail returns the detail of the cache entry of key, or nil, as
// Cached does.
func (v *View) CachedDetail(key string) []byte { return v.get(bucketCacheDetail, key) }

func (v *View) get(bucket []byte, key string) []byte {
	b := v.tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.Get(bytesOf(key))
}

// CacheEntry is one entry to write, in two parts: the Summary that most
// readers need and the Detail that some also read, stored apart. A nil
// Summary deletes the key.
type CacheEntry struct {
	Key             string
	Summary, Detail []byte
}

// PutCache writes cache entries, in as many transactions as their size
// needs. A crash in between leaves some entries written, which is
// harmless: each entry is checked against the data before it is used.
func (s *Store) PutCache(entries []CacheEntry) error {
	for len(entries) > 0 {
		n, size := 0, 0
		for n < len(entries) && (n == 0 || size < cacheBatchBytes) {
			size += len(entries[n].Key) + len(entries[n].Summary) + len(entries[n].Detail)
			n++
		}
		batch := entries[:n]
		entries = entries[n:]
		if err := s.update(func(tx *bolt.Tx) error { return putCache(tx, batch) }); err != nil {
			return fmt.Errorf("store: validation cache: %w", err)
		}
	}
	return nil
}

func putCache(tx *bolt.Tx, entries []CacheEntry) error {
	sum, detail := tx.Bucket(bucketCache), tx.Bucket(bucketCacheDetail)
	for _, e := range entries {
		key := []byte(e.Key)
		if e.Summary == nil {
			if err := errors.Join(sum.Delete(key), detail.Delete(key)); err != nil {
				return err
			}
			continue
		}
		if err := sum.Put(key, e.Summary); err != nil {
			return err
		}
		if err := detail.Put(key, e.Detail); err != nil {
			return err
		}
	}
	return nil
}

// Derived is what a validation run records at its end: last good copies
// of publication points, validation cache entries and records.
type Derived struct {
	Points  []KeptPoint
	Cache   []CacheEntry
	Records map[string][]byte // nil values delete
}

// WriteDerived stores d. While it is small, in one transaction, so that
// the end of a run waits for the disk once: either all of it is written
// or none. A larger d goes in the order of its fields, as KeepPoints,
// PutCache and PutRecord would write it.
func (s *Store) WriteDerived(d Derived) error {
	if len(d.Points)+len(d.Cache)+len(d.Records) == 0 {
		return nil
	}
	size := 0
	for _, p := range d.Points {
		size += len(p.Key) + len(p.Objects)*(entrySize+80)
	}
	for _, e := range d.Cache {
		size += len(e.Key) + len(e.Summary) + len(e.Detail)
	}
	for name, r := range d.Records {
		size += len(name) + len(r)
	}
	if size > cacheBatchBytes {
		if err := s.KeepPoints(d.Points); err != nil {
			return err
		}
		if err := s.PutCache(d.Cache); err != nil {
			return err
		}
		for name, r := range d.Records {
			if err := s.PutRecord(name, r); err != nil {
				return err
			}
		}
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		if err := keepPoints(tx, d.Points); err != nil {
			return err
		}
		if err := putCache(tx, d.Cache); err != nil {
			return err
		}
		for name, r := range d.Records {
			if err := putRecord(tx, name, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: results of a run: %w", err)
	}
	return nil
}

// Record returns the record called name, or nil. The slice aliases the
// mapping and is valid inside the View only.
func (v *View) Record(name string) []byte { return v.get(bucketRecords, name) }

// PutRecord stores data as the record called name; nil deletes it.
func (s *Store) PutRecord(name string, data []byte) error {
	if err := s.update(func(tx *bolt.Tx) error { return putRecord(tx, name, data) }); err != nil {
		return fmt.Errorf("store: record %s: %w", name, err)
	}
	return nil
}

func putRecord(tx *bolt.Tx, name string, data []byte) error {
	b := tx.Bucket(bucketRecords)
	if data == nil {
		return b.Delete([]byte(name))
	}
	return b.Put([]byte(name), data)
}

// ClearCache empties the validation cache and the records, which are
// derived from the same runs.
func (s *Store) ClearCache() error {
	return s.update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketCache, bucketCacheDetail, bucketRecords} {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// CacheKeys calls fn with every key of the validation cache.
func (v *View) CacheKeys(fn func(key string) error) error {
	b := v.tx.Bucket(bucketCache)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, _ []byte) error { return fn(string(k)) })
}
