package netio

import (
	"crypto/x509"
	"io"
	"log/slog"

	"github.com/rovd/rovd/netio/rrdp"
	"github.com/rovd/rovd/store"
)

// IngestSnapshot runs the snapshot path of an RRDP update over body, for
// benchmarks that leave the network out.
func IngestSnapshot(st *store.Store, body io.Reader, notify, scope string, n *rrdp.Notification) error {
	u := &rrdpUpdater{store: st, cfg: &Config{}, log: slog.New(slog.DiscardHandler), limits: rrdp.Limits{}}
	u.pool.New = func() any { return rrdp.NewReader(nil, u.limits) }
	return u.ingestSnapshot(body, notify, scope, n, store.Repo{Protocol: "rrdp", SessionID: n.SessionID, Serial: n.Serial})
}

// SetSystemRoots makes pool the system's root certificates for a test,
// and counts how often they are read.
func SetSystemRoots(t interface{ Cleanup(func()) }, pool *x509.CertPool, reads *int) {
	old := systemRoots
	systemRoots = func() (*x509.CertPool, error) {
		*reads++
		return pool, nil
	}
	t.Cleanup(func() { systemRoots = old })
}
