package store

import (
	"bytes"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// Repo describes a repository's fetch state: what the fetcher needs to
// continue where it stopped, and what status reports show. The store
// keeps it beside the repository's objects and replaces both in one
// commit; it does not interpret the fields.
type Repo struct {
	// Protocol is "rrdp" or "rsync": where the objects came from.
	Protocol string `json:"protocol"`
	// SessionID and Serial are the RRDP session and serial the objects
	// are at (RFC 8182 §3.3).
	SessionID string `json:"session,omitempty"`
	Serial    uint64 `json:"serial,omitempty"`
	// Deltas are the deltas the last notification listed, so that a
	// later one that lists another hash for a known serial is noticed.
	Deltas []DeltaHash `json:"deltas,omitempty"`
	// ETag and LastModified validate a conditional notification request.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	// Updated is when the objects were last brought up to date;
	// LastRRDP when RRDP last worked for this repository.
	Updated  time.Time `json:"updated"`
	LastRRDP time.Time `json:"lastRRDP,omitzero"`
	// Objects and Bytes count the current objects.
	Objects int   `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// DeltaHash is one delta of a notification.
type DeltaHash struct {
	Serial uint64   `json:"serial"`
	Hash   [32]byte `json:"hash"`
}

// Object is a stored object. Data aliases the store's memory mapping:
// it is valid only inside the View that returned it and must not be
// modified; copy it to keep it.
type Object struct {
	// URI is the object's rsync URI, with the same lifetime as Data.
	URI  []byte
	Data []byte
	// Hash is the SHA-256 of Data, computed when the object was stored.
	Hash [32]byte
	// Ref locates the stored data, for KeepPoint.
	Ref Ref
}

// View is a consistent read-only state of the store. Hold it briefly
// (one publication point, not a whole run): a writer that must grow the
// memory mapping waits for every open view.
//
// A View is not safe for concurrent use; goroutines take a View each.
type View struct {
	tx    *bolt.Tx
	blobs *bolt.Bucket
}

// View calls fn with a consistent read-only state of the store. Slices
// handed out inside fn are valid until fn returns.
func (s *Store) View(fn func(*View) error) error {
	return s.view(func(tx *bolt.Tx) error {
		return fn(&View{tx: tx, blobs: tx.Bucket(bucketBlobs)})
	})
}

// Repo returns a repository's fetch state.
func (v *View) Repo(key string) (Repo, bool, error) {
	r, ok, err := getRepo(v.tx, key)
	return r.Info, ok, err
}

// Repos calls fn for every repository, in key order.
func (v *View) Repos(fn func(key string, r Repo) error) error {
	return v.tx.Bucket(bucketRepos).ForEach(func(k, _ []byte) error {
		r, _, err := getRepo(v.tx, string(k))
		if err != nil {
			return err
		}
		return fn(string(k), r.Info)
	})
}

// Repository returns the current objects of a repository, or nil if the
// store has none.
func (v *View) Repository(key string) *Objects {
	gen, ok, err := repoGen(v.tx, key)
	if !ok || err != nil {
		return nil
	}
	return v.objects(v.tx.Bucket(bucketGens).Bucket(genKey(gen)))
}

// HasRepo reports whether the store holds repository key.
func (v *View) HasRepo(key string) bool {
	return v.tx.Bucket(bucketRepos).Get([]byte(key)) != nil
}

// Point returns the objects that last validated at a publication point,
// or nil if none were kept.
func (v *View) Point(key string) *Objects {
	return v.objects(v.tx.Bucket(bucketPoints).Bucket([]byte(key)))
}

// Points calls fn with the key of every kept publication point, in key
// order.
func (v *View) Points(fn func(key string) error) error {
	return v.tx.Bucket(bucketPoints).ForEach(func(k, _ []byte) error { return fn(string(k)) })
}

func (v *View) objects(b *bolt.Bucket) *Objects {
	if b == nil {
		return nil
	}
	return &Objects{idx: index{b: b}, blobs: v.blobs}
}

// get returns the value stored under key in c's bucket, or nil.
func get(c *bolt.Cursor, key []byte) []byte {
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// Objects is a set of objects keyed by URI: a repository's current
// content or a publication point's last valid one. It is valid only
// inside its View and, like the View, not safe for concurrent use.
type Objects struct {
	idx   index        // URI → Ref and SHA-256, in blocks
	blobs *bolt.Bucket // segment → chunk ID → packed object data

	key []byte // reused by HashIn

	// A cursor on each segment of blobs read so far: opening a nested
	// bucket allocates, a kept cursor does not. The objects of a
	// publication point mostly came in one transaction, so the last
	// segment is kept apart from the map, which most never need.
	lastSeg    uint64
	lastCursor *bolt.Cursor
	segs       map[uint64]*bolt.Cursor
}

// Get returns the object with the given URI.
func (o *Objects) Get(uri string) (Object, bool) {
	return o.object(o.idx.get(bytesOf(uri)))
}

// HashIn returns the SHA-256 of the object dir+name, reading only the
// index and building no string.
func (o *Objects) HashIn(dir string, name []byte) ([32]byte, bool) {
	o.key = append(append(o.key[:0], dir...), name...)
	_, entry := o.idx.get(o.key)
	_, hash, ok := parseEntry(entry)
	return hash, ok
}

func (o *Objects) object(uri, entry []byte) (Object, bool) {
	ref, hash, ok := parseEntry(entry)
	if !ok {
		return Object{}, false
	}
	obj := Object{URI: uri, Hash: hash, Ref: ref}
	obj.Data = ref.slice(o.chunk(ref.Chunk, entry[:8]))
	return obj, obj.Data != nil
}

// chunk returns the data of chunk id, whose key is key, or nil if the
// store does not hold it.
func (o *Objects) chunk(id uint64, key []byte) []byte {
	s := segmentOf(id)
	c := o.lastCursor
	if c == nil || s != o.lastSeg {
		if o.lastCursor != nil {
			if o.segs == nil {
				o.segs = map[uint64]*bolt.Cursor{}
			}
			o.segs[o.lastSeg] = o.lastCursor
		}
		var ok bool
		if c, ok = o.segs[s]; !ok {
			if seg := o.blobs.Bucket(genKey(s)); seg != nil {
				c = seg.Cursor()
			}
		}
		o.lastSeg, o.lastCursor = s, c
	}
	if c == nil {
		return nil
	}
	return get(c, key)
}

// Walk calls fn for every object whose URI starts with prefix, in URI
// order; an error from fn stops the walk and is returned.
func (o *Objects) Walk(prefix string, fn func(Object) error) error {
	p := bytesOf(prefix)
	c := o.idx.b.Cursor()
	k, v := blockFor(c, p)
	for first := true; k != nil; k, v = c.Next() {
		blk := block(v)
		n, i := blk.count(), 0
		if first {
			i, _ = blk.search(p)
			first = false
		}
		for ; i < n; i++ {
			uri, entry := blk.record(n, i)
			if !bytes.HasPrefix(uri, p) {
				return nil // the URIs with the prefix sort together
			}
			obj, ok := o.object(uri, entry)
			if !ok {
				continue
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Len returns the number of objects.
func (o *Objects) Len() int {
	n := 0
	_ = o.idx.b.ForEach(func(_, v []byte) error {
		n += block(v).count()
		return nil
	})
	return n
}

// bytesOf returns the bytes of s without copying, for bbolt lookups that
// only read the key. The slice must not be written to or kept.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
