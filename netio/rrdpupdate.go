package netio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rovd/rovd/netio/rrdp"
	"github.com/rovd/rovd/store"
)

// Limits on RRDP files beyond the parser's own.
const (
	// maxNotificationSize bounds a notification file: one delta line is
	// about 200 bytes, so 64 MB hold far more than rrdp.DefaultMaxDeltas.
	maxNotificationSize = 64 << 20
	// maxDeltaBytes bounds the object data of the deltas applied in one
	// update, which are held in memory until they apply in one commit.
	// Beyond it the snapshot is cheaper anyway.
	maxDeltaBytes = 256 << 20
)

// Ways an RRDP update went, for status and metrics.
const (
	MethodNotModified = "not-modified" // 304 to the notification request
	MethodUnchanged   = "unchanged"    // same session and serial
	MethodDeltas      = "deltas"
	MethodSnapshot    = "snapshot"
)

// rrdpUpdater brings one RRDP repository at a time up to date in the
// store. It is safe for concurrent use; each update takes a parser from
// a pool.
type rrdpUpdater struct {
	http   *HTTPClient
	store  *store.Store
	cfg    *Config
	log    *slog.Logger
	limits rrdp.Limits
	pool   sync.Pool // *rrdp.Reader
}

// rrdpResult says what an update did.
type rrdpResult struct {
	Method    string
	SessionID string
	Serial    uint64
	Deltas    int   // deltas applied
	Bytes     int64 // bytes received
	Objects   int   // objects in the repository afterwards
}

// update fetches the notification at notify and applies deltas or the
// snapshot. Objects must lie below scope (rsync://HOST/, the rsync host
// of the CA that named the repository). On error the stored content is
// untouched.
func (u *rrdpUpdater) update(ctx context.Context, notify, scope string) (res rrdpResult, err error) {
	var prev store.Repo
	var have bool
	if err := u.store.View(func(v *store.View) error {
		prev, have, err = v.Repo(notify)
		return err
	}); err != nil {
		return res, err
	}
	if have && prev.Protocol != "rrdp" {
		have = false
	}

	var cond *Conditional
	if have {
		cond = &Conditional{ETag: prev.ETag, LastModified: prev.LastModified}
	}
	resp, err := u.http.Get(ctx, notify, cond, "."+time.Now().UTC().Format("20060102T150405.000Z"))
	if errors.Is(err, ErrNotModified) {
		now := time.Now()
		prev.Updated, prev.LastRRDP = now, now
		res = rrdpResult{Method: MethodNotModified, SessionID: prev.SessionID, Serial: prev.Serial, Objects: prev.Objects}
		return res, u.store.SetRepo(notify, prev)
	}
	if err != nil {
		return res, fmt.Errorf("notification %s: %w", notify, err)
	}
	n, err := rrdp.ParseNotification(limitRead(resp.Body, maxNotificationSize), u.limits)
	resp.Body.Close()
	res.Bytes += resp.Wire.N
	if err != nil {
		return res, fmt.Errorf("notification %s: %w", notify, err)
	}
	if err := u.checkNotification(notify, n); err != nil {
		return res, err
	}
	res.SessionID, res.Serial = n.SessionID, n.Serial
	info := store.Repo{
		Protocol:     "rrdp",
		SessionID:    n.SessionID,
		Serial:       n.Serial,
		ETag:         resp.Validators.ETag,
		LastModified: resp.Validators.LastModified,
		Deltas:       make([]store.DeltaHash, len(n.Deltas)),
	}
	for i, d := range n.Deltas {
		info.Deltas[i] = store.DeltaHash{Serial: d.Serial, Hash: d.Hash}
	}

	if have && prev.SessionID == n.SessionID {
		switch chain, ok := n.DeltaChain(prev.Serial); {
		case desync(prev.Deltas, n.Deltas):
			u.log.Warn("rrdp delta hash changed for a known serial, using the snapshot", "repo", notify, "session", n.SessionID)
		case prev.Serial > n.Serial:
			u.log.Warn("rrdp serial went backwards, using the snapshot", "repo", notify, "serial", n.Serial, "had", prev.Serial)
		case ok && len(chain) == 0:
			now := time.Now()
			info.Updated, info.LastRRDP = now, now
			res.Method, res.Objects = MethodUnchanged, prev.Objects
			return res, u.store.SetRepo(notify, info)
		case !ok:
			u.log.Info("rrdp deltas do not reach our serial, using the snapshot", "repo", notify, "serial", n.Serial, "had", prev.Serial)
		case len(chain) > u.cfg.RRDPMaxDeltaCount:
			u.log.Info("rrdp needs more deltas than rrdp-max-delta-count, using the snapshot", "repo", notify, "deltas", len(chain))
		default:
			n, err := u.applyDeltas(ctx, notify, scope, chain, n.SessionID, info)
			res.Bytes += n
			if err == nil {
				res.Method, res.Deltas = MethodDeltas, len(chain)
				res.Objects, _ = u.objects(notify)
				return res, nil
			}
			if ctx.Err() != nil {
				return res, err
			}
			u.log.Warn("rrdp deltas failed, using the snapshot", "repo", notify, "err", err)
		}
	}

	b, err := u.loadSnapshot(ctx, notify, scope, n, info)
	res.Bytes += b
	if err != nil {
		return res, err
	}
	res.Method = MethodSnapshot
	res.Objects, _ = u.objects(notify)
	return res, nil
}

