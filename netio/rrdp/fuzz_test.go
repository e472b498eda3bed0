package rrdp_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/netio/rrdp"
)

// Two sets of limits: the defaults, and small ones that fuzzed inputs can
// reach. A file that passes both must read the same under both.
var fuzzLimits = []rrdp.Limits{{}, {MaxObjectSize: 48, MaxURILength: 40, MaxDeltas: 3}}

// addSeeds adds the small files of the test data whose root element is
// root: the hostile files, the real RRDP files and a few synthetic ones.
func addSeeds(f *testing.F, root string, synthetic ...string) {
	for _, s := range synthetic {
		f.Add([]byte(s))
	}
	for _, dir := range []string{"testdata", realDir} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			// Big seeds only slow the fuzzer down.
			if len(data) <= 16<<10 && bytes.Contains(data, []byte("<"+root)) {
				f.Add(data)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.Fatal(err)
		}
	}
}

// checkFuzzError checks the invariants of a rejection.
func checkFuzzError(t *testing.T, data []byte, err error) {
	var e *rrdp.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *rrdp.Error", err, err)
	}
	if !errors.Is(err, rrdp.ErrMalformed) && !errors.Is(err, rrdp.ErrObjectTooLarge) {
		t.Fatalf("error %v matches neither ErrMalformed nor ErrObjectTooLarge", err)
	}
	if e.Offset < 0 || e.Offset > int64(len(data)) {
		t.Fatalf("error offset %d outside the %d-byte input", e.Offset, len(data))
	}
}

func checkHeader(t *testing.T, h rrdp.Header) {
	if h.Version != 1 || h.Serial == 0 || len(h.SessionID) != 36 || h.SessionID != strings.ToLower(h.SessionID) {
		t.Fatalf("accepted bad header %+v", h)
	}
}

func checkURI(t *testing.T, uri string, lim rrdp.Limits) {
	if uri == "" || (lim.MaxURILength > 0 && len(uri) > lim.MaxURILength) {
		t.Fatalf("accepted uri %q", uri)
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] <= ' ' || uri[i] >= 0x7f {
			t.Fatalf("accepted uri %q", uri)
		}
	}
}

func FuzzNotification(f *testing.F) {
	addSeeds(f, "notification",
		notificationDoc(snapshotRef+deltaRef(7)+deltaRef(6)+deltaRef(5)+deltaRef(4)),
		"<?xml version='1.0'?><!-- x -->"+notificationDoc("<!---->"+snapshotRef+"\n"+deltaRef(7))+"\n",
		// Pieces for the templated file (see pieces).
		"https://rrdp.example.net/s.xml\xff7\xff"+deltaRef(6),
		"https://x/&amp;&#x41;\xff0018446744073709551615\xff<!-- -->",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzNotification(t, data)
		p := pieces(data)
		fuzzNotification(t, []byte(notificationDoc(`<snapshot uri="`+p[0]+`" hash="`+testHash+`"/>`+
			`<delta serial="`+p[1]+`" uri="https://x/d.xml" hash="`+testHash+`"/>`+p[2])))
	})
}

// pieces splits data at its first two 0xff bytes into three strings (the
// missing ones empty). The fuzz targets insert them into a valid file, at
// places where the fuzzer would rarely get to by mutating whole files:
// attribute values and base64 text.
func pieces(data []byte) [3]string {
	var p [3]string
	for i, b := range bytes.SplitN(data, []byte{0xff}, 3) {
		p[i] = string(b)
	}
	return p
}

func fuzzNotification(t *testing.T, data []byte) {
	var accepted *refFile
	for _, lim := range fuzzLimits {
		n, err := parseNotification(t, data, lim)
		if err != nil {
			checkFuzzError(t, data, err)
			continue
		}
		if n.Type != rrdp.TypeNotification {
			t.Fatalf("notification of type %v", n.Type)
		}
		checkHeader(t, n.Header)
		checkURI(t, n.Snapshot.URI, lim)
		if n.Snapshot.Serial != 0 {
			t.Fatalf("snapshot serial %d", n.Snapshot.Serial)
		}
		max := lim.MaxDeltas
		if max == 0 {
			max = rrdp.DefaultMaxDeltas
		}
		if len(n.Deltas) > max || (n.TooManyDeltas && len(n.Deltas) > 0) {
			t.Fatalf("%d deltas kept, limit %d, TooManyDeltas %v", len(n.Deltas), max, n.TooManyDeltas)
		}
		for _, d := range n.Deltas {
			checkURI(t, d.URI, lim)
			if d.Serial == 0 {
				t.Fatal("delta serial 0 accepted")
			}
		}
		if chain, ok := n.DeltaChain(n.Serial - 1); ok && (len(chain) != 1 || chain[0].Serial != n.Serial) {
			t.Fatalf("DeltaChain(%d) = %+v", n.Serial-1, chain)
		}
		if n.TooManyDeltas {
			continue
		}
		got := notificationFile(n)
		if accepted == nil {
			ref, err := refParse(data)
			if err != nil {
				t.Fatalf("accepted, but the reference parser rejects it: %v", err)
			}
			if diff := cmp.Diff(ref, got, cmpOpts); diff != "" {
				t.Fatalf("differs from the reference parser (-ref +got):\n%s", diff)
			}
			accepted = got
		} else if diff := cmp.Diff(accepted, got, cmpOpts); diff != "" {
			t.Fatalf("limits %+v change the result:\n%s", lim, diff)
		}
	}
}

