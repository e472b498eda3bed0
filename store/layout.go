package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The database's top-level buckets. See the package documentation.
var (
	bucketMeta    = []byte("meta")
	bucketBlobs   = []byte("blobs")
	bucketRepos   = []byte("repos")
	bucketGens    = []byte("gens")
	bucketPending = []byte("pending")
	bucketWork    = []byte("work")
	bucketPoints  = []byte("points")
	// bucketCache holds the engine's validation cache (publication point
	// → encoded result): opaque to the store, and optional.
	bucketCache = []byte("vcache")
	// bucketCacheDetail holds the rest of each entry: a run that reuses
	// a point mostly needs only the part in bucketCache, and keeping the
	// parts apart keeps the pages it reads few.
	bucketCacheDetail = []byte("vdetail")
	// bucketChanges maps a directory URI to the change number of the
	// last delta that touched it (see Stamp).
	bucketChanges = []byte("changes")
	// bucketChangeLog maps a change number to the directories its delta
	// touched, newline separated (see ChangedSince).
	bucketChangeLog = []byte("changelog")
	// bucketRecords holds named records of the engine's (Record): like
	// the validation cache, derived data the store keeps uninterpreted.
	bucketRecords = []byte("records")
)

// allBuckets lists the top-level buckets a store must have.
var allBuckets = [][]byte{bucketMeta, bucketBlobs, bucketRepos, bucketGens, bucketPending, bucketWork, bucketPoints}

// Keys in the meta bucket.
var (
	keyFormat  = []byte("format")
	keyNextGen = []byte("next-gen")
	// keyNextSegment is the number of the next segment of blobs.
	keyNextSegment = []byte("next-segment")
	// keyLastCollect holds when Collect last ran, in Unix seconds.
	keyLastCollect = []byte("last-collect")
	// keyChangeSeq is the number of the last delta applied (see Stamp);
	// absent until the first.
	keyChangeSeq = []byte("change-seq")
	// keyChangeLogStart is the first change number the log holds; absent
	// means 1.
	keyChangeLogStart = []byte("changelog-start")
)

// Ref locates an object's data: a byte range of a chunk in the blobs
// bucket. Objects are packed into chunks of up to chunkBytes, so bbolt
// stores a few large values per transaction instead of many small ones:
// that is what lets ingest run near the speed of copying the data.
type Ref struct {
	Chunk uint64
	Off   uint32
	Len   uint32
}

// chunkBytes is the size up to which objects are packed into one chunk.
// A larger object gets a chunk of its own.
const chunkBytes = 1 << 20

// entrySize is the size of an index value: the Ref (chunk ID, offset and
// length, big endian) and the SHA-256 of the data.
const entrySize = 8 + 4 + 4 + 32

func makeEntry(dst []byte, r Ref, hash *[32]byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, r.Chunk)
	dst = binary.BigEndian.AppendUint32(dst, r.Off)
	dst = binary.BigEndian.AppendUint32(dst, r.Len)
	return append(dst, hash[:]...)
}

func parseEntry(v []byte) (r Ref, hash [32]byte, ok bool) {
	if len(v) != entrySize {
		return r, hash, false
	}
	r = Ref{
		Chunk: binary.BigEndian.Uint64(v),
		Off:   binary.BigEndian.Uint32(v[8:]),
		Len:   binary.BigEndian.Uint32(v[12:]),
	}
	return r, [32]byte(v[16:]), true
}

// slice returns the object's bytes within its chunk, or nil if the Ref
// does not fit the chunk (a damaged store).
func (r Ref) slice(chunk []byte) []byte {
	end := uint64(r.Off) + uint64(r.Len)
	if chunk == nil || end > uint64(len(chunk)) {
		return nil
	}
	return chunk[r.Off:end:end]
}

