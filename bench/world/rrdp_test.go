package world_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// RRDP documents (RFC 8182 §3.5) as encoding/xml reads them.
type notification struct {
	XMLName   xml.Name `xml:"notification"`
	Version   string   `xml:"version,attr"`
	SessionID string   `xml:"session_id,attr"`
	Serial    uint64   `xml:"serial,attr"`
	Snapshot  struct {
		URI  string `xml:"uri,attr"`
		Hash string `xml:"hash,attr"`
	} `xml:"snapshot"`
	Deltas []struct {
		Serial uint64 `xml:"serial,attr"`
		URI    string `xml:"uri,attr"`
		Hash   string `xml:"hash,attr"`
	} `xml:"delta"`
}

type publish struct {
	URI     string `xml:"uri,attr"`
	Hash    string `xml:"hash,attr"`
	Content string `xml:",chardata"`
}

type snapshotDoc struct {
	XMLName   xml.Name
	Version   string    `xml:"version,attr"`
	SessionID string    `xml:"session_id,attr"`
	Serial    uint64    `xml:"serial,attr"`
	Publish   []publish `xml:"publish"`
	Withdraw  []publish `xml:"withdraw"`
}

// httpsFile maps an https URI of the world to its file: the path of the URI
// under DIR.
func httpsFile(t *testing.T, dir, uri string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(uri, "https://")
	if !ok {
		t.Fatalf("not an https URI: %s", uri)
	}
	return filepath.Join(dir, rest[strings.Index(rest, "/"):])
}

// readChecked reads an RRDP file and checks its hash.
func readChecked(t *testing.T, dir, uri, hash string) []byte {
	t.Helper()
	b, err := os.ReadFile(httpsFile(t, dir, uri))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	if hex.EncodeToString(h[:]) != hash {
		t.Errorf("%s: hash %x, notification says %s", uri, h, hash)
	}
	return b
}

func readNotification(t *testing.T, dir, repo string) notification {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "rrdp", repo, "notification.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var n notification
	if err := xml.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	if n.XMLName.Space != world.RRDPNamespace || n.Version != "1" {
		t.Errorf("notification namespace %q version %q", n.XMLName.Space, n.Version)
	}
	return n
}

// readSnapshot returns a repository's current snapshot as URI → content.
func readSnapshot(t *testing.T, dir, repo string) (notification, map[string][]byte) {
	t.Helper()
	n := readNotification(t, dir, repo)
	var s snapshotDoc
	if err := xml.Unmarshal(readChecked(t, dir, n.Snapshot.URI, n.Snapshot.Hash), &s); err != nil {
		t.Fatal(err)
	}
	if s.XMLName.Local != "snapshot" || s.XMLName.Space != world.RRDPNamespace || s.SessionID != n.SessionID || s.Serial != n.Serial {
		t.Errorf("snapshot %v session %s serial %d, notification %s %d", s.XMLName, s.SessionID, s.Serial, n.SessionID, n.Serial)
	}
	out := map[string][]byte{}
	for _, p := range s.Publish {
		b, err := base64.StdEncoding.DecodeString(p.Content)
		if err != nil {
			t.Fatalf("%s: %v", p.URI, err)
		}
		out[p.URI] = b
	}
	return n, out
}

// rsyncFiles returns the rsync tree as URI → content, trust anchor
// certificates aside.
func rsyncFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := filepath.Join(dir, "rsync")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		uri := "rsync://" + filepath.ToSlash(rel)
		if strings.Contains(uri, "/ta/") {
			return nil
		}
		b, err := os.ReadFile(path)
		out[uri] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeSmall(t *testing.T) (string, *world.World) {
	t.Helper()
	w := small(t)
	dir := t.TempDir()
	if err := w.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, w
}

