package rrdp_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/netio/rrdp"
)

const (
	testSession = "9df4b597-af9e-4dca-bdda-719cce2c4e28"
	testHash    = "226ab8cd3c887a6ebdddf317f2fafc9cf3efc5d43a86347ac0feffe4dc0f607e"
	rootAttrs   = `xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="7"`
)

func snapshotDoc(body string) string { return "<snapshot " + rootAttrs + ">" + body + "</snapshot>" }
func deltaDoc(body string) string    { return "<delta " + rootAttrs + ">" + body + "</delta>" }

func notificationDoc(body string) string {
	return "<notification " + rootAttrs + ">" + body + "</notification>"
}

const snapshotRef = `<snapshot uri="https://rrdp.example.net/s.xml" hash="` + testHash + `"/>`

// readAll reads a snapshot or delta with r and returns what it found in
// the reference parser's terms.
func readAll(r *rrdp.Reader) (*refFile, error) {
	h, err := r.Header()
	if err != nil {
		return nil, err
	}
	f := &refFile{Header: h}
	for {
		el, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				return nil, errors.New("Next after io.EOF did not return io.EOF again")
			}
			return f, nil
		}
		if err != nil {
			if _, err2 := r.Next(); err2 != err {
				return nil, errors.New("Next after an error returned another error")
			}
			return nil, err
		}
		f.Elements = append(f.Elements, refElement{
			Withdraw: el.Withdraw,
			URI:      string(el.URI),
			HasHash:  el.HasHash,
			Hash:     el.Hash,
			Data:     bytes.Clone(el.Data),
		})
	}
}

func notificationFile(n *rrdp.Notification) *refFile {
	return &refFile{Header: n.Header, Snapshot: n.Snapshot, Deltas: n.Deltas}
}

// cmpOpts compares byte slices as a whole (much faster than go-cmp's
// element by element walk) and nil like empty.
var cmpOpts = cmp.Options{
	cmp.Comparer(bytes.Equal),
	cmp.FilterValues(func(x, y []rrdp.FileRef) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore()),
	cmp.FilterValues(func(x, y []refElement) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore()),
}

// readers returns the ways the tests feed a file to the parser: whole,
// one byte at a time into the smallest buffer, and in odd-sized pieces
// into a buffer of an odd size. The results must not depend on it.
func readers(data []byte) []struct {
	name string
	r    io.Reader
	size int
} {
	return []struct {
		name string
		r    io.Reader
		size int
	}{
		{"whole", bytes.NewReader(data), 64 << 10},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data)), rrdp.MinBufSize},
		{"halves", iotest.HalfReader(bytes.NewReader(data)), 77},
	}
}

// parseStream reads a snapshot or delta in every way readers offers and
// fails the test if the outcomes differ.
func parseStream(t testing.TB, data []byte, lim rrdp.Limits) (*refFile, error) {
	t.Helper()
	var first *refFile
	var firstErr error
	for i, rd := range readers(data) {
		f, err := readAll(rrdp.NewReaderSize(rd.r, lim, rd.size))
		if i == 0 {
			first, firstErr = f, err
			continue
		}
		if (err == nil) != (firstErr == nil) || (err != nil && err.Error() != firstErr.Error()) {
			t.Fatalf("reading %s: error %v, reading whole: %v", rd.name, err, firstErr)
		}
		if diff := cmp.Diff(first, f, cmpOpts); diff != "" {
			t.Fatalf("reading %s gives another result (-whole +%s):\n%s", rd.name, rd.name, diff)
		}
	}
	return first, firstErr
}

// parseNotification does the same for a notification file.
func parseNotification(t testing.TB, data []byte, lim rrdp.Limits) (*rrdp.Notification, error) {
	t.Helper()
	var first *rrdp.Notification
	var firstErr error
	for i, rd := range readers(data) {
		n, err := rrdp.ParseNotification(rd.r, lim)
		if (err == nil) != (n != nil) {
			t.Fatalf("ParseNotification returned %v and %v", n, err)
		}
		if i == 0 {
			first, firstErr = n, err
			continue
		}
		if (err == nil) != (firstErr == nil) || (err != nil && err.Error() != firstErr.Error()) {
			t.Fatalf("reading %s: error %v, reading whole: %v", rd.name, err, firstErr)
		}
		if diff := cmp.Diff(first, n, cmpOpts); diff != "" {
			t.Fatalf("reading %s gives another result (-whole +%s):\n%s", rd.name, rd.name, diff)
		}
	}
	return first, firstErr
}

// checkError checks that err is an *rrdp.Error matching ErrMalformed or
// ErrObjectTooLarge whose message contains want.
func checkError(t testing.TB, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	var e *rrdp.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *rrdp.Error", err, err)
	}
	if !errors.Is(err, rrdp.ErrMalformed) && !errors.Is(err, rrdp.ErrObjectTooLarge) {
		t.Errorf("error %v matches neither ErrMalformed nor ErrObjectTooLarge", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
		t.Errorf("error %q does not start in lower case", msg)
	}
}
