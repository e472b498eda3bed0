package netio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rovd/rovd/store"
)

// FetchTA brings the trust anchor certificate a TAL URI names into the
// store and says where it is: the object uri in repository repo. A
// certificate fetched over HTTPS is a repository of its own, keyed by its
// URI and refreshed with a conditional request; one over rsync comes
// with its module, as Fetch brings it. Results are as for Fetch.
func (r *Run) FetchTA(ctx context.Context, uri string) (repo string, fresh bool, err error) {
	switch {
	case strings.HasPrefix(uri, "rsync://"):
		return r.Fetch(ctx, "", uri)
	case !strings.HasPrefix(uri, "https://"):
		return "", false, fmt.Errorf("%s: TAL URI is neither https nor rsync", uri)
	case r.c.rrdp == nil:
		return r.stale(uri, errors.New("HTTPS is disabled with RRDP"))
	}
	if err := CheckHost(uri, r.c.cfg.AllowDubiousHosts); err != nil {
		return r.stale(uri, err)
	}
	st := r.once(ctx, uri, func(ctx context.Context, st *Status) { r.updateTA(ctx, uri, st) })
	if st.Err != nil {
		return r.stale(uri, st.Err)
	}
	return uri, true, nil
}

func (r *Run) updateTA(ctx context.Context, uri string, st *Status) {
	st.Protocol = "https"
	st.Err = r.c.rrdp.fetchTA(ctx, uri, st)
	if st.Err != nil {
		r.c.log.Info("trust anchor certificate fetch failed", "uri", uri, "err", st.Err)
	}
}

// fetchTA downloads a trust anchor certificate unless the stored copy is
// still current.
func (u *rrdpUpdater) fetchTA(ctx context.Context, uri string, st *Status) error {
	var prev store.Repo
	var have bool
	if err := u.store.View(func(v *store.View) error {
		var err error
		prev, have, err = v.Repo(uri)
		return err
	}); err != nil {
		return err
	}
	var cond *Conditional
	if have {
		cond = &Conditional{ETag: prev.ETag, LastModified: prev.LastModified}
	}
	resp, err := u.http.Get(ctx, uri, cond, "")
	if errors.Is(err, ErrNotModified) {
		prev.Updated = time.Now()
		return u.store.SetRepo(uri, prev)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	limit := u.cfg.MaxObjectSize
	if limit <= 0 {
		limit = DefaultMaxObjectSize
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	st.Bytes = resp.Wire.N
	if err != nil {
		return err
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("larger than max-object-size (%d bytes)", limit)
	}
	g, err := u.store.NewGeneration(uri)
	if err != nil {
		return err
	}
	defer g.Abort() // no effect after Publish
	if err := g.Put(uri, data); err != nil {
		return err
	}
	st.Objects = 1
	return g.Publish(store.Repo{
		Protocol:     "https",
		ETag:         resp.Validators.ETag,
		LastModified: resp.Validators.LastModified,
		Updated:      time.Now(),
	})
}
