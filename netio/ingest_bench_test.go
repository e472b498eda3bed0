package netio_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/netio/rrdp"
	"github.com/rovd/rovd/store"
)

// benchSnapshot builds a snapshot like a real repository's: n objects of
// 1-3 KB in a few hundred directories, base64 wrapped at 76 columns.
func benchSnapshot(n int) ([]byte, *rrdp.Notification) {
	rng := rand.New(rand.NewPCG(9, 9))
	pubs := make([]pub, n)
	for i := range pubs {
		d := make([]byte, 1024+rng.IntN(2048))
		for j := range d {
			d[j] = byte(rng.Uint32())
		}
		pubs[i] = pub{uri: fmt.Sprintf("rsync://rpki.example.net/repo/ca-%04d/obj-%06d.roa", rng.IntN(n/100+1), i)}
		enc := base64.StdEncoding.EncodeToString(d)
		var wrapped bytes.Buffer
		for len(enc) > 76 {
			wrapped.WriteString(enc[:76])
			wrapped.WriteByte('\n')
			enc = enc[76:]
		}
		wrapped.WriteString(enc)
		pubs[i].raw = wrapped.String()
	}
	body := rrdpXML("snapshot", hostileSession, 1, pubs)
	n0 := &rrdp.Notification{Header: rrdp.Header{Type: rrdp.TypeNotification, Version: 1, SessionID: hostileSession, Serial: 1},
		Snapshot: rrdp.FileRef{URI: "https://rrdp.example.net/snapshot.xml", Hash: sha256.Sum256(body)}}
	return body, n0
}

// BenchmarkSnapshotIngest measures RRDP snapshot ingest without the
// network: XML parse, base64, both SHA-256 (file and objects) and the
// store's commits, in MB/s of XML. "fsync" is the store as it runs;
// "nosync" leaves out the disk flushes, to show what the CPU side
// reaches on its own (compare BenchmarkSyncedWriteBound).
func BenchmarkSnapshotIngest(b *testing.B) {
	body, n := benchSnapshot(20000)
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(mode.name, func(b *testing.B) {
			st, err := store.Open(b.TempDir(), store.Options{NoSync: mode.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				// A new session each time: nothing is reused from the
				// last round.
				if err := netio.IngestSnapshot(st, bytes.NewReader(body), "https://rrdp.example.net/notification.xml", "rsync://rpki.example.net/", n); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := st.DropRepo("https://rrdp.example.net/notification.xml"); err != nil {
					b.Fatal(err)
				}
				if _, err := st.Collect(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSyncedWriteBound writes as many bytes as the snapshot holds
// in objects to a file in 8 MB writes, each flushed to the disk: what
// the disk allows a durable ingest, in MB/s of the snapshot's XML.
func BenchmarkSyncedWriteBound(b *testing.B) {
	body, _ := benchSnapshot(20000)
	objects := base64.StdEncoding.DecodedLen(len(body))
	chunk := make([]byte, 8<<20)
	f, err := os.Create(filepath.Join(b.TempDir(), "bound"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := f.Seek(0, 0); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < objects; n += len(chunk) {
			if _, err := f.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkIngestBound is the bound the issue sets for ingest: SHA-256
// over the XML plus base64 decoding of its content, on one core, in MB/s
// of XML.
func BenchmarkIngestBound(b *testing.B) {
	body, _ := benchSnapshot(20000)
	// Each object's base64 content without the line breaks, as a
	// decoder would see it.
	var content [][]byte
	for rest := body; ; {
		i := bytes.Index(rest, []byte("<publish "))
		if i < 0 {
			break
		}
		rest = rest[i:]
		rest = rest[bytes.Index(rest, []byte("\">"))+2:]
		j := bytes.Index(rest, []byte("</publish>"))
		content = append(content, bytes.ReplaceAll(rest[:j], []byte("\n"), nil))
		rest = rest[j:]
	}
	dst := make([]byte, 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(body)
		for _, c := range content {
			if _, err := base64.StdEncoding.Decode(dst, c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
