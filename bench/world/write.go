package world

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StateFile is the name of the file that describes a written world.
const StateFile = "world.json"

// FileRef is an RRDP file in a notification.
type FileRef struct {
	Serial uint64 `json:"serial,omitempty"`
	URI    string `json:"uri"`
	Hash   string `json:"hash"`
}

// RepoState is a repository's RRDP state.
type RepoState struct {
	Repository
	SessionID string    `json:"sessionID"`
	Serial    uint64    `json:"serial"`
	Snapshot  FileRef   `json:"snapshot"`
	Deltas    []FileRef `json:"deltas"`
}

// TAState locates a trust anchor in a written world.
type TAState struct {
	Name     string `json:"name"`
	Repo     string `json:"repo"`
	RsyncURI string `json:"rsyncURI"`
	HTTPSURI string `json:"httpsURI"`
	// File is the certificate's path under DIR (ta/NAME.cer), TAL the
	// TAL's (tals/NAME.tal).
	File string `json:"file"`
	TAL  string `json:"tal"`
}

// Mutation is one change rovd-bench world --mutate made. Replaying the
// mutations over the plan of Config gives the world as it is now.
type Mutation struct {
	Gen  int       `json:"gen"`
	Time time.Time `json:"time"`
	CA   string    `json:"ca"`
	// ROA is the changed ROA's file name; ASN and MaxLength its new AS
	// and the new maxLength of its first prefix. NewFile, if set, is the
	// name it is published under from now on: the old file is withdrawn.
	ROA       string `json:"roa"`
	NewFile   string `json:"newFile,omitempty"`
	ASN       uint32 `json:"asn"`
	MaxLength int    `json:"maxLength"`
}

// State is the content of world.json: everything needed to serve, check
// and mutate a written world.
type State struct {
	Format       int         `json:"format"`
	Config       Config      `json:"config"`
	KeyDigest    string      `json:"keyDigest"`
	Repositories []RepoState `json:"repositories"`
	TAs          []TAState   `json:"tas"`
	Mutations    []Mutation  `json:"mutations,omitempty"`
	Stats        Stats       `json:"stats"`
}

// stateFormat is the version of world.json's layout.
const stateFormat = 1

// ReadState reads DIR/world.json.
func ReadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StateFile, err)
	}
	if s.Format != stateFormat {
		return nil, fmt.Errorf("%s: format %d, want %d", StateFile, s.Format, stateFormat)
	}
	return &s, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic replaces path by way of a temporary file, so that a
// server reading the tree never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name()) // the write's error is the one to report
	}
	return err
}

// dirWriter writes a world into a directory as objects stream in.
type dirWriter struct {
	dir       string
	repos     map[string]*RepoState
	snapshots map[string]*xmlWriter
	dirs      map[string]bool
	bytes     int64
}

