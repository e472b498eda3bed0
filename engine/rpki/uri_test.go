package rpki_test

import (
	"strings"
	"testing"

	"github.com/rovd/rovd/engine/rpki"
)

func TestCheckURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"rsync://rpki.ripe.net/repository/DEFAULT/ca.cer", true},
		{"rsync://127.0.0.1:8873/repo/ca/", true},
		{"https://rrdp.ripe.net/notification.xml", true},
		{"HTTPS://rrdp.example/n.xml", true},
		{"rsync://host/module", true},
		{"rsync://host/", false},        // no module
		{"rsync://host", false},         // no module
		{"rsync:///module/x", false},    // no host
		{"https://", false},             // no host
		{"rpki.ripe.net/x.cer", false},  // not absolute
		{"rsync:/host/module/x", false}, // not absolute
		{"://host/x", false},            // no scheme
		{"rsync://host/mod/a b", false}, // space
		{"rsync://host/mod/a\x00b", false},
		{"rsync://host/mod/\x7f", false},
		{"rsync://host/mod/caf\xc3\xa9", false},
		{"rsync://host/mod/../etc/passwd", false},
		{"rsync://host/mod/./x.cer", false},
		{"rsync://host/mod/..", false},
		{"rsync://host/mod/x..y.cer", true},
		{"rsync://host/mod/.hidden.cer", true},
		{"rsync://host/mod/" + strings.Repeat("a", 2048), false},
	}
	for _, tc := range tests {
		got, err := rpki.CheckURI([]byte(tc.uri))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.uri, err, tc.ok)
		}
		if err == nil && got != tc.uri {
			t.Errorf("%q came back as %q", tc.uri, got)
		}
	}
}
