package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// A URI index (a generation's or a kept publication point's) is stored
// in blocks: runs of entries in URI order, packed into one bbolt value
// each and keyed by the block's last URI, so that one seek finds the
// block that holds a URI. bbolt writes every leaf page
// with a system call of its own and costs a tree descent per key; with
// one key per object, the index of a 20,000-object snapshot took some
// 600 writes and 20,000 inserts in the commit that publishes it, while
// the parser had finished and nothing else overlapped. In blocks it
// takes a few dozen of each.
//
// A block is
//
//	count    uint32, big endian
//	offsets  count × uint32: where each record starts in the block
//	records  each an index entry (entrySize bytes) followed by its URI
//
// Blocks cover disjoint URI ranges and no URI is stored twice.
type block []byte

// blockBytes is the size of records at which a block is closed. A delta
// rewrites the blocks it touches, so blocks stay small beside the data.
const blockBytes = 32 << 10

// count returns the number of records, or 0 for a block too short for
// the count it claims (a damaged store).
func (b block) count() int {
	if len(b) < 4 {
		return 0
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > (len(b)-4)/(4+entrySize) {
		return 0
	}
	return n
}

// record returns record i of a block of n records. On a damaged block it
// returns nil slices rather than panic.
func (b block) record(n, i int) (uri, entry []byte) {
	start := int(binary.BigEndian.Uint32(b[4+4*i:]))
	end := len(b)
	if i+1 < n {
		end = int(binary.BigEndian.Uint32(b[8+4*i:]))
	}
	if start < 4+4*n || end > len(b) || end-start < entrySize {
		return nil, nil
	}
	return b[start+entrySize : end : end], b[start : start+entrySize : start+entrySize]
}

// search returns the position of the first record whose URI is not
// before key, and whether that record's URI is key.
func (b block) search(key []byte) (int, bool) {
	n := b.count()
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u, _ := b.record(n, m); bytes.Compare(u, key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == n {
		return lo, false
	}
	u, _ := b.record(n, lo)
	return lo, bytes.Equal(u, key)
}

// blockWriter packs records, added in URI order, into blocks of about
// blockBytes and hands each to put under its last URI. bbolt keeps keys
// and values until the commit, so every block is a new slice.
type blockWriter struct {
	put   func(key, value []byte) error
	offs  []int
	recs  []byte
	entry []byte // scratch for add
}

func (w *blockWriter) add(uri []byte, r Ref, hash *[32]byte) error {
	w.entry = makeEntry(w.entry[:0], r, hash)
	return w.addEntry(uri, w.entry)
}

// addEntry is add for an entry already encoded.
func (w *blockWriter) addEntry(uri, entry []byte) error {
	w.offs = append(w.offs, len(w.recs))
	w.recs = append(append(w.recs, entry...), uri...)
	if len(w.recs) >= blockBytes {
		return w.flush()
	}
	return nil
}

// flush writes the open block, if it has records.
func (w *blockWriter) flush() error {
	n := len(w.offs)
	if n == 0 {
		return nil
	}
	head := 4 + 4*n
	v := make([]byte, head, head+len(w.recs))
	binary.BigEndian.PutUint32(v, uint32(n))
	for i, off := range w.offs {
		binary.BigEndian.PutUint32(v[4+4*i:], uint32(head+off))
	}
	v = append(v, w.recs...)
	last, _ := block(v).record(n, n-1)
	w.offs, w.recs = w.offs[:0], w.recs[:0]
	return w.put(last, v)
}

// blockFor positions c on the block whose range would hold key: the
// first one whose last URI is not before key, or the last block if key
// sorts after all of them. It returns nil on an empty index.
func blockFor(c *bolt.Cursor, key []byte) (k, v []byte) {
	if k, v = c.Seek(key); k == nil {
		return c.Last()
	}
	return k, v
}

// index looks entries up in an index bucket. It keeps its cursor and the
// block it read last: the lookups of one publication point mostly land
// in one block, which then needs no descent of the tree.
type index struct {
	b      *bolt.Bucket
	c      *bolt.Cursor
	blk    block
	n      int
	lo, hi []byte // the first and last URI of blk
}

// get returns the entry stored for key and the URI as stored, or nils.
func (x *index) get(key []byte) (uri, entry []byte) {
	if x.blk == nil || bytes.Compare(key, x.lo) < 0 || bytes.Compare(key, x.hi) > 0 {
		if x.b == nil {
			return nil, nil
		}
		if x.c == nil {
			x.c = x.b.Cursor()
		}
		_, v := blockFor(x.c, key)
		x.load(v)
		if x.blk == nil {
			return nil, nil
		}
	}
	i, ok := x.blk.search(key)
	if !ok {
		return nil, nil
	}
	return x.blk.record(x.n, i)
}

func (x *index) load(v []byte) {
	x.blk, x.n = block(v), block(v).count()
	if x.n == 0 {
		x.blk = nil
		return
	}
	x.lo, _ = x.blk.record(x.n, 0)
	x.hi, _ = x.blk.record(x.n, x.n-1)
}

// forEachEntry calls fn for every record of index bucket b, in URI
// order. Damaged records are left out.
func forEachEntry(b *bolt.Bucket, fn func(uri, entry []byte) error) error {
	return b.ForEach(func(_, v []byte) error {
		blk := block(v)
		n := blk.count()
		for i := range n {
			if uri, entry := blk.record(n, i); entry != nil {
				if err := fn(uri, entry); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// indexEdit changes an index bucket block by block in memory and writes
// the blocks it changed at the end; lookups see the changes made so far.
// Blocks are found by the bucket's keys as they were, which stay put
// until write.
type indexEdit struct {
	b      *bolt.Bucket
	c      *bolt.Cursor
	blocks map[string]*editBlock // by the block's key; "" for the block of an empty index
}

type editBlock struct {
	key  []byte // the block's key in the bucket; nil for a new one
	recs []editRecord
}

type editRecord struct {
	uri  []byte
	ref  Ref
	hash [32]byte
}

func newIndexEdit(b *bolt.Bucket) *indexEdit {
	return &indexEdit{b: b, c: b.Cursor(), blocks: map[string]*editBlock{}}
}

// block returns the block that holds or would hold uri, read into memory
// on first use.
func (e *indexEdit) block(uri []byte) *editBlock {
	k, v := blockFor(e.c, uri)
	if eb := e.blocks[string(k)]; eb != nil {
		return eb
	}
	eb := &editBlock{key: k}
	blk := block(v)
	n := blk.count()
	eb.recs = make([]editRecord, 0, n+1)
	for i := range n {
		u, entry := blk.record(n, i)
		if r, h, ok := parseEntry(entry); ok {
			eb.recs = append(eb.recs, editRecord{uri: u, ref: r, hash: h})
		}
	}
	e.blocks[string(k)] = eb
	return eb
}

func (eb *editBlock) find(uri []byte) (int, bool) {
	return slices.BinarySearchFunc(eb.recs, uri, func(r editRecord, u []byte) int { return bytes.Compare(r.uri, u) })
}

// get returns the record stored for uri, or nil. It is valid until the
// next put or del.
func (e *indexEdit) get(uri []byte) *editRecord {
	eb := e.block(uri)
	if i, ok := eb.find(uri); ok {
		return &eb.recs[i]
	}
	return nil
}

// put adds or replaces the record for uri.
func (e *indexEdit) put(uri []byte, r Ref, hash *[32]byte) {
	eb := e.block(uri)
	i, ok := eb.find(uri)
	if ok {
		eb.recs[i].ref, eb.recs[i].hash = r, *hash
		return
	}
	eb.recs = slices.Insert(eb.recs, i, editRecord{uri: bytes.Clone(uri), ref: r, hash: *hash})
}

// del removes the record for uri, if there is one.
func (e *indexEdit) del(uri []byte) {
	eb := e.block(uri)
	if i, ok := eb.find(uri); ok {
		eb.recs = slices.Delete(eb.recs, i, i+1)
	}
}

// write replaces the changed blocks in the bucket. A block that grew
// splits; one that lost every record goes.
func (e *indexEdit) write() error {
	keys := slices.Sorted(maps.Keys(e.blocks))
	for _, k := range keys {
		if eb := e.blocks[k]; eb.key != nil {
			if err := e.b.Delete(eb.key); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		w := blockWriter{put: e.b.Put}
		for _, r := range e.blocks[k].recs {
			if err := w.add(r.uri, r.ref, &r.hash); err != nil {
				return fmt.Errorf("%s: %w", r.uri, err)
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	return nil
}
