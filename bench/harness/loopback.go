package harness

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path"

	"github.com/rovd/rovd/bench/world/serve"
)

// FetchStats counts what a program fetched from the world's loopback
// servers during one run.
type FetchStats struct {
	// Notifications, Snapshots and Deltas count the RRDP files
	// requested (RFC 8182), whatever the answer.
	Notifications int `json:"notifications"`
	Snapshots     int `json:"snapshots"`
	Deltas        int `json:"deltas"`
	// Other counts the other HTTPS requests: trust anchor
	// certificates.
	Other int `json:"other"`
	// NotModified counts 304 answers to conditional requests; Failed
	// counts answers with an error status or none at all.
	NotModified int `json:"notModified"`
	Failed      int `json:"failed"`
	// Bytes is the body bytes sent, compressed where gzip was used.
	Bytes int64 `json:"bytes"`
	// RsyncConnections counts connections to the rsync daemons, which
	// a relying party makes when it falls back from RRDP.
	RsyncConnections int `json:"rsyncConnections"`
}

// loopback is the world served on loopback for the validate stage.
type loopback struct {
	srv *serve.Server
	// rsyncMark is the rsync daemons' connection count at the last
	// reset.
	rsyncMark int
}

// startLoopback serves the world in env.WorldDir where its world.json
// says. The caller must close it on every path.
func startLoopback(ctx context.Context, env *Env) (*loopback, error) {
	srv, err := serve.Start(ctx, env.WorldDir, serve.Options{KeyCache: env.KeyCache, Logger: env.Logger})
	if err != nil {
		return nil, err
	}
	return &loopback{srv: srv}, nil
}

// caFile is the test CA's certificate, for rovd's --rrdp-root-cert.
func (l *loopback) caFile() string { return l.srv.CAFile() }

// reset starts counting fetches afresh.
func (l *loopback) reset() {
	l.srv.ResetRequests()
	l.rsyncMark = l.rsyncConnections()
}

// fetched returns what was fetched since the last reset.
func (l *loopback) fetched() *FetchStats {
	var f FetchStats
	for _, r := range l.srv.Requests() {
		switch path.Base(r.Path) {
		case "notification.xml":
			f.Notifications++
		case "snapshot.xml":
			f.Snapshots++
		case "delta.xml":
			f.Deltas++
		default:
			f.Other++
		}
		switch {
		case r.Status == http.StatusNotModified:
			f.NotModified++
		case r.Status == 0 || r.Status >= 400:
			f.Failed++
		}
		f.Bytes += r.Bytes
	}
	f.RsyncConnections = l.rsyncConnections() - l.rsyncMark
	return &f
}

// rsyncConnectLine marks a connection in an rsync daemon's log
// (rsync's clientserver.c logs "connect from HOST (ADDR)" for each).
var rsyncConnectLine = []byte("] connect from ")

// rsyncConnections counts the connections the rsync daemons have
// logged so far (their own start-up probes included).
func (l *loopback) rsyncConnections() int {
	n := 0
	for _, p := range l.srv.RsyncLogs() {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // no log yet: no connection
		}
		n += bytes.Count(b, rsyncConnectLine)
	}
	return n
}

func (l *loopback) close() error { return l.srv.Close() }
