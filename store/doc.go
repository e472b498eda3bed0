// Package store keeps fetched RPKI objects in a memory-mapped, crash-safe
// object store with versioned, zero-copy reads. It depends on the
// standard library and go.etcd.io/bbolt only; nothing in it knows about
// RRDP, rsync or validation.
//
// # What it holds
//
// Per repository (keyed by its RRDP notification URI or its rsync module
// URI rsync://HOST/MODULE/), the objects last fetched, keyed by rsync URI,
// and the fetch state (session, serial, ETag, ...) that goes with them.
// Per publication point (keyed by whatever the engine chooses, its
// manifest URI), the objects that last validated: KeepPoint records them
// and they survive whatever later updates do to the repository, so a
// broken update upstream cannot take good data away.
//
// A read View is one bbolt read transaction: a consistent state, whose
// object bytes are slices of the memory mapping, valid until the View
// ends. Hold views briefly, one publication point at a time.
//
// # Updates
//
// A snapshot or rsync run builds a new Generation beside the current
// content over many transactions of Options.BatchBytes (8 MiB), so the
// pages bbolt holds in memory until a commit stay bounded whatever the
// repository's size; Publish then switches the repository to it in one
// small commit. Objects are hashed and committed in two goroutines of
// their own, batch by batch, while the caller parses the next ones. A
// delta (Apply) changes the current content in one transaction,
// all or nothing. A crash at any instant leaves each repository at its
// old or its new content: bbolt's commits are atomic and durable
// (fsync), and the half-built generations of a dead writer are removed
// at the next writable Open.
//
// # Layout
//
// Buckets: meta (format, counters); blobs (segment → chunk ID → object
// data packed into chunks of up to 1 MiB, one segment per transaction);
// gens (generation → index blocks);
// repos (key → current generation and fetch state); pending and work
// (generations being built, their staging lists and sort runs); points
// (point → index blocks); changes (directory → last delta's change
// number) and changelog (change number → directories, the last 16,384),
// which tell readers what changed since a Stamp; vcache, vdetail and
// records, the engine's derived data (validation cache entries and its
// run tree), kept uninterpreted and dropped together by ClearCache. An
// index block holds about 32 KiB of entries (URI, Ref, SHA-256) in URI
// order and is keyed by its last URI. An object is read with two
// lookups, its index block (kept by the Objects for the next lookup in
// its range) and its chunk (through a cursor per segment kept by the
// Objects), and no copy. Unchanged objects of a new
// generation keep their chunk; Collect removes chunks nothing refers to
// (mark and sweep) and Compact also rewrites the file when more than half
// of it is free pages.
//
// # Why bbolt, and why this layout
//
// bbolt is a proven memory-mapped B+tree with atomic, durable commits and
// read transactions that see one state. Used plainly, one value per
// object keyed by URI and inserted in the server's order, it is slow:
// every transaction dirties pages all over the tree, and bbolt rewrites
// each dirty page whole. Measured on the 2-core development machine with
// fsync on (go test -run '^$' -bench Ingest -count 3 ./store/, 20,000
// objects of ~2 KB, medians):
//
//	plain layout, URI keys in arrival order   61–98 MB/s (falls to ~27 MB/s at 60,000 objects)
//	plain layout, sequential keys              ~165 MB/s
//	this layout                               262–311 MB/s
//	SHA-256 of the same bytes (the floor)    ~1,400 MB/s
//
// Segments (below) came later; in alternating runs of the builds before
// and after them, on a day the same machine's disk was slower, RRDP
// snapshot ingest with fsync (BenchmarkSnapshotIngest in netio, 8 runs
// each) went from 244 to 296 MiB/s and its allocations from 99 to 88 MiB.
//
// So objects are appended, packed into chunks under sequential IDs (bbolt
// writes a few large values per transaction and touches only the right
// edge of the tree), each transaction's chunks in a segment of their
// own: bbolt rewrites a leaf whole, values and all, when a key joins it,
// so with one bucket for all chunks each commit rewrote the last chunks
// of the one before (2,575 pages written per 8 MiB batch instead of
// 2,065) and a small delta rewrote megabytes. The URIs are indexed at
// Publish: sorted in memory for a generation of up to 65,536 objects,
// written into the same commit that publishes it; for a larger one,
// spilled to an append-only staging list and sorted in runs of 65,536
// entries merged on disk. The index is written in blocks, not a key per
// object: bbolt descends the tree for every key and writes every leaf
// page with a system call of its own, and that commit is the one part of
// ingest that nothing overlaps. For 20,000 objects, blocks took the
// index's share of it from 8–12 ms to under 2 ms; in alternating runs
// (BenchmarkSnapshotIngest in netio, 8 each) ingest went from 152 to
// 140 ms with fsync and from 99 to 87 ms without, and from 104,000 to
// 22,000 allocations. Random lookups cost about the same (Get, ~0.5 µs,
// no allocation); a delta rewrites the blocks it touches. Memory stays near four batches plus one sort
// run; the test TestIngestMemoryBounded checks that it does not grow with
// the data. Committed batches are pooled for the next ones, since fresh
// 8 MiB arenas cost page faults. A store of our own (append-only files
// beside an index) could save one more copy of the data, but not enough
// to justify a second storage engine: bbolt with this layout is no longer
// the bottleneck of RRDP ingest, which is bounded by SHA-256 and base64.
//
// # Sharing the file
//
// bbolt locks the file: one writer or many readers. A server opens the
// store for writing only while a run fetches and validates; a second
// process (vrps -n, validate -n, dump) opens it read-only and waits for
// the lock at most Options.LockTimeout, then fails with ErrLocked naming
// the file. A growing file must be remapped, and a remap waits for every
// open read transaction; the store maps 64 GiB of address space up front
// (no memory is committed) so that this does not happen at any realistic
// size.
//
// # Damage
//
// A file bbolt cannot open, a format record this rovd does not know, or
// a page that makes bbolt panic gives ErrCorrupt, with the file named.
// Repair moves the file aside (kept for inspection) and the next Open
// starts empty; everything in it can be fetched again. A store in an
// older layout is not damage: a read-only Open refuses it with
// ErrOldFormat, a writable one logs a warning and starts it fresh.
package store