func (u *rrdpUpdater) objects(notify string) (int, error) {
	var n int
	err := u.store.View(func(v *store.View) error {
		info, _, err := v.Repo(notify)
		n = info.Objects
		return err
	})
	return n, err
}

// checkNotification applies the rules the parser leaves to us: snapshot
// and deltas over https on the notification's origin (RFC 9674 §3).
func (u *rrdpUpdater) checkNotification(notify string, n *rrdp.Notification) error {
	if !sameOrigin(notify, n.Snapshot.URI) {
		return fmt.Errorf("notification %s: snapshot %s is on another origin (RFC 9674)", notify, n.Snapshot.URI)
	}
	for _, d := range n.Deltas {
		if !sameOrigin(notify, d.URI) {
			return fmt.Errorf("notification %s: delta %d at %s is on another origin (RFC 9674)", notify, d.Serial, d.URI)
		}
	}
	return nil
}

// desync reports whether a notification lists, for a serial we saw
// before, a delta with another hash: the server rewrote history, so the
// deltas cannot be trusted (RFC 8182 §3.4.2 leaves the snapshot).
func desync(known []store.DeltaHash, now []rrdp.FileRef) bool {
	m := make(map[uint64][32]byte, len(known))
	for _, d := range known {
		m[d.Serial] = d.Hash
	}
	for _, d := range now {
		if h, ok := m[d.Serial]; ok && h != d.Hash {
			return true
		}
	}
	return false
}

// rrdpFile is an RRDP file being read: a Reader over the body whose
// header has been checked, and the hash being computed over the body.
type rrdpFile struct {
	*rrdp.Reader
	body *hashPipe
}

// openFile starts reading an RRDP file from body and checks its header
// against what the notification said. Call close when done.
func (u *rrdpUpdater) openFile(body io.Reader, want rrdp.FileType, session string, serial uint64) (*rrdpFile, error) {
	f := &rrdpFile{body: newHashPipe(body), Reader: u.pool.Get().(*rrdp.Reader)}
	f.Reset(f.body)
	hdr, err := f.Header()
	switch {
	case err != nil:
	case hdr.Type != want:
		err = fmt.Errorf("%s file where a %s was expected", hdr.Type, want)
	case hdr.SessionID != session:
		err = fmt.Errorf("session %s, the notification says %s", hdr.SessionID, session)
	case hdr.Serial != serial:
		err = fmt.Errorf("serial %d, the notification says %d", hdr.Serial, serial)
	}
	if err != nil {
		u.closeFile(f)
		return nil, err
	}
	return f, nil
}

// verify reads the rest of the body and compares its hash.
func (f *rrdpFile) verify(want [32]byte) error {
	// The root's end tag has been read; what follows is at most
	// whitespace, which the parser has checked.
	got, err := f.body.Sum()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("hash %x does not match the notification's %x", got[:6], want[:6])
	}
	return nil
}