// init creates the buckets of a new store, checks the format of an
// existing one and drops generations a crashed writer left half built.
func (s *Store) init() error {
	if s.opt.ReadOnly {
		return s.view(func(tx *bolt.Tx) error { return checkFormat(tx, s.path) })
	}
	var dropped []uint64
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if tx.Bucket(bucketBlobs) != nil {
				return corrupt(s.path, errors.New("meta bucket missing"))
			}
			for _, name := range append(allBuckets, bucketCache, bucketCacheDetail, bucketChanges, bucketChangeLog, bucketRecords) {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			meta = tx.Bucket(bucketMeta)
			if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion)); err != nil {
				return err
			}
			if err := meta.Put(keyNextSegment, binary.BigEndian.AppendUint64(nil, 1)); err != nil {
				return err
			}
			return meta.Put(keyNextGen, binary.BigEndian.AppendUint64(nil, 1))
		}
		if err := checkFormat(tx, s.path); err != nil {
			return err
		}
		// The validation cache and the change numbers are derived
		// data: a store without them (an older one) gets empty ones.
		if _, err := tx.CreateBucketIfNotExists(bucketCache); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketChanges); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketCacheDetail); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketRecords); err != nil {
			return err
		}
		if tx.Bucket(bucketChangeLog) == nil {
			// A store from before the log: it starts with the next
			// change.
			if _, err := tx.CreateBucket(bucketChangeLog); err != nil {
				return err
			}
			if err := setCounter(tx, keyChangeLogStart, changeSeq(tx)+1); err != nil {
				return err
			}
		}
		// Only one writer opens the store at a time (the file lock), so
		// any generation still pending was being built by a process that
		// died: its repository kept the previous generation.
		pending := tx.Bucket(bucketPending)
		c := pending.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			dropped = append(dropped, binary.BigEndian.Uint64(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range dropped {
		if err := s.dropGeneration(g); err != nil {
			return err
		}
		s.log.Info("dropped an unfinished repository update", "path", s.path, "generation", g)
	}
	return nil
}

func checkFormat(tx *bolt.Tx, path string) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return corrupt(path, errors.New("meta bucket missing"))
	}
	f := meta.Get(keyFormat)
	if len(f) != 4 {
		return corrupt(path, errors.New("format record missing"))
	}
	switch v := binary.BigEndian.Uint32(f); {
	case v < formatVersion:
		return fmt.Errorf("store %s: %w (%d; this rovd reads %d): a run that updates the store starts it fresh", path, ErrOldFormat, v, formatVersion)
	case v != formatVersion:
		return corrupt(path, fmt.Errorf("format %d, this rovd reads %d", v, formatVersion))
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return corrupt(path, fmt.Errorf("bucket %s missing", name))
		}
	}
	return nil
}

// genKey encodes a generation number as its bucket name in gens.
func genKey(g uint64) []byte { return binary.BigEndian.AppendUint64(nil, g) }

// counter reads a counter of the meta bucket.
func counter(tx *bolt.Tx, key []byte) (uint64, error) {
	v := tx.Bucket(bucketMeta).Get(key)
	if len(v) != 8 {
		return 0, fmt.Errorf("counter %s missing", key)
	}
	return binary.BigEndian.Uint64(v), nil
}

func setCounter(tx *bolt.Tx, key []byte, v uint64) error {
	return tx.Bucket(bucketMeta).Put(key, binary.BigEndian.AppendUint64(nil, v))
}

// nextGeneration allocates a generation number within tx.
func nextGeneration(tx *bolt.Tx) (uint64, error) {
	g, err := counter(tx, keyNextGen)
	if err != nil {
		return 0, err
	}
	return g, setCounter(tx, keyNextGen, g+1)
}

// Chunk IDs name a segment and a place in it: segment<<segmentShift |
// index. A segment is a bucket inside blobs that holds the chunks of one
// transaction: written once, never added to (the package documentation
// says why), and dropped whole by Collect once nothing refers to it.
const segmentShift = 24

func segmentOf(chunk uint64) uint64 { return chunk >> segmentShift }

