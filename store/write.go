package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Generation builds a repository's next content (an RRDP snapshot or an
// rsync run) beside its current one, over as many transactions as the
// data needs, and switches the repository to it in one small commit.
// Until Publish, readers see the old content; a crash leaves the old
// content and a half-built generation that the next writable Open
// removes.
//
// Objects are appended as they come: data under sequential blob IDs and
// a staging list of (URI, blob, hash) in arrival order. Publish sorts the
// staging list into the URI index, in runs of bounded size merged on
// disk, so memory does not grow with the repository. Inserting URIs in
// arrival order instead would touch pages all over the index in every
// transaction, which costs bbolt several times the data's own writes.
//
// Put only buffers objects: a full batch goes to a goroutine that hashes
// its objects and then to one that commits it, so parsing, hashing and
// writing overlap. The hashes are a third of an RRDP snapshot's CPU
// time; in the caller's goroutine they would hold up the parser, which
// decides how fast a snapshot goes in. A Generation is not safe for
// concurrent use.
type Generation struct {
	s    *Store
	repo string
	gen  uint64
	base uint64 // the repository's content when the generation began

	batch   *batch
	pending chan *batch // to the hasher, capacity 1
	hashed  chan *batch // from the hasher to the committer, capacity 1
	done    chan error  // the committer's result when pending closes
	err     error       // first error seen; sticky
	staged  uint64      // staging entries committed
	// mem holds the staging entries while they fit one sort run; they
	// go to the staging bucket (spilled) only for larger generations.
	mem     []staged
	spilled bool
	// pinned are the chunks the generation refers to, recorded in its
	// work bucket so that Collect keeps them before the index exists.
	pinned  map[uint64]bool
	objects int
	bytes   int64
	ended   bool
}

// batch is one ingest transaction's worth of objects. Data are copied
// into arena, since bbolt holds on to values until the commit.
type batch struct {
	arena []byte
	items []item
}

type item struct {
	uri        string
	hash       [32]byte
	start, end int
}

// Bucket names inside a generation's work bucket.
var (
	workStage  = []byte("stage")  // sequence → staged entry
	workRuns   = []byte("runs")   // run number → bucket of sorted entries
	workChunks = []byte("chunks") // chunk ID → nothing: chunks in use
)

// NewGeneration starts building the next content of repository repo.
func (s *Store) NewGeneration(repo string) (*Generation, error) {
	g := &Generation{
		s: s, repo: repo,
		pending: make(chan *batch, 1),
		hashed:  make(chan *batch, 1),
		pinned:  map[uint64]bool{},
		done:    make(chan error, 1),
	}
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if g.gen, err = nextGeneration(tx); err != nil {
			return err
		}
		rec, ok, err := getRepo(tx, repo)
		if err != nil {
			return err
		}
		if ok {
			g.base = rec.Gen
		}
		if _, err := tx.Bucket(bucketGens).CreateBucket(genKey(g.gen)); err != nil {
			return err
		}
		work, err := tx.Bucket(bucketWork).CreateBucket(genKey(g.gen))
		if err != nil {
			return err
		}
		if _, err := work.CreateBucket(workStage); err != nil {
			return err
		}
		if _, err := work.CreateBucket(workRuns); err != nil {
			return err
		}
		if _, err := work.CreateBucket(workChunks); err != nil {
			return err
		}
		return tx.Bucket(bucketPending).Put(genKey(g.gen), []byte(repo))
	})
	if err != nil {
		return nil, fmt.Errorf("store: repository %s: new generation: %w", repo, err)
	}
	go g.hashLoop()
	go g.commitLoop()
	return g, nil
}

// ErrDuplicate is returned (wrapped, naming the URI) when a generation
// gets the same URI twice, which RFC 8182 §3.5.2.3 does not allow in a
// snapshot.
var ErrDuplicate = errors.New("object stored twice")

