package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// FileName is the name of the store's database file in its directory.
const FileName = "rovd.db"

// Defaults of Options.
const (
	// DefaultLockTimeout bounds how long Open waits for another rovd
	// process that holds the store. A server holds it only while a run
	// writes, which at world scale takes minutes on the first run and
	// seconds after; a reader that still finds it busy gets ErrLocked.
	DefaultLockTimeout = 2 * time.Minute
	// DefaultBatchBytes is the object data one ingest transaction
	// carries. bbolt keeps every page a transaction dirties in memory
	// until it commits, so this bounds an ingest's heap. Each commit
	// waits for the disk twice; at 8 MiB a 40 MB snapshot takes five
	// commits, and smaller batches measured slower with fsync on.
	DefaultBatchBytes = 8 << 20
	// defaultMmapSize is the address space mapped at open on 64-bit
	// systems: growing the file beyond the mapping remaps it, and a remap
	// waits for every open read transaction. 64 GiB of address space is
	// free on 64-bit Linux (no memory is committed) and holds many times
	// today's global RPKI, so readers never hold up writers in practice.
	defaultMmapSize = 64 << 30
	// allocSize is the step by which the file grows.
	allocSize = 128 << 20
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the store for reading: several read-only processes
	// may share it, but not with a writer.
	ReadOnly bool
	// Fresh deletes the store's file before opening it (the manual's
	// --fresh). It cannot be combined with ReadOnly.
	Fresh bool
	// LockTimeout bounds the wait for another process's lock; zero means
	// DefaultLockTimeout and a negative value means do not wait.
	LockTimeout time.Duration
	// BatchBytes is the object data per ingest transaction; zero means
	// DefaultBatchBytes.
	BatchBytes int
	// MmapSize overrides the initial mapping size (tests use it to
	// provoke remaps).
	MmapSize int
	// NoSync skips fsync on commit. Only for tests and throwaway stores:
	// a power failure can then corrupt the file.
	NoSync bool
	// Logger reports recovery and cleanup; nil discards.
	Logger *slog.Logger
}

// Errors callers branch on.
var (
	// ErrLocked means another process holds the store longer than
	// Options.LockTimeout.
	ErrLocked = errors.New("store is locked by another process")
	// ErrCorrupt means the store's file is damaged. Repair moves it aside
	// so that the next Open starts empty; all of its content can be
	// fetched again.
	ErrCorrupt = errors.New("store is damaged")
	// ErrReadOnly is returned by writes to a store opened read-only.
	ErrReadOnly = errors.New("store is read-only")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store is closed")
	// ErrOldFormat means the store was written by an older rovd in a
	// layout this one does not read. Opening it for writing starts it
	// fresh instead: everything in it can be fetched again.
	ErrOldFormat = errors.New("store has an older format")
)