// chunkData returns the data of chunk id in blobs, or nil if it is not
// there.
func chunkData(blobs *bolt.Bucket, id uint64) []byte {
	var segKey, key [8]byte
	binary.BigEndian.PutUint64(segKey[:], segmentOf(id))
	seg := blobs.Bucket(segKey[:])
	if seg == nil {
		return nil
	}
	binary.BigEndian.PutUint64(key[:], id)
	return seg.Get(key[:])
}

// chunkWriter appends chunks of object data to a new segment of the
// blobs bucket under sequential IDs, within one transaction. Appending
// at the end of the key space is what bbolt does fastest: only the
// rightmost pages change, and a fill of 100% packs them.
type chunkWriter struct {
	tx    *bolt.Tx
	blobs *bolt.Bucket
	seg   *bolt.Bucket // the segment being written; nil before the first put
	next  uint64       // the next chunk ID in seg
	key   [8]byte
}

func newChunkWriter(tx *bolt.Tx) *chunkWriter {
	blobs := tx.Bucket(bucketBlobs)
	blobs.FillPercent = 1 // segments are appended too
	return &chunkWriter{tx: tx, blobs: blobs}
}

// put stores a chunk under a new ID. bbolt keeps a reference to data
// until the transaction commits.
func (w *chunkWriter) put(data []byte) (uint64, error) {
	if w.seg == nil || w.next&(1<<segmentShift-1) == 0 {
		// The first chunk, or the segment's IDs are used up.
		if err := w.newSegment(); err != nil {
			return 0, err
		}
	}
	id := w.next
	w.next++
	binary.BigEndian.PutUint64(w.key[:], id)
	return id, w.seg.Put(w.key[:], data)
}

func (w *chunkWriter) newSegment() error {
	n, err := counter(w.tx, keyNextSegment)
	if err != nil {
		return err
	}
	if err := setCounter(w.tx, keyNextSegment, n+1); err != nil {
		return err
	}
	if w.seg, err = w.blobs.CreateBucket(genKey(n)); err != nil {
		return fmt.Errorf("segment %d: %w", n, err)
	}
	w.seg.FillPercent = 1
	// Index 0 is never used, so that no chunk ID is zero.
	w.next = n<<segmentShift | 1
	return nil
}

// formatVersion is the layout version written into new stores. Open
// takes an older one for ErrOldFormat and a newer one for damage.
// Version 1 kept all chunks in the blobs bucket itself, without
// segments; version 2 kept one index key per object instead of blocks.
const formatVersion = 3

// repoRecord is a repository's entry in the repos bucket.
type repoRecord struct {
	Gen  uint64 `json:"gen"`
	Info Repo   `json:"info"`
}

func getRepo(tx *bolt.Tx, key string) (repoRecord, bool, error) {
	v := tx.Bucket(bucketRepos).Get([]byte(key))
	if v == nil {
		return repoRecord{}, false, nil
	}
	var r repoRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return repoRecord{}, false, fmt.Errorf("repository %s: record: %w", key, err)
	}
	return r, true, nil
}

// repoGen returns a repository's current generation without decoding
// its fetch state, which a validation run asks for once per publication
// point: records are written as {"gen":N,...}, so N is read directly,
// and anything else takes the full decode.
func repoGen(tx *bolt.Tx, key string) (uint64, bool, error) {
	v := tx.Bucket(bucketRepos).Get([]byte(key))
	if v == nil {
		return 0, false, nil
	}
	const prefix = `{"gen":`
	if rest, ok := bytes.CutPrefix(v, []byte(prefix)); ok {
		var gen uint64
		i := 0
		for ; i < len(rest) && i < 20 && rest[i] >= '0' && rest[i] <= '9'; i++ {
			gen = gen*10 + uint64(rest[i]-'0')
		}
		if i > 0 && i < 20 && i < len(rest) && rest[i] == ',' {
			return gen, true, nil
		}
	}
	r, ok, err := getRepo(tx, key)
	return r.Gen, ok, err
}

func putRepo(tx *bolt.Tx, key string, r repoRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRepos).Put([]byte(key), b)
}