// Put adds an object. data is copied; the caller may reuse it at once.
// An error from an earlier batch's commit may surface here.
func (g *Generation) Put(uri string, data []byte) error {
	if g.err != nil {
		return g.err
	}
	if g.ended {
		return errors.New("store: generation already ended")
	}
	if g.batch != nil && len(g.batch.arena)+len(data) > cap(g.batch.arena) {
		// Flush before the arena would have to grow: growing copies it.
		if err := g.flush(); err != nil {
			return err
		}
	}
	if g.batch == nil {
		if b, ok := g.s.batches.Get().(*batch); ok {
			g.batch = b
		} else {
			g.batch = &batch{}
		}
		if cap(g.batch.arena) < len(data) {
			g.batch.arena = make([]byte, 0, max(g.s.opt.BatchBytes, len(data)))
		}
	}
	b := g.batch
	start := len(b.arena)
	b.arena = append(b.arena, data...)
	b.items = append(b.items, item{uri: uri, start: start, end: len(b.arena)})
	g.objects++
	g.bytes += int64(len(data))
	return nil
}

// flush hands the current batch to the committer, waiting while it
// still commits the one before.
func (g *Generation) flush() error {
	if g.batch == nil || len(g.batch.items) == 0 {
		return nil
	}
	select {
	case g.pending <- g.batch:
		g.batch = nil
		return nil
	case err := <-g.done:
		// The committer stopped on an error.
		g.err = err
		return err
	}
}

// hashLoop fills in the hashes of each batch's objects.
func (g *Generation) hashLoop() {
	for b := range g.pending {
		b.hash()
		g.hashed <- b
	}
	close(g.hashed)
}

// recycle keeps a committed batch for reuse.
func (s *Store) recycle(b *batch) {
	clear(b.items) // drop the URIs
	b.arena, b.items = b.arena[:0], b.items[:0]
	s.batches.Put(b)
}

func (b *batch) hash() {
	for i := range b.items {
		it := &b.items[i]
		it.hash = sha256.Sum256(b.arena[it.start:it.end])
	}
}

func (g *Generation) commitLoop() {
	for b := range g.hashed {
		err := g.commit(b)
		if err == nil {
			g.s.recycle(b)
		}
		if err != nil {
			g.done <- err
			// Drain so that flush and finish never block.
			for range g.hashed {
			}
			return
		}
	}
	g.done <- nil
}

// commit appends one batch: the data of objects the base content does
// not already hold under the same URI, packed into chunks, and a staging
// entry for each object.
func (g *Generation) commit(b *batch) error {
	if err := g.s.update(func(tx *bolt.Tx) error { return g.commitIn(tx, b) }); err != nil {
		return fmt.Errorf("store: repository %s: %w", g.repo, err)
	}
	return nil
}

// commitIn is commit inside transaction tx.
func (g *Generation) commitIn(tx *bolt.Tx, b *batch) error {
	stage := tx.Bucket(bucketWork).Bucket(genKey(g.gen)).Bucket(workStage)
	stage.FillPercent = 1
	var base index
	if g.base != 0 {
		base.b = tx.Bucket(bucketGens).Bucket(genKey(g.base))
	}
	refs := make([]Ref, len(b.items))
	spans := make([]span, 0, len(b.items))
	for i, it := range b.items {
		// An unchanged object (a snapshot re-read, an rsync run
		// that changed a few files) keeps its data.
		if _, v := base.get(bytesOf(it.uri)); v != nil && bytes.Equal(v[entrySize-32:], it.hash[:]) {
			refs[i], _, _ = parseEntry(v)
			continue
		}
		spans = append(spans, span{start: it.start, end: it.end, ref: &refs[i]})
	}
	w := newChunkWriter(tx)
	if err := w.pack(b.arena, spans); err != nil {
		return err
	}
	work := tx.Bucket(bucketWork).Bucket(genKey(g.gen))
	for _, r := range refs {
		if !g.pinned[r.Chunk] {
			g.pinned[r.Chunk] = true
			if err := work.Bucket(workChunks).Put(genKey(r.Chunk), nil); err != nil {
				return err
			}
		}
	}
	// Staging entries share one arena; bbolt keeps them until the
	// commit, mem for longer.
	vals := make([]byte, 0, len(b.items)*(entrySize+100))
	entries := make([]staged, len(b.items))
	for i, it := range b.items {
		start := len(vals)
		vals = append(makeEntry(vals, refs[i], &it.hash), it.uri...)
		entries[i] = staged(vals[start:len(vals):len(vals)])
	}
	if !g.spilled && len(g.mem)+len(entries) < sortRun {
		// Kept sorted batch by batch, off the parser's path, so that
		// Publish does not sort the whole generation at the end.
		slices.SortFunc(entries, compareStaged)
		g.mem = mergeStaged(g.mem, entries)
		return nil
	}
	if !g.spilled {
		entries = append(g.mem, entries...)
		g.mem, g.spilled = nil, true
	}
	var key [8]byte
	for _, e := range entries {
		binary.BigEndian.PutUint64(key[:], g.staged)
		g.staged++
		if err := stage.Put(key[:], e); err != nil {
			return fmt.Errorf("%s: %w", e.uri(), err)
		}
	}
	return nil
}

