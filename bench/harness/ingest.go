package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// IngestBound is the physical bound of fetching a world over RRDP: the
// SHA-256 of every snapshot file the world serves plus the base64
// decoding of every object in them, on one core. It is the definition
// of netio's BenchmarkIngestBound, here on the world's own files.
type IngestBound struct {
	// Files, Bytes and Objects are the snapshot files, their size and
	// the objects they publish.
	Files   int   `json:"files"`
	Bytes   int64 `json:"bytes"`
	Objects int   `json:"objects"`
	// Secs is one pass over every file: the sum over the files of the
	// fastest of the passes made over each.
	Secs float64 `json:"secs"`
	// Passes is the number of passes made over the files.
	Passes int `json:"passes"`
	// MBPerSec is Bytes per Secs, in 10^6 bytes.
	MBPerSec float64 `json:"mbPerSec"`
}

// maxIngestPasses bounds the passes over one file: on a small world a
// pass takes microseconds.
const maxIngestPasses = 1000

// MeasureIngestBound measures the ingest bound of the world in dir: its
// repositories' current snapshots, each read into memory first (the
// bound leaves out the disk), then hashed and decoded again and again
// for at least d in all, the fastest pass of each file counting.
func MeasureIngestBound(ctx context.Context, dir string, st *world.State, d time.Duration) (IngestBound, error) {
	var b IngestBound
	files := make([]string, 0, len(st.Repositories))
	for _, r := range st.Repositories {
		u, err := url.Parse(r.Snapshot.URI)
		if err != nil {
			return b, fmt.Errorf("snapshot of %s: %w", r.Name, err)
		}
		// A world's HTTPS paths are its files' paths (bench/world).
		files = append(files, filepath.Join(dir, filepath.FromSlash(u.Path)))
	}
	perFile := d / time.Duration(max(len(files), 1))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return b, err
		}
		content := publishContents(body)
		secs, passes, err := fastestPass(ctx, body, content, perFile)
		if err != nil {
			return b, err
		}
		b.Files++
		b.Bytes += int64(len(body))
		b.Objects += len(content)
		b.Secs += secs
		b.Passes = max(b.Passes, passes)
	}
	if b.Secs > 0 {
		b.MBPerSec = float64(b.Bytes) / b.Secs / 1e6
	}
	return b, nil
}

// fastestPass hashes body and decodes each of content until d has
// passed (at least once, at most maxIngestPasses times) and returns the
// fastest pass in seconds and the number of passes.
func fastestPass(ctx context.Context, body []byte, content [][]byte, d time.Duration) (float64, int, error) {
	size := 0
	for _, c := range content {
		size = max(size, base64.StdEncoding.DecodedLen(len(c)))
	}
	dst := make([]byte, size)
	var best time.Duration
	start := time.Now()
	passes := 0
	for passes < maxIngestPasses && (passes == 0 || time.Since(start) < d) {
		if err := ctx.Err(); err != nil {
			return 0, passes, err
		}
		t := time.Now()
		sha256.Sum256(body)
		for _, c := range content {
			if _, err := base64.StdEncoding.Decode(dst, c); err != nil {
				return 0, passes, fmt.Errorf("decoding a published object: %w", err)
			}
		}
		el := time.Since(t)
		if passes == 0 || el < best {
			best = el
		}
		passes++
	}
	return best.Seconds(), passes, nil
}

// publishContents returns the base64 content of each publish element
// of an RRDP snapshot or delta (RFC 8182 §3.5.2.3), as sub-slices of
// body.
func publishContents(body []byte) [][]byte {
	var out [][]byte
	open, end := []byte("<publish "), []byte("</publish>")
	for rest := body; ; {
		i := bytes.Index(rest, open)
		if i < 0 {
			return out
		}
		rest = rest[i+len(open):]
		j := bytes.IndexByte(rest, '>')
		if j < 0 {
			return out
		}
		if j > 0 && rest[j-1] == '/' {
			// An empty element publishes nothing.
			rest = rest[j+1:]
			continue
		}
		rest = rest[j+1:]
		k := bytes.Index(rest, end)
		if k < 0 {
			return out
		}
		out = append(out, rest[:k])
		rest = rest[k+len(end):]
	}
}
