package rrdp_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/rovd/rovd/netio/rrdp"
)

// TestReaderAllocs checks that a warmed-up Reader reads whole files, one
// after the other, without allocating: the URI and data buffers and the
// session ID string are reused.
func TestReaderAllocs(t *testing.T) {
	snapshot := makeSnapshot(50, 76).xml
	delta := []byte(deltaDoc(`<publish uri="rsync://x/a" hash="` + testHash + `">` + b64 + `</publish>` +
		`<withdraw uri="rsync://x/b" hash="` + testHash + `"/>` +
		"<!-- comment -->\n<publish uri='rsync://x/&amp;c'>\n" + wrap(b64, 8, "  ", "\r\n") + "</publish>"))
	br := bytes.NewReader(nil)
	r := rrdp.NewReader(br, rrdp.Limits{})
	read := func() {
		for _, doc := range [][]byte{snapshot, delta} {
			br.Reset(doc)
			r.Reset(br)
			if _, err := r.Header(); err != nil {
				t.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	read()
	if n := testing.AllocsPerRun(20, read); n != 0 {
		t.Errorf("%v allocations per snapshot and delta, want 0", n)
	}
}
