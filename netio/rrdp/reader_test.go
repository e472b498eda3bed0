package rrdp_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/netio/rrdp"
)

// obj is a test object and b64 its base64 encoding.
var (
	obj = []byte("RPKI object bytes \x00\x01\x02\xff for the tests")
	b64 = base64.StdEncoding.EncodeToString(obj)
)

// wrap splits s into lines of n characters, each preceded by indent.
func wrap(s string, n int, indent, eol string) string {
	var b strings.Builder
	for len(s) > 0 {
		k := min(n, len(s))
		b.WriteString(eol + indent + s[:k])
		s = s[k:]
	}
	return b.String() + eol
}

func TestReaderAccepts(t *testing.T) {
	pub := func(body string) string {
		return `<publish uri="rsync://example.net/repo/a.roa">` + body + `</publish>`
	}
	tests := []struct {
		name  string
		doc   string
		lim   rrdp.Limits
		check func(t *testing.T, f *refFile)
	}{
		{
			name: "empty snapshot as an empty element",
			doc:  "<snapshot " + rootAttrs + "/>",
			check: func(t *testing.T, f *refFile) {
				want := rrdp.Header{Type: rrdp.TypeSnapshot, Version: 1, SessionID: testSession, Serial: 7}
				if f.Header != want || len(f.Elements) != 0 {
					t.Errorf("got %+v, want header %+v and no elements", f, want)
				}
			},
		},
		{
			name: "empty snapshot with start and end tag",
			doc:  snapshotDoc("\n  \t\r\n"),
		},
		{
			name: "one publish unwrapped",
			doc:  snapshotDoc(pub(b64)),
			check: func(t *testing.T, f *refFile) {
				if len(f.Elements) != 1 || !bytes.Equal(f.Elements[0].Data, obj) ||
					f.Elements[0].URI != "rsync://example.net/repo/a.roa" || f.Elements[0].HasHash {
					t.Errorf("got %+v", f.Elements)
				}
			},
		},
		{name: "base64 wrapped at 76 columns with indentation", doc: snapshotDoc(pub(wrap(b64, 76, "      ", "\n")))},
		{name: "base64 wrapped at 64 columns with CRLF", doc: snapshotDoc(pub(wrap(b64, 64, "\t", "\r\n")))},
		{name: "base64 wrapped at 5 columns, not a multiple of four", doc: snapshotDoc(pub(wrap(b64, 5, " ", "\n")))},
		{name: "base64 one character per line", doc: snapshotDoc(pub(wrap(b64, 1, "", "\n")))},
		{name: "spaces and tabs inside base64 lines", doc: snapshotDoc(pub(strings.ReplaceAll(b64, "A", " A\t")))},
		{name: "lone CR inside a base64 line", doc: snapshotDoc(pub(b64[:8] + "\r" + b64[8:]))},
		{name: "padding followed by white space", doc: snapshotDoc(pub(base64.StdEncoding.EncodeToString([]byte("ab")) + " \r\n "))},
		{name: "padding split by a line break", doc: snapshotDoc(pub("YQ=\n="))},
		{name: "comment inside base64", doc: snapshotDoc(pub(b64[:10] + "<!-- a - b -->" + b64[10:]))},
		{name: "empty publish with end tag", doc: snapshotDoc(pub(""))},
		{name: "empty publish as an empty element", doc: snapshotDoc(`<publish uri="rsync://x/y"/>`)},
		{
			name: "xml declaration, comments and white space around the root",
			doc:  "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone='yes'?>\n<!-- c -->\n" + snapshotDoc("<!---->"+pub(b64)+"<!-- x -->") + "\n<!-- trailing -->\n",
		},
		{name: "xml declaration with us-ascii", doc: "<?xml version='1.0' encoding='US-ASCII'?>" + snapshotDoc("")},
		{name: "xml declaration with spaces around =", doc: "<?xml version = \"1.0\" ?>" + snapshotDoc("")},
		{
			name: "references in uri",
			doc:  snapshotDoc(`<publish uri="rsync://x/a&amp;b&#47;c&#x2F;d&lt;&gt;&quot;&apos;'">` + b64 + "</publish>"),
			check: func(t *testing.T, f *refFile) {
				if got, want := f.Elements[0].URI, `rsync://x/a&b/c/d<>"''`; got != want {
					t.Errorf("uri %q, want %q", got, want)
				}
			},
		},
		{
			name: "upper-case session id is normalised",
			doc:  `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + strings.ToUpper(testSession) + `" serial="7"/>`,
			check: func(t *testing.T, f *refFile) {
				if f.Header.SessionID != testSession {
					t.Errorf("session %q, want %q", f.Header.SessionID, testSession)
				}
			},
		},
		{
			name: "largest serial and leading zeros in version",
			doc:  `<snapshot serial='18446744073709551615' session_id='` + testSession + `' version='01' xmlns='http://www.ripe.net/rpki/rrdp'/>`,
			check: func(t *testing.T, f *refFile) {
				if f.Header.Serial != 1<<64-1 {
					t.Errorf("serial %d", f.Header.Serial)
				}
			},
		},
		{name: "namespace repeated on publish", doc: snapshotDoc(`<publish xmlns="http://www.ripe.net/rpki/rrdp" uri="rsync://x/y">` + b64 + "</publish>")},
		{name: "white space inside tags", doc: "<snapshot\n " + rootAttrs + "\n>" + "<publish\turi = 'rsync://x/y' >" + b64 + "</publish\n></snapshot \t>"},
		{
			name: "delta with publish, update and withdraw",
			doc: deltaDoc(`<publish uri="rsync://x/new">` + b64 + `</publish>` +
				`<publish uri="rsync://x/upd" hash="` + strings.ToUpper(testHash) + `">` + b64 + `</publish>` +
				`<withdraw uri="rsync://x/old" hash="` + testHash + `"/>` +
				`<withdraw uri="rsync://x/old2" hash="` + testHash + `"> <!-- nothing --> </withdraw>`),
			check: func(t *testing.T, f *refFile) {
				if len(f.Elements) != 4 || f.Elements[0].HasHash || !f.Elements[1].HasHash ||
					!f.Elements[2].Withdraw || f.Elements[2].Data != nil || f.Elements[1].Hash[0] != 0x22 {
					t.Errorf("got %+v", f.Elements)
				}
			},
		},
		{name: "uri at the length limit", doc: snapshotDoc(`<publish uri="` + strings.Repeat("u", 10) + `"/>`), lim: rrdp.Limits{MaxURILength: 10}},
		{name: "object at the size limit", doc: snapshotDoc(pub(b64)), lim: rrdp.Limits{MaxObjectSize: int64(len(obj))}},
		{name: "object size limit disabled", doc: snapshotDoc(pub(b64)), lim: rrdp.Limits{MaxObjectSize: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseStream(t, []byte(tc.doc), tc.lim)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			ref, err := refParse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("the reference parser rejects it: %v", err)
			}
			if diff := cmp.Diff(ref, f, cmpOpts); diff != "" {
				t.Errorf("differs from the reference (-ref +got):\n%s", diff)
			}
			for _, el := range f.Elements {
				if !el.Withdraw && !bytes.Equal(el.Data, obj) && len(el.Data) > 2 {
					t.Errorf("element %s decodes to %q, want %q", el.URI, el.Data, obj)
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestReaderRejects(t *testing.T) {
	pub := `<publish uri="rsync://x/y">` + b64 + `</publish>`
	tests := []struct {
		name string
		doc  string
		lim  rrdp.Limits
		want string
	}{
		{"empty file", "", rrdp.Limits{}, "no root element"},
		{"only white space and a comment", " <!-- x --> ", rrdp.Limits{}, "no root element"},
		{"doctype", "<!DOCTYPE snapshot>" + snapshotDoc(""), rrdp.Limits{}, "DOCTYPE not allowed"},
		{"doctype after the xml declaration", "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a 'b'>]>" + snapshotDoc(""), rrdp.Limits{}, "DOCTYPE not allowed"},
		{"entity declaration", "<!ENTITY a 'b'>" + snapshotDoc(""), rrdp.Limits{}, "markup declaration"},
		{"processing instruction", "<?php x?>" + snapshotDoc(""), rrdp.Limits{}, "processing instruction"},
		{"xml declaration not at the start", " <?xml version=\"1.0\"?>" + snapshotDoc(""), rrdp.Limits{}, "processing instruction"},
		{"xml declaration with version 1.1", "<?xml version=\"1.1\"?>" + snapshotDoc(""), rrdp.Limits{}, "unsupported version"},
		{"xml declaration with utf-16", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + snapshotDoc(""), rrdp.Limits{}, "unsupported encoding"},
		{"xml declaration without version", "<?xml encoding=\"UTF-8\"?>" + snapshotDoc(""), rrdp.Limits{}, "XML declaration"},
		{"byte order mark", "\xef\xbb\xbf" + snapshotDoc(""), rrdp.Limits{}, "unexpected text"},
		{"processing instruction after the root", snapshotDoc("") + "<?x?>", rrdp.Limits{}, "processing instruction"},
		{"cdata in publish", snapshotDoc(`<publish uri="rsync://x/y"><![CDATA[` + b64 + `]]></publish>`), rrdp.Limits{}, "CDATA section not allowed"},
		{"undefined entity in uri", snapshotDoc(`<publish uri="rsync://x/&lol9;"/>`), rrdp.Limits{}, "undefined entity &lol9;"},
		{"unterminated reference in uri", snapshotDoc(`<publish uri="rsync://x/&amp"/>`), rrdp.Limits{}, "unterminated or overlong reference"},
		{"reference in publish content", snapshotDoc(`<publish uri="rsync://x/y">&#65;AAA</publish>`), rrdp.Limits{}, "reference in publish content"},
		{"NUL character reference in uri", snapshotDoc(`<publish uri="rsync://x/&#0;"/>`), rrdp.Limits{}, "not allowed"},
		{"NUL byte in uri", snapshotDoc("<publish uri=\"rsync://x/\x00\"/>"), rrdp.Limits{}, "not allowed in uri"},
		{"control character in uri", snapshotDoc("<publish uri=\"rsync://x/\x01\"/>"), rrdp.Limits{}, "not allowed in uri"},
		{"space in uri", snapshotDoc(`<publish uri="rsync://x/a b"/>`), rrdp.Limits{}, "not allowed in uri"},
		{"non-ASCII in uri", snapshotDoc(`<publish uri="rsync://x/ä"/>`), rrdp.Limits{}, "not allowed in uri"},
		{"non-ASCII character reference in uri", snapshotDoc(`<publish uri="rsync://x/&#xE4;"/>`), rrdp.Limits{}, "not allowed"},
		{"empty uri", snapshotDoc(`<publish uri=""/>`), rrdp.Limits{}, "empty uri"},
		{"uri over the length limit", snapshotDoc(`<publish uri="` + strings.Repeat("u", 11) + `"/>`), rrdp.Limits{MaxURILength: 10}, "longer than 10 bytes"},
		{"uri over the limit through references", snapshotDoc(`<publish uri="` + strings.Repeat("&amp;", 11) + `"/>`), rrdp.Limits{MaxURILength: 10}, "longer than 10 bytes"},
		{"publish without uri", snapshotDoc(`<publish>` + b64 + `</publish>`), rrdp.Limits{}, "without uri"},
		{"unknown element", snapshotDoc(`<list uri="rsync://x/y"/>`), rrdp.Limits{}, "unknown element <list>"},
		{"unknown root element", `<msg xmlns="http://www.ripe.net/rpki/rrdp"/>`, rrdp.Limits{}, "unknown root element <msg>"},
		{"notification given to the reader", notificationDoc(snapshotRef), rrdp.Limits{}, "want <snapshot> or <delta>"},
		{"unknown attribute", snapshotDoc(`<publish uri="rsync://x/y" tag="t"/>`), rrdp.Limits{}, `attribute "tag" not allowed`},
		{"root attribute on publish", snapshotDoc(`<publish uri="rsync://x/y" serial="1"/>`), rrdp.Limits{}, `attribute "serial" not allowed`},
		{"duplicate attribute", snapshotDoc(`<publish uri="rsync://x/y" uri="rsync://x/z"/>`), rrdp.Limits{}, `duplicate attribute "uri"`},
		{"duplicate root attribute", `<snapshot ` + rootAttrs + ` serial="8"/>`, rrdp.Limits{}, `duplicate attribute "serial"`},
		{"missing namespace", `<snapshot version="1" session_id="` + testSession + `" serial="1"/>`, rrdp.Limits{}, "lacks the RRDP namespace"},
		{"namespace in upper case", `<snapshot xmlns="HTTP://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="1"/>`, rrdp.Limits{}, "namespace"},
		{"other namespace on publish", snapshotDoc(`<publish xmlns="urn:x" uri="rsync://x/y"/>`), rrdp.Limits{}, `namespace "urn:x"`},
		{"prefixed namespace", `<r:snapshot xmlns:r="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="1"/>`, rrdp.Limits{}, "unknown root element <r:snapshot>"},
		{"namespace prefix declaration", `<snapshot xmlns:r="x" ` + rootAttrs + `/>`, rrdp.Limits{}, `attribute "xmlns:r" not allowed`},
		{"version 2", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="2" session_id="` + testSession + `" serial="1"/>`, rrdp.Limits{}, "unsupported version"},
		{"version missing", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" session_id="` + testSession + `" serial="1"/>`, rrdp.Limits{}, "lacks attribute version"},
		{"serial zero", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="0"/>`, rrdp.Limits{}, "not a positive"},
		{"serial overflow", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="18446744073709551616"/>`, rrdp.Limits{}, "not a positive"},
		{"serial with a sign", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="+1"/>`, rrdp.Limits{}, "not a positive"},
		{"serial with a space", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial=" 1"/>`, rrdp.Limits{}, "not allowed in serial"},
		{"serial in hex", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="0x1"/>`, rrdp.Limits{}, "not a positive"},
		{"session id not a uuid", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597af9e4dcabdda719cce2c4e28" serial="1"/>`, rrdp.Limits{}, "not a UUID"},
		{"session id with a non-hex digit", `<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597-af9e-4dca-bdda-719cce2c4e2g" serial="1"/>`, rrdp.Limits{}, "not a UUID"},
		{"hash too short", deltaDoc(`<withdraw uri="rsync://x/y" hash="` + testHash[:62] + `"/>`), rrdp.Limits{}, "not 64 hex digits"},
		{"hash with a non-hex digit", deltaDoc(`<withdraw uri="rsync://x/y" hash="` + testHash[:63] + `g"/>`), rrdp.Limits{}, "not 64 hex digits"},
		{"hash on a publish in a snapshot", snapshotDoc(`<publish uri="rsync://x/y" hash="` + testHash + `">` + b64 + `</publish>`), rrdp.Limits{}, "in a snapshot has a hash"},
		{"withdraw in a snapshot", snapshotDoc(`<withdraw uri="rsync://x/y" hash="` + testHash + `"/>`), rrdp.Limits{}, "<withdraw> in a snapshot"},
		{"withdraw without hash", deltaDoc(`<withdraw uri="rsync://x/y"/>`), rrdp.Limits{}, "<withdraw> without hash"},
		{"withdraw with content", deltaDoc(`<withdraw uri="rsync://x/y" hash="` + testHash + `">` + b64 + `</withdraw>`), rrdp.Limits{}, "unexpected text"},
		{"empty delta", deltaDoc(" "), rrdp.Limits{}, "delta without elements"},
		{"empty delta as an empty element", "<delta " + rootAttrs + "/>", rrdp.Limits{}, "delta without elements"},
		{"text between elements", snapshotDoc(pub + "x" + pub), rrdp.Limits{}, `unexpected text "x<publish`},
		{"text after the root", snapshotDoc(pub) + "x", rrdp.Limits{}, "unexpected text"},
		{"second root element", snapshotDoc(pub) + snapshotDoc(pub), rrdp.Limits{}, "content after the root element"},
		{"mismatched end tag", snapshotDoc(`<publish uri="rsync://x/y">` + b64 + `</withdraw>`), rrdp.Limits{}, "end tag </withdraw> does not match <publish>"},
		{"mismatched root end tag", "<snapshot " + rootAttrs + "></delta>", rrdp.Limits{}, "does not match <snapshot>"},
		{"unclosed root", "<snapshot " + rootAttrs + ">" + pub, rrdp.Limits{}, "unexpected end of file in <snapshot>"},
		{"unclosed publish", "<snapshot " + rootAttrs + `><publish uri="rsync://x/y">` + b64, rrdp.Limits{}, "unexpected end of file in <publish>"},
		{"unclosed start tag", "<snapshot " + rootAttrs, rrdp.Limits{}, "unexpected end of file"},
		{"unclosed attribute value", `<snapshot version="1`, rrdp.Limits{}, "unexpected end of file in attribute value"},
		{"unclosed comment", snapshotDoc("") + "<!-- x", rrdp.Limits{}, "unexpected end of file in comment"},
		{"double hyphen in comment", "<!-- a -- b -->" + snapshotDoc(""), rrdp.Limits{}, `"--" inside comment`},
		{"control character in comment", "<!-- \x00 -->" + snapshotDoc(""), rrdp.Limits{}, "control character"},
		{"nested publish", snapshotDoc(`<publish uri="rsync://x/y"><publish uri="rsync://x/z"/></publish>`), rrdp.Limits{}, "element inside <publish>"},
		{"invalid base64 character", snapshotDoc(`<publish uri="rsync://x/y">` + b64[:20] + "!" + b64[20:] + `</publish>`), rrdp.Limits{}, `invalid character '!' in base64`},
		{"url-safe base64", snapshotDoc(`<publish uri="rsync://x/y">AB-_</publish>`), rrdp.Limits{}, `invalid character '-' in base64`},
		{"bad padding", snapshotDoc(`<publish uri="rsync://x/y">A===</publish>`), rrdp.Limits{}, "bad base64 padding"},
		{"padding in the first position", snapshotDoc(`<publish uri="rsync://x/y">=AAA</publish>`), rrdp.Limits{}, "bad base64 padding"},
		{"data after padding", snapshotDoc(`<publish uri="rsync://x/y">YQ==YWJj</publish>`), rrdp.Limits{}, "continues after '=' padding"},
		{"data after padding on the next line", snapshotDoc(`<publish uri="rsync://x/y">YQ==` + "\n" + `YWJj</publish>`), rrdp.Limits{}, "continues after '=' padding"},
		{"missing padding", snapshotDoc(`<publish uri="rsync://x/y">YQ</publish>`), rrdp.Limits{}, "incomplete group of 2 characters"},
		{"object over the size limit", snapshotDoc(pub), rrdp.Limits{MaxObjectSize: int64(len(obj) - 1)}, "larger than max-object-size"},
		{"missing white space between attributes", snapshotDoc(`<publish uri="rsync://x/y"xmlns="http://www.ripe.net/rpki/rrdp"/>`), rrdp.Limits{}, "missing white space"},
		{"unquoted attribute", snapshotDoc(`<publish uri=rsync://x/y/>`), rrdp.Limits{}, "not quoted"},
		{"attribute without value", snapshotDoc(`<publish uri/>`), rrdp.Limits{}, "missing '='"},
		{"overlong element name", snapshotDoc("<" + strings.Repeat("p", 40) + "/>"), rrdp.Limits{}, "too long"},
		{"end tag before the root", "</snapshot>", rrdp.Limits{}, "end tag before the root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseStream(t, []byte(tc.doc), tc.lim)
			if f != nil {
				t.Errorf("returned a result: %+v", f)
			}
			checkError(t, err, tc.want)
		})
	}
}

func TestObjectTooLargeIsMatchable(t *testing.T) {
	doc := snapshotDoc(`<publish uri="rsync://x/big">` + b64 + `</publish>`)
	r := rrdp.NewReader(strings.NewReader(doc), rrdp.Limits{MaxObjectSize: 10})
	_, err := r.Next()
	if !errors.Is(err, rrdp.ErrObjectTooLarge) {
		t.Fatalf("error %v does not match ErrObjectTooLarge", err)
	}
	var e *rrdp.Error
	if !errors.As(err, &e) || e.URI != "rsync://x/big" || e.Offset <= 0 {
		t.Errorf("error %#v lacks the uri or the offset", e)
	}
}

// TestHugeObjectIsStopped streams an object far over the default limit and
// checks that the reader stops at the limit.
func TestHugeObjectIsStopped(t *testing.T) {
	head := snapshotDoc(`<publish uri="rsync://x/huge">`)
	head = head[:len(head)-len("</snapshot>")]
	r := io.MultiReader(strings.NewReader(head), &repeatReader{b: []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), n: 40 << 20})
	rd := rrdp.NewReader(r, rrdp.Limits{})
	_, err := rd.Next()
	if !errors.Is(err, rrdp.ErrObjectTooLarge) {
		t.Fatalf("error %v does not match ErrObjectTooLarge", err)
	}
	var e *rrdp.Error
	if errors.As(err, &e) && e.Offset > int64(rrdp.DefaultMaxObjectSize)/3*4*78/76+1000 {
		t.Errorf("stopped at offset %d, long after the limit", e.Offset)
	}
}

// repeatReader yields b over and over, n bytes in all.
type repeatReader struct {
	b   []byte
	off int
	n   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.n > 0 {
		k := copy(p[n:min(len(p), n+r.n)], r.b[r.off:])
		r.off = (r.off + k) % len(r.b)
		n += k
		r.n -= k
	}
	return n, nil
}

// TestWhitespaceBomb feeds 64 MiB of white space between elements: it
// must be read in constant memory.
func TestWhitespaceBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	head := "<snapshot " + rootAttrs + ">"
	r := io.MultiReader(strings.NewReader(head), &repeatReader{b: []byte(" \t\r\n"), n: 64 << 20}, strings.NewReader("</snapshot>"))
	rd := rrdp.NewReader(r, rrdp.Limits{})
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	r := rrdp.NewReader(strings.NewReader(snapshotDoc("x")), rrdp.Limits{})
	if _, err := r.Header(); err != nil {
		t.Fatal(err)
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("errors %v and %v, want the same one twice", err1, err2)
	}
	if h, err := r.Header(); err != nil || h.Serial != 7 {
		t.Errorf("Header after a later error: %v, %v", h, err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadErrorIsWrapped(t *testing.T) {
	boom := errors.New("connection reset")
	r := rrdp.NewReader(io.MultiReader(strings.NewReader("<snapshot "+rootAttrs+"><publish uri='rsync://x/y'>AAAA"), failingReader{boom}), rrdp.Limits{})
	_, err := r.Next()
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the read error", err)
	}
	if errors.Is(err, rrdp.ErrMalformed) {
		t.Errorf("read error %v claims the file is malformed", err)
	}
}

func TestReaderReset(t *testing.T) {
	r := rrdp.NewReader(strings.NewReader(snapshotDoc("")), rrdp.Limits{})
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
	doc := deltaDoc(`<withdraw uri="rsync://x/y" hash="` + testHash + `"/>`)
	r.Reset(strings.NewReader(doc))
	h, err := r.Header()
	if err != nil || h.Type != rrdp.TypeDelta {
		t.Fatalf("after Reset: %v, %v", h, err)
	}
	el, err := r.Next()
	if err != nil || string(el.URI) != "rsync://x/y" || !el.Withdraw {
		t.Fatalf("after Reset: %+v, %v", el, err)
	}
	// Reset after a failure starts afresh too.
	r.Reset(strings.NewReader("junk"))
	if _, err := r.Next(); err == nil {
		t.Fatal("junk accepted")
	}
	r.Reset(strings.NewReader(doc))
	if _, err := r.Next(); err != nil {
		t.Fatalf("after Reset following an error: %v", err)
	}
}

func TestFileTypeString(t *testing.T) {
	for typ, want := range map[rrdp.FileType]string{
		rrdp.TypeNotification: "notification",
		rrdp.TypeSnapshot:     "snapshot",
		rrdp.TypeDelta:        "delta",
		0:                     "FileType(0)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", typ, got, want)
		}
	}
}