func FuzzSnapshot(f *testing.F) {
	addSeeds(f, "snapshot",
		snapshotDoc(`<publish uri="rsync://x/a">`+wrap(b64, 8, "  ", "\n")+`</publish><publish uri="rsync://x/b"/>`),
		"<?xml version='1.0' encoding='US-ASCII'?>"+snapshotDoc(`<publish xmlns="http://www.ripe.net/rpki/rrdp" uri='rsync://x/&amp;'>YQ<!-- c -->==</publish>`),
		// Pieces for the templated file (see pieces).
		"rsync://x/y\xff"+b64+"\xff",
		"rsync://x/&lt;&#47;\xff YWJj\r\n  ZA=\n=\xff<publish uri='rsync://x/z'/>",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStream(t, data)
		p := pieces(data)
		fuzzStream(t, []byte(snapshotDoc(`<publish uri="`+p[0]+`">`+p[1]+`</publish>`+p[2])))
	})
}

func FuzzDelta(f *testing.F) {
	addSeeds(f, "delta",
		deltaDoc(`<publish uri="rsync://x/a" hash="`+testHash+`">`+b64+`</publish><withdraw uri="rsync://x/b" hash="`+testHash+`"/>`),
		deltaDoc(`<withdraw uri="rsync://x/b" hash="`+testHash+`">  </withdraw><publish uri="rsync://x/c">YWJj`+"\r\n"+`ZA==</publish>`),
		// Pieces for the templated file (see pieces).
		b64+"\xffrsync://x/y\xff",
		"YW Jj\tZA ==\xffrsync://x/&quot;\xff <!-- c --> ",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStream(t, data)
		p := pieces(data)
		fuzzStream(t, []byte(deltaDoc(`<publish uri="rsync://x/a" hash="`+testHash+`">`+p[0]+`</publish>`+
			`<withdraw uri="`+p[1]+`" hash="`+testHash+`">`+p[2]+`</withdraw>`)))
	})
}

func fuzzStream(t *testing.T, data []byte) {
	var accepted *refFile
	for _, lim := range fuzzLimits {
		f, err := parseStream(t, data, lim)
		if err != nil {
			checkFuzzError(t, data, err)
			continue
		}
		checkHeader(t, f.Header)
		switch f.Header.Type {
		case rrdp.TypeSnapshot:
			for _, el := range f.Elements {
				if el.Withdraw || el.HasHash {
					t.Fatalf("snapshot element %+v", el)
				}
			}
		case rrdp.TypeDelta:
			if len(f.Elements) == 0 {
				t.Fatal("empty delta accepted")
			}
		default:
			t.Fatalf("Reader accepted a file of type %v", f.Header.Type)
		}
		for _, el := range f.Elements {
			checkURI(t, el.URI, lim)
			if el.Withdraw && (!el.HasHash || len(el.Data) != 0) {
				t.Fatalf("withdraw %+v", el)
			}
			if lim.MaxObjectSize > 0 && int64(len(el.Data)) > lim.MaxObjectSize {
				t.Fatalf("object of %d bytes passed the limit of %d", len(el.Data), lim.MaxObjectSize)
			}
		}
		if accepted == nil {
			ref, err := refParse(data)
			if err != nil {
				t.Fatalf("accepted, but the reference parser rejects it: %v", err)
			}
			if diff := cmp.Diff(ref, f, cmpOpts); diff != "" {
				t.Fatalf("differs from the reference parser (-ref +got):\n%s", diff)
			}
			accepted = f
		} else if diff := cmp.Diff(accepted, f, cmpOpts); diff != "" {
			t.Fatalf("limits %+v change the result:\n%s", lim, diff)
		}
	}
}
