package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// loadedTAL is one *.tal file of the TAL directory.
type loadedTAL struct {
	path, name, label string
	tal               *rpki.TAL
	problems          []Finding
}

// maxTALSize bounds a TAL file: a real one is well under 1 KB, holding a
// few URIs and a base64 RSA key.
const maxTALSize = 64 << 10

// loadTALs reads every *.tal file in dir, in name order. A TAL that does
// not parse is returned with its problems; the run goes on without it.
// A directory without TALs is an error: there would be nothing to do.
func loadTALs(dir string, labels map[string]string) ([]loadedTAL, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tal"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no TALs (*.tal) in %s", dir)
	}
	slices.Sort(paths)
	var tals []loadedTAL
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".tal")
		t := loadedTAL{path: p, name: name, label: name}
		if l, ok := labels[name]; ok {
			t.label = l
		}
		data, err := readLimited(p, maxTALSize)
		if err == nil {
			t.tal, err = rpki.ParseTAL(data)
		}
		if err != nil {
			t.problems = []Finding{{Level: slog.LevelError, Point: p, Msg: "TAL not usable: " + errMsg(err)}}
		}
		tals = append(tals, t)
	}
	return tals, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// trustAnchor fetches and checks the certificate of t's TAL, trying its
// URIs in order, and fills in t.cert. It reports whether one validated.
func (w *walk) trustAnchor(ctx context.Context, t *task) bool {
	log := &pointLog{point: t.certURI}
	defer w.report.flush(w.e.log, log)
	// As for repositories, --complete counts a failure only if no URI
	// brought the certificate without one; a trust anchor left without
	// a certificate counts too.
	failed := true
	defer func() {
		if failed {
			w.report.mu.Lock()
			w.report.Incomplete = true
			w.report.mu.Unlock()
		}
	}()
	for _, uri := range t.tal.URIs {
		repo, _, fetchErr := w.coll.FetchTA(ctx, uri)
		err := fetchErr
		if repo == "" {
			if err == nil {
				err = errNoData
			}
			log.add(slog.LevelWarn, uri, nil, "trust anchor certificate not available: "+err.Error())
			continue
		}
		w.use(repo, "")
		var data []byte
		err = w.e.store.View(func(v *store.View) error {
			objs := v.Repository(repo)
			if objs == nil {
				return nil
			}
			if o, ok := objs.Get(uri); ok {
				data = bytes.Clone(o.Data)
			}
			return nil
		})
		if err != nil {
			log.add(slog.LevelError, uri, nil, "store: "+err.Error())
			return false
		}
		if data == nil {
			log.add(slog.LevelWarn, uri, nil, "trust anchor certificate not available: "+errNoData.Error())
			continue
		}
		cert, err := rpki.ParseCertificate(data, w.mode)
		if err != nil {
			log.add(slog.LevelWarn, uri, nil, "trust anchor certificate: "+errMsg(err))
			continue
		}
		if ps := append(cert.Problems(), cert.ValidateTA(t.tal, w.at)...); len(ps) > 0 {
			log.problems(slog.LevelWarn, uri, ps)
			continue
		}
		t.cert, t.certURI, t.certHash = cert, uri, sha256.Sum256(data)
		failed = fetchErr != nil
		t.chain = payload.Validity{NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}
		// Problems with other URIs of a TAL that worked in the end are
		// not worth a warning.
		for i := range log.findings {
			log.findings[i].Level = slog.LevelInfo
		}
		return true
	}
	log.add(slog.LevelWarn, t.certURI, nil, "no valid trust anchor certificate: trust anchor "+t.ta.name+" skipped")
	w.report.update(func(c *Counts) { c.TAsFailed++ })
	return false
}
