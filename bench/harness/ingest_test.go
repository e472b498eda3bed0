package harness_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

func TestPublishContents(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"none", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1"></snapshot>`, nil},
		{"two", `<snapshot><publish uri="rsync://a/b.cer">QUJD</publish>` + "\n" +
			`<publish uri="rsync://a/c.roa" hash="00">REVG</publish></snapshot>`, []string{"QUJD", "REVG"}},
		{"withdraw and empty", `<delta><withdraw uri="rsync://a/b.cer" hash="00"/><publish uri="rsync://a/d"/><publish uri="rsync://a/e">R0g=</publish></delta>`,
			[]string{"R0g="}},
		{"cut short", `<snapshot><publish uri="rsync://a/b.cer">QUJD`, nil},
		{"open tag cut short", `<snapshot><publish uri="rsync://a/b.cer"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range harness.PublishContents([]byte(tc.in)) {
				got = append(got, string(c))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzPublishContents(f *testing.F) {
	f.Add([]byte(`<snapshot><publish uri="x">QUJD</publish><publish uri="y"/></snapshot>`))
	f.Add([]byte(`<publish >`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range harness.PublishContents(b) {
			if len(c) > len(b) || strings.Contains(string(c), "</publish>") {
				t.Fatalf("content %q of %q", c, b)
			}
		}
	})
}

// TestMeasureIngestBound measures the bound on a world of one
// repository whose snapshot publishes two objects.
func TestMeasureIngestBound(t *testing.T) {
	dir := t.TempDir()
	objs := [][]byte{make([]byte, 3000), []byte("a small object")}
	body := `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="s" serial="1">` + "\n"
	for _, o := range objs {
		body += `<publish uri="rsync://127.0.0.1/repo/x">` + base64.StdEncoding.EncodeToString(o) + "</publish>\n"
	}
	body += "</snapshot>\n"
	p := filepath.Join(dir, "rrdp", "repo1", "s", "1", "snapshot.xml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &world.State{Repositories: []world.RepoState{{
		Repository: world.Repository{Name: "repo1"},
		Snapshot:   world.FileRef{URI: "https://127.0.0.1:8443/rrdp/repo1/s/1/snapshot.xml"},
	}}}
	b, err := harness.MeasureIngestBound(context.Background(), dir, st, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if b.Files != 1 || b.Bytes != int64(len(body)) || b.Objects != 2 || b.Secs <= 0 || b.Passes < 1 || b.MBPerSec <= 0 {
		t.Errorf("bound %+v", b)
	}

	// Content that is not base64 is an error, not a bound.
	if err := os.WriteFile(p, []byte(`<publish uri="x">not base64!</publish>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.MeasureIngestBound(context.Background(), dir, st, time.Millisecond); err == nil {
		t.Error("bad base64: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := harness.MeasureIngestBound(ctx, dir, st, time.Millisecond); err == nil {
		t.Error("cancelled: no error")
	}
}