func newDirWriter(dir string, cfg *Config) (*dirWriter, error) {
	// A world is written into an empty place: stale files of an earlier
	// world would otherwise be served beside the new ones.
	for _, sub := range []string{"rsync", "rrdp", "ta", "tals", "truth"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	w := &dirWriter{dir: dir, repos: map[string]*RepoState{}, snapshots: map[string]*xmlWriter{}, dirs: map[string]bool{}}
	for _, r := range cfg.Repositories {
		st := &RepoState{Repository: r, SessionID: sessionID(cfg.Seed, r.Name), Serial: 1}
		rel, uri := rrdpFile(r, st.SessionID, 1, "snapshot.xml")
		st.Snapshot.URI = uri
		x, err := createXML(filepath.Join(dir, "rrdp", r.Name, rel))
		if err != nil {
			return nil, err
		}
		x.WriteString(rrdpHeader("snapshot", st.SessionID, 1))
		w.repos[r.Name] = st
		w.snapshots[r.Name] = x
	}
	return w, nil
}

// writeRsync writes one object into the rsync tree.
func (w *dirWriter) writeRsync(o *Object) error {
	path := filepath.Join(w.dir, "rsync", filepath.FromSlash(o.Path()))
	if d := filepath.Dir(path); !w.dirs[d] {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		w.dirs[d] = true
	}
	w.bytes += int64(len(o.Bytes))
	return os.WriteFile(path, o.Bytes, 0o644)
}

func (w *dirWriter) add(o *Object) error {
	if err := w.writeRsync(o); err != nil {
		return err
	}
	if o.Kind == KindTACert {
		// Served over HTTPS from DIR/ta/, and not part of any
		// repository's RRDP content: a TA certificate is found through
		// its TAL.
		return writeFileAtomic(filepath.Join(w.dir, "ta", filepath.Base(o.URI)), o.Bytes)
	}
	x := w.snapshots[o.Repo]
	if x == nil {
		return fmt.Errorf("object %s: unknown repository %q", o.URI, o.Repo)
	}
	x.publish(o.URI, o.Bytes, nil)
	return nil
}

// finish closes the snapshots and writes notifications, TALs, the truth
// and world.json.
func (w *dirWriter) finish(wd *World, keyDigest string, mutations []Mutation) error {
	st := State{Format: stateFormat, Config: wd.Config, KeyDigest: keyDigest, Mutations: mutations}
	for _, r := range wd.Config.Repositories {
		rs := w.repos[r.Name]
		x := w.snapshots[r.Name]
		x.WriteString("</snapshot>\n")
		w.bytes += x.n
		h, err := x.close()
		if err != nil {
			return fmt.Errorf("rrdp %s: snapshot: %w", r.Name, err)
		}
		rs.Snapshot.Hash = h
		if err := writeNotification(w.dir, rs); err != nil {
			return fmt.Errorf("rrdp %s: notification: %w", r.Name, err)
		}
		st.Repositories = append(st.Repositories, *rs)
	}
	for _, ta := range wd.TAs {
		tal := filepath.Join("tals", ta.Name+".tal")
		if err := writeFileAtomic(filepath.Join(w.dir, tal), ta.TAL); err != nil {
			return err
		}
		st.TAs = append(st.TAs, TAState{Name: ta.Name, Repo: ta.Repo, RsyncURI: ta.RsyncURI, HTTPSURI: ta.HTTPSURI,
			File: filepath.Join("ta", ta.Name+".cer"), TAL: tal})
	}
	if err := writeTruth(filepath.Join(w.dir, "truth"), &wd.Truth); err != nil {
		return err
	}
	wd.Stats.Bytes = w.bytes
	st.Stats = wd.Stats
	return writeJSON(filepath.Join(w.dir, StateFile), st)
}

// abort closes what is open after a failure.
func (w *dirWriter) abort() {
	for _, x := range w.snapshots {
		_, _ = x.close() // the build already failed; this only frees the file
	}
}

// Build generates the world of cfg straight into dir, streaming, and
// returns it without Objects. This is what rovd-bench world runs.
func Build(ctx context.Context, cfg Config, dir string) (*World, error) {
	pr, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w, err := newDirWriter(dir, &pr.cfg)
	if err != nil {
		return nil, err
	}
	wd, err := pr.stream(ctx, w.add)
	if err != nil {
		w.abort()
		return nil, err
	}
	if err := w.finish(wd, wd.keyDigest, nil); err != nil {
		return nil, err
	}
	return wd, nil
}

// Write writes an in-memory world into dir in the layout Build uses.
func (wd *World) Write(dir string) error {
	if wd.Objects == nil {
		return errors.New("world has no objects (streamed worlds are already written)")
	}
	w, err := newDirWriter(dir, &wd.Config)
	if err != nil {
		return err
	}
	for i := range wd.Objects {
		if err := w.add(&wd.Objects[i]); err != nil {
			w.abort()
			return err
		}
	}
	return w.finish(wd, wd.keyDigest, nil)
}

// writeTruth writes the ground truth files into dir.
func writeTruth(dir string, t *Truth) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lines := func(name, header string, n int, line func(i int) string) error {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i := range n {
			b.WriteString(line(i))
			b.WriteByte('\n')
		}
		return writeFileAtomic(filepath.Join(dir, name), []byte(b.String()))
	}
	if err := lines("vrps.csv", "ASN,IP Prefix,Max Length,Trust Anchor", len(t.VRPs), func(i int) string { return t.VRPs[i].String() }); err != nil {
		return err
	}
	if err := lines("unsafe.csv", "ASN,IP Prefix,Max Length,Trust Anchor", len(t.Unsafe), func(i int) string { return t.Unsafe[i].String() }); err != nil {
		return err
	}
	if err := lines("aspas.csv", "Customer ASN,Provider ASNs,Trust Anchor", len(t.ASPAs), func(i int) string { return t.ASPAs[i].String() }); err != nil {
		return err
	}
	if err := lines("router-keys.csv", "ASN,Router SKI,Router Public Key,Trust Anchor", len(t.RouterKeys), func(i int) string { return t.RouterKeys[i].String() }); err != nil {
		return err
	}
	faults := t.Faults
	if faults == nil {
		faults = []Fault{}
	}
	return writeJSON(filepath.Join(dir, "faults.json"), faults)
}