// Store is an RPKI object store: a bbolt database with, per repository,
// the objects last fetched and, per publication point, the objects that
// last validated. See the package documentation for the layout.
//
// A Store is safe for concurrent use by many goroutines. Writes from
// several goroutines are serialized by bbolt, one transaction at a time.
type Store struct {
	db   *bolt.DB
	path string
	opt  Options
	log  *slog.Logger

	// gate lets Compact exclude everything else: every transaction
	// holds it shared, Compact's file rewrite exclusively.
	gate sync.RWMutex
	// writers lets Collect exclude other writes between its mark and
	// sweep: write transactions hold it shared, Collect exclusively.
	writers sync.RWMutex

	mu     sync.Mutex
	broken error // set once a transaction panicked on a damaged page

	// batches holds committed ingest batches for reuse by later ones,
	// of this generation or the next: a fresh arena of BatchBytes costs
	// page faults and clearing, which showed in ingest profiles.
	batches sync.Pool
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opt Options) (*Store, error) {
	if opt.ReadOnly && opt.Fresh {
		return nil, errors.New("store: fresh start needs write access")
	}
	if opt.LockTimeout == 0 {
		opt.LockTimeout = DefaultLockTimeout
	}
	if opt.BatchBytes <= 0 {
		opt.BatchBytes = DefaultBatchBytes
	}
	if opt.MmapSize <= 0 && runtime.GOARCH != "386" && runtime.GOARCH != "arm" {
		opt.MmapSize = defaultMmapSize
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, FileName)
	if opt.Fresh {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store %s: fresh start: %w", path, err)
		}
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	timeout := opt.LockTimeout
	if timeout < 0 {
		// bbolt treats zero as "wait forever"; the shortest real wait
		// is one retry interval.
		timeout = time.Nanosecond
	}
	db, err := openBolt(path, &bolt.Options{
		Timeout:         timeout,
		ReadOnly:        opt.ReadOnly,
		InitialMmapSize: opt.MmapSize,
		NoSync:          opt.NoSync,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		var pathErr *fs.PathError
		var errno syscall.Errno
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, fmt.Errorf("store %s: %w (waited %v): another rovd process is updating it", path, ErrLocked, opt.LockTimeout.Round(time.Millisecond))
		case errors.As(err, &pathErr), errors.As(err, &errno):
			// The system refused (permissions, disk): not the file's fault.
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		// Everything else bbolt reports at open is about the file's
		// content: bad meta pages, wrong version, a short file.
		return nil, corrupt(path, err)
	}
	// Grow the file in large steps: each growth truncates and syncs the
	// file, and an ingest of hundreds of megabytes would otherwise pay
	// that every 16 MB (bbolt's default step).
	db.AllocSize = allocSize
	s := &Store{db: db, path: path, opt: opt, log: log}
	if err := s.init(); err != nil {
		_ = db.Close() // the init error is the one to report
		if errors.Is(err, ErrOldFormat) && !opt.ReadOnly && !opt.Fresh {
			log.Warn("the store was written by an older rovd: starting it fresh, everything is fetched again", "path", path, "reason", err)
			opt.Fresh = true
			return Open(dir, opt)
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrOldFormat) {
			return nil, err
		}
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// errPanic marks a panic of bbolt turned into an error.
var errPanic = errors.New("storage engine panicked")

// openBolt opens the database, turning a panic on a damaged file (bbolt
// panics on some malformed pages) into an error.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return bolt.Open(path, 0o644, o)
}

func corrupt(path string, err error) error {
	return fmt.Errorf("store %s: %w (%v); move it aside with a fresh start (--fresh) and the next run fetches everything again", path, ErrCorrupt, err)
}

// Repair moves a damaged store file in dir aside (to rovd.db.damaged-TIME)
// so that the next Open starts empty, and returns the new name. The
// damaged file is kept for inspection.
func Repair(dir string) (string, error) {
	path := filepath.Join(dir, FileName)
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("store %s: repair: %w", path, err)
	}
	return aside, nil
}

// Path returns the store's database file.
func (s *Store) Path() string { return s.path }

// Close closes the store. Views and ingests must have ended.
func (s *Store) Close() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// view runs fn in a read transaction, with panics on damaged pages
// turned into ErrCorrupt.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if err := s.usable(false); err != nil {
		return err
	}
	return s.guard(func() error { return s.db.View(fn) })
}

// update runs fn in a write transaction like view.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.writers.RLock()
	defer s.writers.RUnlock()
	return s.updateLocked(fn)
}

// updateLocked is update for a caller that holds writers.
func (s *Store) updateLocked(fn func(*bolt.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if err := s.usable(true); err != nil {
		return err
	}
	return s.guard(func() error { return s.db.Update(fn) })
}

func (s *Store) usable(write bool) error {
	if s.db == nil {
		return ErrClosed
	}
	if write && s.opt.ReadOnly {
		return ErrReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken
}

// guard runs fn and turns a panic into ErrCorrupt. bbolt panics when it
// meets a malformed page; after that the store refuses every operation
// until it is repaired.
func (s *Store) guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(s.path, fmt.Errorf("%w: %v", errPanic, r))
			s.mu.Lock()
			s.broken = err
			s.mu.Unlock()
			s.log.Error("store damaged", "path", s.path, "err", err)
		}
	}()
	return fn()
}