// span is an object's data in an arena, and where to note its Ref.
type span struct {
	start, end int
	ref        *Ref
}

// pack stores the spans of arena, which are in increasing order, as
// chunks of up to chunkBytes: adjacent spans share a chunk without being
// copied, since the chunk is the arena's bytes from the first span's
// start to the last one's end.
func (w *chunkWriter) pack(arena []byte, spans []span) error {
	for i := 0; i < len(spans); {
		start := spans[i].start
		j := i + 1
		for j < len(spans) && spans[j].start == spans[j-1].end && spans[j].end-start <= chunkBytes {
			j++
		}
		id, err := w.put(arena[start:spans[j-1].end])
		if err != nil {
			return err
		}
		for _, sp := range spans[i:j] {
			*sp.ref = Ref{Chunk: id, Off: uint32(sp.start - start), Len: uint32(sp.end - sp.start)}
		}
		i = j
	}
	return nil
}

// finish flushes and waits for the committer.
func (g *Generation) finish() error {
	if g.ended {
		return g.err
	}
	g.ended = true
	if g.err == nil {
		g.err = g.flush()
	}
	close(g.pending)
	if err := <-g.done; g.err == nil {
		g.err = err
	}
	return g.err
}

// Publish commits the remaining objects, builds the URI index and makes
// the generation the repository's content, with fetch state info (whose
// Objects and Bytes it fills in). The previous content is dropped. On
// error the generation is removed and the old content stays.
//
// A generation that fits one sort run is published in a single commit
// with its last batch and its index: each commit waits for the disk
// twice, and at the end of a snapshot nothing else overlaps with it.
func (g *Generation) Publish(info Repo) error {
	last := g.batch
	g.batch = nil
	if last != nil {
		// While the committer finishes the batches before it.
		last.hash()
	}
	err := g.finish()
	inMemory := !g.spilled && (last == nil || len(g.mem)+len(last.items) < sortRun)
	if err == nil && !inMemory {
		if last != nil {
			err = g.commit(last)
		}
		if err == nil {
			if err = g.s.sortStaged(g.gen); err != nil {
				err = fmt.Errorf("store: repository %s: %w", g.repo, err)
			}
		}
	}
	if err != nil {
		g.discard()
		return err
	}
	info.Objects, info.Bytes = g.objects, g.bytes
	err = g.s.update(func(tx *bolt.Tx) error {
		if inMemory {
			if last != nil {
				if err := g.commitIn(tx, last); err != nil {
					return err
				}
			}
			for i := 1; i < len(g.mem); i++ {
				if bytes.Equal(g.mem[i-1].uri(), g.mem[i].uri()) {
					return fmt.Errorf("%s: %w", g.mem[i].uri(), ErrDuplicate)
				}
			}
			if err := writeIndex(tx, g.gen, g.mem); err != nil {
				return err
			}
		}
		prev, ok, err := getRepo(tx, g.repo)
		if err != nil {
			return err
		}
		if err := dropWork(tx, g.gen); err != nil {
			return err
		}
		if ok {
			// Deleting a bucket only frees its pages, whatever its
			// size: the old content goes in the same commit.
			if err := tx.Bucket(bucketGens).DeleteBucket(genKey(prev.Gen)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		return putRepo(tx, g.repo, repoRecord{Gen: g.gen, Info: info})
	})
	if err != nil {
		g.discard()
		return fmt.Errorf("store: repository %s: %w", g.repo, err)
	}
	g.gen, g.mem = 0, nil
	if last != nil {
		g.s.recycle(last)
	}
	return nil
}

// Abort discards the generation; the repository keeps its content. It
// may be called after Publish, which makes it a no-op.
func (g *Generation) Abort() {
	_ = g.finish() // the reason to abort is the caller's error, not this one
	g.discard()
}

func (g *Generation) discard() {
	if g.gen == 0 {
		return
	}
	if err := g.s.dropGeneration(g.gen); err != nil {
		g.s.log.Warn("could not drop unfinished repository content", "repo", g.repo, "err", err)
	}
	g.gen = 0
}

// dropWork deletes a generation's staging data and its pending mark.
func dropWork(tx *bolt.Tx, gen uint64) error {
	key := genKey(gen)
	if err := tx.Bucket(bucketWork).DeleteBucket(key); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	return tx.Bucket(bucketPending).Delete(key)
}

// dropGeneration deletes a generation's index and staging data; its
// blobs become garbage for Collect. Deleting a bucket only frees its
// pages, whatever its size, so one transaction does.
func (s *Store) dropGeneration(gen uint64) error {
	return s.update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketGens).DeleteBucket(genKey(gen))
		if err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		return dropWork(tx, gen)
	})
}

