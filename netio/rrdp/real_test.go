package rrdp_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/netio/rrdp"
)

// realDir holds real-world RPKI files, RRDP ones among them; see its
// README for provenance.
var realDir = filepath.Join("..", "..", "..", "shared", "testdata", "real")

// realRejected lists the files in realDir that use the RRDP namespace but
// are rejected on purpose, with the reason.
var realRejected = map[string]string{
	// The billion-laughs notification from rpki-rs's tests.
	"rpki-rs/rrdp/lolz-notification.xml": "DOCTYPE not allowed",
	// Test data of RIPE NCC's retired rpki-validator-3, which declare the
	// namespace as "HTTP://www.ripe.net/rpki/rrdp". Namespace names are
	// compared as strings (Namespaces in XML 1.0 §2.3), so that is
	// another namespace; rpki-client rejects these files too.
	"rpki-validator-3/rrdp/delta1.xml":             "namespace",
	"rpki-validator-3/rrdp/notification1.xml":      "namespace",
	"rpki-validator-3/rrdp/repo1/delta1.xml":       "namespace",
	"rpki-validator-3/rrdp/repo1/delta2.xml":       "namespace",
	"rpki-validator-3/rrdp/repo1/notification.xml": "namespace",
}

func realFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(realDir); err != nil {
		t.Skipf("no real test data: %v", err)
	}
	var files []string
	err := filepath.WalkDir(realDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".xml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no XML files in the real test data")
	}
	return files
}

// TestRealFiles parses every XML file of the real test data: the RRDP
// files must parse the same way the reference parser reads them, and the
// others (RFC 6492 and RFC 8181 messages and the like) must be rejected
// with an *rrdp.Error.
func TestRealFiles(t *testing.T) {
	parsed, ran := 0, 0
	files := realFiles(t)
	for _, path := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(path, realDir+string(filepath.Separator)))
		t.Run(rel, func(t *testing.T) {
			ran++
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			isRRDP := bytes.Contains(data, []byte(`="http://www.ripe.net/rpki/rrdp"`)) ||
				bytes.Contains(data, []byte(`="HTTP://www.ripe.net/rpki/rrdp"`))
			var got *refFile
			if bytes.Contains(data, []byte("<notification")) {
				var n *rrdp.Notification
				n, err = parseNotification(t, data, rrdp.Limits{})
				if err == nil {
					got = notificationFile(n)
				}
			} else {
				got, err = parseStream(t, data, rrdp.Limits{})
			}
			want, rejected := realRejected[rel]
			switch {
			case !isRRDP || rejected:
				checkError(t, err, want)
				return
			case err != nil:
				t.Fatalf("real RRDP file rejected: %v", err)
			}
			parsed++
			ref, err := refParse(data)
			if err != nil {
				t.Fatalf("the reference parser rejects it: %v", err)
			}
			if diff := cmp.Diff(ref, got, cmpOpts); diff != "" {
				t.Errorf("differs from the reference (-ref +got):\n%s", diff)
			}
		})
	}
	if ran == len(files) && parsed < 20 {
		t.Errorf("only %d real RRDP files parsed", parsed)
	}
}

// TestRealSnapshotsMatchExtractedObjects compares the objects of two real
// snapshots with the files extracted from them by other tools (see the
// test data's README).
func TestRealSnapshotsMatchExtractedObjects(t *testing.T) {
	realFiles(t)
	for _, tc := range []struct {
		snapshot, extracted string
		objects             int
	}{
		{"rpki-rs/rrdp/ripe-snapshot.xml", "rpki-rs/rrdp-extracted/ripe-snapshot", 277},
		{"rpki-rrdp-tools-py/sample-snapshot.xml", "rpki-rrdp-tools-py/rrdp-extracted/sample-snapshot", 33},
	} {
		t.Run(tc.snapshot, func(t *testing.T) {
			f, err := os.Open(filepath.Join(realDir, tc.snapshot))
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			r := rrdp.NewReader(f, rrdp.Limits{})
			n := 0
			for {
				el, err := r.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
				n++
				rel, ok := strings.CutPrefix(string(el.URI), "rsync://")
				if !ok {
					t.Fatalf("uri %s is not rsync", el.URI)
				}
				want, err := os.ReadFile(filepath.Join(realDir, tc.extracted, filepath.FromSlash(rel)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(el.Data, want) {
					t.Errorf("%s: decoded %d bytes, differ from the extracted %d", el.URI, len(el.Data), len(want))
				}
			}
			if n != tc.objects {
				t.Errorf("%d objects, want %d", n, tc.objects)
			}
		})
	}
}

// TestRealKrillRepository follows a real Krill repository from its
// notification file: the listed hashes must match the files, and
// applying deltas 377 to 382 must leave the objects they touch as the
// snapshot of serial 382 has them, with every update and withdraw naming
// the hash of the object it replaces.
func TestRealKrillRepository(t *testing.T) {
	realFiles(t)
	dir := filepath.Join(realDir, "krill", "v0_13_1_pubserver-repo", "rrdp")
	data, err := os.ReadFile(filepath.Join(dir, "notification.xml"))
	if err != nil {
		t.Skip(err)
	}
	n, err := rrdp.ParseNotification(bytes.NewReader(data), rrdp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	local := func(ref rrdp.FileRef) []byte {
		t.Helper()
		_, rel, ok := strings.Cut(ref.URI, "/rrdp/")
		if !ok {
			t.Fatalf("unexpected uri %s", ref.URI)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(b) != ref.Hash {
			t.Fatalf("%s does not match its hash in the notification", ref.URI)
		}
		return b
	}
	chain, ok := n.DeltaChain(376)
	if !ok || len(chain) != 6 {
		t.Fatalf("DeltaChain(376) = %d deltas, %v", len(chain), ok)
	}
	objects := map[string][]byte{} // state after the deltas; nil = withdrawn
	r := rrdp.NewReader(nil, rrdp.Limits{})
	for _, d := range chain {
		r.Reset(bytes.NewReader(local(d)))
		h, err := r.Header()
		if err != nil {
			t.Fatal(err)
		}
		if h.Type != rrdp.TypeDelta || h.SessionID != n.SessionID || h.Serial != d.Serial {
			t.Fatalf("delta %d has header %+v", d.Serial, h)
		}
		for {
			el, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			prev, known := objects[string(el.URI)]
			if known && el.HasHash != (prev != nil) {
				t.Errorf("delta %d: %s: hash attribute %v, but the object exists: %v", d.Serial, el.URI, el.HasHash, prev != nil)
			}
			// Delta 381 repeats delta 380's publish of the testbed CRL,
			// hash attribute included, so an unchanged republish is let
			// through.
			if known && prev != nil && sha256.Sum256(prev) != el.Hash && !bytes.Equal(prev, el.Data) {
				t.Errorf("delta %d: %s: hash does not match the object it replaces", d.Serial, el.URI)
			}
			if el.Withdraw {
				objects[string(el.URI)] = nil
			} else {
				objects[string(el.URI)] = bytes.Clone(el.Data)
			}
		}
	}
	r.Reset(bytes.NewReader(local(n.Snapshot)))
	snapshot := map[string][]byte{}
	for {
		el, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		snapshot[string(el.URI)] = bytes.Clone(el.Data)
	}
	if h, _ := r.Header(); h.Serial != n.Serial || h.SessionID != n.SessionID {
		t.Errorf("snapshot header %+v does not match the notification", h)
	}
	for uri, want := range objects {
		if got := snapshot[uri]; !bytes.Equal(got, want) {
			t.Errorf("%s: after the deltas %d bytes, in the snapshot %d", uri, len(want), len(got))
		}
	}
}
