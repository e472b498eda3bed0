// Package dump writes the content of the store to the file system, as
// the manual's dump command describes: the latest fetched data per RRDP
// repository and rsync module, and the last good copy of every
// publication point that validated.
package dump

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rovd/rovd/store"
)

// Repository is one entry of repositories.json.
type Repository struct {
	// URI is the RRDP notification URI, the rsync module or the HTTPS URI
	// of a trust anchor certificate.
	URI  string     `json:"uri"`
	Path string     `json:"path"`
	Info store.Repo `json:"info"`
}

// Index is repositories.json.
type Index struct {
	RRDP  []Repository `json:"rrdp"`
	Rsync []Repository `json:"rsync"`
	HTTPS []Repository `json:"https"`
	// Store is the directory of the last good copies, by rsync URI.
	Store string `json:"store"`
}

// Write dumps the store in repoDir to outDir.
func Write(repoDir, outDir string) error {
	st, err := store.Open(repoDir, store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	idx := Index{Store: "store"}
	err = st.View(func(v *store.View) error {
		var repos []Repository
		if err := v.Repos(func(key string, info store.Repo) error {
			repos = append(repos, Repository{URI: key, Info: info})
			return nil
		}); err != nil {
			return err
		}
		for _, r := range repos {
			var dir string
			switch {
			case strings.HasPrefix(r.URI, "rsync://"):
				dir = "rsync"
			case r.Info.Protocol == "rrdp":
				dir = path.Join("rrdp", hostOf(r.URI), shortHash(r.URI))
			default:
				dir = path.Join("https", shortHash(r.URI))
			}
			r.Path = dir
			if err := writeObjects(v.Repository(r.URI), filepath.Join(outDir, dir)); err != nil {
				return fmt.Errorf("%s: %w", r.URI, err)
			}
			switch {
			case dir == "rsync":
				idx.Rsync = append(idx.Rsync, r)
			case strings.HasPrefix(dir, "rrdp"):
				idx.RRDP = append(idx.RRDP, r)
			default:
				idx.HTTPS = append(idx.HTTPS, r)
			}
		}
		return v.Points(func(key string) error {
			return writeObjects(v.Point(key), filepath.Join(outDir, "store"))
		})
	})
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "repositories.json"), append(data, '\n'), 0o644)
}

// writeObjects writes every object below dir at the path of its URI
// (rsync://HOST/MODULE/path as HOST/MODULE/path; an HTTPS URI likewise).
func writeObjects(objs *store.Objects, dir string) error {
	if objs == nil {
		return nil
	}
	return objs.Walk("", func(o store.Object) error {
		rel, ok := relPath(string(o.URI))
		if !ok {
			return nil // not a name a file system can hold safely
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, o.Data, 0o644)
	})
}

// relPath turns a URI into a relative path, refusing anything that
// could leave the output directory.
func relPath(uri string) (string, bool) {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok || rest == "" {
		return "", false
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false
		}
	}
	return rest, true
}

func hostOf(uri string) string {
	_, rest, _ := strings.Cut(uri, "://")
	host, _, _ := strings.Cut(rest, "/")
	if host == "" || host == "." || host == ".." || strings.ContainsAny(host, `/\`) {
		return "unknown"
	}
	return host
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}