// ErrConflict is returned (in a *ConflictError) when a delta does not fit
// the stored content: RFC 8182 §3.4.2 wants a fallback to the snapshot.
var ErrConflict = errors.New("delta does not match the stored objects")

// ConflictError names the URI at which a delta did not apply.
type ConflictError struct {
	URI    string
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.URI, e.Reason, ErrConflict)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Change is one element of an RRDP delta (RFC 8182 §3.5.3).
type Change struct {
	URI string
	// Withdraw removes the object; otherwise Data is published.
	Withdraw bool
	// HasHash says the change replaces or withdraws the object whose
	// SHA-256 is Hash; without it a publish must add a new URI.
	HasHash bool
	Hash    [32]byte
	Data    []byte
}

// Apply changes a repository's current content in one commit: every
// change applies, with info as the new fetch state, or none does. Data
// must stay unmodified until Apply returns.
func (s *Store) Apply(repo string, info Repo, changes []Change) error {
	err := s.update(func(tx *bolt.Tx) error {
		rec, ok, err := getRepo(tx, repo)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("no current content to apply deltas to")
		}
		b := tx.Bucket(bucketGens).Bucket(genKey(rec.Gen))
		if b == nil {
			return errors.New("current content missing")
		}
		idx := newIndexEdit(b)
		objects, size := rec.Info.Objects, rec.Info.Bytes
		// New data is copied into one arena and packed into chunks
		// once every change has been checked.
		var arena []byte
		var spans []span
		type put struct {
			key  []byte
			ref  Ref
			hash [32]byte
		}
		puts := make([]*put, 0, len(changes))
		for i := range changes {
			c := &changes[i]
			key := bytesOf(c.URI)
			cur := idx.get(key)
			switch {
			case c.HasHash && cur == nil:
				return &ConflictError{URI: c.URI, Reason: "replaces or withdraws an object that is not there"}
			case c.HasHash && cur.hash != c.Hash:
				return &ConflictError{URI: c.URI, Reason: "hash of the object it replaces differs"}
			case !c.HasHash && c.Withdraw:
				return &ConflictError{URI: c.URI, Reason: "withdraw without hash"}
			case !c.HasHash && cur != nil:
				return &ConflictError{URI: c.URI, Reason: "publishes a new object under a URI in use"}
			}
			if cur != nil {
				size -= int64(cur.ref.Len)
				objects--
			}
			if c.Withdraw {
				idx.del(key)
				continue
			}
			// The index gets a placeholder now, so that later changes
			// of this delta see the object; pack fills in its Ref.
			p := &put{key: key, hash: sha256.Sum256(c.Data)}
			idx.put(key, Ref{Len: uint32(len(c.Data))}, &p.hash)
			puts = append(puts, p)
			spans = append(spans, span{start: len(arena), end: len(arena) + len(c.Data), ref: &p.ref})
			arena = append(arena, c.Data...)
			objects++
			size += int64(len(c.Data))
		}
		if err := newChunkWriter(tx).pack(arena, spans); err != nil {
			return err
		}
		for _, p := range puts {
			// Replaced or withdrawn again later in this delta: that
			// change wrote its own record.
			if r := idx.get(p.key); r != nil && r.hash == p.hash {
				r.ref = p.ref
			}
		}
		if err := idx.write(); err != nil {
			return err
		}
		info.Objects, info.Bytes = objects, size
		if err := noteChanges(tx, changes); err != nil {
			return err
		}
		return putRepo(tx, repo, repoRecord{Gen: rec.Gen, Info: info})
	})
	if err != nil {
		return fmt.Errorf("store: repository %s: apply delta: %w", repo, err)
	}
	return nil
}

