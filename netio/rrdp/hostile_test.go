package rrdp_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rovd/rovd/netio/rrdp"
)

// hostile lists the files in testdata (see testdata/README) with the error
// each must produce. Every .xml file there must be listed.
var hostile = map[string]struct {
	notification bool // parse with ParseNotification, not a Reader
	lim          rrdp.Limits
	want         string
}{
	"xxe.xml":                           {notification: true, want: "DOCTYPE not allowed"},
	"xxe-parameter-entity.xml":          {want: "DOCTYPE not allowed"},
	"billion-laughs.xml":                {want: "DOCTYPE not allowed"},
	"doctype-external.xml":              {want: "DOCTYPE not allowed"},
	"deep-nesting.xml":                  {want: "element inside <publish>"},
	"unclosed-root.xml":                 {want: "unexpected end of file in <snapshot>"},
	"truncated-base64.xml":              {want: "unexpected end of file in <publish>"},
	"object-over-limit.xml":             {lim: rrdp.Limits{MaxObjectSize: 3000}, want: "larger than max-object-size of 3000 bytes"},
	"invalid-base64.xml":                {want: "invalid character '%' in base64 content"},
	"base64-after-padding.xml":          {want: "continues after '=' padding"},
	"nul-reference-in-uri.xml":          {want: "reference &#0; to U+0000 not allowed"},
	"nul-byte-in-uri.xml":               {want: `character '\x00' not allowed in uri`},
	"path-with-newline-reference.xml":   {want: "reference &#10; to U+000A not allowed"},
	"trailing-garbage.xml":              {want: "unexpected text \"garbage\\n\" after the root element"},
	"second-root.xml":                   {want: "content after the root element"},
	"cdata.xml":                         {want: "CDATA section not allowed"},
	"reference-in-content.xml":          {want: "reference in publish content"},
	"undefined-entity.xml":              {want: "undefined entity &nbsp;"},
	"processing-instruction.xml":        {want: "processing instruction"},
	"mismatched-tag.xml":                {want: "end tag </withdraw> does not match <publish>"},
	"text-between-elements.xml":         {want: "unexpected text"},
	"snapshot-publish-with-hash.xml":    {want: "<publish> in a snapshot has a hash attribute"},
	"withdraw-in-snapshot.xml":          {want: "<withdraw> in a snapshot"},
	"delta-empty.xml":                   {want: "delta without elements"},
	"withdraw-without-hash.xml":         {want: "<withdraw> without hash"},
	"withdraw-with-content.xml":         {want: "unexpected text"},
	"notification-two-snapshots.xml":    {notification: true, want: "second <snapshot>"},
	"notification-without-snapshot.xml": {notification: true, want: "<delta> before <snapshot>"},
	"namespace-uppercase.xml":           {notification: true, want: `namespace "HTTP://www.ripe.net/rpki/rrdp"`},
	"namespace-prefixed.xml":            {want: "unknown root element <r:snapshot>"},
	"serial-overflow.xml":               {notification: true, want: "not a positive 64-bit decimal number"},
	"serial-negative.xml":               {want: "not a positive 64-bit decimal number"},
	"session-id-invalid.xml":            {notification: true, want: "is not a UUID"},
	"duplicate-attribute.xml":           {want: `duplicate attribute "uri"`},
	"unknown-attribute.xml":             {want: `attribute "xml:base" not allowed`},
	"comment-double-hyphen.xml":         {want: `"--" inside comment`},
	"version-2.xml":                     {want: `unsupported version "2"`},
	"utf16.xml":                         {want: "unexpected text"},
}

func TestHostileFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if _, ok := hostile[filepath.Base(path)]; !ok {
			t.Errorf("%s is not listed in the hostile table", path)
		}
	}
	for name, tc := range hostile {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if tc.notification {
				_, err = parseNotification(t, data, tc.lim)
			} else {
				_, err = parseStream(t, data, tc.lim)
			}
			checkError(t, err, tc.want)
		})
	}
}
