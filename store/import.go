package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrObjectTooLarge is returned (wrapped, naming the file) for a file over
// the size limit of an import.
var ErrObjectTooLarge = errors.New("object larger than max-object-size")

// RsyncRepoKey returns the repository key of an rsync module: its URI
// rsync://HOST/MODULE/.
func RsyncRepoKey(host, module string) string {
	return "rsync://" + host + "/" + module + "/"
}

// SplitModule returns the host and module of an rsync URI
// rsync://HOST/MODULE/..., and false if it is not one.
func SplitModule(uri string) (host, module string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "rsync://")
	if !ok {
		return "", "", false
	}
	host, rest, _ = strings.Cut(rest, "/")
	module, _, _ = strings.Cut(rest, "/")
	if host == "" || module == "" || module == "." || module == ".." {
		return "", "", false
	}
	return host, module, true
}

// ImportModule replaces the content of repository repo with the files
// under dir, each stored as base + its slash-separated path below dir.
// Files over maxSize bytes (when maxSize > 0) are skipped and reported
// in the returned error list; symbolic links and other non-regular files
// are skipped too. info is the repository's new fetch state. An I/O
// error aborts the import and keeps the previous content.
func (s *Store) ImportModule(repo, base, dir string, maxSize int64, info Repo) (skipped []error, err error) {
	g, err := s.NewGeneration(repo)
	if err != nil {
		return nil, err
	}
	defer g.Abort()
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			if !d.IsDir() {
				skipped = append(skipped, fmt.Errorf("%s: not a regular file", path))
			}
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		uri := base + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if maxSize > 0 && fi.Size() > maxSize {
			skipped = append(skipped, fmt.Errorf("%s: %d bytes: %w", uri, fi.Size(), ErrObjectTooLarge))
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return g.Put(uri, data)
	})
	if err != nil {
		return skipped, fmt.Errorf("store: import %s into %s: %w", dir, repo, err)
	}
	return skipped, g.Publish(info)
}

// ImportDir imports a directory tree in rsync layout, DIR/HOST/MODULE/PATH
// for rsync://HOST/MODULE/PATH, one repository per module, replacing the
// content of each. It is how archived repositories are replayed. It
// returns the repository keys imported and the files it skipped.
func (s *Store) ImportDir(root string, maxSize int64) (repos []string, skipped []error, err error) {
	hosts, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("store: import %s: %w", root, err)
	}
	now := time.Now()
	for _, h := range hosts {
		if !h.IsDir() {
			skipped = append(skipped, fmt.Errorf("%s: not a host directory", filepath.Join(root, h.Name())))
			continue
		}
		modules, err := os.ReadDir(filepath.Join(root, h.Name()))
		if err != nil {
			return repos, skipped, fmt.Errorf("store: import %s: %w", root, err)
		}
		for _, m := range modules {
			dir := filepath.Join(root, h.Name(), m.Name())
			if !m.IsDir() || strings.HasPrefix(m.Name(), ".") {
				skipped = append(skipped, fmt.Errorf("%s: not a module directory", dir))
				continue
			}
			key := RsyncRepoKey(h.Name(), m.Name())
			sk, err := s.ImportModule(key, key, dir, maxSize, Repo{Protocol: "rsync", Updated: now})
			skipped = append(skipped, sk...)
			if err != nil {
				return repos, skipped, err
			}
			repos = append(repos, key)
		}
	}
	return repos, skipped, nil
}