// SetRepo replaces a repository's fetch state and keeps its objects,
// for a fetch that found nothing new. The repository must exist.
func (s *Store) SetRepo(repo string, info Repo) error {
	err := s.update(func(tx *bolt.Tx) error {
		rec, ok, err := getRepo(tx, repo)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("no such repository")
		}
		info.Objects, info.Bytes = rec.Info.Objects, rec.Info.Bytes
		return putRepo(tx, repo, repoRecord{Gen: rec.Gen, Info: info})
	})
	if err != nil {
		return fmt.Errorf("store: repository %s: %w", repo, err)
	}
	return nil
}

// DropRepo removes a repository and its content.
func (s *Store) DropRepo(repo string) error {
	var gen uint64
	err := s.update(func(tx *bolt.Tx) error {
		rec, ok, err := getRepo(tx, repo)
		if err != nil || !ok {
			return err
		}
		gen = rec.Gen
		return tx.Bucket(bucketRepos).Delete([]byte(repo))
	})
	if err == nil && gen != 0 {
		err = s.dropGeneration(gen)
	}
	if err != nil {
		return fmt.Errorf("store: repository %s: drop: %w", repo, err)
	}
	return nil
}

// PointObject names one object of a publication point kept by KeepPoint:
// its URI and the Ref and Hash of the Object read from the store.
type PointObject struct {
	URI  string
	Ref  Ref
	Hash [32]byte
}

// KeepPoint records objects as the last valid content of publication
// point key (its manifest URI, say), replacing what was kept before, so
// that a broken update upstream cannot take them away. The objects are
// not copied: the point refers to the data already stored.
func (s *Store) KeepPoint(key string, objects []PointObject) error {
	return s.KeepPoints([]KeptPoint{{Key: key, Objects: objects}})
}

// KeptPoint is one publication point for KeepPoints.
type KeptPoint struct {
	Key     string
	Objects []PointObject
}

// KeepPoints is KeepPoint for many points in one commit: a run keeps
// tens of thousands, and a commit each would wait for the disk as often.
func (s *Store) KeepPoints(points []KeptPoint) error {
	if err := s.update(func(tx *bolt.Tx) error { return keepPoints(tx, points) }); err != nil {
		return fmt.Errorf("store: keep publication points: %w", err)
	}
	return nil
}

func keepPoints(tx *bolt.Tx, points []KeptPoint) error {
	all := tx.Bucket(bucketPoints)
	blobs := tx.Bucket(bucketBlobs)
	for _, p := range points {
		if all.Bucket([]byte(p.Key)) != nil {
			if err := all.DeleteBucket([]byte(p.Key)); err != nil {
				return err
			}
		}
		b, err := all.CreateBucket([]byte(p.Key))
		if err != nil {
			return err
		}
		objs := slices.Clone(p.Objects)
		slices.SortStableFunc(objs, func(a, b PointObject) int { return strings.Compare(a.URI, b.URI) })
		w := blockWriter{put: b.Put}
		for i, o := range objs {
			if i+1 < len(objs) && objs[i+1].URI == o.URI {
				continue // named twice: the later one stands
			}
			// A kept copy is what a broken update falls back to: check
			// that the Ref still holds the bytes it should.
			data := o.Ref.slice(chunkData(blobs, o.Ref.Chunk))
			if data == nil || sha256.Sum256(data) != o.Hash {
				return fmt.Errorf("%s: %s: object not in the store", p.Key, o.URI)
			}
			if err := w.add([]byte(o.URI), o.Ref, &o.Hash); err != nil {
				return fmt.Errorf("%s: %s: %w", p.Key, o.URI, err)
			}
		}
		if err := w.flush(); err != nil {
			return fmt.Errorf("%s: %w", p.Key, err)
		}
	}
	return nil
}

// DropPoint forgets what was kept for a publication point.
func (s *Store) DropPoint(key string) error {
	err := s.update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketPoints).DeleteBucket([]byte(key))
		if errors.Is(err, bolterrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: publication point %s: drop: %w", key, err)
	}
	return nil
}