func TestWriteLayout(t *testing.T) {
	dir, w := writeSmall(t)
	for _, ta := range w.TAs {
		tal, err := os.ReadFile(filepath.Join(dir, "tals", ta.Name+".tal"))
		if err != nil || !bytes.Contains(tal, []byte(ta.HTTPSURI+"\n"+ta.RsyncURI+"\n\n")) {
			t.Errorf("TAL %s: %v\n%s", ta.Name, err, tal)
		}
		cert, err := os.ReadFile(httpsFile(t, dir, ta.HTTPSURI))
		if err != nil || !bytes.Equal(cert, ta.Cert) {
			t.Errorf("TA certificate at %s: %v", ta.HTTPSURI, err)
		}
		cert, err = os.ReadFile(filepath.Join(dir, "rsync", strings.TrimPrefix(ta.RsyncURI, "rsync://")))
		if err != nil || !bytes.Equal(cert, ta.Cert) {
			t.Errorf("TA certificate at %s: %v", ta.RsyncURI, err)
		}
	}
	st, err := world.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Config.Now.Equal(testNow) || st.Config.Seed != 1 || len(st.Repositories) != 2 || st.Repositories[0].Serial != 1 {
		t.Errorf("state %+v", st)
	}
	vrps, err := os.ReadFile(filepath.Join(dir, "truth", "vrps.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(vrps), "\n"), "\n")
	if lines[0] != "ASN,IP Prefix,Max Length,Trust Anchor" || len(lines) != len(w.Truth.VRPs)+1 || lines[1] != w.Truth.VRPs[0].String() {
		t.Errorf("vrps.csv starts %q, %d lines", lines[:2], len(lines))
	}
	for _, name := range []string{"aspas.csv", "router-keys.csv", "unsafe.csv", "faults.json"} {
		if _, err := os.Stat(filepath.Join(dir, "truth", name)); err != nil {
			t.Error(err)
		}
	}
	var faults []world.Fault
	b, _ := os.ReadFile(filepath.Join(dir, "truth", "faults.json"))
	if err := json.Unmarshal(b, &faults); err != nil || len(faults) != len(world.FaultKinds) {
		t.Errorf("faults.json: %d faults, %v", len(faults), err)
	}
}

// TestRRDPMatchesRsync checks that each repository's snapshot is well
// formed, its hash is right and it holds exactly the repository's part of
// the rsync tree.
func TestRRDPMatchesRsync(t *testing.T) {
	dir, w := writeSmall(t)
	files := rsyncFiles(t, dir)
	seen := 0
	for _, r := range w.Config.Repositories {
		n, snap := readSnapshot(t, dir, r.Name)
		if n.SessionID != w.Sessions[r.Name] || n.Serial != 1 || len(n.Deltas) != 0 {
			t.Errorf("%s: session %s serial %d deltas %d", r.Name, n.SessionID, n.Serial, len(n.Deltas))
		}
		if !strings.HasPrefix(n.Snapshot.URI, "https://"+r.HTTPS+"/rrdp/"+r.Name+"/") {
			t.Errorf("%s: snapshot URI %s", r.Name, n.Snapshot.URI)
		}
		for uri, b := range snap {
			if !strings.HasPrefix(uri, r.RsyncBase()) {
				t.Errorf("%s publishes %s", r.Name, uri)
			}
			if !bytes.Equal(files[uri], b) {
				t.Errorf("%s: snapshot content differs from the rsync file", uri)
			}
			seen++
		}
	}
	if seen != len(files) {
		t.Errorf("snapshots hold %d objects, the rsync tree %d", seen, len(files))
	}
}

func TestMutate(t *testing.T) {
	dir, w := writeSmall(t)
	before := map[string]map[string][]byte{}
	for _, r := range w.Config.Repositories {
		_, before[r.Name] = readSnapshot(t, dir, r.Name)
	}
	oldVRPs, _ := os.ReadFile(filepath.Join(dir, "truth", "vrps.csv"))
	withdrawn := 0

	res, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: 5, Now: testNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Points != 7 || len(res.Repositories) == 0 {
		t.Fatalf("mutated %d points in %v, want 7 (5%% of 146)", res.Points, res.Repositories)
	}
	st, err := world.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Mutations) != res.Points {
		t.Errorf("%d mutations recorded", len(st.Mutations))
	}
	for _, r := range w.Config.Repositories {
		n, after := readSnapshot(t, dir, r.Name)
		touched := strings.Contains(strings.Join(res.Repositories, " "), r.Name)
		if !touched {
			if n.Serial != 1 {
				t.Errorf("%s: untouched but serial %d", r.Name, n.Serial)
			}
			continue
		}
		if n.Serial != 2 || len(n.Deltas) != 1 || n.Deltas[0].Serial != 2 {
			t.Fatalf("%s: serial %d, deltas %+v", r.Name, n.Serial, n.Deltas)
		}
		var d snapshotDoc
		if err := xml.Unmarshal(readChecked(t, dir, n.Deltas[0].URI, n.Deltas[0].Hash), &d); err != nil {
			t.Fatal(err)
		}
		if d.XMLName.Local != "delta" || d.Serial != 2 || d.SessionID != n.SessionID {
			t.Errorf("delta %v serial %d", d.XMLName, d.Serial)
		}
		// Apply the delta to the old snapshot: it must give the new one.
		state := before[r.Name]
		for _, p := range d.Publish {
			old, ok := state[p.URI]
			if ok != (p.Hash != "") {
				t.Errorf("%s: replace %v, hash %q", p.URI, ok, p.Hash)
			}
			if ok {
				h := sha256.Sum256(old)
				if hex.EncodeToString(h[:]) != p.Hash {
					t.Errorf("%s: delta hash does not match the old object", p.URI)
				}
			}
			state[p.URI], _ = base64.StdEncoding.DecodeString(p.Content)
		}
		for _, wd := range d.Withdraw {
			h := sha256.Sum256(state[wd.URI])
			if hex.EncodeToString(h[:]) != wd.Hash {
				t.Errorf("%s: withdraw hash does not match the old object", wd.URI)
			}
			delete(state, wd.URI)
			withdrawn++
		}
		if len(state) != len(after) {
			t.Errorf("%s: delta applied gives %d objects, the new snapshot %d", r.Name, len(state), len(after))
		}
		for uri, b := range after {
			if !bytes.Equal(state[uri], b) {
				t.Errorf("%s: delta applied differs from the new snapshot", uri)
			}
		}
	}
	if withdrawn == 0 {
		t.Errorf("no replaced ROA was withdrawn")
	}
	files := rsyncFiles(t, dir)
	for _, m := range res.Mutations {
		name := m.ROA
		if m.NewFile != "" {
			name = m.NewFile
		}
		var uri string
		for u := range files {
			if strings.HasSuffix(u, "/"+m.CA+"/"+name) {
				uri = u
			}
			if m.NewFile != "" && strings.HasSuffix(u, "/"+m.CA+"/"+m.ROA) {
				t.Errorf("%s: replaced but still there", u)
			}
		}
		s := decodeSigned(t, uri, files[uri])
		vrps := decodeROA(t, s.content, taOf(m.CA))
		if vrps[0].ASN != m.ASN {
			t.Errorf("%s: AS%d, mutation says AS%d", uri, vrps[0].ASN, m.ASN)
		}
	}
	newVRPs, _ := os.ReadFile(filepath.Join(dir, "truth", "vrps.csv"))
	if bytes.Equal(oldVRPs, newVRPs) {
		t.Errorf("vrps.csv unchanged")
	}

	// A second mutation adds a delta and keeps the first.
	res2, err := world.Mutate(context.Background(), dir, world.MutateOptions{Percent: 5, Now: testNow.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range res2.Repositories {
		n := readNotification(t, dir, name)
		if len(n.Deltas) < 1 || n.Deltas[0].Serial != n.Serial {
			t.Errorf("%s: serial %d deltas %+v", name, n.Serial, n.Deltas)
		}
		for _, d := range n.Deltas {
			readChecked(t, dir, d.URI, d.Hash)
		}
	}
}