func (u *rrdpUpdater) closeFile(f *rrdpFile) {
	f.body.Close()
	f.Reset(nil)
	u.pool.Put(f.Reader)
}

// loadSnapshot replaces the repository's content with the snapshot.
func (u *rrdpUpdater) loadSnapshot(ctx context.Context, notify, scope string, n *rrdp.Notification, info store.Repo) (int64, error) {
	resp, err := u.http.Get(ctx, n.Snapshot.URI, nil, "")
	if err != nil {
		return 0, fmt.Errorf("snapshot %s: %w", n.Snapshot.URI, err)
	}
	defer resp.Body.Close()
	err = u.ingestSnapshot(resp.Body, notify, scope, n, info)
	if err != nil {
		err = fmt.Errorf("snapshot %s: %w", n.Snapshot.URI, err)
	}
	return resp.Wire.N, err
}

// ingestSnapshot streams a snapshot from body into a new generation of
// the repository and publishes it if the whole file checks out.
func (u *rrdpUpdater) ingestSnapshot(body io.Reader, notify, scope string, n *rrdp.Notification, info store.Repo) error {
	f, err := u.openFile(body, rrdp.TypeSnapshot, n.SessionID, n.Serial)
	if err != nil {
		return err
	}
	defer u.closeFile(f)
	g, err := u.store.NewGeneration(notify)
	if err != nil {
		return err
	}
	defer g.Abort() // no effect after Publish
	for {
		el, err := f.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			uri := string(el.URI)
			if err = checkScope(uri, scope); err == nil {
				err = g.Put(uri, el.Data)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := f.verify(n.Snapshot.Hash); err != nil {
		return err
	}
	now := time.Now()
	info.Updated, info.LastRRDP = now, now
	return g.Publish(info)
}

// applyDeltas fetches every delta of chain, checks each whole, and then
// applies them all in one commit.
func (u *rrdpUpdater) applyDeltas(ctx context.Context, notify, scope string, chain []rrdp.FileRef, session string, info store.Repo) (int64, error) {
	var changes []store.Change
	var size, wire int64
	for _, d := range chain {
		err := func() error {
			resp, err := u.http.Get(ctx, d.URI, nil, "")
			if err != nil {
				return err
			}
			defer func() { wire += resp.Wire.N; resp.Body.Close() }()
			f, err := u.openFile(resp.Body, rrdp.TypeDelta, session, d.Serial)
			if err != nil {
				return err
			}
			defer u.closeFile(f)
			for {
				el, err := f.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				if err := checkScope(string(el.URI), scope); err != nil {
					return err
				}
				if size += int64(len(el.Data)); size > maxDeltaBytes {
					return fmt.Errorf("deltas hold more than %d MB", maxDeltaBytes>>20)
				}
				changes = append(changes, store.Change{
					URI:      string(el.URI),
					Withdraw: el.Withdraw,
					HasHash:  el.HasHash,
					Hash:     el.Hash,
					Data:     append([]byte(nil), el.Data...),
				})
			}
			return f.verify(d.Hash)
		}()
		if err != nil {
			return wire, fmt.Errorf("delta %d %s: %w", d.Serial, d.URI, err)
		}
	}
	now := time.Now()
	info.Updated, info.LastRRDP = now, now
	return wire, u.store.Apply(notify, info, changes)
}

// checkScope checks an object URI from an RRDP file: well formed, and
// below the rsync host of the CA that named the repository. A
// publication server serves one rsync host; an object elsewhere would
// let one repository plant objects in another's name space.
func checkScope(uri, scope string) error {
	if err := CheckObjectURI(uri); err != nil {
		return err
	}
	if !strings.HasPrefix(uri, scope) {
		return fmt.Errorf("%s: outside the repository's %s", uri, scope)
	}
	return nil
}

// limitRead returns a reader that fails once more than n bytes come.
func limitRead(r io.Reader, n int64) io.Reader { return &limited{r: r, n: n} }

type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.n -= int64(n); l.n < 0 {
		return n, errors.New("file larger than allowed")
	}
	return n, err
}
