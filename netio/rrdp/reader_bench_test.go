package rrdp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rovd/rovd/netio/rrdp"
)

// synthetic is a generated snapshot file and the plain base64 text of its
// objects, for the bounds.
type synthetic struct {
	xml     []byte
	base64s [][]byte
	maxObj  int
}

// benchObjects is how many objects the synthetic snapshot holds: a few
// thousand publish elements of about 2 KB, the size of a typical ROA or
// manifest, make a 10 MB file.
const benchObjects = 4000

// makeSnapshot generates a snapshot of n random objects of 1.5 to 2.5 KB.
// Their base64 text is wrapped at cols columns, each line indented as
// real servers do, or not wrapped when cols is 0 (RIPE NCC, Krill and
// most others write one long indented line).
func makeSnapshot(n, cols int) *synthetic {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &synthetic{}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="1742">` + "\n")
	for i := range n {
		obj := make([]byte, 1536+rng.IntN(1024))
		for j := range obj {
			obj[j] = byte(rng.Uint32())
		}
		s.maxObj = max(s.maxObj, len(obj))
		enc := base64.StdEncoding.EncodeToString(obj)
		s.base64s = append(s.base64s, []byte(enc))
		fmt.Fprintf(&b, "  <publish uri=\"rsync://rpki.example.net/repository/DEFAULT/%02x/%08x-%04x/1/%016x.roa\">", i%256, rng.Uint32(), i, rng.Uint64())
		if cols == 0 {
			b.WriteString("\n    " + enc + "\n")
		} else {
			b.WriteString(wrap(enc, cols, "    ", "\n"))
		}
		b.WriteString("  </publish>\n")
	}
	b.WriteString("</snapshot>\n")
	s.xml = b.Bytes()
	return s
}

// realSnapshot returns RIPE NCC's sample snapshot from the real test data
// (nil if it is missing) with the base64 text of its objects.
func realSnapshot() *synthetic {
	data, err := os.ReadFile(filepath.Join(realDir, "rpki-rs", "rrdp", "ripe-snapshot.xml"))
	if err != nil {
		return nil
	}
	s := &synthetic{xml: data}
	r := rrdp.NewReader(bytes.NewReader(data), rrdp.Limits{})
	for {
		el, err := r.Next()
		if err != nil {
			break
		}
		s.maxObj = max(s.maxObj, len(el.Data))
		s.base64s = append(s.base64s, []byte(base64.StdEncoding.EncodeToString(el.Data)))
	}
	return s
}

var benchCases = sync.OnceValue(func() []struct {
	name string
	s    *synthetic
} {
	cases := []struct {
		name string
		s    *synthetic
	}{
		{"unwrapped", makeSnapshot(benchObjects, 0)},
		{"wrap76", makeSnapshot(benchObjects, 76)},
		{"wrap64", makeSnapshot(benchObjects, 64)},
	}
	if s := realSnapshot(); s != nil {
		cases = append(cases, struct {
			name string
			s    *synthetic
		}{"ripe-sample", s})
	}
	return cases
})

// BenchmarkSnapshot reads a whole snapshot with a reused Reader. MB/s are
// megabytes of XML per second, as in the two bounds below.
func BenchmarkSnapshot(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			br := bytes.NewReader(c.s.xml)
			r := rrdp.NewReader(br, rrdp.Limits{})
			b.SetBytes(int64(len(c.s.xml)))
			b.ReportAllocs()
			for b.Loop() {
				br.Reset(c.s.xml)
				r.Reset(br)
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkBase64Bound decodes the objects of the same snapshots from
// plain base64 text: the parser cannot be faster than this.
func BenchmarkBase64Bound(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, c.s.maxObj+3)
			b.SetBytes(int64(len(c.s.xml)))
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range c.s.base64s {
					if _, err := base64.StdEncoding.Decode(dst, t); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkSHA256PlusBase64Bound adds the SHA-256 hash of the whole file,
// which the fetcher must check: the ingest bound of DESIGN.md.
func BenchmarkSHA256PlusBase64Bound(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, c.s.maxObj+3)
			b.SetBytes(int64(len(c.s.xml)))
			b.ReportAllocs()
			for b.Loop() {
				sum := sha256.Sum256(c.s.xml)
				dst[0] ^= sum[0]
				for _, t := range c.s.base64s {
					if _, err := base64.StdEncoding.Decode(dst, t); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkNotification parses a notification listing 500 deltas.
func BenchmarkNotification(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(snapshotRef)
	for i := 500; i > 0; i-- {
		sb.WriteString("\n  " + deltaRef(i))
	}
	doc := []byte(notificationDoc(sb.String()))
	br := bytes.NewReader(doc)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(doc)
		if _, err := rrdp.ParseNotification(br, rrdp.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
